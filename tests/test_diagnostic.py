"""`mixite diagnostic` on the demo: its figures recomputed independently from the demo's CSV
files with the csv module (not through mixite's code), and every output format written."""

from __future__ import annotations

import csv
import datetime as dt
import json
import subprocess
import sys
from collections import defaultdict
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
import yaml

from checker.ingest.importer import import_bundle
from checker.paths import demo_bundle_dir

DEMO = demo_bundle_dir()
YEAR = 2024


def _rows(name: str) -> list[dict[str, str]]:
    with (DEMO / name).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle, delimiter=";"))


def _pct(part: int, whole: int) -> float:
    value = Fraction(part * 1000, whole)  # one decimal, half up
    return float((value.numerator * 2 + value.denominator) // (2 * value.denominator)) / 10


def _day(text: str) -> dt.date:
    day, month, year = text.split("/")
    return dt.date(int(year), int(month), int(day))


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    folder = tmp_path_factory.mktemp("diagnostic")
    url = f"sqlite:///{folder / 'demo.db'}"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MIXITE_CLE_FICHIER", str(folder / "demo.cle"))
        import_bundle([DEMO], url)
    return url


def _run(db: str, *arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "checker", "diagnostic", "--year", str(YEAR), "--db", db,
         "--rules", str(Path(__file__).parents[1] / "rules"), "--rules", str(DEMO / "cil"),
         *arguments],
        capture_output=True, text=True, check=False, timeout=300,
    )  # fmt: skip


@pytest.fixture(scope="module")
def diagnostic(demo_db: str) -> dict[str, Any]:
    done = _run(demo_db, "--format", "json")
    assert done.returncode == 0, done.stderr
    document: dict[str, Any] = json.loads(done.stdout)
    return document


def _surveys(year: int) -> dict[tuple[str, str], dict[str, int]]:
    return {
        (row["bailleur_siren"], row["residence_id"]): {
            key: int(value) for key, value in row.items() if key not in (
                "annee_enquete", "bailleur_siren", "residence_id")
        }
        for row in _rows("occupation.csv")
        if int(row["annee_enquete"]) == year
    }  # fmt: skip


def test_the_epci_profile_and_its_change_are_those_of_the_survey_files(
    diagnostic: dict[str, Any],
) -> None:
    now, before = _surveys(2024), _surveys(2022)
    assert (diagnostic["enquete"], diagnostic["enquete_precedente"]) == (2024, 2022)

    def total(surveys: dict[tuple[str, str], dict[str, int]], *columns: str) -> int:
        return sum(row[c] for row in surveys.values() for c in columns)

    respondents = total(now, "menages_repondants")
    brackets = ("ressources_inf_20", "ressources_20_40", "ressources_40_60",
                "ressources_60_100", "ressources_sup_100")  # fmt: skip
    (epci,) = diagnostic["profils"]["epci"]
    assert epci["profil"]["repondants"] == respondents
    assert epci["profil"]["sans_reponse_ressources"] == respondents - total(now, *brackets)
    under_40 = ("ressources_inf_20", "ressources_20_40")
    assert epci["profil"]["parts"]["sous_40"] == _pct(total(now, *under_40), respondents)
    assert epci["profil"]["parts"]["monoparentales"] == _pct(
        total(now, "familles_monoparentales"), respondents
    )
    then = _pct(total(before, *under_40), total(before, "menages_repondants"))
    assert epci["evolution"]["sous_40"] == round(epci["profil"]["parts"]["sous_40"] - then, 1)


def test_the_planted_stories_are_there(diagnostic: dict[str, Any]) -> None:
    residences = {item["code"]: item for item in diagnostic["profils"]["residences"]}
    now = _surveys(2024)[("912000379", "P0379-001")]
    poorer = residences["P0379-001"]
    assert poorer["nom"] == "Résidence Les Marronniers"
    assert poorer["profil"]["parts"]["sous_40"] == _pct(
        now["ressources_inf_20"] + now["ressources_20_40"], now["menages_repondants"]
    )
    entrants = {item["residence"]: item for item in diagnostic["entrants"]["residences"]}
    # Entrants poorer than the occupants at Les Marronniers; the reverse at Les Pervenches,
    # whose share of poor households went down since 2022.
    assert entrants["P0379-001"]["part_sous_40_entrants"] > poorer["profil"]["parts"]["sous_40"]
    improves = residences["P0379-007"]
    assert improves["evolution"]["sous_40"] < 0
    assert entrants["P0379-007"]["part_sous_40_entrants"] < improves["profil"]["parts"]["sous_40"]


