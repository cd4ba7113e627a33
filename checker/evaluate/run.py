"""Evaluating the rulebook for a period: applicability per EPCI (small, in Python), then one
GROUP BY query per rule and scope level, run in the database."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import weakref
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from sqlalchemy import (
    Connection,
    Integer,
    and_,
    case,
    cast,
    distinct,
    false,
    func,
    literal,
    literal_column,
    not_,
    null,
    or_,
    select,
    union_all,
)
from sqlalchemy import Date as SqlDate

from checker import frenchfmt
from checker.errors import MixiteError
from checker.evaluate import base
from checker.evaluate.commitments import in_force
from checker.evaluate.definitions import definitions_named, requires_field, with_definitions
from checker.evaluate.interpret import Interpreter
from checker.evaluate.results import (
    ATTRIBUTIONS,
    CONFORME,
    DONNEES_INSUFFISANTES,
    EN_COURS,
    MISSING_OBJECTIVE,
    NON_APPLICABLE,
    NON_CONFORME,
    NOUNS,
    Counts,
    Result,
    Verdict,
    judge_count,
    judge_each,
    judge_share,
    rounded,
)
from checker.evaluate.sqlcompile import CompileContext, SqlCompiler
from checker.schema import schema
from dsl import ast
from dsl.rulebook import CheckedParameter, ParameterValue, Rulebook
from dsl.types import INT

DIMENSION_COLUMNS = {
    "epci": "epci",
    "bailleur": "bailleur",
    "contingent": "contingent",
    "reservataire": "reservataire",
    "commune": "commune",
    "qpv": "qpv",
    "financement": "financement",
    "operation": "operation",
    "residence": "residence",
    "classe_residence": "classe_residence",
}


@dataclass(frozen=True)
class Period:
    start: dt.date
    end: dt.date  # inclusive: 31 December, or the --to-date

    @classmethod
    def year(cls, year: int, to_date: dt.date | None = None) -> Period:
        end = to_date or dt.date(year, 12, 31)
        return cls(dt.date(year, 1, 1), end)


@dataclass
class Options:
    epci: str | None = None
    bailleur: str | None = None


@dataclass
class _Prepared:
    """A rule's compiled pieces over the period (every version in force during it)."""

    population: Any
    condition: Any
    also: dict[str, Any] = field(default_factory=dict)


def _scope_key(scope: dict[str, str]) -> tuple[tuple[str, str], ...]:
    """A scope as a hashable value, in the order of DIMENSION_COLUMNS."""
    return tuple((d, scope[d]) for d in DIMENSION_COLUMNS if d in scope)


def _reference(sources: tuple[ast.Source, ...]) -> str | None:
    """Sources as a person cites them: « CIA du Val de Lize, article 4 ; … »."""
    cited = [
        source.title + (f", article {source.article}" if source.article else "")
        for source in sources
    ]
    return " ; ".join(cited) or None


def _bound(version: ast.Version) -> str | None:
    """A floor ("min"), a cap ("max"), or None (« pour chacune », or no requirement)."""
    requirement = version.requirement
    if requirement is None or requirement.kind == "each":
        return None
    return requirement.bound or "min"


@dataclass(frozen=True)
class LocalTarget:
    """The objective an engagement sets for one scope in the checked year."""

    value: Fraction
    commitment_id: str
    kind: str  # "share" (a percentage) or "count" (a number of records)
    bound: str | None  # "min", "max", or None: the rule's own reading
    years: ast.Years | None  # a multi-year objective, judged at the end of its last year
    reference: str | None  # the convention and article that set it


def _version_label(version: ast.Version) -> str:
    return version.start.isoformat()


# Per rulebook alive: statements built from it (see `statement_memo`).
_MEMOS: dict[int, tuple[weakref.ref[Rulebook], base.StatementMemo[Any, Any]]] = {}
# Entries kept per rulebook (statements, and the parameters and values of the law each rule
# reads): the national rule tests make some 170 (about 13 MB with what SQLAlchemy keeps of
# them); a check, a few per rule.
STATEMENTS_KEPT = 256


def statement_memo(rulebook: Rulebook) -> base.StatementMemo[Any, Any]:
    """The statements built from `rulebook` in this process, by what else they were built
    from (keys name its versions by identity); dropped with the rulebook."""
    entry = _MEMOS.get(id(rulebook))
    if entry is not None and entry[0]() is rulebook:
        return entry[1]
    key = id(rulebook)

    def forget(reference: weakref.ref[Rulebook]) -> None:
        if key in _MEMOS and _MEMOS[key][0] is reference:
            del _MEMOS[key]

    memo: base.StatementMemo[Any, Any] = base.StatementMemo(STATEMENTS_KEPT)
    _MEMOS[key] = (weakref.ref(rulebook, forget), memo)
    return memo


