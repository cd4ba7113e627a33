"""Rule tests: small hand-written data sets beside the rules (`*.tests.yaml`) with the
expected result per scope, run on a fresh SQLite database by both engines (SQL and the
reference interpreter), which must agree with each other and with the expectation."""

from __future__ import annotations

import csv
import datetime as dt
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import create_engine

from checker.errors import MixiteError
from checker.evaluate.reference import ReferenceEvaluator
from checker.evaluate.run import Evaluator, Options, Period
from checker.ingest.importer import ImportRefused, import_bundle
from checker.ingest.pseudonym import KEY_ENV, key_setting
from checker.ingest.rows import (
    ATTRIBUTIONS_SPEC,
    BAUX_SPEC,
    CALEOL_SPEC,
    LOGEMENTS_SPEC,
    RESERVATIONS_SPEC,
)
from checker.report.json_report import results_block
from checker.rulebook_loader import rule_test_files
from dsl.rulebook import Rulebook

DEFAULT_TERRITORY: dict[str, Any] = {
    "epci": {
        "siren": "910000009",
        "nom": "Communauté de test",
        "nom_arrete": "CA Amiens Métropole",
        "departement": "80",
        "region": "Hauts-de-France",
        "tenu_plh": True,
        "competent_habitat": True,
    },
    "communes": [
        {"insee": "80901", "nom": "Aval", "zone_plafonds": "autres_regions"},
        {"insee": "80902", "nom": "Amont", "zone_plafonds": "autres_regions"},
    ],
    "qpv": [
        {"code": "QN08001M", "nom": "Les Tilleuls", "communes": ["80901"],
         "valide_du": dt.date(2024, 1, 1), "valide_au": None},
        {"code": "QP080099", "nom": "Le Moulin", "communes": ["80902"],
         "valide_du": dt.date(2015, 1, 1), "valide_au": dt.date(2023, 12, 31)},
    ],
    "bailleurs": [
        {"siren": "910000017", "nom": "Bailleur A"},
        {"siren": "910000025", "nom": "Bailleur B"},
    ],
    "reservataires": [
        {"id": "ETAT", "type": "etat", "nom": "Préfet"},
        {"id": "AL", "type": "action_logement", "nom": "Action Logement Services"},
    ],
}  # fmt: skip
ATTRIBUTION_DEFAULTS = {
    "contingent": "non_reserve",
    "mutation": "non",
    "dalo": "non",
    "criteres_prioritaires": "",
    "relogement": "",
    "travailleur_essentiel": "non",
    "nb_titulaires": "1",
    "nb_personnes_14_plus": "0",
    "nb_moins_14": "0",
    "rfr_n2": "10000",
}
LOGEMENT_DEFAULTS = {"qpv_code": "", "financement": "PLUS", "commune_insee": "80901"}
# One row per application examined: give date_commission, bailleur_siren and rpls_id.
CALEOL_DEFAULTS = {
    "decision": "attribution_rang",
    "designation_dalo": "non",
    "motif_moins_de_trois": "",
}
# Expectation keys a test may give, in French, and the result field each one checks.
EXPECTATION_KEYS = {
    "statut": "status",
    "numerateur": "numerator",
    "denominateur": "denominator",
    "taux": "rate",
    "cible": "target",
    "manque": "shortfall",
    "inconnus": "unknown",
    "version": "version",
    "source_de_la_cible": "target_source",
}


@dataclass
class CaseOutcome:
    file: str
    rule: str
    name: str
    failures: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failures


class RuleTestError(MixiteError):
    pass


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "oui" if value else "non"
    if isinstance(value, dt.date):
        return value.strftime("%d/%m/%Y")
    return str(value)


