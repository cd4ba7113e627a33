"""Everything a full report shows, gathered once: results and their synthesis, the years side
by side, breakdowns per commune and QPV, every record behind each non-compliant result, the
CIA's commitments, the uncertain points, the quality of the data, rule sources."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import islice
from typing import Any

from sqlalchemy import Connection, extract, func, select

from checker.db import models
from checker.evaluate.explain import EN_DEFAUT, INDECIDABLE, Explainer, Explanation
from checker.evaluate.results import (
    DONNEES_INSUFFISANTES,
    NON_CONFORME,
    Result,
    objective_missing,
)
from checker.evaluate.run import DIMENSION_COLUMNS, Evaluator, Options, Period
from checker.report import present
from checker.report.names import Names
from checker.report.records import html_limit
from checker.report.spill import Spill, SpilledRows, dumps
from checker.report.synthesis import REFERENCE_FIGURES, ObligationLine, synthesis
from checker.runs import Receipt
from checker.vocabulary import field_label
from dsl.rulebook import Rulebook


@dataclass
class Breakdown:
    rule: str
    dimension: str  # "commune" or "qpv"
    rows: list[Result]
    target: Result | None = None  # the result whose target the table is read against


@dataclass
class Listing:
    """The records behind one result that must be acted on: those failing a non-compliant
    result, those undecided for a result whose data are insufficient."""

    index: int  # in the results
    result: Result
    explanation: Explanation  # the result's scope: its counts, and the records held
    # The records held, as indexes into explanation.rows: every record listed, or, when they
    # are `spilled`, the first ones (those the HTML report shows).
    rows: list[int]
    state: str  # EN_DEFAUT or INDECIDABLE
    spilled: SpilledRows | None = None  # every record listed, on disk (a full report's)

    @property
    def total(self) -> int:
        """How many records are listed (held or not)."""
        return self.spilled.total if self.spilled is not None else len(self.rows)

    def slices(self, size: int) -> Iterator[Explanation]:
        """Every record listed, in order, `size` at a time, each slice an explanation of the
        listing's columns holding its records (read back from disk when spilled)."""
        source: Iterator[list[Any]] = (
            iter(self.spilled)
            if self.spilled is not None
            else (self.explanation.rows[i] for i in self.rows)
        )
        while chunk := list(islice(source, size)):
            yield self.explanation.holding(chunk, self.state)


@dataclass
class YearRun:
    year: int
    results: list[Result]
    receipt: dict[str, Any] | None  # None for a year evaluated only to draw a trend


@dataclass
class ObjectiveView:
    rule: str
    rule_title: str
    scope: str  # by its names
    codes: str
    source: str
    result: Result | None  # the result judged against this objective, if any
    target: str


@dataclass
class CommitmentView:
    """A CIA in force on the territory: its quantified objectives with their results, and its
    qualitative commitments (which mixite lists but does not check)."""

    commitment_id: str
    title: str
    period: str
    signatories: list[str]
    sources: list[str]
    quantified: list[ObjectiveView] = field(default_factory=list)
    qualitative: list[str] = field(default_factory=list)


@dataclass
class ImportView:
    day: dt.datetime
    files: list[dict[str, Any]]
    summary: dict[str, dict[str, int]]


@dataclass
class MissingValue:
    field: str  # French label
    missing: int
    total: int
    population: str
    effect: str


@dataclass
class UncertainPoint:
    rule: str
    where: str  # « règle », « version du 22/02/2020 », « paramètre … »
    text: str


@dataclass
class ReportData:
    title: str
    period: Period
    results: list[Result]
    receipt: dict[str, Any]
    rulebook: Rulebook
    territory: list[dict[str, Any]]
    names: Names = field(default_factory=Names)
    years: list[YearRun] = field(default_factory=list)  # side by side, oldest first
    trend: dict[str, list[tuple[int, Result]]] = field(default_factory=dict)  # rule -> EPCI results
    history: dict[str, list[tuple[int, ObligationLine]]] = field(
        default_factory=dict
    )  # rule -> lines
    breakdowns: list[Breakdown] = field(default_factory=list)
    listings: dict[int, Listing] = field(default_factory=dict)  # index in results -> records
    lines: list[ObligationLine] = field(default_factory=list)
    commitments: list[CommitmentView] = field(default_factory=list)
    uncertain: list[UncertainPoint] = field(default_factory=list)
    imports: list[ImportView] = field(default_factory=list)
    missing: list[MissingValue] = field(default_factory=list)
    data_until: dt.date | None = None  # the latest date found in the data
    stem: str = "rapport"  # file name (without suffix) the companion files are named after

    @property
    def bailleurs(self) -> dict[str, str]:
        return self.names.bailleurs

    @property
    def failing_file(self) -> str:
        """The CSV holding every record listed, written beside the report."""
        return f"{self.stem}-en-defaut.csv"


