"""The application in Debian's Chromium (Playwright, no browser downloaded), as its users meet
it: sign in, import the demo, read a result and its records, download the XLSX, a CIA with an
error seen at its line, the CALEOL pre-check as a bailleur; axe-core on every page visited
(no violation of WCAG 2.1 levels A and AA)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from checker.access import accounts
from checker.db.engine import ensure_schema, make_engine
from checker.paths import demo_bundle_dir
from checker.web.config import WebConfig
from tests.browser_server import serving
from tests.web_helpers import PASSWORD

CHROMIUM = Path("/usr/bin/chromium")
ROOT = Path(__file__).resolve().parent.parent
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="Chromium de Debian absent (/usr/bin/chromium)"
    ),
]
WCAG_AA = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}
# The whole demo bundle, the CIA its territoire.yaml declares included.
BUNDLE_FILES = tuple(sorted(path.name for path in demo_bundle_dir().iterdir() if path.is_file()))


@pytest.fixture
def site(tmp_path: Path) -> Iterator[dict[str, Any]]:
    url = f"sqlite:///{tmp_path / 'navigateur.db'}"
    engine = make_engine(url)
    ensure_schema(engine)
    with engine.begin() as connection:
        accounts.create(connection, "agent-epci", "admin", PASSWORD)
    with serving(WebConfig(url)) as base:
        yield {"base": base, "engine": engine, "folder": tmp_path}
    engine.dispose()


class Checked:
    """Pages visited, each checked with axe-core."""

    def __init__(self, page: Any) -> None:
        from axe_playwright_python.sync_playwright import Axe

        self.page = page
        self.axe = Axe()
        self.visited: list[str] = []

    def check(self) -> None:
        result = self.axe.run(self.page, options=WCAG_AA)
        violations = [(v["id"], v["help"], [n["target"] for n in v["nodes"]][:3])
                      for v in result.response["violations"]]  # fmt: skip
        assert violations == [], (self.page.url, violations)
        self.visited.append(self.page.url)


def test_the_users_journey(site: dict[str, Any]) -> None:
    from playwright.sync_api import sync_playwright

    base, folder = site["base"], site["folder"]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        page = browser.new_page(accept_downloads=True, viewport={"width": 1200, "height": 900})
        axe = Checked(page)
        # Sign in (the sign-in page first).
        page.goto(base + "/")
        assert "/connexion" in page.url
        axe.check()
        page.fill("#identifiant", "agent-epci")
        page.fill("#mot_de_passe", "pas le bon")
        page.click("button:has-text('Se connecter')")
        assert "incorrect" in page.inner_text("#erreur-connexion")
        axe.check()
        page.fill("#identifiant", "agent-epci")
        page.fill("#mot_de_passe", PASSWORD)
        page.click("button:has-text('Se connecter')")
        assert page.url == base + "/"
        axe.check()
        # Import the demo by upload.
        page.click("nav >> text=Importer")
        axe.check()
        page.set_input_files("#fichiers", [str(demo_bundle_dir() / name) for name in BUNDLE_FILES])
        page.click("button:has-text('Importer')")
        assert "Import n° 1 réussi" in page.inner_text("main")
        assert "CIA déclarée par territoire.yaml : version n° 1" in page.inner_text("main")
        # The CIA's test cases, sent with the folder, are left aside and said so.
        assert "cia.tests.yaml : cas de test de règles, non importé" in page.inner_text("main")
        axe.check()
        # Read a result and drill down to its records.
        page.click("nav >> text=Résultats")
        assert "Résultats 2025" in page.inner_text("h1")
        axe.check()
        section = page.locator("section", has=page.locator("h2", has_text="L441-1.Q1-HORS-QPV"))
        row = section.locator("tr", has_text="Lize Habitat").first
        row.locator("a", has_text="Voir les enregistrements").click()
        assert "/enregistrements" in page.url
        summary = page.inner_text("#bilan-enregistrements")
        assert "comptés au dénominateur" in summary
        axe.check()
        first_pseudonym = page.locator("tbody tr td code").first.get_attribute("title")
        assert first_pseudonym is not None and len(first_pseudonym) == 64
        # A page at a time: the count says how many pages, each reachable.
        position = page.inner_text("#page-enregistrements")
        total = int(position.split(" sur ")[1].split()[0].rstrip(".").replace("\u202f", ""))
        pages = -(-total // 100)
        assert page.locator("tbody tr").count() == min(total, 100)
        assert pages > 1 and f"page 1 sur {pages}" in position  # the demo: several hundred
        page.locator("nav[aria-label^='Pages'] >> text=Page suivante").first.click()
        assert page.inner_text("#page-enregistrements").startswith("Enregistrements 101 à")
        axe.check()
        # Download the XLSX report and open it.
        page.goto(base + "/resultats?annee=2025")
        with page.expect_download(timeout=300_000) as download:  # every year is evaluated
            page.click("text=Rapport 2025 en XLSX")
        saved = folder / "rapport.xlsx"
        download.value.save_as(saved)
        workbook = openpyxl.load_workbook(saved)
        assert len(workbook.sheetnames) >= 2
        # And the CSV of every failing record, beside it.
        with page.expect_download(timeout=300_000) as download:
            page.click("text=Enregistrements en défaut 2025 en CSV")
        assert download.value.suggested_filename == "rapport-2025-en-defaut.csv"
        failing = folder / download.value.suggested_filename
        download.value.save_as(failing)
        assert len(failing.read_text(encoding="utf-8-sig").splitlines()) > 1
        # Upload a CIA with an error: the error is shown at its line.
        page.click("nav >> text=CIA")
        axe.check()
        text = (demo_bundle_dir() / "cia.regles").read_text(encoding="utf-8")
        lines = text.splitlines()
        broken_line = next(
            i for i, line in enumerate(lines) if "objectif L441-1.Q1-HORS-QPV" in line
        )
        lines[broken_line] = lines[broken_line].replace("L441-1.Q1-HORS-QPV", "L441-1.Q1-HORS-QPVV")
        broken = folder / "cia.regles"
        broken.write_text("\n".join(lines) + "\n", encoding="utf-8")
        page.set_input_files("#fichier", str(broken))
        page.click("button:has-text('Vérifier et déposer')")
        assert "Version refusée" in page.inner_text("#cia-refusee")
        flagged = page.locator(f"#ligne-{broken_line + 1}")
        assert "signalee" in (flagged.get_attribute("class") or "")
        assert "Q1-HORS-QPVV" in flagged.inner_text()
        axe.check()
        page.set_input_files("#fichier", str(demo_bundle_dir() / "cia.regles"))
        page.click("button:has-text('Vérifier et déposer')")
        assert "Version n° 2 enregistrée" in page.inner_text("main")  # n° 1: the import's
        axe.check()
        page.click("text=n° 2")
        axe.check()
        # Runs: record, replay, audit.
        page.click("nav >> text=Exécutions")
        page.click("button:has-text('Enregistrer une vérification')")
        axe.check()
        page.click("button:has-text('Refaire cette exécution')")
        assert "reproduite à l'identique" in page.inner_text("#rejeu-resultat")
        axe.check()
        page.click("button:has-text('Publier le rapport')")
        assert "/publications" in page.url and "Rapports publiés" in page.inner_text("h1")
        axe.check()
        page.click("nav >> text=Exécutions")
        page.click("button:has-text('Vérifier la chaîne')")
        assert "Chaîne intègre" in page.inner_text("#audit-resultat")
        axe.check()
        # The occupation diagnostic of the demo (residences and OPS surveys), and a download.
        page.click("nav >> text=Diagnostic")
        page.fill("#annee", "2024")
        page.click("button:has-text('Afficher')")
        assert "Diagnostic de l'occupation sociale 2024" in page.inner_text("h1")
        assert "Les Toits du Val" in page.inner_text("main")
        axe.check()
        with page.expect_download(timeout=300_000) as download:
            page.click("text=Diagnostic 2024 en HTML")
        assert download.value.suggested_filename == "diagnostic-2024.html"
        # Accounts: the bailleur's account is created in the page, with an API token.
        page.click("nav >> text=Comptes")
        axe.check()
        page.fill("#identifiant", "lize-habitat")
        page.select_option("#role", "bailleur")
        page.select_option("#bailleur", "912000007")
        page.fill("#mot_de_passe", PASSWORD)
        page.fill("#confirmation", PASSWORD)
        page.click("button:has-text('Créer le compte')")
        assert "Compte « lize-habitat » créé" in page.inner_text("#compte-cree")
        axe.check()
        row = page.locator("tr", has=page.locator("th", has_text="lize-habitat"))
        row.locator("button:has-text('Créer un jeton')").click()
        assert page.inner_text("#jeton-valeur").startswith("mxt_")
        axe.check()
        page.click("button:has-text('Se déconnecter')")
        # The CALEOL pre-check as a bailleur.
        page.fill("#identifiant", "lize-habitat")
        page.fill("#mot_de_passe", PASSWORD)
        page.click("button:has-text('Se connecter')")
        axe.check()
        page.click("nav >> text=Dossier CALEOL")
        axe.check()
        example = (ROOT / "fixtures" / "exemples" / "dossier-caleol.csv").read_text(
            encoding="utf-8"
        )
        everyone = folder / "dossier-commun.csv"
        everyone.write_text(example, encoding="utf-8")
        page.set_input_files("#fichier", str(everyone))
        page.click("button:has-text('Vérifier le fichier')")
        assert "autre bailleur" in page.inner_text("main")  # rows of another bailleur: refused
        axe.check()
        page.go_back()
        docket = folder / "dossier.csv"
        docket.write_text("\n".join(line for line in example.splitlines()
                                    if ";912000379;" not in line) + "\n", encoding="utf-8")  # fmt: skip
        page.set_input_files("#fichier", str(docket))
        page.click("button:has-text('Vérifier le fichier')")
        assert "Situation au" in page.inner_text("#caleol-resultat")
        assert "Logement 8012000040" in page.inner_text("main")
        axe.check()
        # The same dwelling by the form: one application typed in.
        page.click("nav >> text=Dossier CALEOL")
        page.fill("#date_commission", "2025-10-15")
        page.fill("#rpls_id", "8012000040")
        page.fill("#numero_unique_1", "0801025900001GUI01")
        page.fill("#nb_moins_14_1", "2")
        page.fill("#revenus_mensuels_1", "950")
        page.fill("#rfr_n2_1", "11000")
        page.fill("#criteres_prioritaires_1", "c")
        page.click("button:has-text('Vérifier ce dossier')")
        assert "Situation au 15/10/2025" in page.inner_text("#caleol-resultat")
        assert "1 candidature(s)" in page.inner_text("main")
        axe.check()
        page.goto(base + "/diagnostic?annee=2024")  # its own residences only
        assert "Lize Habitat" in page.inner_text("main")
        for other in ("Les Toits du Val", "Foyer picard", "SEM immobilière"):
            assert other not in page.inner_text("main"), other
        axe.check()
        page.goto(base + "/executions")  # refused to a bailleur: the error page is checked too
        assert "Accès refusé" in page.inner_text("h1")
        axe.check()
        browser.close()
    assert len(axe.visited) >= 20
