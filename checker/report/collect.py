"""Everything a full report shows, gathered once: results, trend over the years held,
breakdowns per commune and QPV, the records behind each non-compliant result, rule sources."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, extract, select

from checker.db import models
from checker.evaluate.explain import Explainer, Explanation
from checker.evaluate.results import NON_CONFORME, Result
from checker.evaluate.run import Evaluator, Options, Period
from checker.runs import Receipt
from dsl.rulebook import Rulebook

MAX_EXPLAINED_ROWS = 300
# National reference figures (ANCOLS), shown beside the territory's own: share of attributions
# outside QPV going to first-quartile households, EPCI concerned, excluding rehoused households.
REFERENCE_FIGURES = {
    "L441-1.Q1-HORS-QPV": [
        ("2017", 0.165, "ANCOLS, bilan 2017-2019 des attributions (hors relogés)"),
        ("2018", 0.14, "ANCOLS, bilan 2017-2019 des attributions (hors relogés)"),
        ("2019", 0.155, "ANCOLS, bilan 2017-2019 : 42 000 attributions sur 272 000 hors QPV"),
    ],
}


@dataclass
class Breakdown:
    rule: str
    dimension: str  # "commune" or "qpv"
    rows: list[Result]


@dataclass
class ReportData:
    title: str
    period: Period
    results: list[Result]
    receipt: dict[str, Any]
    rulebook: Rulebook
    territory: list[dict[str, Any]]
    trend: dict[str, list[tuple[int, Result]]] = field(
        default_factory=dict
    )  # rule -> (year, EPCI result)
    breakdowns: list[Breakdown] = field(default_factory=list)
    explanations: dict[int, Explanation] = field(
        default_factory=dict
    )  # index in results -> records
    truncated: dict[int, int] = field(default_factory=dict)  # index -> total records
    bailleurs: dict[str, str] = field(default_factory=dict)  # SIREN -> name


def years_held(connection: Connection) -> list[int]:
    year = extract("year", models.Attribution.date_bail)
    query = select(year).where(models.Attribution.date_bail.is_not(None)).distinct().order_by(year)
    return [int(value) for (value,) in connection.execute(query)]


def collect(connection: Connection, rulebook: Rulebook, period: Period, options: Options,
            results: list[Result], receipt: Receipt, title: str) -> ReportData:  # fmt: skip
    evaluator = Evaluator(connection, rulebook, period, options)
    data = ReportData(title, period, results, receipt.as_json(), rulebook, evaluator.epcis)
    data.bailleurs = {
        siren: nom
        for siren, nom in connection.execute(select(models.Bailleur.siren, models.Bailleur.nom))
    }
    for year in years_held(connection):
        if year > period.end.year:
            continue
        past = (
            Evaluator(connection, rulebook, Period.year(year), options).evaluate()
            if year != period.end.year
            else results
        )
        for result in past:
            if set(result.scope) == {"epci"}:
                data.trend.setdefault(result.rule, []).append((year, result))
    for rule_id in sorted(rulebook.rules):
        for dimension in ("commune", "qpv"):
            rows = _breakdown(evaluator, rule_id, dimension)
            if rows:
                data.breakdowns.append(Breakdown(rule_id, dimension, rows))
    explainer = Explainer(connection, evaluator)
    for index, result in enumerate(results):
        if result.status == NON_CONFORME and result.kind != "structure":
            try:
                explanation = explainer.explain(result.rule, result.scope)
            except Exception:
                continue
            data.truncated[index] = len(explanation.rows)
            explanation.rows = explanation.rows[:MAX_EXPLAINED_ROWS]
            data.explanations[index] = explanation
    return data


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


__all__ = ["REFERENCE_FIGURES", "collect", "dt"]


_SEVERITY = ["non_conforme", "donnees_insuffisantes", "conforme", "non_applicable"]


def summary_rows(results: list[Result]) -> list[tuple[int | None, Result]]:
    """One line per obligation and EPCI: its EPCI-wide result when it has one; otherwise (rules
    judged per réservataire or per bailleur only) a line counting the scopes that comply, with
    the worst status and the sum of the shortfalls."""
    rows: list[tuple[int | None, Result]] = []
    by_rule: dict[tuple[str, str], list[tuple[int, Result]]] = {}
    for index, result in enumerate(results):
        by_rule.setdefault((result.rule, result.scope.get("epci", "")), []).append((index, result))
    for (rule, epci), found in sorted(by_rule.items()):
        whole = [(i, r) for i, r in found if set(r.scope) == {"epci"}]
        if whole:
            rows.extend(whole)
            continue
        judged = [r for _, r in found if r.status != "non_applicable"]
        worst = min((r.status for _, r in found), key=_SEVERITY.index)
        shortfalls = [r.shortfall for r in judged if r.shortfall is not None]
        dimension = ", ".join(sorted({k for _, r in found for k in r.scope} - {"epci"}))
        rows.append((None, Result(
            rule=rule, version=found[0][1].version, scope={"epci": epci}, status=worst,
            numerator=sum(r.status == "conforme" for r in judged), denominator=len(judged),
            rate=None, target=None, shortfall=sum(shortfalls) if shortfalls else None,
            kind="scopes", message=f"périmètres conformes sur périmètres jugés (par {dimension})",
        )))  # fmt: skip
    return rows
