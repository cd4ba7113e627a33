"""`mixite caleol check`: a bailleur's check of a docket before its commission sits.

For each dwelling: are three applications examined, or which exemption applies (the rules on
`dossiers_caleol`). For each applicant: the record-level rules on attributions (income
ceiling…), the first quartile, DALO and priority criteria, and what attributing the dwelling
to that applicant would do to the bailleur's year-to-date position on each share objective.
Everything is judged with the rulebook's own definitions, by the reference interpreter.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

from pydantic import BaseModel, create_model
from sqlalchemy import Connection, select

from checker.db import models
from checker.errors import MixiteError
from checker.evaluate.interpret import Interpreter
from checker.evaluate.results import Counts
from checker.evaluate.run import Evaluator, Options, Period
from checker.ingest.columnar import ColumnValidator, chunks
from checker.ingest.parsing import line_breaks
from checker.ingest.problems import MisshapenRows, Problem, ProblemLog
from checker.ingest.rows import AttributionRow, CaleolRow
from checker.ingest.tabular import UnreadableFile, read_table
from checker.schema import schema
from checker.vocabulary import expression_label, value_label
from dsl import ast
from dsl.rulebook import Rulebook

_FROM_CALEOL = ("date_commission", "bailleur_siren", "rpls_id", "numero_unique", "rang",
                "designation_dalo", "motif_moins_de_trois")  # fmt: skip
_FROM_ATTRIBUTION = ("contingent", "reservataire_id", "mutation", "dalo", "criteres_prioritaires",
                     "relogement", "travailleur_essentiel", "nb_titulaires", "nb_personnes_14_plus",
                     "nb_moins_14", "revenus_mensuels", "rfr_n2", "rfr_n1", "categorie_menage",
                     "derogation_plafonds", "age_demandeur", "situation_professionnelle",
                     "logement_actuel")  # fmt: skip
# What a docket may leave out: the applicant is then judged as not reserved, not a mutation…
_OPTIONAL_IN_DOCKET = {"contingent": "non_reserve", "mutation": "non", "dalo": "non",
                       "criteres_prioritaires": "", "relogement": "", "travailleur_essentiel": "non",
                       "nb_personnes_14_plus": "0", "nb_moins_14": "0"}  # fmt: skip


def _docket_model() -> type[BaseModel]:
    fields: dict[str, Any] = {}
    for name in _FROM_CALEOL:
        info = CaleolRow.model_fields[name]
        fields[name] = (info.annotation, info)
    for name in _FROM_ATTRIBUTION:
        info = AttributionRow.model_fields[name]
        fields[name] = (info.annotation, info)
    return create_model("DocketRow", **fields)


DocketRow = _docket_model()
_REQUIRED = ("date_commission", "bailleur_siren", "rpls_id", "numero_unique", "nb_titulaires",
             "revenus_mensuels", "rfr_n2")  # fmt: skip


class DocketRefused(MixiteError):
    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(f"Dossier illisible : {len(problems)} problème(s).")
        self.problems = problems


@dataclass
class Effect:
    rule: str
    scope: dict[str, str]
    before: Fraction | None
    after: Fraction | None
    target: Fraction | None
    still_needed: int | None  # min: further qualifying attributions needed by 31 December;
    # max: how many more the ceiling still allows
    counted: bool  # the applicant would count in the numerator
    bound: str = "min"


@dataclass
class Applicant:
    line: int
    reference: str  # the end of the numéro unique: enough to recognise, not to spread
    rank: int | None
    checks: list[tuple[str, str, str]] = field(
        default_factory=list
    )  # (rule or topic, verdict, detail)
    effects: list[Effect] = field(default_factory=list)


@dataclass
class Dwelling:
    rpls_id: str
    commission: dt.date
    financement: str
    in_qpv: bool
    bailleur: str
    applications: int
    verdicts: list[tuple[str, str, str]] = field(default_factory=list)
    applicants: list[Applicant] = field(default_factory=list)

    @property
    def financement_label(self) -> str:
        """The financing by its name (« PLAI adapté »), as every report names it."""
        return value_label("financement", self.financement)


def read_docket(path: Path) -> list[tuple[int, Any]]:
    optional = tuple(name for name in (*_FROM_CALEOL, *_FROM_ATTRIBUTION) if name not in _REQUIRED)
    try:
        table = read_table(path, _REQUIRED, optional)
    except UnreadableFile as exc:
        raise DocketRefused([Problem(path.name, exc.line, exc.column, exc.message)]) from None
    validator = ColumnValidator(DocketRow)
    problems: list[Problem] = []
    records: list[tuple[int, Any]] = []
    width = max(table.columns.values()) + 1
    try:
        _read_docket_rows(path, table, validator, width, problems, records)
    except UnreadableFile as exc:  # a row csv cannot read (a quote never closed…)
        problems.append(Problem(path.name, exc.line, exc.column, exc.message))
    if problems:
        raise DocketRefused(problems)
    return records


def _read_docket_rows(
    path: Path,
    table: Any,
    validator: ColumnValidator,
    width: int,
    problems: list[Problem],
    records: list[tuple[int, Any]],
) -> None:
    # Rows with more or fewer fields than the header have shifted values: refused, as in an
    # import, and told once when most rows share the shift.
    misshapen = MisshapenRows(path.name, table.width, table.separator)
    total = 0
    for whole_chunk in chunks(table.rows, 5000):
        total += len(whole_chunk)
        chunk = []
        for line, cells in whole_chunk:
            if table.width is None or len(cells) == table.width:
                chunk.append((line, cells))
            else:
                misshapen.add(line, len(cells), line_breaks(cells))
        if not chunk:
            continue
        by_field: dict[str, list[str]] = {}
        for name in validator.fields:
            position = table.columns.get(name)
            default = _OPTIONAL_IN_DOCKET.get(name, "")
            by_field[name] = [
                (cells + [""] * (width - len(cells)))[position] if position is not None else default
                for _, cells in chunk
            ]
        rows, errors = validator.validate(by_field, len(chunk))
        for error in errors:
            position = table.columns.get(error.field)
            problems.append(Problem(path.name, chunk[error.row][0], None if position is None else position + 1,
                                    f"{error.field} : {error.message}"))  # fmt: skip
        for (line, _), row in zip(chunk, rows, strict=True):
            if row is not None:
                records.append((line, validator.record_type._make(row)))
    shapes = ProblemLog()
    misshapen.report(total, shapes)
    problems.extend(shapes.problems)


def _dwelling_facts(connection: Connection, rpls_id: str, day: dt.date) -> dict[str, Any] | None:
    logement = models.Logement.__table__
    commune = models.Commune.__table__
    epci = models.Epci.__table__
    residence = models.Residence.__table__
    row = connection.execute(
        select(logement, commune.c.zone_plafonds, commune.c.epci_siren,
               residence.c.residence_id.label("residence"),
               residence.c.classe_enjeu.label("classe_residence"),
               *(c.label("epci__" + c.name) for c in epci.c))
        .select_from(logement.join(commune, commune.c.insee == logement.c.commune_insee)
                     .join(epci, epci.c.siren == commune.c.epci_siren)
                     .outerjoin(residence, (residence.c.residence_id == logement.c.residence_id)
                                & (residence.c.bailleur_siren == logement.c.bailleur_siren)))
        .where(logement.c.rpls_id == rpls_id)
    ).mappings().first()  # fmt: skip
    if row is None:
        return None
    qpv = models.Qpv.__table__
    link = models.LogementQpv.__table__
    code = connection.execute(
        select(qpv.c.code).select_from(link.join(qpv, qpv.c.code == link.c.qpv_code))
        .where(link.c.rpls_id == rpls_id, qpv.c.valide_du <= day,
               (qpv.c.valide_au.is_(None)) | (qpv.c.valide_au >= day))
        .order_by(qpv.c.code)
    ).scalar()  # fmt: skip
    return {**dict(row), "qpv": code}


def _record(applicant: Any, facts: dict[str, Any], day: dt.date) -> dict[str, Any]:
    """The attribution this applicant would receive, as the attributions population sees it."""
    return {
        "date_decision": day, "date_bail": day, "fact_date": day, "bailleur": facts["bailleur_siren"],
        "commune": facts["commune_insee"], "zone_plafonds": facts["zone_plafonds"],
        "financement": facts["financement"], "subvention_etat": facts["subvention_etat"],
        "residence": facts["residence"], "classe_residence": facts["classe_residence"],
        "epci": facts["epci_siren"], "en_qpv": facts["qpv"] is not None,
        "qpv": facts["qpv"], "contingent": applicant.contingent,
        "reservataire": applicant.reservataire_id or (facts["bailleur_siren"] if applicant.contingent == "non_reserve" else None),
        "mutation": applicant.mutation, "dalo": applicant.dalo,
        "criteres_prioritaires": applicant.criteres_prioritaires or None, "relogement": applicant.relogement,
        "travailleur_essentiel": applicant.travailleur_essentiel, "nb_titulaires": applicant.nb_titulaires,
        "nb_personnes_14_plus": applicant.nb_personnes_14_plus, "nb_moins_14": applicant.nb_moins_14,
        "revenus_mensuels_centimes": applicant.revenus_mensuels, "rfr_n2_centimes": applicant.rfr_n2,
        "rfr_n1_centimes": applicant.rfr_n1, "categorie_menage": applicant.categorie_menage,
        "derogation_plafonds": applicant.derogation_plafonds,
        "age_demandeur": applicant.age_demandeur,
        "situation_professionnelle": applicant.situation_professionnelle,
        "logement_actuel": applicant.logement_actuel,
        **{key: value for key, value in facts.items() if key.startswith("epci__")},
    }  # fmt: skip


def _verdict(value: object) -> str:
    return "inconnu" if value is None else ("oui" if value else "non")


def _status(value: object) -> str:
    if value is None:
        return "donnees_insuffisantes"
    return "conforme" if value is True else "non_conforme"


def _in_population(interpreter: Interpreter, version: ast.Version, record: dict[str, Any]) -> bool:
    assert version.population is not None
    if (
        version.population.where is not None
        and interpreter.eval(version.population.where, record) is not True
    ):
        return False
    return not any(interpreter.eval(e.condition, record) is True for e in version.exceptions)


class DocketChecker:
    def __init__(self, connection: Connection, rulebook: Rulebook, day: dt.date) -> None:
        self.connection = connection
        self.rulebook = rulebook
        self.day = day
        self.schema = schema()
        self.period = Period(dt.date(day.year, 1, 1), day)
        self.evaluator = Evaluator(connection, rulebook, self.period, Options())
        self._positions: dict[tuple[str, str, str], tuple[Counts, Fraction | None] | None] = {}

    def _versions(self, entity: str) -> list[tuple[str, ast.Version]]:
        found = []
        for rule_id in sorted(self.rulebook.rules):
            version = self.rulebook.version_at(rule_id, self.day)
            if (
                version
                and version.population
                and version.population.entity == entity
                and version.requirement
            ):
                found.append((rule_id, version))
        return found

    def _position(
        self, rule_id: str, version: ast.Version, epci: str, bailleur: str
    ) -> tuple[Counts, Fraction | None] | None:
        key = (rule_id, epci, bailleur)
        if key not in self._positions:
            epci_row = next((e for e in self.evaluator.epcis if e["siren"] == epci), None)
            if epci_row is None or self.evaluator._applicable(version, epci_row) is not True:
                self._positions[key] = None
            else:
                counted = self.evaluator._count([version], version, [epci], [("epci", "bailleur")])
                counts = next((c for scope, c in counted[("epci", "bailleur")] if scope["bailleur"] == bailleur),
                              Counts(0, 0, 0))  # fmt: skip
                target = self.evaluator._target(version)
                local = self.evaluator._local_objective(
                    rule_id, {"epci": epci, "bailleur": bailleur}
                )
                # The year's share: a count or a multi-year objective does not say where this
                # year's attributions stand against a rate.
                yearly = local is not None and local.kind == "share" and local.years is None
                self._positions[key] = (counts, local.value if local and yearly else target)
        return self._positions[key]

    def check(self, records: list[tuple[int, Any]]) -> list[Dwelling]:
        groups: dict[tuple[dt.date, str], list[tuple[int, Any]]] = {}
        for line, record in records:
            groups.setdefault((record.date_commission, record.rpls_id), []).append((line, record))
        dwellings = []
        for (commission, rpls_id), applicants in sorted(groups.items()):
            facts = _dwelling_facts(self.connection, rpls_id, commission)
            if facts is None:
                raise MixiteError(
                    f"Logement {rpls_id} inconnu : importez d'abord le lot du territoire (mixite import)."
                )
            dwelling = Dwelling(rpls_id, commission, facts["financement"], facts["qpv"] is not None,
                                facts["bailleur_siren"], len(applicants))  # fmt: skip
            self._docket_rules(dwelling, applicants, facts)
            for line, applicant in sorted(
                applicants, key=lambda item: (item[1].rang or 99, item[0])
            ):
                dwelling.applicants.append(self._applicant(line, applicant, facts))
            dwellings.append(dwelling)
        return dwellings

    def _docket_rules(
        self, dwelling: Dwelling, applicants: list[tuple[int, Any]], facts: dict[str, Any]
    ) -> None:
        entity = self.schema.entities["dossiers_caleol"]
        interpreter = Interpreter(self.rulebook, entity, (self.period.start, dwelling.commission))
        record = {
            "date_commission": dwelling.commission, "fact_date": dwelling.commission,
            "bailleur": dwelling.bailleur, "commune": facts["commune_insee"], "financement": dwelling.financement,
            "nb_candidatures": len(applicants),
            "designation_dalo": any(a.designation_dalo for _, a in applicants),
            "motif_insuffisance": any(a.motif_moins_de_trois == "insuffisance" for _, a in applicants),
            "attribue": True, "epci": facts["epci_siren"],
            **{key: value for key, value in facts.items() if key.startswith("epci__")},
        }  # fmt: skip
        for rule_id, version in self._versions("dossiers_caleol"):
            assert version.requirement is not None
            exemptions = [
                e for e in version.exceptions if interpreter.eval(e.condition, record) is True
            ]
            if exemptions:
                label = self._label(exemptions[0].condition)
                dwelling.verdicts.append((rule_id, "conforme", f"exemption : {label}"))
                continue
            holds = interpreter.eval(version.requirement.condition, record)
            detail = f"{len(applicants)} candidature(s) examinée(s)"
            dwelling.verdicts.append(
                (
                    rule_id,
                    _status(holds),
                    detail,
                )
            )

    def _label(self, expr: ast.Expr) -> str:
        span = expr.span
        lines = self.rulebook.sources.get(span.file, "").splitlines()
        if span.line == span.end_line and 0 < span.line <= len(lines):
            text = lines[span.line - 1][span.column - 1 : span.end_column - 1].strip()
            return expression_label(text)  # names in French, as `mixite explain` shows them
        return "exemption"

    def _applicant(self, line: int, applicant: Any, facts: dict[str, Any]) -> Applicant:
        entity = self.schema.entities["attributions"]
        interpreter = Interpreter(self.rulebook, entity, (self.period.start, self.day))
        record = _record(applicant, facts, self.day)
        number = str(applicant.numero_unique)
        result = Applicant(line, "…" + number[-6:], applicant.rang)
        definitions = self.rulebook.definitions.get("attributions", {})
        if "premier_quartile" in definitions:
            result.checks.append(
                (
                    "premier quartile",
                    _verdict(interpreter.eval(definitions["premier_quartile"].expr, record)),
                    "",
                )
            )
        result.checks.append(("DALO", _verdict(applicant.dalo), ""))
        result.checks.append(
            ("critères de priorité (L441-1)", applicant.criteres_prioritaires or "aucun", "")
        )
        for rule_id, version in self._versions("attributions"):
            requirement = version.requirement
            assert requirement is not None
            if requirement.kind == "each":
                if (
                    version.population
                    and version.population.where is not None
                    and interpreter.eval(version.population.where, record) is not True
                ):
                    continue
                exempt = [
                    e for e in version.exceptions if interpreter.eval(e.condition, record) is True
                ]
                holds = True if exempt else interpreter.eval(requirement.condition, record)
                detail = f"exemption : {self._label(exempt[0].condition)}" if exempt else ""
                result.checks.append(
                    (
                        rule_id,
                        _status(holds),
                        detail,
                    )
                )
            elif requirement.kind == "share" and any(
                "bailleur" in g.dimensions for g in version.groupings
            ):
                result.effects.append(self._effect(rule_id, version, interpreter, record))
        return result

    def _effect(
        self, rule_id: str, version: ast.Version, interpreter: Interpreter, record: dict[str, Any]
    ) -> Effect:
        scope = {"epci": record["epci"], "bailleur": record["bailleur"]}
        position = self._position(rule_id, version, record["epci"], record["bailleur"])
        if position is None:
            return Effect(rule_id, scope, None, None, None, None, False)
        counts, target = position
        before = Fraction(counts.numerator, counts.denominator) if counts.denominator else None
        assert version.requirement is not None
        bound = version.requirement.bound or "min"
        if not _in_population(interpreter, version, record):
            return Effect(rule_id, scope, before, None, target, None, False, bound)
        counted = interpreter.eval(version.requirement.condition, record) is True
        numerator, denominator = counts.numerator + counted, counts.denominator + 1
        after = Fraction(numerator, denominator)
        remaining = _remaining(numerator, denominator, target, bound)
        return Effect(rule_id, scope, before, after, target, remaining, counted, bound)


def _remaining(numerator: int, denominator: int, target: Fraction | None, bound: str) -> int | None:
    """For a floor: qualifying attributions still needed; for a ceiling: how many it still admits."""
    if target is None:
        return None
    if bound == "min":
        return max(0, math.ceil(target * denominator) - numerator)
    return max(0, math.floor(target * denominator) - numerator)
