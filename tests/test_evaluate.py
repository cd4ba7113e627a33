"""The evaluation of L441-1.Q1-HORS-QPV on hand-computed cases, on SQLite and PostgreSQL,
with the SQL compiler and the reference interpreter agreeing."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sqlalchemy import create_engine

from checker.evaluate.reference import ReferenceEvaluator
from checker.evaluate.run import Evaluator, Options, Period
from checker.ingest.importer import import_bundle
from checker.paths import demo_bundle_dir, rules_dir
from checker.report.json_report import results_block
from checker.rulebook_loader import require_rules
from tests import bundles
from tests.bundles import BAILLEUR_A, BAILLEUR_B, BAILLEUR_C, EPCI, dwelling, household

RULE = "L441-1.Q1-HORS-QPV"

# 2024 first-quartile threshold of CA Amiens Métropole (borrowed by the test territory): 8 957 €.
DWELLINGS = [
    dwelling("L1", BAILLEUR_A),
    dwelling("L2", BAILLEUR_A, qpv="QN08001M"),  # in a QPV of the 2024 list
    dwelling(
        "L3", BAILLEUR_B, commune="80902", qpv="QP080099"
    ),  # QPV that left the list on 1/1/2024
    dwelling("L4", BAILLEUR_B, commune="80902"),
    dwelling("L5", BAILLEUR_C, commune="80902"),
]
ATTRIBUTIONS = [
    household(1, BAILLEUR_A, "L1", "15/03/2024", "746,41"),  # 8 956,92 €/UC: first quartile
    household(2, BAILLEUR_A, "L1", "16/03/2024", "746,42"),  # 8 957,04 €/UC: not
    # UC 1,8 and 1 343,55 €: exactly 8 957 €/UC, "inférieur à" the threshold fails
    household(3, BAILLEUR_A, "L1", "17/03/2024", "1343,55", titulaires=2, moins_14=1),
    household(4, BAILLEUR_B, "L3", "18/03/2024", "4000", relogement="anru"),  # rehoused
    household(5, BAILLEUR_B, "L4", "19/03/2024", ""),  # income missing: undecidable
    household(6, BAILLEUR_B, "L4", "", "500"),  # lease not signed: not counted
    household(7, BAILLEUR_A, "L2", "20/03/2024", "500"),  # in QPV: not in this rule
    household(8, BAILLEUR_A, "L1", "31/12/2024", "700"),  # last day of the year: counted
    household(9, BAILLEUR_B, "L4", "01/01/2025", "700"),  # next year
    *(household(10 + i, BAILLEUR_A, "L1", "01/06/2024", "3000") for i in range(5)),
    household(15, BAILLEUR_B, "L4", "02/06/2024", "3000"),
    household(16, BAILLEUR_C, "L5", "03/06/2024", ""),
    household(17, BAILLEUR_C, "L5", "04/06/2024", "3000"),
]

EXPECTED_2024 = {
    # scope: (status, numerator, denominator, unknown, shortfall, without relogement)
    (("epci", EPCI),): ("donnees_insuffisantes", 3, 14, 2, 1, 2),
    (("bailleur", BAILLEUR_A), ("epci", EPCI)): ("non_conforme", 2, 9, 0, 1, 2),
    (("bailleur", BAILLEUR_B), ("epci", EPCI)): ("conforme", 1, 3, 1, 0, 0),
    (("bailleur", BAILLEUR_C), ("epci", EPCI)): ("donnees_insuffisantes", 0, 2, 1, 1, 0),
}


@pytest.fixture
def crafted(db_url: str, tmp_path: Path) -> str:
    bundle = bundles.write_bundle(tmp_path / "lot", DWELLINGS, ATTRIBUTIONS)
    import_bundle([bundle], db_url)
    return db_url


def _results(url: str, period: Period, evaluator: type[Evaluator] = Evaluator,
             rules: Path | None = None) -> list[dict[str, object]]:  # fmt: skip
    rulebook, _ = require_rules([rules] if rules else None)
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return results_block(evaluator(connection, rulebook, period, Options()).evaluate())
    finally:
        engine.dispose()


def test_hand_computed_figures_2024(crafted: str) -> None:
    results = [r for r in _results(crafted, Period.year(2024)) if r["rule"] == RULE]
    found = {
        tuple(sorted(r["scope"].items())): (  # type: ignore[attr-defined]
            r["status"], r["numerator"], r["denominator"], r["unknown"], r["shortfall"],
            r["numerator_without_relogement"],
        )
        for r in results
    }  # fmt: skip
    assert found == EXPECTED_2024
    epci = next(r for r in results if r["scope"] == {"epci": EPCI})
    assert epci["rate"] == round(3 / 14, 6)
    assert epci["target"] == 0.25
    assert epci["version"] == "2022-02-23"
    assert any(p["name"] == "seuil_q1" and p["value"] == 8957 for p in epci["parameters"])  # type: ignore[index, union-attr]


def test_the_next_year_and_a_partial_year(crafted: str) -> None:
    results = [r for r in _results(crafted, Period.year(2025)) if r["rule"] == RULE]
    epci = next(r for r in results if r["scope"] == {"epci": EPCI})
    # one attribution (700 € for one person: 8 400 €/UC < 9 180 €): first quartile
    assert (epci["numerator"], epci["denominator"], epci["status"]) == (1, 1, "conforme")
    to_date = [r for r in _results(crafted, Period.year(2024, Period.year(2024).start.replace(month=3, day=17)))
               if r["rule"] == RULE]  # fmt: skip
    epci = next(r for r in to_date if r["scope"] == {"epci": EPCI})
    assert (epci["numerator"], epci["denominator"]) == (1, 3)  # a1, a2, a3 by 17 March


def test_reference_interpreter_agrees(crafted: str) -> None:
    for year in (2023, 2024, 2025):
        period = Period.year(year)
        assert _results(crafted, period) == _results(crafted, period, ReferenceEvaluator)


def test_an_epci_not_bound_is_not_applicable(db_url: str, tmp_path: Path) -> None:
    territory = bundles.TERRITORY.replace("tenu_plh: true", "tenu_plh: false").replace(
        "competent_habitat: true", "competent_habitat: false"
    )
    bundle = bundles.write_bundle(tmp_path / "lot", DWELLINGS, ATTRIBUTIONS, territory)
    import_bundle([bundle], db_url)
    results = [r for r in _results(db_url, Period.year(2024)) if r["rule"] == RULE]
    assert [(r["scope"], r["status"]) for r in results] == [({"epci": EPCI}, "non_applicable")]


def test_a_local_commitment_raises_a_bailleurs_target(crafted: str, tmp_path: Path) -> None:
    rules = tmp_path / "regles"
    shutil.copytree(rules_dir(), rules)
    (rules / "local").mkdir(exist_ok=True)
    (rules / "local" / "cia.regles").write_text(
        f"""engagement CIA-TEST-2024
  titre "CIA de test"
  source "CIA signée le 01/01/2024" url "https://exemple.invalid/cia.pdf"
  territoire "{EPCI}"
  signataires "Préfet", "EPCI"
  du 01/01/2024 au 31/12/2026
  objectif L441-1.Q1-HORS-QPV pour bailleur = "{BAILLEUR_B}" : 40 %
