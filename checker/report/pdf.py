"""`--format pdf`: the HTML report printed by a headless Chromium (Debian's `chromium`).

Why Chromium rather than an HTML-to-PDF library: the report is laid out for a browser (the
same file is opened on screen), and the tests that check no element overflows its page run in
that same browser, so what is tested is what is printed; CSS paged media (A4, page numbers in
the margins) is supported since Chromium 131; and the project already depends on it for its
browser tests, where a library such as WeasyPrint would add a second layout engine (and Pango).
The page is a local file with no script; Chromium is given a dead proxy so that nothing could
leave the machine even if the page asked for it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from checker.errors import MixiteError

CHROMIUM_ENV = "MIXITE_CHROMIUM"
CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
TIMEOUT_SECONDS = 300


def find_chromium() -> str:
    configured = os.environ.get(CHROMIUM_ENV)
    if configured:
        if not Path(configured).exists() and shutil.which(configured) is None:
            raise MixiteError(
                f"{CHROMIUM_ENV} désigne « {configured} », introuvable.",
                "Indiquez le chemin du navigateur Chromium, ou retirez la variable.",
            )
        return shutil.which(configured) or configured
    for name in CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    raise MixiteError(
        "Le format PDF demande le navigateur Chromium, absent de cette machine.",
        "Installez-le (Debian, Ubuntu : apt install chromium), ou indiquez son chemin dans "
        f"{CHROMIUM_ENV} ; sinon, écrivez le rapport en HTML (--format html) et imprimez-le "
        "depuis un navigateur.",
    )


def to_pdf_bytes(page: str) -> bytes:
    """The HTML text `page` printed (A4, page numbers: the page's CSS)."""
    browser = find_chromium()
    with tempfile.TemporaryDirectory(prefix="mixite-pdf-") as scratch:
        source = Path(scratch) / "rapport.html"
        source.write_text(page, encoding="utf-8")
        output = Path(scratch) / "rapport.pdf"
        command = [
            browser, "--headless", "--disable-gpu", "--no-pdf-header-footer", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--disable-extensions", f"--user-data-dir={Path(scratch) / 'profil'}",
            "--proxy-server=http://127.0.0.1:9", "--proxy-bypass-list=<-loopback>",
            f"--print-to-pdf={output}", source.as_uri(),
        ]  # fmt: skip
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            # Chromium refuses to run as root with its sandbox; the page is our own file.
            command.insert(1, "--no-sandbox")
        try:
            done = subprocess.run(command, capture_output=True, text=True,
                                  timeout=TIMEOUT_SECONDS, check=False)  # fmt: skip
        except subprocess.TimeoutExpired:
            raise MixiteError(
                f"Chromium n'a pas imprimé le rapport en {TIMEOUT_SECONDS} secondes.",
                "Écrivez le rapport en HTML (--format html) et imprimez-le depuis un navigateur.",
            ) from None
        except OSError as error:
            raise MixiteError(f"Chromium ne démarre pas ({browser}) : {error.strerror}.") from None
        if not output.exists() or output.stat().st_size == 0:
            detail = " ".join(done.stderr.split()[-30:])
            raise MixiteError(
                f"Chromium n'a pas produit de PDF (code de sortie {done.returncode}).",
                f"Sortie de Chromium : {detail}" if detail else None,
            )
        return output.read_bytes()