def _write_csv(path: Path, columns: Sequence[str], rows: list[dict[str, Any]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, delimiter=";")
        writer.writerow(columns)
        for row in rows:
            writer.writerow([_text(row.get(column)) for column in columns])


def _bundle(case: dict[str, Any], document: dict[str, Any], target: Path) -> Path:
    target.mkdir()
    territory = case.get("territoire") or document.get("territoire") or DEFAULT_TERRITORY
    (target / "territoire.yaml").write_text(
        yaml.safe_dump(territory, allow_unicode=True), encoding="utf-8"
    )
    logements = [{**LOGEMENT_DEFAULTS, **row} for row in case.get("logements", [])]
    defaults = {**ATTRIBUTION_DEFAULTS, **document.get("defauts", {}), **case.get("defauts", {})}
    attributions = []
    for number, row in enumerate(case.get("attributions", []), start=1):
        merged = {**defaults, **row}
        merged.setdefault("numero_unique", f"TEST{number:06d}")
        merged.setdefault("date_decision", merged.get("date_bail") or dt.date(2000, 1, 1))
        attributions.append(merged)
    all_logement_columns = (*LOGEMENTS_SPEC["required"], *LOGEMENTS_SPEC["optional"])
    all_attribution_columns = (*ATTRIBUTIONS_SPEC["required"], *ATTRIBUTIONS_SPEC["optional"])
    _write_csv(target / "logements.csv", all_logement_columns, logements)
    _write_csv(target / "attributions.csv", all_attribution_columns, attributions)
    if case.get("caleol"):
        examens = []
        for number, row in enumerate(case["caleol"], start=1):
            merged = {**CALEOL_DEFAULTS, **row}
            merged.setdefault("numero_unique", f"CAND{number:06d}")
            examens.append(merged)
        all_caleol_columns = (*CALEOL_SPEC["required"], *CALEOL_SPEC["optional"])
        _write_csv(target / "caleol.csv", all_caleol_columns, examens)
    # Reservation conventions and leases are written as the case gives them, whole.
    for key, spec, name in (("reservations", RESERVATIONS_SPEC, "reservations.csv"),
                            ("baux", BAUX_SPEC, "baux.csv")):  # fmt: skip
        if case.get(key):
            _write_csv(target / name, (*spec["required"], *spec["optional"]), case[key])
    return target


def _compare(expected: dict[str, Any], results: list[dict[str, Any]], rule: str) -> list[str]:
    failures: list[str] = []
    scope = {str(k): str(v) for k, v in (expected.get("perimetre") or {}).items()}
    found = [r for r in results if r["rule"] == rule and r["scope"] == scope]
    if not found:
        scopes = [r["scope"] for r in results if r["rule"] == rule]
        return [f"aucun résultat pour le périmètre {scope} (périmètres obtenus : {scopes})"]
    result = found[0]
    for key, wanted in expected.items():
        if key == "perimetre":
            continue
        field_name = EXPECTATION_KEYS.get(key, key)
        if field_name not in result:
            failures.append(f"{scope} : « {key} » n'est pas un champ de résultat")
            continue
        got = result[field_name]
        if isinstance(wanted, float) and isinstance(got, float):
            same = abs(wanted - got) < 1e-6
        else:
            same = _text(wanted) == _text(got)
        if not same:
            failures.append(f"{scope} : {key} attendu {wanted!r}, obtenu {got!r}")
    return failures


def run_case(
    rulebook: Rulebook,
    document: dict[str, Any],
    case: dict[str, Any],
    file: str,
    database_url: str | None = None,
) -> CaseOutcome:
    """Run one case on a fresh database: a temporary SQLite file, or `database_url` (empty)."""
    rule = str(document.get("regle", ""))
    outcome = CaseOutcome(file, rule, str(case.get("nom", "sans nom")))
    if rule not in rulebook.rules:
        outcome.failures.append(f"règle inconnue : {rule!r}")
        return outcome
    year = case.get("annee")
    if not isinstance(year, int):
        outcome.failures.append("« annee » manquante ou invalide")
        return outcome
    to_date = case.get("au")
    period = Period.year(year, to_date if isinstance(to_date, dt.date) else None)
    with tempfile.TemporaryDirectory(prefix="mixite-test-") as scratch:
        work = Path(scratch)
        url = database_url or f"sqlite:///{work / 'test.db'}"
        try:
            with key_setting(KEY_ENV, "cle-de-test-des-regles-0123456789"):
                import_bundle([_bundle(case, document, work / "lot")], url)
        except ImportRefused as refused:
            outcome.failures.extend(
                f"données du cas refusées : {p.render()}" for p in refused.problems[:5]
            )
            return outcome
        engine = create_engine(url)
        try:
            with engine.connect() as connection:
                fast = results_block(
                    Evaluator(connection, rulebook, period, Options()).evaluate_rule_results(rule)
                )
                slow = results_block(
                    ReferenceEvaluator(
                        connection, rulebook, period, Options()
                    ).evaluate_rule_results(rule)
                )
        finally:
            engine.dispose()
    if fast != slow:
        outcome.failures.append("le moteur SQL et l'interpréteur de référence divergent")
    for expected in case.get("attendu", []):
        outcome.failures.extend(_compare(expected, fast, rule))
    if not case.get("attendu"):
        outcome.failures.append("aucun résultat attendu (« attendu ») : le cas ne vérifie rien")
    return outcome


def load_documents(paths: Sequence[Path]) -> list[tuple[str, dict[str, Any]]]:
    documents = []
    for path in rule_test_files(paths):
        try:
            document = yaml.safe_load(path.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            raise RuleTestError(f"{path} : YAML illisible ({exc}).") from exc
        if not isinstance(document, dict) or "regle" not in document or "cas" not in document:
            raise RuleTestError(f"{path} : un fichier de tests contient « regle » et « cas ».")
        documents.append((path.as_posix(), document))
    return documents


def run_rule_tests(rulebook: Rulebook, paths: Sequence[Path]) -> list[CaseOutcome]:
    outcomes = []
    for file, document in load_documents(paths):
        for case in document["cas"]:
            outcomes.append(run_case(rulebook, document, case, file))
    return outcomes