""",
        encoding="utf-8",
    )
    results = [r for r in _results(crafted, Period.year(2024), rules=rules) if r["rule"] == RULE]
    b = next(r for r in results if r["scope"].get("bailleur") == BAILLEUR_B)  # type: ignore[union-attr]
    assert (b["target"], b["target_source"], b["status"]) == (
        0.4,
        "CIA-TEST-2024",
        "donnees_insuffisantes",
    )
    a = next(r for r in results if r["scope"].get("bailleur") == BAILLEUR_A)  # type: ignore[union-attr]
    assert (a["target"], a["target_source"]) == (0.25, "loi")


def test_sqlite_and_postgresql_agree_on_the_demo(tmp_path: Path) -> None:
    from tests.conftest import _postgres_database

    pg = _postgres_database()
    pg_url = next(pg)
    try:
        sqlite_url = f"sqlite:///{tmp_path / 'demo.db'}"
        for url in (sqlite_url, pg_url):
            import_bundle([demo_bundle_dir()], url)
        for year in (2024, 2025):
            period = Period.year(year)
            on_sqlite = _results(sqlite_url, period)
            assert on_sqlite == _results(pg_url, period)
            assert on_sqlite == _results(sqlite_url, period, ReferenceEvaluator)
            assert on_sqlite == _results(sqlite_url, period)  # two runs, same results
    finally:
        next(pg, None)


def test_not_applicable_says_which_condition_is_not_met(tmp_path: Path) -> None:
    # In 2022 the 3DS deadline (24/11/2023) has not passed: the EPCI is bound, the rule does
    # not apply yet, and the message must say so rather than "not bound".
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    import_bundle([demo_bundle_dir()], url)
    rulebook, _ = require_rules()
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            evaluator = Evaluator(connection, rulebook, Period.year(2022), Options())
            (result,) = evaluator.evaluate_rule("L441-1.GESTION-EN-FLUX")
    finally:
        engine.dispose()
    assert result.status == "non_applicable"
    assert result.message == (
        "condition d'application non remplie : s'applique si date_controle >= 24/11/2023"
    )