def years_held(connection: Connection) -> list[int]:
    year = extract("year", models.Attribution.date_bail)
    query = select(year).where(models.Attribution.date_bail.is_not(None)).distinct().order_by(year)
    return [int(value) for (value,) in connection.execute(query)]


def collect(connection: Connection, rulebook: Rulebook, period: Period, options: Options,
            results: list[Result], receipt: Receipt, title: str,
            earlier: list[YearRun] | None = None, stem: str | None = None) -> ReportData:  # fmt: skip
    """The report of `period` (its `results` and `receipt`); `earlier` are the years reported
    side by side with it, each with its own receipt. Without them, the trend shows every year
    held in the database up to this one."""
    evaluator = Evaluator(connection, rulebook, period, options)
    data = ReportData(title, period, results, receipt.as_json(), rulebook, evaluator.epcis)
    data.stem = stem or f"rapport-{period.end.year}"
    data.names = Names.load(connection)
    data.lines = synthesis(results, rulebook, data.names)
    current = YearRun(period.end.year, results, data.receipt)
    if earlier is not None:
        data.years = [*sorted(earlier, key=lambda run: run.year), current]
    else:
        data.years = [
            YearRun(year, Evaluator(connection, rulebook, Period.year(year), options).evaluate(), None)
            for year in years_held(connection)
            if year < period.end.year
        ] + [current]  # fmt: skip
    for run in data.years:
        for line in synthesis(run.results, rulebook, data.names):
            if line.status == "information":
                continue  # figures without verdict: no trend
            data.history.setdefault(line.rule, []).append((run.year, line))
            if line.whole is not None:
                data.trend.setdefault(line.rule, []).append((run.year, line.whole))
    whole = {(r.rule, r.scope.get("epci")): r for r in results if set(r.scope) == {"epci"}}
    for rule_id in sorted(rulebook.rules):
        for dimension in ("commune", "qpv"):
            rows = _breakdown(evaluator, rule_id, dimension)
            if rows:
                target = whole.get((rule_id, rows[0].scope.get("epci")))
                data.breakdowns.append(Breakdown(rule_id, dimension, rows, target))
    data.listings = listings(Explainer(connection, evaluator), results)
    data.commitments = _commitments(rulebook, results, data.names, evaluator.epcis)
    data.uncertain = _uncertain(rulebook, results)
    data.imports = _imports(connection)
    data.missing = _missing(connection, period)
    data.data_until = connection.execute(
        select(func.max(models.Attribution.date_decision))
    ).scalar()
    return data


def listings(explainer: Explainer, results: list[Result]) -> dict[int, Listing]:
    """Every record behind each result to act on, by the results' indexes in order. A rule is
    explained once per EPCI, and each record goes, as it is read, to the listings of the
    narrower scopes it belongs to, as the check filters them; each listing holds the records
    the HTML report shows, and writes all of them to the report's temporary file
    (`checker.report.spill`), so that memory does not grow with the number of records."""
    wanted: dict[tuple[str, str], list[tuple[int, Result, str]]] = {}
    for index, result in enumerate(results):
        if result.status not in (NON_CONFORME, DONNEES_INSUFFISANTES) or result.kind == "structure":
            continue
        if result.information:
            continue  # a figure without verdict: no attribution is at fault
        if result.denominator is None:
            continue
        if objective_missing(
            result.status, result.target, result.target_source, result.denominator
        ):
            continue  # the convention lacks its objective: no attribution is at fault
        state = EN_DEFAUT if result.status == NON_CONFORME else INDECIDABLE
        key = (result.rule, result.scope.get("epci", ""))
        wanted.setdefault(key, []).append((index, result, state))
    spill = Spill()
    found: dict[int, Listing] = {}
    for (rule, epci), members in wanted.items():
        found.update(_rule_listings(explainer, rule, epci, members, spill))
    return dict(sorted(found.items()))