def test_classes_are_the_cil_criteria_applied_to_the_latest_survey(
    diagnostic: dict[str, Any],
) -> None:
    surveys = _surveys(2024)
    under = {
        key: row["ressources_inf_20"] + row["ressources_20_40"] for key, row in surveys.items()
    }
    average = Fraction(sum(under.values()), sum(r["menages_repondants"] for r in surveys.values()))
    expected: dict[str, str | None] = {}
    for row in _rows("residences.csv"):
        key = (row["bailleur_siren"], row["residence_id"])
        survey = surveys.get(key)
        if survey is None or survey["menages_repondants"] == 0:
            expected[row["residence_id"]] = None
            continue
        gap = Fraction(under[key], survey["menages_repondants"]) - average
        single = Fraction(survey["familles_monoparentales"], survey["menages_repondants"])
        expected[row["residence_id"]] = (
            "tres_fragile" if gap >= Fraction(15, 100)
            else "fragile" if gap >= Fraction(8, 100) or single >= Fraction(30, 100)
            else "a_surveiller" if gap >= Fraction(3, 100)
            else "equilibree"
        )  # fmt: skip
    got = {item["residence"]: item["calculee"] for item in diagnostic["classes"]}
    assert got == expected
    declared = {row["residence_id"]: row["classe_enjeu"] or None for row in _rows("residences.csv")}
    differing = {ident for ident, klass in expected.items()
                 if declared[ident] and klass and declared[ident] != klass}  # fmt: skip
    assert {item["residence"] for item in diagnostic["classes"] if item["differe"]} == differing
    assert 0 < len(differing) < len(expected) / 2


def test_entrants_are_the_leases_signed_in_the_year_on_each_class(
    diagnostic: dict[str, Any],
) -> None:
    residence_of = {row["rpls_id"]: (row["bailleur_siren"], row["residence_id"])
                    for row in _rows("logements.csv")}  # fmt: skip
    klass = {(row["bailleur_siren"], row["residence_id"]): row["classe_enjeu"] or None
             for row in _rows("residences.csv")}  # fmt: skip
    computed = {item["residence"]: item["calculee"] for item in diagnostic["classes"]}
    counts: dict[str, int] = defaultdict(int)
    for row in _rows("attributions.csv"):
        if row["date_bail"] and _day(row["date_bail"]).year == YEAR:
            key = residence_of[row["rpls_id"]]
            counts[klass[key] or computed[key[1]] or "non_classee"] += 1
    assert {
        item["classe"]: item["entrants"] for item in diagnostic["entrants"]["classes"]
    } == counts


def test_rehousing_follow_up_is_that_of_the_rehousing_file(diagnostic: dict[str, Any]) -> None:
    territory = yaml.safe_load((DEMO / "territoire.yaml").read_text(encoding="utf-8"))
    lists = {q["code"]: (q["valide_du"], q["valide_au"]) for q in territory["qpv"]}
    qpv_of = {row["rpls_id"]: [c for c in row["qpv_code"].split("|") if c]
              for row in _rows("logements.csv")}  # fmt: skip
    end = dt.date(YEAR, 12, 31)
    expected: dict[str, dict[str, Any]] = {}
    for operation in sorted({row["operation_npnru"] for row in _rows("relogements.csv")}):
        rows = [row for row in _rows("relogements.csv") if row["operation_npnru"] == operation]
        rows = [row for row in rows if _day(row["date_entree_operation"]) <= end]
        rehoused = [row for row in rows if row["statut"].startswith("reloge_")
                    and _day(row["date_relogement"]) <= end]  # fmt: skip
        definitive = [row for row in rehoused if row["statut"] == "reloge_definitif"]

        def in_qpv(row: dict[str, str]) -> bool:
            day = _day(row["date_relogement"])
            return any(lists[code][0] <= day and (lists[code][1] is None or day <= lists[code][1])
                       for code in qpv_of[row["rpls_id_destination"]])  # fmt: skip

        outside = sum(1 for row in definitive if not in_qpv(row))
        expected[operation] = {
            "menages": len(rows),
            "reloges_definitifs": len(definitive),
            "reloges_temporaires": len(rehoused) - len(definitive),
            "sortis_parc_social": sum(1 for row in rows if row["statut"] == "sorti_parc_social"),
            "a_reloger": len(rows) - len(rehoused) - sum(
                1 for row in rows if row["statut"] in ("sorti_parc_social", "autre_sortie")),
            "part_hors_qpv": _pct(outside, len(definitive)),
        }  # fmt: skip
    got = {item["operation"]: {key: item[key] for key in expected[item["operation"]]}
           for item in diagnostic["relogements"]}  # fmt: skip
    assert got == expected


