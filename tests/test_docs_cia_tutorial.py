"""The CIA tutorial (docs/regles/tutoriel-cia.md): its files load, its local rule passes its
cases, and the figures the page quotes are those mixite computes on the demo."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import create_engine

from checker.evaluate.run import Evaluator, Options, Period
from checker.ingest.importer import import_bundle
from checker.paths import demo_bundle_dir, rules_dir
from checker.report.json_report import results_block
from checker.rule_tests import load_documents, run_case
from checker.rulebook_loader import load_rules
from tests.test_cli import mixite

TUTORIAL = Path(__file__).resolve().parent.parent / "docs" / "regles" / "cia-tutoriel"
PAGE = TUTORIAL.parent / "tutoriel-cia.md"
EPCI = "980008015"


def test_the_tutorial_cia_loads_with_the_one_warning_the_page_explains() -> None:
    loaded = load_rules([rules_dir(), TUTORIAL])
    assert loaded.rulebook is not None
    assert [(d.code, d.span.line if d.span else None) for d in loaded.diagnostics] == [("W501", 13)]
    for file, document in load_documents([TUTORIAL]):
        for case in document["cas"]:
            assert run_case(loaded.rulebook, document, case, file).failures == []  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('demo') / 'demo.db'}"
    import_bundle([demo_bundle_dir()], url)
    return url


def test_the_figures_the_page_quotes(demo: str) -> None:
    loaded = load_rules([rules_dir(), TUTORIAL])
    assert loaded.rulebook is not None
    engine = create_engine(demo)
    try:
        with engine.connect() as connection:
            results = results_block(
                Evaluator(connection, loaded.rulebook, Period.year(2025), Options()).evaluate()
            )
    finally:
        engine.dispose()

    def result(rule: str, **scope: str) -> dict[str, object]:
        return next(
            r for r in results if r["rule"] == rule and r["scope"] == {"epci": EPCI, **scope}
        )

    toits = result("L441-1.Q1-HORS-QPV", bailleur="912000379")
    assert (round(toits["rate"], 3), toits["target"], toits["shortfall"]) == (0.29, 0.3, 6)  # type: ignore[call-overload]
    assert result("L441-1.Q1-HORS-QPV", bailleur="912000007")["target"] == 0.22
    al = result("L441-1.TRAVAILLEURS-ESSENTIELS", reservataire="AL")
    assert (round(al["rate"], 3), al["target"], al["target_source"]) == (
        0.113,
        0.12,
        "CIA-TUTORIEL-2024",
    )  # type: ignore[call-overload]
    qpv = result("L441-1-5.QPV-HORS-Q1")
    assert (qpv["status"], qpv["target"]) == ("conforme", 0.55)
    fragile = result("TUTO.Q1-TRES-FRAGILES", bailleur="912000007", residence="P0007-024")
    assert (fragile["status"], fragile["numerator"], fragile["denominator"]) == (
        "non_conforme",
        13,
        34,
    )
    # Article 8: a local rule on the applicant's housing before (issue #15, item 7).
    without = result("TUTO.SANS-LOGEMENT-PROPRE")
    assert (without["status"], without["numerator"], without["denominator"]) == (
        "conforme",
        995,
        1949,
    )
    assert without["target_reference"] == "CIA du tutoriel, article 8"
    sem = result("TUTO.SANS-LOGEMENT-PROPRE", bailleur="912001112")
    assert (sem["status"], sem["numerator"], sem["denominator"]) == ("non_conforme", 109, 241)
    page = PAGE.read_text(encoding="utf-8")
    assert "29 %, sous les **30 %**" in page and "38,2 %, 13 sur 34" in page
    assert "51,1 % des premières attributions renseignées\n  (995 sur 1 949)" in page
    assert "45,2 % (109 sur 241)" in page


def test_the_report_lists_the_qualitative_commitments(demo: str) -> None:
    done = mixite("check", "--year", "2025", "--rules", str(rules_dir()), "--rules", str(TUTORIAL),
                  "--db", demo, "--format", "md")  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "mixite les rappelle sans les vérifier" in done.stdout
    assert (
        "Présenter chaque année à la CIL le bilan des attributions, par bailleur et par résidence "
        "— dû par : Communauté d'agglomération du Val de Lize — échéance : 31/03/2025 — déclaré "
        "fait le 20/03/2025 (Compte rendu (fictif) de la CIL du 20/03/2025)"
    ) in done.stdout