class _Router:
    """Where each record of a rule's explanation goes: to the listings whose scope it is in
    (the same test as `Explanation.within`: the record's value of each of the scope's keys)
    and whose state it has, pickled once whatever their number."""

    def __init__(self, members: list[tuple[int, Result, str]], spill: Spill) -> None:
        self.rows: dict[int, SpilledRows] = {}
        self.met: dict[int, list[bool | None]] = {}
        self.dimensions: dict[int, list[dict[str, str]]] = {}
        self._targets: dict[
            tuple[tuple[str, ...], str], dict[tuple[str | None, ...], list[int]]
        ] = {}
        for index, result, state in members:
            self.rows[index] = SpilledRows(spill, keep=html_limit(result.kind))
            self.met[index], self.dimensions[index] = [], []
            keys = tuple(sorted(result.scope))
            by_values = self._targets.setdefault((keys, state), {})
            by_values.setdefault(tuple(result.scope[key] for key in keys), []).append(index)

    def take(self, state: str, met: bool | None, dimensions: dict[str, str],
             cells: list[Any]) -> None:  # fmt: skip
        pickled: bytes | None = None
        for (keys, wanted_state), by_values in self._targets.items():
            if state != wanted_state:
                continue
            for index in by_values.get(tuple(dimensions.get(key) for key in keys), ()):
                if pickled is None:
                    pickled = dumps(cells)
                rows = self.rows[index]
                if rows.held < rows.keep:
                    self.met[index].append(met)
                    self.dimensions[index].append(dimensions)
                rows.add(cells, pickled)


def _rule_listings(explainer: Explainer, rule: str, epci: str,
                   members: list[tuple[int, Result, str]], spill: Spill) -> dict[int, Listing]:  # fmt: skip
    """The listings of one rule's results in one EPCI (or in the whole flow, `epci` empty)."""
    router = _Router(members, spill)
    scope = {"epci": epci} if epci else {}
    # The counts are asked for the results' sets of scope keys only (those of the scope
    # columns: the others count nothing, `tallied_within`).
    tally_by = tuple(sorted({
        tuple(sorted(result.scope)) for _, result, _ in members
        if all(key in DIMENSION_COLUMNS for key in result.scope)
    }))  # fmt: skip
    widest = explainer.explain(rule, scope, listed_only=True, sink=router.take, tally_by=tally_by)
    found: dict[int, Listing] = {}
    for index, result, state in members:
        rows = router.rows[index]
        rows.flush()
        explanation = widest.holding(rows.head, state)
        explanation.scope = dict(result.scope)
        explanation.dimensions = router.dimensions[index]
        explanation._met = router.met[index]
        explanation.counted, explanation.qualifying, explanation.unknown = widest.tallied_within(
            result.scope
        )
        found[index] = Listing(index, result, explanation, list(range(len(rows.head))), state, rows)
    return found


def _breakdown(evaluator: Evaluator, rule_id: str, dimension: str) -> list[Result]:
    period = evaluator.period
    versions = evaluator.rulebook.versions_during(rule_id, period.start, period.end)
    if not versions:
        return []
    latest = versions[-1]
    if (
        latest.population is None
        or latest.requirement is None
        or latest.requirement.kind != "share"
    ):
        return []
    entity = evaluator.schema.entities[latest.population.entity]
    if dimension not in entity.dimensions:
        return []
    epcis = [epci["siren"] for epci in evaluator.epcis if evaluator._applicable(latest, epci)]
    if not epcis:
        return []
    target = evaluator._target(latest)
    counted = evaluator._count(versions, latest, epcis, [("epci", dimension)])
    parameters: list[dict[str, Any]] = []
    return [
        evaluator._result(rule_id, versions, latest, scope, counts, target, parameters)
        for scope, counts in counted[("epci", dimension)]
        if scope.get(dimension) is not None
    ]