def test_every_format_is_written_and_an_unknown_one_is_refused(
    demo_db: str, tmp_path: Path
) -> None:
    for output_format in ("html", "xlsx", "md", "csv", "json"):
        target = tmp_path / f"diagnostic.{output_format}"
        done = _run(demo_db, "--format", output_format, "--out", str(target))
        assert done.returncode == 0, done.stderr
        assert target.stat().st_size > 1000
    from openpyxl import load_workbook

    workbook = load_workbook(tmp_path / "diagnostic.xlsx", read_only=True)
    assert workbook.sheetnames == ["Profils", "Classes", "Entrants", "Relogements"]
    page = (tmp_path / "diagnostic.html").read_text(encoding="utf-8")
    # Counts of a thousand or more are grouped the French way (narrow no-break space), in the
    # tables a person reads: the EPCI's respondents in the demo are over a thousand.
    text = (tmp_path / "diagnostic.md").read_text(encoding="utf-8")
    epci_row = next(line for line in text.splitlines() if line.startswith("| Communauté"))
    respondents = epci_row.split(" | ")[1]
    assert len(respondents) > 4 and respondents.replace("\u202f", "").isdigit(), epci_row
    assert respondents[-4] == "\u202f" and respondents in page
    assert page.count("<svg") == 3 and "Résidence Les Marronniers" in page and "@page" in page
    refused = _run(demo_db, "--format", "pdf")
    assert refused.returncode != 0
    assert "Format inconnu : pdf." in refused.stdout + refused.stderr
    assert "Traceback" not in refused.stdout + refused.stderr


def test_the_demo_territory_rules_pass_their_own_tests() -> None:
    """The CIL classification and the rehousing charter of the demo (fixtures/demo/cil), each
    rule tested on each side of each threshold and date, in both engines."""
    from checker.paths import rules_dir
    from checker.rule_tests import run_rule_tests
    from checker.rulebook_loader import require_rules

    rulebook, _ = require_rules([rules_dir(), DEMO / "cil"])
    outcomes = run_rule_tests(rulebook, [DEMO / "cil"], jobs=1)
    assert {outcome.rule for outcome in outcomes} == {
        "CIL-VAL-DE-LIZE.CLASSEMENT-DECLARE",
        "CHARTE-RELOGEMENT-VAL-DE-LIZE.HORS-QPV",
        "CHARTE-RELOGEMENT-VAL-DE-LIZE.LOGEMENT-RECENT",
        "CHARTE-RELOGEMENT-VAL-DE-LIZE.RESTE-A-CHARGE",
    }
    assert len(outcomes) == 22
    assert [failure for outcome in outcomes for failure in outcome.failures] == []


def test_the_printed_diagnostic_keeps_every_column_on_a4(demo_db: str, tmp_path: Path) -> None:
    """Printed, the wide tables (a column per indicator) go on landscape A4 pages instead of
    being cut at the right margin: Chromium's PDF holds the text of their last columns."""
    import pypdfium2

    from tests.chromium import require_chromium

    browser = require_chromium()
    page = tmp_path / "diagnostic.html"
    assert _run(demo_db, "--format", "html", "--out", str(page)).returncode == 0
    pdf = tmp_path / "diagnostic.pdf"
    subprocess.run(
        [browser, "--headless", "--no-sandbox", "--disable-gpu", "--no-pdf-header-footer",
         f"--print-to-pdf={pdf}", page.as_uri()],
        capture_output=True, timeout=180, check=True,
    )  # fmt: skip
    document = pypdfium2.PdfDocument(pdf)
    text = " ".join(" ".join(p.get_textpage().get_text_range().split()) for p in document)
    sizes = {tuple(round(side) for side in p.get_size()) for p in document}
    document.close()
    assert sizes <= {(595, 842), (842, 595)}  # A4, portrait or landscape
    assert (842, 595) in sizes
    # The last column of the profiles and of the rehousing follow-up, cut before this.
    assert text.count("stable") >= 5 and "délai moyen" in text
