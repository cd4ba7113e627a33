"""Regenerates the documentation's pictures and sample outputs from the real demo, so that
they cannot go stale:

    .venv/bin/python docs/illustrations.py

- docs/images/rapport-demo.png: the 2025 HTML report at 1 024 px (its first screen);
- docs/images/rapport-demo-pdf-1.png, -2.png: the first two pages of the 2025 PDF report;
- docs/exemples-sortie/*.txt: terminal outputs at 80 columns (`mixite demo`, `mixite check`
  for a year, for two years side by side, during the year for a bailleur, `mixite explain`,
  `mixite caleol check` on the example docket, `mixite bilan-reservataires`).

Needs Debian's Chromium (screenshot and PDF) and pypdfium2 (the `dev` extra). The guide pages
include the text files with pymdownx.snippets; tests/test_report_documents.py checks that the
`mixite check`, `caleol check` and `bilan-reservataires` samples are what the commands print
today. A script, not a test.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
IMAGES = ROOT / "docs" / "images"
SAMPLES = ROOT / "docs" / "exemples-sortie"
CIA = ROOT / "fixtures" / "demo" / "cia.regles"
CALEOL = ROOT / "fixtures" / "exemples" / "dossier-caleol.csv"
# A run's number and digest (the head of the chain) change at every run: the samples show
# them masked.
RUN_NUMBER = re.compile(r"Exécution n° \d+ enregistrée")
DIGEST = re.compile(r"\b[0-9a-f]{64}\b")
MASKED_DIGEST = "0123456789abcdef" * 4


def mask(text: str) -> str:
    return DIGEST.sub(MASKED_DIGEST, RUN_NUMBER.sub("Exécution n° 1 enregistrée", text))


def excerpt(text: str, head: int) -> str:
    """A long listing's first lines, « … », then its last two (table border, counts)."""
    lines = text.rstrip("\n").splitlines()
    if len(lines) <= head + 3:
        return text
    return "\n".join([*lines[:head], "…", *lines[-2:]]) + "\n"


def blocks(text: str, count: int) -> str:
    """The heading and the first `count` obligations of a `mixite check` synthesis."""
    parts = text.split("\n\n")
    return "\n\n".join(parts[: count + 1]) + "\n"


def block_of(text: str, rule: str) -> str:
    """The heading and one obligation's block of a `mixite check` synthesis."""
    parts = text.split("\n\n")
    found = [part for part in parts[1:] if part.split("\n", 1)[0].endswith(rule)]
    return "\n\n".join([parts[0], *found]) + "\n"


def evolution_of(text: str) -> str:
    """The evolution table at the end of a `mixite check` over several years."""
    return text[text.index("Évolution ") :]


def _mixite(*args: str, cwd: Path, env: dict[str, str], columns: int = 80) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "checker", *args], cwd=cwd, capture_output=True, text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": str(columns), "NO_COLOR": "1",
             **env},
        check=False,
    )  # fmt: skip
    if done.returncode != 0:
        sys.exit(f"mixite {' '.join(args)} a échoué :\n{done.stderr}")
    return done.stdout


def _chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        sys.exit("Chromium est nécessaire (apt install chromium).")
    return found


def _screenshot(page: Path, target: Path, scratch: Path) -> None:
    subprocess.run(
        [_chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
         "--disable-background-networking", "--disable-component-update", "--no-first-run",
         f"--user-data-dir={scratch / 'profil'}", "--proxy-server=http://127.0.0.1:9",
         "--window-size=1024,1400", f"--screenshot={target}", page.as_uri()],
        capture_output=True, check=True, timeout=180,
    )  # fmt: skip


def _pdf_pages(pdf: Path, count: int) -> None:
    import pypdfium2

    document = pypdfium2.PdfDocument(pdf)
    for number in range(count):
        image = document[number].render(scale=1.4).to_pil()
        image.save(IMAGES / f"rapport-demo-pdf-{number + 1}.png", optimize=True)


def main() -> None:
    SAMPLES.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="mixite-illustrations-") as folder:
        scratch = Path(folder)
        key = {"MIXITE_CLE_FICHIER": str(scratch / "demo.cle")}
        demo = _mixite("demo", "--out", str(scratch / "rapport-demo"), cwd=scratch, env=key)
        (SAMPLES / "demo.txt").write_text(demo.replace(str(scratch) + "/", ""), encoding="utf-8")
        reports = scratch / "rapport-demo"
        _screenshot(reports / "rapport-2025.html", IMAGES / "rapport-demo.png", scratch)
        _pdf_pages(reports / "rapport-2025.pdf", 2)
        url = f"sqlite:///{scratch / 'demo.db'}"
        _mixite("import", str(ROOT / "fixtures" / "demo"), "--db", url, cwd=scratch, env=key)
        rules = ("--rules", str(ROOT / "rules"), "--rules", str(CIA), "--db", url)
        samples = {
            "check-2025.txt": ("check", "--year", "2025", *rules),
            "check-2024-2025.txt": ("check", "--year", "2024-2025", *rules),
            "check-en-cours.txt": ("check", "--to-date", "2025-09-30", "--bailleur", "912000379", *rules),
            "explain-q1.txt": ("explain", "L441-1.Q1-HORS-QPV", "--year", "2025", "--scope",
                               "bailleur=912001112", *rules),
            "explain-caleol.txt": ("explain", "R441-3.CALEOL-TROIS-CANDIDATS", "--year", "2025",
                                   "--scope", "bailleur=912001112", "--en-defaut", *rules),
            # As the guides run them: the national rules only, paths relative to the folder.
            "caleol-check.txt": ("caleol", "check", str(CALEOL), "--db", url),
            "bilan-reservataires.txt": ("bilan-reservataires", "--year", "2025", "--out", "bilans",
                                        "--db", url),
        }  # fmt: skip
        for name, args in samples.items():
            if name.startswith("explain"):  # a listing, shown as an excerpt: two records
                text = excerpt(_mixite(*args, cwd=scratch, env=key), 19)
            else:
                text = mask(_mixite(*args, cwd=scratch, env=key))
            (SAMPLES / name).write_text(text, encoding="utf-8")
            if name == "check-2025.txt":
                (SAMPLES / "check-2025-extrait.txt").write_text(blocks(text, 4), encoding="utf-8")
            elif name == "check-2024-2025.txt":
                (SAMPLES / "check-evolution.txt").write_text(evolution_of(text), encoding="utf-8")
            elif name == "check-en-cours.txt":
                (SAMPLES / "check-en-cours-q1.txt").write_text(
                    block_of(text, "L441-1.Q1-HORS-QPV"), encoding="utf-8"
                )
    print(f"Écrits : {IMAGES}/rapport-demo*.png et {SAMPLES}/*.txt")


if __name__ == "__main__":
    main()