def _commitments(rulebook: Rulebook, results: list[Result], names: Names,
                 epcis: list[dict[str, Any]]) -> list[CommitmentView]:  # fmt: skip
    territory = {str(epci["siren"]) for epci in epcis}
    views = []
    for commitment_id in sorted(rulebook.commitments):
        commitment = rulebook.commitments[commitment_id]
        if commitment.territory is not None and commitment.territory not in territory:
            continue
        start = commitment.start.strftime("%d/%m/%Y") if commitment.start else "—"
        end = commitment.end.strftime("%d/%m/%Y") if commitment.end else "—"
        view = CommitmentView(
            commitment_id=commitment_id,
            title=commitment.meta.title or commitment_id,
            period=f"du {start} au {end}",
            signatories=list(commitment.signatories),
            sources=[source.title for source in commitment.meta.sources],
            qualitative=[present.qualitative_text(q) for q in commitment.qualitatives]
            + list(commitment.meta.notes),
        )
        for objective in commitment.objectives:
            scope = {item.name: item.value for item in objective.scope}
            epci = commitment.territory or next(iter(sorted(territory)), "")
            found = next(
                (r for r in results if r.rule == objective.rule_id
                 and r.scope == {"epci": epci, **scope} and r.target_source == commitment_id),
                None,
            )  # fmt: skip
            rule = rulebook.rules.get(objective.rule_id)
            full_scope = {"epci": epci, **scope}
            view.quantified.append(ObjectiveView(
                rule=objective.rule_id,
                rule_title=rule.meta.title or objective.rule_id if rule else objective.rule_id,
                scope=names.scope(full_scope), codes=names.codes(full_scope),
                source="; ".join(source.title for source in objective.sources),
                result=found,
                target=present.target_text(found, present.bound_of(rulebook, found), False)
                if found else "—",
            ))  # fmt: skip
        views.append(view)
    return views


def _uncertain(rulebook: Rulebook, results: list[Result]) -> list[UncertainPoint]:
    """The points the rules mark uncertain, for the rules, versions and parameters used."""
    points: list[UncertainPoint] = []
    seen: set[tuple[str, str]] = set()
    for rule_id in sorted({r.rule for r in results}):
        rule = rulebook.rules[rule_id]
        versions = {r.version for r in results if r.rule == rule_id}
        items = [("règle", text) for text in rule.meta.uncertain]
        for version in rule.versions:
            if version.start.isoformat() in versions:
                label = f"version du {version.start.strftime('%d/%m/%Y')}"
                items += [(label, text) for text in version.meta.uncertain]
        names = sorted({p["name"] for r in results if r.rule == rule_id for p in r.parameters})
        for name in names:
            parameter = rulebook.parameters.get(name)
            if parameter is not None:
                label = f"paramètre « {field_label(name)} »"
                items += [(label, text) for text in parameter.decl.meta.uncertain]
        for where, text in items:
            if (where, text) not in seen:
                seen.add((where, text))
                points.append(UncertainPoint(rule_id, where, text))
    return points


def _imports(connection: Connection) -> list[ImportView]:
    batch = models.ImportBatch
    query = select(batch.imported_at, batch.files, batch.summary).order_by(batch.id)
    return [
        ImportView(day, list(files), dict(summary))
        for day, files, summary in connection.execute(query)
    ]


# Optional values of an attribution, what their absence prevents, and when it is expected.
_OPTIONAL = (
    ("date_bail", "l'attribution ne compte dans aucun objectif annuel (bail non signé)"),
    ("revenus_mensuels", "quartile du ménage indécidable"),
    ("rfr_n2", "ressources retenues inconnues : respect du plafond indécidable"),
    ("categorie_menage", "catégorie déduite de la composition du foyer"),
)


def _missing(connection: Connection, period: Period) -> list[MissingValue]:
    table = models.Attribution.__table__
    decided = table.c.date_decision.between(period.start, period.end)
    total = connection.execute(select(func.count()).select_from(table).where(decided)).scalar() or 0
    found = []
    for name, effect in _OPTIONAL:
        column = table.c[name + "_centimes" if name in ("revenus_mensuels", "rfr_n2") else name]
        query = select(func.count()).select_from(table).where(decided, column.is_(None))
        missing = connection.execute(query).scalar() or 0
        found.append(MissingValue(field_label(name), int(missing), int(total),
                                  "attributions décidées dans la période", effect))  # fmt: skip
    return found


__all__ = ["REFERENCE_FIGURES", "Breakdown", "Listing", "ReportData", "collect", "years_held"]