class Evaluator:
    connection: Connection
    period: Period
    options: Options
    epcis: list[dict[str, Any]]
    qpv_list_fixed: bool

    def __init__(self, connection: Connection, rulebook: Rulebook, period: Period,
                 options: Options | None = None, *, beside: Evaluator | None = None) -> None:  # fmt: skip
        """`beside`: an evaluator of the same period and options, on this connection or on
        one that reads the same snapshot (`beside_in`), whose reading of the territory (the
        EPCI, whether the QPV list is fixed) this one takes over instead of reading it again
        (the rule tests run both engines on each case)."""
        if beside is not None:
            assert (beside.period, beside.options) == (period, options or Options())
        self.connection = connection
        if connection.dialect.name == "postgresql":
            # Correlated look-ups make PostgreSQL overestimate the cost of these statements,
            # which run in well under 2 s; above its threshold it compiles them with JIT
            # first, measured at 60 to 690 ms per statement on 500 000 attributions. LOCAL:
            # the setting ends with the transaction.
            connection.exec_driver_sql("SET LOCAL jit = off")
        self.rulebook = rulebook
        self.period = period
        self.options = options or Options()
        self.schema = schema()
        if beside is not None:
            self.epcis = [dict(epci) for epci in beside.epcis]
            self.qpv_list_fixed = beside.qpv_list_fixed
        else:
            self.epcis = self._epcis()
            self.qpv_list_fixed = base.qpv_list_fixed(connection, self._bounds())
        self._windows: dict[Any, dict[tuple[tuple[str, str], ...], Counts]] = {}

    # ------------------------------------------------------------------ territory
    def beside_in(self, connection: Connection) -> Evaluator:
        """An evaluator of the same rulebook, period and options on `connection`, which must
        read the very data this one's reads (the same snapshot: `parallel`)."""
        return Evaluator(connection, self.rulebook, self.period, self.options, beside=self)

    def _epcis(self) -> list[dict[str, Any]]:
        query = base.epci_rows(self.period.start, self.period.end)
        rows = [dict(row) for row in self.connection.execute(query).mappings()]
        if self.options.epci:
            known = [row["siren"] for row in rows]
            rows = [row for row in rows if row["siren"] == self.options.epci]
            if not rows:
                raise MixiteError(f"EPCI {self.options.epci} absent de la base.",
                                  "EPCI importés : " + (", ".join(known) or "aucun"))  # fmt: skip
        return rows

    def _applicable(self, version: ast.Version, epci: dict[str, Any]) -> bool | None:
        if version.applicability is None:
            return True
        interpreter = Interpreter(self.rulebook, self.schema.entities["epci"], self._bounds())
        value = interpreter.eval(version.applicability, self._epci_record(epci))
        return None if value is None else bool(value)

    def _epci_record(self, epci: dict[str, Any]) -> dict[str, Any]:
        return {**epci, "annee": self.period.end.year, "fact_date": self.period.end,
                "date_controle": self.period.end}  # fmt: skip

    def _branch(self, version: ast.Version, epci: dict[str, Any]) -> tuple[ast.Expr, bool]:
        """The test that decided the applicability for this EPCI, and whether it is a fallback:
        through a top-level « si … alors … sinon … » (named by a « soit » or written out), the
        branch taken. A rule reads the law's criteria when the territory file gives them and
        the year's arrêté list otherwise (Q1/QPV): the result says which test was used."""
        assert version.applicability is not None
        interpreter = Interpreter(self.rulebook, self.schema.entities["epci"], self._bounds())
        record = self._epci_record(epci)
        expr, fallback = version.applicability, False
        while True:
            if isinstance(expr, ast.Name) and id(expr) in self.rulebook.annotations.locals:
                expr = self.rulebook.annotations.locals[id(expr)]
                continue
            if not isinstance(expr, ast.If):
                return expr, fallback
            test = interpreter.eval(expr.condition, record)
            if test is None:
                return expr, fallback
            expr, fallback = (expr.then, fallback) if test else (expr.otherwise, True)

    def _bounds(self) -> tuple[dt.date, dt.date]:
        return (self.period.start, self.period.end)

    # ------------------------------------------------------------------ rules
    def evaluate(self) -> list[Result]:
        return self.assemble([self.evaluate_rule(rule_id) for rule_id in self.rule_ids()])

    def rule_ids(self) -> list[str]:
        """The rules a check evaluates, in the order `evaluate` takes them."""
        return sorted(self.rulebook.rules)

    def assemble(self, per_rule: list[list[Result]]) -> list[Result]:
        """The check's results from each rule's (`evaluate_rule`, in `rule_ids` order): the
        bailleur's own with --bailleur, in the report's order."""
        results = [result for rule_results in per_rule for result in rule_results]
        if self.options.bailleur:
            results = [
                r
                for r in results
                if "bailleur" not in r.scope or r.scope["bailleur"] == self.options.bailleur
            ]
        return sorted(results, key=Result.sort_key)

    def _concerns_bailleur(self, scope: dict[str, str]) -> bool:
        """With --bailleur: its own scopes, and the EPCI-wide ones for context."""
        wanted = self.options.bailleur
        if "bailleur" in scope:
            return scope["bailleur"] == wanted
        if scope.get("contingent") == "non_reserve":  # a bailleur's own flow
            return scope.get("reservataire") == wanted
        return True

    def evaluate_rule_results(self, rule_id: str) -> list[Result]:
        """The results of one rule, in the report's order."""
        return sorted(self.evaluate_rule(rule_id), key=Result.sort_key)

    def evaluate_rule(self, rule_id: str) -> list[Result]:
        versions = self.rulebook.versions_during(rule_id, self.period.start, self.period.end)
        if not versions:
            return [self._not_applicable(rule_id, "", epci, "aucune version en vigueur sur la période")
                    for epci in self.epcis]  # fmt: skip
        latest = versions[-1]
        results: list[Result] = []
        applicable: list[str] = []
        basis: dict[str, str] = {}  # EPCI made applicable by a fallback test: which one
        territories = self._territories_of(rule_id)
        for epci in self.epcis:
            if territories and epci["siren"] not in territories:
                owners = ", ".join(
                    f"{cid} (territoire {siren})" for siren, cid in territories.items()
                )
                results.append(self._not_applicable(rule_id, _version_label(latest), epci,
                    f"règle locale de l'engagement {owners} : elle ne s'applique pas à cet EPCI"))  # fmt: skip
                continue
            verdict = self._applicable(latest, epci)
            branch, fallback = (
                self._branch(latest, epci) if latest.applicability is not None else (None, False)
            )
            if verdict is False:
                results.append(self._not_applicable(rule_id, _version_label(latest), epci,
                                                    self._not_met(latest, branch)))  # fmt: skip
            elif verdict is None:
                message = "applicabilité non décidable"
                if fallback and branch is not None:
                    message = (f"{message} par le test par défaut : s'applique si "
                               f"{self._rule_text(latest, branch)}"
                               f"{self._undecided_hint(versions, epci)}")  # fmt: skip
                results.append(Result(rule_id, _version_label(latest), {"epci": epci["siren"]},
                                      DONNEES_INSUFFISANTES, None, None, None, None, None,
                                      message=message))  # fmt: skip
            else:
                applicable.append(epci["siren"])
                if fallback and branch is not None:
                    basis[epci["siren"]] = self._fallback_words(latest, branch)
        if applicable and latest.population is not None and latest.requirement is not None:
            aggregated = self._aggregate(rule_id, versions, latest, applicable)
            for result in aggregated:  # say which test made the rule apply
                said = basis.get(result.scope.get("epci", ""))
                if said:
                    result.message = f"{result.message} ; {said}" if result.message else said
            results.extend(aggregated)
        if self.options.epci and any(g.whole for g in latest.groupings):
            results = self._whole_flow_beyond(rule_id, results)
        for result in results:
            if result.bound is None:  # a local objective may cap what the law floors
                result.bound = _bound(latest)
        return results

    def _whole_flow_beyond(self, rule_id: str, results: list[Result]) -> list[Result]:
        """With --epci, a level « sur l'ensemble des territoires » still counts every EPCI of
        the database (a whole flow restricted to one EPCI would be another figure); kept for
        the scopes (réservataires…) this EPCI's own results name."""
        everywhere = type(self)(self.connection, self.rulebook, self.period,
                                dataclasses.replace(self.options, epci=None))  # fmt: skip
        named = {
            tuple(sorted((k, v) for k, v in r.scope.items() if k != "epci"))
            for r in results
            if "epci" in r.scope
        }
        whole = [
            r
            for r in everywhere.evaluate_rule(rule_id)
            if "epci" not in r.scope
            and any(set(tuple(sorted(r.scope.items()))) <= set(other) for other in named)
        ]
        return [r for r in results if "epci" in r.scope] + whole

    def _fallback_words(self, version: ast.Version, branch: ast.Expr) -> str:
        return f"applicabilité lue par défaut : s'applique si {self._rule_text(version, branch)}"

    def _undecided_hint(self, versions: list[ast.Version], epci: dict[str, Any]) -> str:
        hint = self._missing_values_hint(versions, [epci["siren"]])
        return f" ; {hint}" if hint else ""

    def _rule_text(self, version: ast.Version, expr: ast.Expr) -> str:
        """An expression as the rule writes it, a « soit » name shown as its value."""
        text = self.rulebook.text_of(expr.span)
        if text is None:
            return "condition de la règle"
        for let in version.lets:
            value = self.rulebook.text_of(let.value.span)
            if value is not None:
                name = re.compile(rf"(?<![\w.]){re.escape(let.name)}(?![\w.])")
                text = name.sub(value.replace("\\", "\\\\"), text)
        return text

    def _not_met(self, version: ast.Version, branch: ast.Expr | None = None) -> str:
        """Why a rule does not apply to an EPCI: its condition, as the rule writes it (a
        condition may concern the EPCI, or the date of the check, like a deadline); through a
        « si … alors … sinon … », the branch that decided."""
        assert version.applicability is not None
        expr = branch if branch is not None else version.applicability
        if self.rulebook.text_of(expr.span) is None:
            return "condition d'application de la règle non remplie"
        # A « soit » value it names (a deadline written once) is shown as its value: the reader
        # sees the date itself, in the words the rule would have without the name.
        return (
            f"condition d'application non remplie : s'applique si {self._rule_text(version, expr)}"
        )

    def _not_applicable(
        self, rule_id: str, version: str, epci: dict[str, Any], message: str
    ) -> Result:
        return Result(rule_id, version, {"epci": epci["siren"]}, NON_APPLICABLE,
                      None, None, None, None, None, message=message)  # fmt: skip

    def _prepare(self, versions: list[ast.Version], compiler: SqlCompiler, row: Any) -> _Prepared:
        populations: list[Any] = []
        conditions: list[Any] = []
        also_conditions: dict[str, list[Any]] = {}
        for version in versions:
            assert version.requirement is not None and version.population is not None
            start = max(version.start, self.period.start)
            end = min(version.end or self.period.end, self.period.end)
            in_force = and_(row.c.fact_date >= literal(start, SqlDate),
                            row.c.fact_date <= literal(end, SqlDate))  # fmt: skip
            parts = [in_force]
            if version.population.where is not None:
                parts.append(compiler.condition(version.population.where))
            exemptions = [compiler.condition(e.condition) for e in version.exceptions]
            condition = compiler.condition(version.requirement.condition)
            if version.requirement.kind == "each":
                if exemptions:
                    condition = or_(func.coalesce(or_(*exemptions), false()), condition)
            else:
                parts.extend(not_(func.coalesce(exemption, false())) for exemption in exemptions)
            populations.append(and_(*parts))
            conditions.append((in_force, condition))
            for also in version.also:
                also_conditions.setdefault(also.label, []).append(
                    (in_force, compiler.condition(also.condition))
                )
        return _Prepared(
            population=or_(*populations),
            condition=case(*conditions, else_=None),
            also={label: case(*pairs, else_=None) for label, pairs in also_conditions.items()},
        )

    def _aggregate(self, rule_id: str, versions: list[ast.Version], latest: ast.Version,
                   epcis: list[str]) -> list[Result]:  # fmt: skip
        assert latest.population is not None and latest.requirement is not None
        target = self._target(latest)
        parameters = self._parameters_used(versions, epcis)
        groupings = latest.groupings or (ast.Grouping(("epci",)),)
        # A level « sur l'ensemble des territoires » counts every applicable EPCI together
        # (a réservataire's whole flow): its scope has no « epci ».
        dimension_sets = list(dict.fromkeys(g.level for g in groupings))
        information = {g.level for g in groupings if g.information}
        # A local objective on a scope the rule does not group by (a commune, a QPV, a
        # réservataire, bailleur × commune…) is computed at that scope too, for that scope only.
        objective_scopes = self._objective_scopes(rule_id, epcis, set(dimension_sets))
        dimension_sets += list(objective_scopes)
        counted = self._count(versions, latest, epcis, dimension_sets)
        multi_year = self._multi_year_scopes(rule_id, epcis)
        results: list[Result] = []
        for dimensions in dimension_sets:
            seen_epcis: set[str] = set()
            seen: set[tuple[tuple[str, str], ...]] = set()
            wanted = objective_scopes.get(dimensions)
            for scope, counts in counted[dimensions]:
                seen.add(_scope_key(scope))
                if "epci" in scope:
                    seen_epcis.add(scope["epci"])
                if wanted is not None:
                    if _scope_key(scope) not in wanted:
                        continue
                    wanted = wanted - {_scope_key(scope)}
                result = self._result(rule_id, versions, latest, scope, counts, target, parameters)
                if dimensions in information:
                    result = _for_information(result)
                results.append(result)
            for missing in sorted(wanted or ()):  # an objective's scope with no attribution
                seen.add(missing)
                results.append(self._result(rule_id, versions, latest, dict(missing),
                                            Counts(0, 0, 0), target, parameters))  # fmt: skip
            # A multi-year objective is judged on its whole period even when its scope has no
            # record this year (a bailleur without a lease in the last year of the period).
            for missing in sorted(multi_year.get(dimensions, set()) - seen):
                results.append(self._result(rule_id, versions, latest, dict(missing),
                                            Counts(0, 0, 0), target, parameters))  # fmt: skip
            if dimensions == ("epci",):
                for epci in epcis:
                    if epci not in seen_epcis:
                        results.append(self._result(rule_id, versions, latest, {"epci": epci},
                                                    Counts(0, 0, 0), target, parameters))  # fmt: skip
        if any(result.status == DONNEES_INSUFFISANTES for result in results):
            hint = self._missing_values_hint(versions, epcis)
            if hint:
                results = [
                    dataclasses.replace(r, message=f"{r.message} ; {hint}" if r.message else hint)
                    if r.status == DONNEES_INSUFFISANTES
                    else r
                    for r in results
                ]
        return results

    def _missing_values_hint(self, versions: list[ast.Version], epcis: list[str]) -> str:
        """Which values of the law the rule reads have no value in the period, and how to supply
        them (a local parameters file): « données insuffisantes » then says what is missing."""
        start, end = self.period.start, self.period.end
        arrete = {str(e["siren_arrete"] or e["siren"]) for e in self.epcis if e["siren"] in epcis}
        missing: list[str] = []
        for name in sorted(self._parameter_names(versions)):
            parameter = self.rulebook.parameters[name]

            def in_period(key: tuple[str, ...], parameter: CheckedParameter = parameter) -> bool:
                keyed = dict(zip([k for k, _ in parameter.keys], key, strict=True))
                return any(v.start <= end and (v.end is None or v.end >= start)
                           for v in parameter.series(keyed))  # fmt: skip

            if not parameter.keys:
                if not in_period(()):
                    missing.append(name)
                continue
            names = [k for k, _ in parameter.keys]
            keys = (
                [(siren,) for siren in sorted(arrete)]
                if names == ["epci"]
                else parameter.all_keys()
            )
            absent = [key for key in keys if not in_period(key)]
            by_first: dict[str, int] = {}
            for key in absent:
                by_first[key[0]] = by_first.get(key[0], 0) + 1
            for first, number in by_first.items():
                rest = f" ({number} combinaisons de clés)" if len(names) > 1 else ""
                missing.append(f"{name} pour {names[0]} = {first}{rest}")
        if not missing:
            return ""
        return (
            "valeur du droit absente pour la période : "
            + " ; ".join(missing)
            + ". Si vous avez le texte (arrêté, annexe), fournissez-la dans un fichier "
            "*.parametres.csv placé à côté des règles, une ligne par valeur avec sa source "
            "(voir « Paramètres locaux » dans la documentation des règles)"
        )

    def _parameter_names(self, versions: list[ast.Version]) -> set[str]:
        """The parameters `versions` read, directly or through definitions (each definition
        visited once; the answer kept with the rulebook's statements)."""
        memo = statement_memo(self.rulebook)
        key = ("parametres", tuple(map(id, versions)))
        found: frozenset[str] | None = memo.get(key)
        if found is not None:
            return set(found)
        names: set[str] = set()
        resolutions = self.rulebook.annotations.resolutions
        definitions = self.rulebook.definitions
        seen: set[tuple[str, str]] = set()

        def visit(node: object) -> None:
            resolution = resolutions.get(id(node))
            if resolution is not None:
                if resolution.kind == "parameter":
                    names.add(resolution.name)
                elif resolution.kind == "definition" and resolution.entity:
                    named = (resolution.entity, resolution.name)
                    if named not in seen:
                        seen.add(named)
                        visit(definitions[resolution.entity][resolution.name].expr)
            for child in ast.children(node):
                visit(child)

        for version in versions:
            visit(version)
        memo.put(key, frozenset(names))
        return names

    def _count(self, versions: list[ast.Version], latest: ast.Version, epcis: list[str],
               dimension_sets: list[tuple[str, ...]]) -> dict[tuple[str, ...], list[tuple[dict[str, str], Counts]]]:  # fmt: skip
        """Counts per scope, in the database, in one statement for every scope level.

        Records are judged once (a verdict 1, 0 or NULL per record, and one per "aussi"
        indicator) and counted per group of every dimension the levels use and of those
        verdicts (`par_groupe`, materialised), then summed per level.

        The statement is built once per process for what it is built from (see
        `_statement_key`) and sent again as it is: building it is most of the Python time of
        a small evaluation (the rule tests evaluate the same rules case after case).
        """
        named = self._epci_fields_named(versions, latest)
        key = ("compte", self._statement_key(versions, epcis, named), tuple(dimension_sets))
        memo = statement_memo(self.rulebook)
        built = memo.get(key)
        if built is None:
            read: set[str] = set()
            built = self._count_statement(versions, latest, epcis, dimension_sets, read)
            if read <= named:  # else the key would not say what the statement depends on
                memo.put(key, built)
        statement, also, labels = built
        counted: dict[tuple[str, ...], list[tuple[dict[str, str], Counts]]] = {
            dimensions: [] for dimensions in dimension_sets
        }
        for record in self.connection.execute(statement).mappings():
            dimensions = dimension_sets[record["niveau"]]
            counts = Counts(
                int(record["denominateur"]), int(record["numerateur"] or 0),
                int(record["inconnus"] or 0),
                {label: int(record[name] or 0) for name, label in zip(also, labels, strict=True)},
            )  # fmt: skip
            counted[dimensions].append(({d: record[d] for d in dimensions}, counts))
        return counted

    def _count_statement(self, versions: list[ast.Version], latest: ast.Version, epcis: list[str],
                         dimension_sets: list[tuple[str, ...]], read_fields: set[str] | None = None,
                         ) -> tuple[Any, list[str], list[str]]:  # fmt: skip
        """The statement of `_count`, the names of its « aussi » columns and their labels;
        `read_fields` receives the fields of the EPCI whose values it was built from."""
        assert latest.population is not None
        entity = self.schema.entities[latest.population.entity]
        bounds = self._bounds()

        def key_domain(expr: ast.Expr) -> set[str] | None:
            if isinstance(expr, ast.Attribute) and read_fields is not None:
                read_fields.add(expr.name)
            return self._key_domain(expr, epcis)

        every = list(dict.fromkeys(d for dimensions in dimension_sets for d in dimensions))
        keep = ["fact_date", *(DIMENSION_COLUMNS[d] for d in every)]
        read = set(keep)
        uses = definitions_named(versions, self.rulebook, entity.name, read)
        # A population of leases in a QPV only: the QPV look-up as an inner join.
        in_qpv_only = all(
            version.population is not None and version.population.where is not None
            and requires_field(version.population.where, "en_qpv", self.rulebook, entity.name)
            for version in versions
        )  # fmt: skip
        rows = base.population(entity.name, epcis, bounds, self.qpv_list_fixed,
                               with_qpv=bool(read & {"en_qpv", "qpv"}),
                               with_residence=bool(read & base.RESIDENCE_FIELDS),
                               with_applicant=bool(read & base.APPLICANT_FIELDS),
                               with_dwelling=bool(read & base.DWELLING_FIELDS),
                               in_qpv_only=in_qpv_only,
                               count_served="nb_attributions" in read)  # fmt: skip
        layered = with_definitions(rows, self.rulebook, entity, bounds, key_domain, uses, read)
        row = layered.row
        compiler = SqlCompiler(CompileContext(self.rulebook, entity, row, bounds, key_domain,
                                              layered.columns))  # fmt: skip
        prepared = self._prepare(versions, compiler, row)
        also = [f"aussi_{i}" for i in range(len(prepared.also))]
        # Records counted per group of every dimension and of their verdicts: each verdict is
        # computed once per record, as a grouping key named by its output alias, with no fence
        # (a fenced subquery would keep PostgreSQL from grouping in parallel workers).
        verdicts = ["mixite_verdict", *(f"mixite_{name}" for name in also)]
        groups = (
            select(
                *(row.c[DIMENSION_COLUMNS[d]].label(d) for d in every),
                *(
                    cast(condition, Integer).label(name)
                    for name, condition in zip(
                        verdicts, [prepared.condition, *prepared.also.values()], strict=True
                    )
                ),
                func.count().label("nombre"),
            )
            .where(prepared.population)
            .group_by(
                *(row.c[DIMENSION_COLUMNS[d]] for d in every),
                *(literal_column(name) for name in verdicts),
            )
            .cte("par_groupe")
            .prefix_with("MATERIALIZED")
        )

        def count_where(condition: Any) -> Any:
            return func.sum(case((condition, groups.c.nombre), else_=0))

        totals = [
            func.sum(groups.c.nombre).label("denominateur"),
            count_where(groups.c.mixite_verdict == 1).label("numerateur"),
            count_where(groups.c.mixite_verdict.is_(None)).label("inconnus"),
            *(count_where(groups.c[f"mixite_{name}"] == 1).label(name) for name in also),
        ]
        levels = [
            select(
                literal(level, Integer).label("niveau"),
                *(groups.c[d] if d in dimensions else null().label(d) for d in every),
                *totals,
            ).group_by(*(groups.c[d] for d in dimensions))
            for level, dimensions in enumerate(dimension_sets)
        ]
        return union_all(*levels), also, list(prepared.also)

    def _statement_key(self, versions: list[ast.Version], epcis: list[str],
                       named: frozenset[str]) -> tuple[Any, ...]:  # fmt: skip
        """What a statement of this evaluator is built from besides the rulebook: the
        versions, the period, the EPCI counted (and the values of their fields `named`, which
        parameter lookups keyed by the EPCI read, see `_key_domain`) and whether the QPV list
        is fixed.

        Only the fields the rule names: cases whose territories differ elsewhere (its name,
        whether it must have a PLH, which the applicability reads in Python) share the
        statement (the national rule tests built 51 statements, 45 now).
        """
        fields = tuple(tuple((name, epci.get(name)) for name in sorted(named))
                       for epci in self.epcis if epci["siren"] in epcis)  # fmt: skip
        return (tuple(map(id, versions)), self._bounds(), tuple(epcis), fields,
                self.qpv_list_fixed)  # fmt: skip

    def _epci_fields_named(
        self, versions: list[ast.Version], latest: ast.Version
    ) -> frozenset[str]:
        """The fields of the EPCI (`epci.siren_arrete`…) that `versions` and the definitions
        they use name (each definition visited once; the answer kept with the statements)."""
        assert latest.population is not None
        memo = statement_memo(self.rulebook)
        key = ("champs de l'EPCI", tuple(map(id, versions)))
        found: frozenset[str] | None = memo.get(key)
        if found is not None:
            return found
        entity = latest.population.entity
        definitions = self.rulebook.definitions.get(entity, {})
        names: set[str] = set()

        def visit(node: object) -> None:
            if isinstance(node, ast.Attribute):
                names.add(node.name)
            for child in ast.children(node):
                visit(child)

        for version in versions:
            visit(version)
        for name in definitions_named(versions, self.rulebook, entity):
            visit(definitions[name].expr)
        found = frozenset(names)
        memo.put(key, found)
        return found

    def _result(self, rule_id: str, versions: list[ast.Version], latest: ast.Version,
                scope: dict[str, str], counts: Counts, law_target: Fraction | None,
                parameters: list[dict[str, Any]]) -> Result:  # fmt: skip
        requirement = latest.requirement
        assert requirement is not None
        target: Fraction | None = law_target
        # A local rule's own target (a value, or a parameter of its file) comes from its
        # convention, not from the law.
        territories = self._territories_of(rule_id)
        target_source: str | None = (
            territories.get(scope["epci"], "loi") if "epci" in scope else "loi"
        )
        # The convention and article a local target comes from (item 5 of #15): the local
        # rule's own sources, or those of the CIA objective that sets the target.
        target_reference = _reference(latest.meta.sources) if territories else None
        local = self._local_objective(rule_id, scope)
        if local is not None:
            target, target_source, target_reference = (
                local.value,
                local.commitment_id,
                local.reference,
            )
        elif isinstance(requirement.target, ast.LocalObjective):
            target_source = target_reference = None
            if territories and set(scope) != {"epci"}:
                # A local rule counted per commune (or per bailleur…) judges the scopes its
                # convention sets an objective for; the others are reported, not judged.
                rate = (
                    rounded(Fraction(counts.numerator, counts.denominator))
                    if counts.denominator
                    else None
                )
                return Result(rule_id, _version_label(latest), scope, NON_APPLICABLE, counts.numerator,
                              counts.denominator, rate, None, None, counts.unknown, requirement.kind, None,
                              [_version_label(v) for v in versions], {}, parameters,
                              "aucun objectif fixé par la convention pour ce périmètre")  # fmt: skip
        if (
            target is None
            and isinstance(requirement.target, ast.LocalObjective)
            and counts.denominator
        ):
            verdict = Verdict(
                NON_CONFORME,
                None,
                MISSING_OBJECTIVE,
            )
            rate = rounded(Fraction(counts.numerator, counts.denominator))
            return Result(rule_id, _version_label(latest), scope, verdict.status, counts.numerator,
                          counts.denominator, rate, None, None, counts.unknown, requirement.kind,
                          target_source, [_version_label(v) for v in versions], {}, parameters,
                          verdict.message)  # fmt: skip
        noun = NOUNS.get(latest.population.entity if latest.population else "attributions")
        bound = requirement.bound or "min"
        kind = requirement.kind
        cumulative: dict[str, Any] | None = None
        if local is not None:
            bound = local.bound or bound
            kind = local.kind if kind != "each" else kind
            if local.years is not None:
                counts = self._window_counts(rule_id, local.years, scope)
        if kind == "share":
            verdict = judge_share(counts, target, bound, noun or ATTRIBUTIONS)
            reported_target = rounded(target)
        elif kind == "count":
            verdict = judge_count(counts, target, bound)
            reported_target = rounded(target)
        else:
            verdict = judge_each(counts, noun)
            reported_target = 1.0
        rate = (
            rounded(Fraction(counts.numerator, counts.denominator)) if counts.denominator else None
        )
        indicators: dict[str, Any] = {}
        for label, value in counts.extra.items():
            indicators[f"numerator_{label}"] = value
            indicators[f"rate_{label}"] = (
                rounded(Fraction(value, counts.denominator)) if counts.denominator else None
            )
        if local is not None and local.years is not None:
            verdict, cumulative = self._progress(verdict, counts, local, kind, bound)
        return Result(
            rule=rule_id,
            version=_version_label(latest),
            scope=scope,
            status=verdict.status,
            numerator=counts.numerator,
            denominator=counts.denominator,
            rate=rate,
            target=reported_target,
            shortfall=verdict.shortfall,
            unknown=counts.unknown,
            kind=kind,
            target_source=target_source,
            target_reference=target_reference,
            versions=[_version_label(v) for v in versions],
            indicators=indicators,
            parameters=parameters,
            message=verdict.message,
            bound=bound if kind != "each" else None,
            cumulative=cumulative,
        )

    # ------------------------------------------------------------------ multi-year objectives
    def _window(self, years: ast.Years) -> Period:
        """From 1 January of the first year to the end of the checked period, at most the
        last day of the last year."""
        return Period(dt.date(years.first, 1, 1), min(self.period.end, dt.date(years.last, 12, 31)))

    def _window_counts(self, rule_id: str, years: ast.Years, scope: dict[str, str]) -> Counts:
        """The counts of `scope` over the objective's years so far: the same statement as a
        yearly check, over a longer period (one statement per rule, years and scope level)."""
        window = self._window(years)
        dimensions = tuple(d for d in DIMENSION_COLUMNS if d in scope)
        key = (rule_id, window, dimensions)
        if key not in self._windows:
            other = type(self)(self.connection, self.rulebook, window, self.options)
            versions = self.rulebook.versions_during(rule_id, window.start, window.end)
            found: dict[tuple[tuple[str, str], ...], Counts] = {}
            if versions and versions[-1].population is not None:
                epcis = [epci["siren"] for epci in self.epcis]
                counted = other._count(versions, versions[-1], epcis, [dimensions])
                found = {_scope_key(s): c for s, c in counted[dimensions]}
            self._windows[key] = found
        return self._windows[key].get(_scope_key(scope), Counts(0, 0, 0))

    def _progress(self, verdict: Verdict, counts: Counts, local: LocalTarget, kind: str,
                  bound: str) -> tuple[Verdict, dict[str, Any]]:  # fmt: skip
        """A multi-year objective is judged at the end of its last year; before it, it is
        « en cours » with how far the counts have come, unless a count has already settled it
        (a floor reached, a cap exceeded: counts only grow)."""
        years = local.years
        assert years is not None
        ended = self.period.end >= dt.date(years.last, 12, 31)
        left = max(0, years.last - self.period.end.year) if not ended else 0
        if kind == "count":
            way = Fraction(counts.numerator, local.value) if local.value else None
            done = f"{counts.numerator} sur {frenchfmt.number(local.value, 0)}"
        else:
            rate = Fraction(counts.numerator, counts.denominator) if counts.denominator else None
            way = rate / local.value if rate is not None and local.value else None
            done = (f"{frenchfmt.percent(rate)} cumulés pour {frenchfmt.percent(local.value)}"
                    if rate is not None else "aucune attribution")  # fmt: skip
        cumulative = {
            "from": years.first,
            "to": years.last,
            "years_left": left,
            "progress": rounded(way),
        }
        period = f"de {years.first} à {years.last}"
        if ended:
            return dataclasses.replace(
                verdict, message=f"{verdict.message} (objectif {period})"
            ), cumulative
        settled = kind == "count" and (
            (bound == "min" and verdict.status == CONFORME)
            or (bound == "max" and verdict.status == NON_CONFORME)
        )
        if settled:
            return dataclasses.replace(verdict, message=f"{verdict.message} (objectif {period}, "
                                       "déjà acquis)" if verdict.status == CONFORME else
                                       f"{verdict.message} (objectif {period}, plafond déjà dépassé)"), cumulative  # fmt: skip
        share_of_way = f", {frenchfmt.percent(way, 0)} du chemin" if way is not None else ""
        message = (f"{done}{share_of_way}, {left} an{'s' if left > 1 else ''} "
                   f"restant{'s' if left > 1 else ''} (objectif {period}, jugé fin {years.last})")  # fmt: skip
        return Verdict(EN_COURS, None, message), cumulative

    # ------------------------------------------------------------------ targets and parameters
    def _target(self, version: ast.Version) -> Fraction | None:
        requirement = version.requirement
        if requirement is None or requirement.target is None:
            return None
        value = Interpreter(self.rulebook, None, self._bounds()).eval(
            requirement.target, {"fact_date": self.period.end}
        )
        return value if isinstance(value, Fraction) else None

    def _territories_of(self, rule_id: str) -> dict[str, str]:
        """A local rule (written in a file with an engagement) belongs to the territories of
        that file's engagements: EPCI SIREN -> engagement identifier. Empty for the others."""
        file = self.rulebook.rule_files.get(rule_id)
        return {
            commitment.territory: commitment.commitment_id
            for commitment in sorted(
                self.rulebook.commitments.values(), key=lambda c: c.commitment_id
            )
            if commitment.span.file == file and commitment.territory is not None
        }

    def _commitments_in_force(self) -> list[ast.Commitment]:
        """The engagements whose period meets the checked period, by identifier."""
        return [
            commitment
            for commitment in sorted(
                self.rulebook.commitments.values(), key=lambda c: c.commitment_id
            )
            if in_force(commitment, self.period)
        ]

    def _objective_scopes(self, rule_id: str, epcis: list[str],
                          grouped: set[tuple[str, ...]]) -> dict[tuple[str, ...], frozenset[tuple[tuple[str, str], ...]]]:  # fmt: skip
        """The scope levels that local objectives of `rule_id` name and the rule does not
        group by, each with the scopes (epci and values) that have an objective."""
        levels: dict[tuple[str, ...], set[tuple[tuple[str, str], ...]]] = {}
        for commitment in self._commitments_in_force():
            if commitment.territory not in epcis:
                continue
            for objective in commitment.objectives:
                if objective.rule_id != rule_id:
                    continue
                scope = {"epci": commitment.territory, **{i.name: i.value for i in objective.scope}}
                dimensions = tuple(d for d in DIMENSION_COLUMNS if d in scope)
                if dimensions in grouped or len(dimensions) != len(scope):
                    continue
                levels.setdefault(dimensions, set()).add(_scope_key(scope))
        return {dimensions: frozenset(scopes) for dimensions, scopes in levels.items()}

    def _multi_year_scopes(self, rule_id: str, epcis: list[str]) -> dict[tuple[str, ...], set[tuple[tuple[str, str], ...]]]:  # fmt: skip
        """The scopes of `rule_id`'s multi-year objectives whose years have begun, by level."""
        year = self.period.end.year
        found: dict[tuple[str, ...], set[tuple[tuple[str, str], ...]]] = {}
        for commitment in self._commitments_in_force():
            if commitment.territory not in epcis:
                continue
            for objective in commitment.objectives:
                years = objective.cumulative
                if objective.rule_id != rule_id or years is None or year < years.first:
                    continue
                scope = {"epci": commitment.territory, **{i.name: i.value for i in objective.scope}}
                dimensions = tuple(d for d in DIMENSION_COLUMNS if d in scope)
                found.setdefault(dimensions, set()).add(_scope_key(scope))
        return found

    def _local_objective(self, rule_id: str, scope: dict[str, str]) -> LocalTarget | None:
        """The objective an engagement in force sets for exactly this scope this year: its
        value for the checked year (a schedule without that year sets none), or a multi-year
        objective whose years have begun."""
        year = self.period.end.year
        types = self.rulebook.annotations.types
        for commitment in self._commitments_in_force():
            if commitment.territory != scope.get("epci"):
                continue
            for objective in commitment.objectives:
                wanted = {item.name: item.value for item in objective.scope}
                if objective.rule_id != rule_id or {**wanted, "epci": scope.get("epci")} != scope:
                    continue
                years = objective.cumulative
                if years is not None and year < years.first:
                    continue
                expr = next((e for y, e in objective.values() if y is None or y == year), None)
                if expr is None:
                    continue
                value = Interpreter(self.rulebook, None, self._bounds()).eval(
                    expr, {"fact_date": self.period.end}
                )
                if isinstance(value, Fraction | int) and not isinstance(value, bool):
                    typed = types.get(id(expr))
                    kind = "count" if typed is not None and typed.kind == INT else "share"
                    return LocalTarget(Fraction(value), commitment.commitment_id, kind,
                                       objective.bound, years,
                                       _reference(objective.sources or commitment.meta.sources))  # fmt: skip
        return None

    def _key_domain(self, expr: ast.Expr, epcis: list[str]) -> set[str] | None:
        """Distinct values of a lookup key in the data, to keep parameter CASEs small."""
        if isinstance(expr, ast.Attribute):
            return {str(epci[expr.name]) for epci in self.epcis if epci["siren"] in epcis}
        return None

    def _parameters_used(
        self, versions: list[ast.Version], epcis: list[str]
    ) -> list[dict[str, Any]]:
        """The values of the law `versions` read during the period, as results list them
        (found once per process for the same versions, period and arrêtés; each call gets
        its own copy)."""
        arrete_names = {str(epci["siren_arrete"] or epci["siren"]) for epci in self.epcis
                        if epci["siren"] in epcis}  # fmt: skip
        memo = statement_memo(self.rulebook)
        key = ("valeurs", tuple(map(id, versions)), self._bounds(), frozenset(arrete_names))
        found: list[dict[str, Any]] | None = memo.get(key)
        if found is None:
            found = memo.put(key, self._find_parameters_used(versions, arrete_names))
        return [{**value, "key": dict(value["key"])} for value in found]

    def _find_parameters_used(
        self, versions: list[ast.Version], arrete_names: set[str]
    ) -> list[dict[str, Any]]:
        names = self._parameter_names(versions)
        memo = statement_memo(self.rulebook)
        used: list[dict[str, Any]] = []
        for name in sorted(names):
            parameter = self.rulebook.parameters[name]
            ordered: list[ParameterValue] | None = memo.get(("valeurs triées", name))
            if ordered is None:  # sorted once per process (the ceilings: thousands of values)
                ordered = memo.put(("valeurs triées", name),
                                   sorted(parameter.values, key=lambda v: (v.key, v.start)))  # fmt: skip
            for value in ordered:
                if value.start > self.period.end or (value.end and value.end < self.period.start):
                    continue
                if (
                    parameter.keys
                    and [k for k, _ in parameter.keys] == ["epci"]
                    and value.key[0] not in arrete_names
                ):
                    continue
                if parameter.keys and len(parameter.keys) > 1 and not value.local:
                    continue  # large tables: listed by `mixite param`, not in every result
                source = value.sources[0]
                used.append({
                    "name": name,
                    "key": dict(zip([k for k, _ in parameter.keys], value.key, strict=True)),
                    "value": _plain(value.value),
                    "from": value.start.isoformat(),
                    "to": value.end.isoformat() if value.end else None,
                    "source": source.title,
                    "url": source.url,
                    **({"fourni_localement": True} if value.local else {}),
                })  # fmt: skip
        return used


def _for_information(result: Result) -> Result:
    """A result of a level « pour information »: its figures, no verdict (nothing owed)."""
    shown = f"pour information : {result.message}" if result.message else "pour information"
    return dataclasses.replace(result, information=True, shortfall=None, message=shown)


def _plain(value: object) -> object:
    if isinstance(value, Fraction):
        return value.numerator if value.denominator == 1 else float(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


__all__ = ["Evaluator", "Integer", "Options", "Period", "cast", "distinct"]
