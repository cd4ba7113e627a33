"""`mixite explain`: the records behind a figure, each with why it counts or not.

The records are selected in SQL with the very population the check used; the reasons are
computed by the reference interpreter on each record (listing is not counting: the figures
themselves always come from the database). A report's listings (`listed_only`) take each
record's verdict from the check's compiled condition and interpret only the records they list,
refusing the listing where the interpreter disagrees.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from sqlalchemy import Connection, Select, select

from checker import frenchfmt
from checker.errors import MixiteError
from checker.evaluate import base
from checker.evaluate.interpret import Interpreter, Value
from checker.evaluate.run import DIMENSION_COLUMNS, Evaluator, Options, Period
from checker.evaluate.sqlcompile import CompileContext, SqlCompiler
from checker.vocabulary import expression_label, field_label
from dsl import ast
from dsl.types import DATE, NUMERIC, Type

# What identifies a record of each population in a listing: (column key, field). The column
# keys are translated by checker.vocabulary.field_label; the scope fields (bailleur, commune,
# contingent, réservataire) let a listing say which results a record belongs to.
IDENTITY_COLUMNS = {
    "attributions": (("pseudonyme", "menage"), ("logement", "rpls_id"), ("bailleur", "bailleur"),
                     ("commune", "commune"), ("date_bail", "fact_date"), ("contingent", "contingent"),
                     ("reservataire", "reservataire")),
    "dossiers_caleol": (("logement", "rpls_id"), ("bailleur", "bailleur"), ("commune", "commune"),
                        ("date_commission", "fact_date"), ("candidatures", "nb_candidatures"),
                        ("financement", "financement")),
    "epci": (("epci", "siren"), ("nom", "nom"), ("date_controle", "fact_date")),
    "conventions_reservation": (("bailleur", "bailleur"), ("reservataire", "reservataire"),
                                ("mode", "mode"), ("signee_le", "date_signature"),
                                ("attributions", "nb_attributions")),
    "baux": (("logement", "rpls_id"), ("bailleur", "bailleur"), ("commune", "commune"),
             ("signe_le", "date_signature"), ("dernier_examen", "date_dernier_examen"),
             ("echeance", "echeance_examen")),
    "residences": (("residence", "residence"), ("nom", "nom"), ("bailleur", "bailleur"),
                   ("commune", "commune"), ("annee_enquete", "annee_enquete"),
                   ("menages_repondants", "menages_repondants")),
    "occupations": (("residence", "residence"), ("nom", "nom"), ("bailleur", "bailleur"),
                    ("commune", "commune"), ("annee_enquete", "annee_enquete"),
                    ("menages_repondants", "menages_repondants")),
    "relogements": (("pseudonyme", "menage"), ("operation", "operation"), ("bailleur", "bailleur"),
                    ("statut", "statut"), ("date_relogement", "date_relogement"),
                    ("logement_destination", "logement_destination")),
}  # fmt: skip

# What a listed record is, for the result it is listed under.
EN_DEFAUT = "en_defaut"  # it fails the rule (or, for a cap, counts against it)
EN_REGLE = "en_regle"
INDECIDABLE = "indecidable"  # a value it needs is missing
_DIMENSION_FIELDS = tuple(DIMENSION_COLUMNS.values())
_DIMENSION_KEYS = list(DIMENSION_COLUMNS)
# The column of a listing's query holding the verdict the check's SQL gives each record.
SQL_VERDICT = "mixite_verdict_sql"
_SLICE = 2000  # records read at a time by a download (`Explainer.slices`)


@dataclass(frozen=True)
class Column:
    key: str  # identity field key, "verdict", or the rule text of a reason, indicator or value
    title: str  # French
    role: str  # "identity" | "verdict" | "reason" | "also" | "value"
    type: Type | None = None  # for values: how to show and store them


@dataclass
class Explanation:
    rule: str
    scope: dict[str, str]
    columns: list[Column]
    # Cells as values (dates, numbers as Fraction, codes as stored); `text_rows` shows them.
    rows: list[list[Any]] = field(default_factory=list)
    states: list[str] = field(default_factory=list)  # one per row: EN_DEFAUT, EN_REGLE…
    counted: int = 0
    qualifying: int = 0
    unknown: int = 0
    population: str = ""  # the entity listed (attributions, dossiers_caleol…)
    condition: str = ""  # the requirement's condition, in French
    # One per row: the record's value of each scope key (epci, bailleur, réservataire…).
    dimensions: list[dict[str, str]] = field(default_factory=list)
    _met: list[bool | None] = field(default_factory=list, repr=False)
    # A report's listing (`explain(listed_only=True)`): the rows in good standing are not kept,
    # only tallied with the others by scope values (counted, qualifying, unknown).
    listed_only: bool = False
    _tally: dict[tuple[str | None, ...], list[int]] = field(default_factory=dict, repr=False)
    _tallies: dict[tuple[str, ...], dict[tuple[str | None, ...], list[int]]] = field(
        default_factory=dict, repr=False
    )
    _indexes: dict[tuple[str, ...], dict[tuple[str | None, ...], list[int]]] = field(
        default_factory=dict, repr=False
    )
    _shared_dimensions: dict[tuple[str | None, ...], dict[str, str]] = field(
        default_factory=dict, repr=False
    )
    # A full report's listing (`explain(listed_only=True, sink=…)`): each listed record is
    # given to the sink as it comes (state, verdict, scope values, cells) and not kept here,
    # so that a rule's records at fault are never all held at once (700 000 at 500 000
    # attributions); only the tallies stay, for the counts of each scope.
    sink: Callable[[str, bool | None, dict[str, str], list[Any]], None] | None = field(
        default=None, repr=False
    )
    # The sets of scope keys a report's listing is asked the counts of (`tallied_within`), each
    # tallied as the records come, instead of every combination of scope values: with the
    # residence or the commune among them, there are nearly as many combinations as records
    # (L441-1.PRIORITAIRES-25 at 500 000 attributions: 133 605 for 174 027 records; with the
    # shared scope values of its records at fault, 148 MB).
    tally_by: tuple[tuple[str, ...], ...] | None = field(default=None, repr=False)
    _tally_positions: list[tuple[tuple[str, ...], tuple[int, ...]]] = field(
        default_factory=list, repr=False
    )  # each of `tally_by`, with its keys' positions in the scope values

    def __post_init__(self) -> None:
        if self.tally_by is not None:
            self.tally_by = tuple(tuple(sorted(keys)) for keys in self.tally_by)
            self._tallies = {keys: {} for keys in self.tally_by}
            self._tally_positions = [
                (keys, tuple(_DIMENSION_KEYS.index(key) for key in keys)) for keys in self.tally_by
            ]

    @property
    def titles(self) -> list[str]:
        return [column.title for column in self.columns]

    def text_rows(self, only: str | None = None) -> list[list[str]]:
        """The rows as French text (dates JJ/MM/AAAA, amounts in euros…), optionally only
        those in one state."""
        return [
            [show(value, column.type) for value, column in zip(row, self.columns, strict=True)]
            for row, state in zip(self.rows, self.states, strict=True)
            if only is None or state == only
        ]

    def _rows_by(self, keys: tuple[str, ...]) -> dict[tuple[str | None, ...], list[int]]:
        """The rows' indexes by their values of `keys`, in row order, made once per set of
        keys: a report takes the rows of every failing result's scope from the widest
        explanation (870 results over up to 50 000 rows at 100 000 attributions)."""
        index = self._indexes.get(keys)
        if index is None:
            index = {}
            for i, values in enumerate(self.dimensions):
                index.setdefault(tuple(values.get(key) for key in keys), []).append(i)
            self._indexes[keys] = index
        return index

    def failing(self) -> list[int]:
        """Indexes of the rows that fail the rule."""
        return [i for i, state in enumerate(self.states) if state == EN_DEFAUT]

    def add(self, state: str, met: bool | None, scope_values: tuple[Any, ...],
            cells: list[Any] | None) -> None:  # fmt: skip
        """One more record: its state, whether it meets the rule, its values of the scope
        columns (`DIMENSION_COLUMNS`' order, None where it has none), its cells (None for a
        record in good standing of a report's listing, which is only tallied)."""
        self.counted += 1
        self.qualifying += met is True
        self.unknown += met is None
        texts = tuple(None if value is None else str(value) for value in scope_values)
        if self.listed_only:
            for tally in self._tallies_of(texts):
                tally[0] += 1
                tally[1] += met is True
                tally[2] += met is None
            if state == EN_REGLE:
                return
        if cells is None:
            raise ValueError("the cells of a listed record are needed")
        if self.sink is not None:  # given away: a dict per record, kept only by its taker
            self.sink(state, met, _dimensions(texts), cells)
            return
        # Records share a handful of scope values (EPCI, bailleur, commune, contingent…): one
        # dict per distinct combination, not per record.
        dimensions = self._shared_dimensions.get(texts)
        if dimensions is None:
            dimensions = _dimensions(texts)
            self._shared_dimensions[texts] = dimensions
        self.states.append(state)
        self._met.append(met)
        self.dimensions.append(dimensions)
        self.rows.append(cells)

    def _tallies_of(self, texts: tuple[str | None, ...]) -> list[list[int]]:
        """The tallies a record of these scope values counts in: that of its combination of
        values, or (`tally_by`) that of its values of each set of keys."""
        if self.tally_by is None:
            return [self._tally.setdefault(texts, [0, 0, 0])]
        return [
            self._tallies[keys].setdefault(tuple(texts[p] for p in positions), [0, 0, 0])
            for keys, positions in self._tally_positions
        ]

    def _tallied(self, keys: tuple[str, ...]) -> dict[tuple[str | None, ...], list[int]]:
        """A listing's tallies summed by the records' values of `keys`, made once per set of
        keys (from the distinct combinations of scope values, not from the records)."""
        found = self._tallies.get(keys)
        if found is None:
            if self.tally_by is not None:
                raise ValueError(f"the records were not tallied by {keys}")
            found = {}
            positions = [_DIMENSION_KEYS.index(key) for key in keys]
            for texts, (counted, qualifying, unknown) in self._tally.items():
                total = found.setdefault(tuple(texts[p] for p in positions), [0, 0, 0])
                total[0] += counted
                total[1] += qualifying
                total[2] += unknown
            self._tallies[keys] = found
        return found

    def tallied_within(self, scope: dict[str, str]) -> tuple[int, int, int]:
        """A report's listing: the counts (counted, qualifying, unknown) of a narrower scope,
        from the tallies by scope values."""
        if not self.listed_only:
            raise ValueError("only a report's listing tallies its records")
        keys = tuple(sorted(scope))
        if not all(key in DIMENSION_COLUMNS for key in keys):
            return 0, 0, 0
        counts = self._tallied(keys).get(tuple(scope[key] for key in keys))
        return (counts[0], counts[1], counts[2]) if counts else (0, 0, 0)

    def holding(self, rows: list[list[Any]], state: str) -> Explanation:
        """An explanation of the same columns holding `rows`, all in `state` (a slice of a
        report's listing read back from disk, for the writers of its records)."""
        held = Explanation(self.rule, dict(self.scope), self.columns, population=self.population,
                           condition=self.condition)  # fmt: skip
        held.rows = rows
        held.states = [state] * len(rows)
        return held

    def within(self, scope: dict[str, str], only: str | None = None) -> Explanation:
        """The rows of a narrower scope (this explanation's population, filtered by scope keys
        as the check filters them); with `only`, the rows in that state alone (a report's
        listing), the counts staying those of the whole scope. A report takes every failing
        result's rows from its EPCI's explanation."""
        if self.sink is not None:
            raise ValueError("a listing given to a sink keeps no record")
        keys = tuple(sorted(scope))
        wanted = tuple(scope[key] for key in keys)
        kept = self._rows_by(keys).get(wanted, [])
        narrower = Explanation(self.rule, dict(scope), self.columns, population=self.population,
                               condition=self.condition)  # fmt: skip
        listed = kept if only is None else [i for i in kept if self.states[i] == only]
        narrower.rows = [self.rows[i] for i in listed]
        narrower.states = [self.states[i] for i in listed]
        narrower.dimensions = [self.dimensions[i] for i in listed]
        narrower._met = [self._met[i] for i in listed]
        if self.listed_only:
            if only is None or only == EN_REGLE:
                raise ValueError("a report's listing keeps no record in good standing")
            narrower.counted, narrower.qualifying, narrower.unknown = self.tallied_within(scope)
            return narrower
        narrower.counted = len(kept)
        narrower.qualifying = sum(1 for i in kept if self._met[i] is True)
        narrower.unknown = sum(self.states[i] == INDECIDABLE for i in kept)
        return narrower

    def in_territories(self, territories: tuple[str, ...]) -> Explanation:
        """The same figure's rows in these EPCI only (a whole-flow result shown to a
        territorial account: the other territories' records are not its to see)."""
        if self.listed_only:
            raise ValueError("a report's listing keeps no record in good standing")
        kept = Explanation(self.rule, dict(self.scope), self.columns, population=self.population,
                           condition=self.condition)  # fmt: skip
        rows = [i for i, values in enumerate(self.dimensions) if values.get("epci") in territories]
        kept.rows = [self.rows[i] for i in rows]
        kept.states = [self.states[i] for i in rows]
        kept.dimensions = [self.dimensions[i] for i in rows]
        kept._met = [self._met[i] for i in rows]
        kept.counted = len(rows)
        kept.qualifying = sum(1 for i in rows if self._met[i] is True)
        kept.unknown = sum(self.states[i] == INDECIDABLE for i in rows)
        return kept


def _dimensions(texts: tuple[str | None, ...]) -> dict[str, str]:
    """A record's scope values by key (`DIMENSION_COLUMNS`' order), without those it lacks."""
    return {key: text for key, text in zip(DIMENSION_COLUMNS, texts, strict=True)
            if text is not None}  # fmt: skip


def _state(met: Value, counts_against: bool) -> str:
    """A record's state in a listing: undecidable, at fault (for a cap: counted against it), or
    in good standing."""
    if met is None:
        return INDECIDABLE
    return EN_DEFAUT if bool(met) is counts_against else EN_REGLE


def _verdict(value: Value) -> str:
    if value is None:
        return "inconnu"
    return "oui" if value else "non"


def show(value: object, type_: Type | None) -> str:
    """A cell: empty when absent, numbers in the French way, dates as JJ/MM/AAAA."""
    if value is None:
        return ""
    if isinstance(value, Fraction) and type_ is not None and type_.kind in NUMERIC:
        return frenchfmt.value(value, type_)
    if isinstance(value, Fraction):
        return frenchfmt.number(value, 4)
    if isinstance(value, bool):
        return "oui" if value else "non"
    if isinstance(value, dt.date):
        return frenchfmt.date(value)
    return str(value)


def _parts(expr: ast.Expr) -> list[ast.Expr]:
    """The operands of a top-level chain of « ou » / « et », each shown as a reason."""
    if isinstance(expr, ast.Or | ast.And):
        kind = type(expr)
        parts: list[ast.Expr] = []
        for side in (expr.left, expr.right):
            parts.extend(_parts(side) if isinstance(side, kind) else [side])
        return parts
    return [expr]


@dataclass(frozen=True)
class _Plan:
    """A listing's query and what its records are shown with (`Explainer._plan`)."""

    rule_id: str
    versions: list[ast.Version]
    latest: ast.Version
    query: Select[Any]
    columns: list[Column]
    reasons: list[ast.Expr]
    shown: list[ast.Expr]
    identity: tuple[tuple[str, str], ...]
    entity: str
    condition: str  # the requirement's condition, in French
    verdict_in_sql: bool  # the query selects the check's verdict (SQL_VERDICT)
    counts_against: bool  # a cap: the records meeting the condition count against it

    def explanation(
        self,
        scope: dict[str, str],
        *,
        listed_only: bool = False,
        sink: Callable[[str, bool | None, dict[str, str], list[Any]], None] | None = None,
        tally_by: tuple[tuple[str, ...], ...] | None = None,
    ) -> Explanation:
        """An explanation of this listing, without records yet."""
        return Explanation(self.rule_id, dict(scope), self.columns, population=self.entity,
                           condition=self.condition, listed_only=listed_only, sink=sink,
                           tally_by=tally_by)  # fmt: skip


class Explainer:
    def __init__(self, connection: Connection, evaluator: Evaluator) -> None:
        self.connection = connection
        self.evaluator = evaluator
        self.rulebook = evaluator.rulebook

    def _label(self, expr: ast.Expr) -> str:
        text = self.rulebook.text_of(expr.span)
        return text if text is not None else type(expr).__name__

    def _values_shown(self, expr: ast.Expr) -> list[ast.Expr]:
        """Numeric definitions and parameter lookups the condition relies on, in order."""
        found: list[ast.Expr] = []
        resolutions = self.rulebook.annotations.resolutions
        types = self.rulebook.annotations.types
        definitions = self.rulebook.definitions

        def visit(node: object, depth: int) -> None:
            if depth > 4:
                return
            resolution = resolutions.get(id(node))
            numeric_definition = (
                isinstance(node, ast.Name)
                and resolution is not None
                and resolution.kind == "definition"
                and types.get(id(node)) is not None
                and types[id(node)].kind in NUMERIC
            )
            wanted = isinstance(node, ast.Lookup) or numeric_definition
            if wanted and self._label(node) not in [self._label(f) for f in found]:  # type: ignore[arg-type]
                found.append(node)  # type: ignore[arg-type]
            if resolution is not None and resolution.kind == "definition" and resolution.entity:
                visit(definitions[resolution.entity][resolution.name].expr, depth + 1)
            if isinstance(node, tuple):
                for item in node:
                    visit(item, depth)
            elif isinstance(node, ast.Expr):
                for name in node.__dataclass_fields__:
                    visit(getattr(node, name), depth)

        visit(expr, 0)
        return found

    def explain(
        self,
        rule_id: str,
        scope: dict[str, str],
        *,
        listed_only: bool = False,
        sink: Callable[[str, bool | None, dict[str, str], list[Any]], None] | None = None,
        tally_by: tuple[tuple[str, ...], ...] | None = None,
    ) -> Explanation:
        """The records of a rule's population in `scope`, each with its verdict, the parts of
        the condition, the indicators and the values the condition reads.

        `listed_only` (a report's listings, which show only the records at fault or
        undecidable): the records in good standing are counted, tallied by scope values for
        the narrower scopes' counts, and not kept; their cells are never computed. At 100 000
        attributions they are most of the population, and were most of a full report's time
        and memory (docs/dev/performance.md, « Listings of the full reports »). With a `sink`
        (a full report, `listed_only` only), each listed record goes to it as it is read
        instead of being kept (`Explanation.sink`); with `tally_by`, the counts are kept for
        those sets of scope keys only (`Explanation.tally_by`)."""
        if (sink is not None or tally_by is not None) and not listed_only:
            raise ValueError("only a report's listing gives its records to a sink")
        plan = self._plan(rule_id, scope, verdict_in_sql=listed_only)
        explanation = plan.explanation(scope, listed_only=listed_only, sink=sink, tally_by=tally_by)
        skipped = frozenset({EN_REGLE}) if listed_only else frozenset()
        for state, met, scope_values, cells in self._records(plan, skipped):
            explanation.add(state, met, scope_values, cells)
        return explanation

    def page(self, rule_id: str, scope: dict[str, str], first: int, size: int,
             territories: tuple[str, ...] | None = None) -> Explanation:  # fmt: skip
        """One page of `explain(rule_id, scope)`: its records `first` to `first + size - 1`
        (from 0, in the same order), with the counts of the whole scope; in `territories` (EPCI
        SIREN) alone when given, as `Explanation.in_territories` keeps them. The counts come
        from the check's compiled condition, the records of the page alone go through the
        reference interpreter (which must agree with it): a page of a scope of 1 000 000
        records costs a read of their verdicts, not the interpretation of every one."""
        plan = self._plan(rule_id, scope, verdict_in_sql=True, territories=territories)
        explanation = plan.explanation(scope)
        window = range(first, first + size)
        for state, met, scope_values, cells in self._records(
            plan, lambda position: position not in window
        ):
            if cells is None:  # outside the page: counted only
                explanation.counted += 1
                explanation.qualifying += met is True
                explanation.unknown += met is None
            else:
                explanation.add(state, met, scope_values, cells)
        return explanation

    def slices(self, rule_id: str, scope: dict[str, str], *, only: str | None = None,
               size: int = _SLICE, territories: tuple[str, ...] | None = None,
               ) -> Iterator[Explanation]:  # fmt: skip
        """The records of `explain(rule_id, scope)`, in the same order, `size` at a time (or
        those in the state `only`): for a CSV written as the records are read, whatever
        their number. A slice's counts are not the scope's (use `page` for those). The first
        slice comes even without records: its columns title the file."""
        plan = self._plan(rule_id, scope, verdict_in_sql=True, territories=territories)
        wanted = (EN_REGLE, EN_DEFAUT, INDECIDABLE) if only is None else (only,)
        skipped = frozenset(state for state in (EN_REGLE, EN_DEFAUT, INDECIDABLE)
                            if state not in wanted)  # fmt: skip
        current = plan.explanation(scope)
        yielded = False
        for state, met, scope_values, cells in self._records(plan, skipped):
            if cells is None:
                continue
            current.add(state, met, scope_values, cells)
            if len(current.rows) >= size:
                yield current
                yielded = True
                current = plan.explanation(scope)
        if current.rows or not yielded:
            yield current

    def _plan(self, rule_id: str, scope: dict[str, str], *, verdict_in_sql: bool,
              territories: tuple[str, ...] | None = None) -> _Plan:  # fmt: skip
        """The query of a listing and what its records are shown with."""
        period = self.evaluator.period
        versions = self.rulebook.versions_during(rule_id, period.start, period.end)
        if not versions:
            raise MixiteError(f"{rule_id} : aucune version en vigueur sur la période.")
        latest = versions[-1]
        if latest.population is None or latest.requirement is None:
            raise MixiteError(f"{rule_id} : la règle ne porte pas sur des enregistrements.")
        entity = self.evaluator.schema.entities[latest.population.entity]
        for key in scope:
            if key not in DIMENSION_COLUMNS:
                raise MixiteError(
                    f"Périmètre inconnu : {key}.",
                    "Clés possibles : " + ", ".join(DIMENSION_COLUMNS),
                )
        epcis = (
            [scope["epci"]] if "epci" in scope else [epci["siren"] for epci in self.evaluator.epcis]
        )
        row = base.population(entity.name, epcis, (period.start, period.end))
        compiler = SqlCompiler(CompileContext(self.rulebook, entity, row, (period.start, period.end),
                                              lambda expr: self.evaluator._key_domain(expr, epcis)))  # fmt: skip
        prepared = self.evaluator._prepare(versions, compiler, row)
        filters = [row.c[DIMENSION_COLUMNS[key]] == value for key, value in scope.items()]
        if territories is not None:
            filters.append(row.c[DIMENSION_COLUMNS["epci"]].in_(territories))
        # A listing that does not interpret every record takes each record's verdict from the
        # check's own compiled condition, and runs the reference interpreter on the records it
        # shows only (`_records`).
        verdict_sql = [prepared.condition.label(SQL_VERDICT)] if verdict_in_sql else []
        identity = IDENTITY_COLUMNS[entity.name]
        # The date, then the dwelling and the row's id where the population has them, then its
        # identity: an order without ties, so that a page (`page`, a query of its own) and the
        # slices of a download put end to end are the listing, on PostgreSQL too (its sort
        # puts ties in any order; several conventions of the demo share one date).
        order = ["fact_date", "rpls_id", "id", *(name for _, name in identity)]
        query = (
            select(row, *verdict_sql)
            .where(prepared.population, *filters)
            .order_by(*(row.c[name] for name in dict.fromkeys(order) if name in row.c))
        )
        condition = latest.requirement.condition
        reasons = _parts(condition)
        shown = self._values_shown(condition)
        types = self.rulebook.annotations.types
        date_type = Type(DATE)
        columns = [
            *(Column(key, field_label(key), "identity",
                     date_type if name in ("fact_date", "date_signature", "date_dernier_examen",
                                           "echeance_examen") else None)
              for key, name in identity),
            Column("verdict", field_label("verdict"), "verdict"),
            *(Column(self._label(r), expression_label(self._label(r)), "reason")
              for r in reasons if len(reasons) > 1),
            *(Column(a.label, f"aussi : {field_label(a.label)}", "also") for a in latest.also),
            *(Column(self._label(v), expression_label(self._label(v)), "value", types.get(id(v)))
              for v in shown),
        ]  # fmt: skip
        return _Plan(rule_id, versions, latest, query, columns, reasons, shown, identity,
                     entity.name, expression_label(self._label(condition)), verdict_in_sql,
                     counts_against=latest.requirement.kind != "each"
                     and latest.requirement.bound == "max")  # fmt: skip

    def _records(self, plan: _Plan, skipped: frozenset[str] | Callable[[int], bool],
                 ) -> Iterator[tuple[str, bool | None, tuple[Any, ...], list[Any] | None]]:  # fmt: skip
        """Each record of the plan's query, in order: its state, whether it meets the rule,
        its values of the scope columns and its cells. With the verdict in SQL, a record
        whose state is in `skipped` (or, `skipped` being a function, at a position it
        accepts) is not interpreted: its cells are None."""
        period = self.evaluator.period
        interpreter = Interpreter(self.rulebook, self.evaluator.schema.entities[plan.entity],
                                  (period.start, period.end), remember_definitions=True)  # fmt: skip
        latest = plan.latest
        met_in_sql: bool | None = None
        # A server-side cursor on PostgreSQL (psycopg would otherwise fetch every row at once):
        # a download of a million records holds a slice of them.
        found = self.connection.execute(
            plan.query.execution_options(stream_results=True, yield_per=_SLICE)
        )
        names = list(found.keys())
        # Rows as tuples: a record in good standing of a report's listing is never made a dict.
        scope_at = [
            names.index(column) if column in names else None for column in _DIMENSION_FIELDS
        ]
        verdict_at = names.index(SQL_VERDICT) if plan.verdict_in_sql else -1
        for position, values in enumerate(found):
            scope_values = tuple(None if at is None else values[at] for at in scope_at)
            if plan.verdict_in_sql:
                met_in_sql = None if values[verdict_at] is None else bool(values[verdict_at])
                state_in_sql = _state(met_in_sql, plan.counts_against)
                if skipped(position) if callable(skipped) else state_in_sql in skipped:
                    yield state_in_sql, met_in_sql, scope_values, None
                    continue
            record: dict[str, Any] = dict(zip(names, values, strict=True))
            record.pop(SQL_VERDICT, None)
            version = self._version_for(plan.versions, record["fact_date"])
            verdict = interpreter.eval(version.requirement.condition, record)  # type: ignore[union-attr]
            # A record-level rule's exemption makes the record meet it, as in the check; a
            # share rule's exempted records are not in the population at all.
            exemption = next(
                (e for e in version.exceptions if interpreter.eval(e.condition, record) is True),
                None,
            )
            met = (
                None
                if verdict is None and exemption is None
                else exemption is not None or bool(verdict)
            )
            if plan.verdict_in_sql and met != met_in_sql:
                raise MixiteError(
                    f"{plan.rule_id} : le verdict d'un enregistrement diffère entre la base "
                    f"({_verdict(met_in_sql)}) et l'interpréteur de référence "
                    f"({_verdict(met)}) ; la liste des cas ne peut pas être établie.",
                    "C'est une anomalie de mixite : signalez-la avec la règle et l'année.",
                )
            cells: list[Any] = [
                interpreter.fact_date(record) if name == "fact_date" else record.get(name)
                for _, name in plan.identity
            ]
            cells.append(
                _verdict(verdict)
                if exemption is None
                else "oui (exemption : " + expression_label(self._label(exemption.condition)) + ")"
            )
            if len(plan.reasons) > 1:
                cells.extend(_verdict(interpreter.eval(part, record)) for part in plan.reasons)
            cells.extend(_verdict(interpreter.eval(a.condition, record)) for a in latest.also)
            cells.extend(interpreter.eval(v, record) for v in plan.shown)
            yield _state(met, plan.counts_against), met, scope_values, cells

    @staticmethod
    def _version_for(versions: list[ast.Version], day: Any) -> ast.Version:
        if isinstance(day, str):
            import datetime as dt

            day = dt.date.fromisoformat(day)
        for version in versions:
            if version.start <= day and (version.end is None or day <= version.end):
                return version
        return versions[-1]


def explainer(connection: Connection, rulebook: Any, rule_id: str, period: Period,
              scope: dict[str, str]) -> Explainer:  # fmt: skip
    """The explainer of `rule_id`'s records in `scope` over `period` (a known rule)."""
    if rule_id not in rulebook.rules:
        raise MixiteError(f"Règle inconnue : {rule_id}.", "Voir : mixite rules list")
    evaluator = Evaluator(connection, rulebook, period, Options(epci=scope.get("epci")))
    return Explainer(connection, evaluator)


def explain(connection: Connection, rulebook: Any, rule_id: str, period: Period,
            scope: dict[str, str], *, listed_only: bool = False) -> Explanation:  # fmt: skip
    found = explainer(connection, rulebook, rule_id, period, scope)
    return found.explain(rule_id, scope, listed_only=listed_only)
