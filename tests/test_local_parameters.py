"""Local parameters files (issue #13, point 11): values no stored source gives, supplied with
their source beside the national rules; refused without a source or against a national value."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import yaml

from checker.paths import rules_dir
from checker.rule_tests import run_case
from checker.schema import schema
from dsl.analysis import load_rulebook
from dsl.diagnostics import Diagnostic
from dsl.rulebook import Rulebook

HEADER = (
    "parametre,cles,en_vigueur_du,en_vigueur_au,valeur,source_titre,source_article,source_url\n"
)
PLAI_2026 = "plafond_ressources,financement=PLAI;zone=autres_regions;categorie={cat},2026-01-01,2026-12-31,{value},{source},,\n"
TESTS = rules_dir() / "national" / "tests" / "plafonds_ressources.tests.yaml"


def _load(tmp_path: Path, rows: str) -> tuple[Rulebook | None, list[Diagnostic]]:
    local = tmp_path / "local"
    local.mkdir(exist_ok=True)
    (local / "plai.parametres.csv").write_text(HEADER + rows, encoding="utf-8")
    return load_rulebook([rules_dir(), local], schema())


def _case(name: str) -> tuple[dict, dict]:  # type: ignore[type-arg]
    document = yaml.safe_load(TESTS.read_text(encoding="utf-8"))
    return document, next(c for c in document["cas"] if c["nom"].startswith(name))


def test_local_plai_2026_ceilings_turn_unknown_into_judged(tmp_path: Path) -> None:
    source = "Valeur de test du mécanisme (pas un plafond publié)"
    rows = "".join(
        PLAI_2026.format(cat=cat, value=13000 + cat, source=source) for cat in range(1, 7)
    )
    rulebook, diagnostics = _load(tmp_path, rows)
    assert rulebook is not None, [d.render() for d in diagnostics]
    found = rulebook.parameters["plafond_ressources"].value_at(
        dt.date(2026, 3, 1),
        {"financement": "PLAI", "zone": "autres_regions", "categorie": "1"},
    )
    assert found is not None and found.local and found.value == 13001
    document, case = _case("PLAI 2026 non saisi")
    judged = {
        **case,
        "attendu": [{"perimetre": {"epci": "910000009"}, "statut": "conforme", "inconnus": 0}],
    }
    assert run_case(rulebook, document, judged, str(TESTS), engines=("sql",)).failures == []


def test_a_local_value_without_source_is_refused(tmp_path: Path) -> None:
    rulebook, diagnostics = _load(tmp_path, PLAI_2026.format(cat=1, value=13001, source=""))
    assert rulebook is None
    assert [d.code for d in diagnostics] == ["E401"]
    assert diagnostics[0].span is not None and diagnostics[0].span.line == 2


def test_a_local_value_contradicting_the_national_one_is_refused(tmp_path: Path) -> None:
    # The national PLAI 2025 ceiling for one person, autres régions, is 12 759 €.
    row = "plafond_ressources,financement=PLAI;zone=autres_regions;categorie=1,2025-01-01,2025-12-31,12000,Arrêté,,\n"
    rulebook, diagnostics = _load(tmp_path, row)
    assert rulebook is None
    assert [d.code for d in diagnostics] == ["E410"]
    assert "12759" in diagnostics[0].message or "12 759" in diagnostics[0].message
    same = row.replace("12000", "12759")
    rulebook, diagnostics = _load(tmp_path, same)  # equal to the national value: nothing to add
    assert rulebook is not None and not any(
        v.local for v in rulebook.parameters["plafond_ressources"].values
    )


def test_an_unknown_parameter_is_refused(tmp_path: Path) -> None:
    rulebook, diagnostics = _load(tmp_path, "plafond_ressource,,2026-01-01,,1,Arrêté,,\n")
    assert rulebook is None and [d.code for d in diagnostics] == ["E201"]


Q1_TESTS = rules_dir() / "national" / "tests" / "q1_hors_qpv.tests.yaml"
SEUIL_2023 = "seuil_q1,epci=248000531,2023-01-01,2023-12-31,9000,{source},,\n"


def test_a_local_threshold_lists_its_epci_but_makes_no_list_known(tmp_path: Path) -> None:
    """`inscrit(…)` (issue #13, point 10): a threshold supplied locally for 2023 makes that EPCI
    listed, so a territory without the law's criteria is judged; another EPCI stays undecided
    (no national list for 2023), never « non applicable »."""
    local = tmp_path / "local"
    local.mkdir()
    source = "Valeur de test du mécanisme (pas un seuil publié)"
    (local / "seuil.parametres.csv").write_text(
        HEADER + SEUIL_2023.format(source=source), encoding="utf-8"
    )
    rulebook, diagnostics = load_rulebook([rules_dir(), local], schema())
    assert rulebook is not None, [d.render() for d in diagnostics]
    document = yaml.safe_load(Q1_TESTS.read_text(encoding="utf-8"))
    case = next(
        c for c in document["cas"] if c["nom"].startswith("Critères de la loi absents en 2023")
    )
    listed = {
        **case,
        "attendu": [{"perimetre": {"epci": "910000009"}, "statut": "conforme", "numerateur": 1}],
    }
    assert run_case(rulebook, document, listed, str(Q1_TESTS), engines=("sql",)).failures == []
    territory = {
        **case["territoire"],
        "epci": {**case["territoire"]["epci"], "siren_arrete": "200067072"},
    }
    other = {
        **case,
        "territoire": territory,
        "attendu": [{"perimetre": {"epci": "910000009"}, "statut": "donnees_insuffisantes"}],
    }
    assert run_case(rulebook, document, other, str(Q1_TESTS), engines=("sql",)).failures == []
