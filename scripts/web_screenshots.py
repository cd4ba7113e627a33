"""Regenerate the screenshots of the web application in the docs (docs/images/web-*.png).

Run from the repository root: .venv/bin/python scripts/web_screenshots.py
Imports the demo into a scratch SQLite database, serves the application on 127.0.0.1 and takes
the pictures with Debian's Chromium (Playwright): the home page of a bailleur, a result with its
records, an EPCI's accounts page and its occupation diagnostic, and the page of an import refused
with its located errors.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from playwright.sync_api import sync_playwright  # noqa: E402

from checker.ingest.pseudonym import KEY_FILE_ENV, key_setting  # noqa: E402
from checker.paths import demo_bundle_dir  # noqa: E402
from checker.web.config import WebConfig  # noqa: E402
from tests.browser_server import serving  # noqa: E402
from tests.web_helpers import PASSWORD, Account, populate  # noqa: E402

IMAGES = ROOT / "docs" / "images"
PEOPLE = [Account("agent-epci", "epci", territories=("980008015",)),
          Account("lize-habitat", "bailleur", bailleur="912000007")]  # fmt: skip


def sign_in(page: object, base: str, login: str) -> None:
    page.goto(base + "/connexion")  # type: ignore[attr-defined]
    page.fill("#identifiant", login)  # type: ignore[attr-defined]
    page.fill("#mot_de_passe", PASSWORD)  # type: ignore[attr-defined]
    page.click("button:has-text('Se connecter')")  # type: ignore[attr-defined]


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="mixite-captures-") as scratch:
        url = f"sqlite:///{Path(scratch) / 'demo.db'}"
        with key_setting(KEY_FILE_ENV, str(Path(scratch) / "demo.cle")):
            populate(url, demo_bundle_dir(), PEOPLE)
            # The demo's CIA is stored by the import (territoire.yaml declares it): the national
            # rules and the stored version, as mixite check applies them.
            with serving(WebConfig(url)) as base, sync_playwright() as playwright:
                chromium = shutil.which("chromium") or "/usr/bin/chromium"
                browser = playwright.chromium.launch(executable_path=chromium,
                                                     args=["--no-sandbox", "--lang=fr-FR"])  # fmt: skip
                page = browser.new_page(viewport={"width": 1200, "height": 900}, locale="fr-FR")
                sign_in(page, base, "lize-habitat")
                page.screenshot(path=str(IMAGES / "web-accueil.png"))
                page.goto(base + "/resultats?annee=2025")
                section = page.locator(
                    "section", has=page.locator("h2", has_text="L441-1.Q1-HORS-QPV")
                )
                section.scroll_into_view_if_needed()
                page.screenshot(path=str(IMAGES / "web-resultat.png"))
                section.locator("a", has_text="Voir les enregistrements").first.click()
                page.screenshot(path=str(IMAGES / "web-enregistrements.png"))
                page.click("button:has-text('Se déconnecter')")
                sign_in(page, base, "agent-epci")
                page.goto(base + "/utilisateurs")
                page.fill("#identifiant", "cil-lecteur")
                page.select_option("#role", "lecteur")
                page.fill("#mot_de_passe", PASSWORD)
                page.fill("#confirmation", PASSWORD)
                page.click("button:has-text('Créer le compte')")
                page.screenshot(path=str(IMAGES / "web-comptes.png"))
                # The occupation diagnostic as the EPCI sees it: the downloads, then the
                # profile of its territory (the demo's CIL rules are stored with its CIA).
                page.goto(base + "/diagnostic?annee=2025")
                page.screenshot(path=str(IMAGES / "web-diagnostic.png"))
                page.goto(base + "/import")
                broken = Path(scratch) / "attributions.csv"
                lines = (
                    (demo_bundle_dir() / "attributions.csv")
                    .read_text(encoding="utf-8")
                    .splitlines()
                )
                lines[3] = (
                    lines[3].replace(";oui;", ";peut-être;", 1).replace(";non;", ";peut-être;", 1)
                )
                lines[7] = lines[7].replace("912", "999", 1)
                broken.write_text("\n".join(lines[:12]) + "\n", encoding="utf-8")
                page.set_input_files("#fichiers", str(broken))
                page.click("button:has-text('Importer')")
                page.screenshot(path=str(IMAGES / "web-import-refuse.png"))
                browser.close()
    for name in ("web-accueil", "web-resultat", "web-enregistrements", "web-comptes",
                 "web-diagnostic", "web-import-refuse"):  # fmt: skip
        print(IMAGES / f"{name}.png")


if __name__ == "__main__":
    main()
