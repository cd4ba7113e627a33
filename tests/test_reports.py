"""The demo's reports: every format carries the same figures; the HTML report renders in a
headless Chromium without console errors and without any request leaving the page."""

from __future__ import annotations

import json
import os
import re
import shutil
import socketserver
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from openpyxl import load_workbook

from checker.report.present import count
from tests.chromium import require_chromium

ROOT = Path(__file__).resolve().parent.parent
YEARS = (2024, 2025)


@pytest.fixture(scope="module")
def demo_reports(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("rapport-demo")
    done = subprocess.run(
        [sys.executable, "-m", "checker", "demo", "--out", str(out)],
        cwd=tmp_path_factory.mktemp("cwd"), capture_output=True, text=True, check=False,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    return out


def test_demo_writes_every_report(demo_reports: Path) -> None:
    suffixes = ["html", "xlsx", "md", "json", "csv", "docx"]
    if shutil.which("chromium") or os.environ.get("CI"):
        suffixes.append("pdf")
    for year in YEARS:
        for suffix in suffixes:
            assert (demo_reports / f"rapport-{year}.{suffix}").stat().st_size > 0
        assert (demo_reports / f"rapport-{year}-en-defaut.csv").stat().st_size > 0


def _json(demo_reports: Path, year: int) -> dict[str, object]:
    return dict(json.loads((demo_reports / f"rapport-{year}.json").read_text(encoding="utf-8")))


def test_json_report_has_its_documented_shape(demo_reports: Path) -> None:
    document = _json(demo_reports, 2025)
    assert document["schema_version"] == "1.4"
    assert {"rulebook_digest", "data_digest", "period", "hash"} <= set(document["receipt"])  # type: ignore[arg-type]
    for result in document["results"]:  # type: ignore[attr-defined]
        assert {"rule", "version", "scope", "status", "numerator", "denominator", "rate", "target",
                "shortfall"} <= set(result)  # fmt: skip
        assert result["status"] in {
            "conforme",
            "non_conforme",
            "non_applicable",
            "donnees_insuffisantes",
            "en_cours",
        }
    statuses = {r["status"] for r in document["results"]}  # type: ignore[attr-defined]
    assert {"conforme", "non_conforme"} <= statuses


def test_json_says_whether_a_target_is_a_floor_or_a_cap(demo_reports: Path) -> None:
    results = _json(demo_reports, 2025)["results"]
    bounds = {r["rule"]: r["bound"] for r in results}  # type: ignore[attr-defined]
    assert bounds["R441-5-2.CONTINGENT-ETAT"] == "max"
    assert bounds["L441-1.Q1-HORS-QPV"] == "min"
    assert bounds["R441-1.PLAFONDS-RESSOURCES"] is None  # « pour chacune »
    for result in results:  # type: ignore[attr-defined]
        keys = list(result)
        assert keys.index("bound") == keys.index("kind") + 1
        assert (result["bound"] is None) == (result["kind"] == "each")


def test_the_demo_cia_caps_classes_of_residence_and_counts_rehousing_over_its_years(
    demo_reports: Path,
) -> None:
    """The demo CIA's caps per class of residence and its rehousing count over 2022-2027 are
    in every format: judged as caps, and « en cours » with the way gone, before 2027."""
    results = _json(demo_reports, 2025)["results"]
    capped = [r for r in results if "classe_residence" in r["scope"]]  # type: ignore[attr-defined]
    assert {(r["scope"]["classe_residence"], r["target"], r["bound"]) for r in capped} == {
        ("tres_fragile", 0.3, "max"),
        ("fragile", 0.4, "max"),
    }
    assert all(r["target_source"] == "CIA-Val-de-Lize-2022" for r in capped)
    rehousing = next(
        r
        for r in results
        if r["rule"] == "CIA-VAL-DE-LIZE.RELOGEMENTS-NPNRU"  # type: ignore[index]
    )
    assert (rehousing["status"], rehousing["kind"], rehousing["target"]) == (
        "en_cours",
        "count",
        130,
    )
    assert rehousing["cumulative"] == {
        "from": 2022,
        "to": 2027,
        "years_left": 2,
        "progress": round(rehousing["numerator"] / 130, 6),  # type: ignore[operator]
    }
    way = f"{rehousing['numerator']} sur 130"
    for name in ("rapport-2025.html", "rapport-2025.md", "rapport-2025.csv"):
        text = (demo_reports / name).read_text(encoding="utf-8-sig")
        assert "en cours" in text and way in text and "2 ans restants" in text, name
        assert "résidences très fragiles" in text, name
    workbook = load_workbook(demo_reports / "rapport-2025.xlsx", read_only=True)
    cells = {str(c) for sheet in workbook for row in sheet.iter_rows(values_only=True) for c in row}
    assert "en cours" in cells and any(way in c and "2 ans restants" in c for c in cells)


def test_the_json_reference_shows_a_real_result(demo_reports: Path) -> None:
    """The example of docs/reference/rapport-json.md is the demo's, field for field and in
    order (its parameters are a part of the real list)."""
    page = (ROOT / "docs" / "reference" / "rapport-json.md").read_text(encoding="utf-8")
    section = page[page.index("## Un résultat") :]
    shown = json.loads(section[section.index("```json") + 7 : section.index("```\n", 8)])
    real = next(r for r in _json(demo_reports, 2025)["results"]  # type: ignore[attr-defined]
                if r["rule"] == shown["rule"] and r["scope"] == shown["scope"])  # fmt: skip
    assert list(shown) == list(real)
    assert {k: v for k, v in shown.items() if k != "parameters"} == {
        k: v for k, v in real.items() if k != "parameters"
    }
    assert all(parameter in real["parameters"] for parameter in shown["parameters"])


def test_xlsx_figures_are_the_json_figures(demo_reports: Path) -> None:
    for year in YEARS:
        results = _json(demo_reports, year)["results"]
        workbook = load_workbook(demo_reports / f"rapport-{year}.xlsx", read_only=True)
        summary = list(workbook["Synthèse"].iter_rows(values_only=True))
        header = list(summary[0])
        rows = {
            (row[header.index("Règle")], row[header.index("SIREN de l'EPCI")]): row
            for row in summary[1:]
        }
        for result in results:  # type: ignore[attr-defined]
            if set(result["scope"]) != {"epci"}:
                continue
            row = rows[(result["rule"], result["scope"]["epci"])]
            assert row[header.index("Numérateur")] == result["numerator"]
            assert row[header.index("Dénominateur")] == result["denominator"]
            assert row[header.index("Taux")] == result["rate"]
            assert row[header.index("Cible")] == result["target"]
            assert row[header.index("Manque")] == result["shortfall"]
        full = load_workbook(demo_reports / f"rapport-{year}.xlsx")
        assert full["L441-1.Q1-HORS-QPV"].auto_filter.ref
        assert full["Synthèse"]["D2"].number_format == "0.0%"


def test_markdown_and_html_show_the_json_figures(demo_reports: Path) -> None:
    for year in YEARS:
        results = _json(demo_reports, year)["results"]
        markdown = (demo_reports / f"rapport-{year}.md").read_text(encoding="utf-8")
        page = (demo_reports / f"rapport-{year}.html").read_text(encoding="utf-8")
        for result in results:  # type: ignore[attr-defined]
            if result["denominator"]:
                figure = f"{count(result['numerator'])} / {count(result['denominator'])}"
                assert figure in markdown
                assert figure in page


def test_html_is_self_contained(demo_reports: Path) -> None:
    page = (demo_reports / "rapport-2025.html").read_text(encoding="utf-8")
    assert "<script" not in page
    assert not re.search(r"""(src|srcset)\s*=\s*["']?(https?:)?//""", page)
    assert not re.search(r"""<link[^>]+href""", page)
    assert "@import" not in page
    assert not re.search(r"""url\(\s*['"]?(?!#)""", page)  # only the SVG's own #fragments
    assert page.count("<svg") >= 2
    assert "@media print" in page


class _RecordingProxy(socketserver.ThreadingTCPServer):
    """A proxy that serves nothing: it records the first line of every request sent to it."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self) -> None:
        self.requests: list[str] = []
        recorder = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                line = self.rfile.readline(2048).decode("latin-1").strip()
                if line:
                    recorder.requests.append(line)
                self.wfile.write(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")

        super().__init__(("127.0.0.1", 0), Handler)


def _render(
    browser: str, page: Path, profile: Path
) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    proxy = _RecordingProxy()
    thread = threading.Thread(target=proxy.serve_forever, daemon=True)
    thread.start()
    try:
        done = subprocess.run(
            [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={profile}", "--enable-logging=stderr", "--v=0",
             # Every request leaving the page goes to the recording proxy.
             f"--proxy-server=http://127.0.0.1:{proxy.server_address[1]}", "--proxy-bypass-list=<-loopback>",
             "--virtual-time-budget=3000", "--dump-dom", page.as_uri()],
            capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
    finally:
        proxy.shutdown()
        proxy.server_close()
    return done, proxy.requests


# Hosts Chromium contacts by itself (updates, network time, accounts): an empty page makes the
# same requests, as the test below checks. Anything else comes from the page.
# optimizationguide-pa: Chromium's "optimization guide" service (Debian 12 Chromium 156).
BROWSER_OWN_HOSTS = {
    "update.googleapis.com", "clients2.google.com", "accounts.google.com",
    "optimizationguide-pa.googleapis.com",
}  # fmt: skip


def _hosts(requests: list[str]) -> set[str]:
    hosts = set()
    for request in requests:
        target = request.split(" ")[1]
        hosts.add(target.split("//")[-1].split("/")[0].split(":")[0])
    return hosts


def test_an_empty_page_makes_only_the_browsers_own_requests(tmp_path: Path) -> None:
    browser = require_chromium()
    page = tmp_path / "vide.html"
    page.write_text("<html><body>vide</body></html>", encoding="utf-8")
    _, requests = _render(browser, page, tmp_path / "profil")
    assert _hosts(requests) <= BROWSER_OWN_HOSTS


def test_the_request_recorder_sees_a_leaking_page(tmp_path: Path) -> None:
    browser = require_chromium()
    page = tmp_path / "fuite.html"
    page.write_text(
        '<html><body><img src="http://example.com/x.png"></body></html>', encoding="utf-8"
    )
    _, requests = _render(browser, page, tmp_path / "profil")
    assert "example.com" in _hosts(requests) - BROWSER_OWN_HOSTS


def test_html_renders_in_chromium_without_errors_or_requests(
    demo_reports: Path, tmp_path: Path
) -> None:
    browser = require_chromium()
    done, requests = _render(browser, demo_reports / "rapport-2025.html", tmp_path / "profil")
    assert _hosts(requests) - BROWSER_OWN_HOSTS == set()
    assert done.returncode == 0, done.stderr[-2000:]
    dom = done.stdout
    assert 'id="tableau-synthese"' in dom
    assert dom.count("<svg") >= 2
    assert [line for line in done.stderr.splitlines() if ":CONSOLE" in line] == []


def test_bilan_reservataires_counts_every_signed_lease_of_the_year(demo_reports: Path) -> None:
    import csv as csv_module

    with (ROOT / "fixtures" / "demo" / "attributions.csv").open(encoding="utf-8") as handle:
        leases = [row["date_bail"] for row in csv_module.DictReader(handle, delimiter=";")]
    for year in YEARS:
        expected = sum(1 for day in leases if day.endswith(f"/{year}"))
        text = (demo_reports / f"bilan-reservataires-{year}.csv").read_text(encoding="utf-8-sig")
        rows = list(csv_module.DictReader(text.splitlines(), delimiter=";"))
        assert sum(int(row["Attributions"]) for row in rows) == expected
        assert {row["QPV"] for row in rows} == {"en QPV", "hors QPV"}
        workbook = load_workbook(demo_reports / f"bilan-reservataires-{year}.xlsx", read_only=True)
        summary = list(workbook["Synthèse"].iter_rows(values_only=True))
        assert sum(row[2] for row in summary[1:] if isinstance(row[2], int)) == expected


# ------------------------------------------------------------------ print and screen
# Appended to a copy of the report: measures, once laid out, every element wider than the
# page, and writes what it found into the DOM that --dump-dom prints.
MEASURE = """<script>
window.addEventListener("load", () => {
  const limit = document.documentElement.clientWidth;
  const wide = [];
  for (const element of document.body.querySelectorAll("*")) {
    const box = element.getBoundingClientRect();
    if (box.width > 0 && (box.right > limit + 1 || box.left < -1)) {
      wide.push(`${element.tagName}.${element.className} ${Math.round(box.left)}-${Math.round(box.right)}`);
    }
  }
  document.body.dataset.tropLarges = JSON.stringify(wide.slice(0, 10));
  document.body.dataset.largeurs = `${limit} ${document.documentElement.scrollWidth}`;
});
</script>"""
# A4 less the page's margins (12 mm each side), in CSS pixels: the width print lays out on.
A4_CONTENT_PX = round((210 - 24) / 25.4 * 96)


def _overflow(browser: str, page: Path, width: int, profile: Path) -> tuple[list[str], str]:
    done = subprocess.run(
        [browser, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         f"--user-data-dir={profile}", "--proxy-server=http://127.0.0.1:9", "--hide-scrollbars",
         f"--window-size={width},1400", "--virtual-time-budget=5000", "--dump-dom", page.as_uri()],
        capture_output=True, text=True, timeout=180, check=False,
    )  # fmt: skip
    found = re.search(r'data-trop-larges="([^"]*)"', done.stdout)
    widths = re.search(r'data-largeurs="([^"]*)"', done.stdout)
    assert found and widths, done.stderr[-2000:]
    return json.loads(found.group(1).replace("&quot;", '"')), widths.group(1)


def test_no_element_is_wider_than_the_screen_or_the_a4_page(
    demo_reports: Path, tmp_path: Path
) -> None:
    browser = require_chromium()
    page = (demo_reports / "rapport-2025.html").read_text(encoding="utf-8")
    screen = tmp_path / "ecran.html"
    screen.write_text(page.replace("</body>", MEASURE + "</body>"), encoding="utf-8")
    wide, widths = _overflow(browser, screen, 1024, tmp_path / "p1")
    assert wide == [], widths
    # Print: the print rules applied on screen, on the width of an A4 page's text.
    printed = re.sub(r"@page \{.*?\} \}", "", page, flags=re.S).replace(
        "@media print", "@media all"
    )
    paper = tmp_path / "a4.html"
    paper.write_text(printed.replace("</body>", MEASURE + "</body>"), encoding="utf-8")
    wide, widths = _overflow(browser, paper, A4_CONTENT_PX, tmp_path / "p2")
    assert widths.split()[0] == str(A4_CONTENT_PX)
    assert wide == [], widths


def test_the_measure_finds_a_table_wider_than_the_page(tmp_path: Path) -> None:
    browser = require_chromium()
    page = tmp_path / "large.html"
    cells = "".join(
        f"<td style='white-space: nowrap'>colonne {i} très large</td>" for i in range(30)
    )
    page.write_text(
        f"<html><body><table><tr>{cells}</tr></table>{MEASURE}</body></html>", encoding="utf-8"
    )
    wide, _ = _overflow(browser, page, 1024, tmp_path / "p")
    assert wide


def test_the_pdf_is_a4_numbered_under_55_pages_with_the_synthesis_on_one(
    demo_reports: Path,
) -> None:
    require_chromium()
    import pypdfium2

    document = pypdfium2.PdfDocument(demo_reports / "rapport-2025.pdf")
    pages = len(document)
    # 50 pages (Chromium 155), of which about ten are the sections of the territory's CIL
    # classification and rehousing charter, checked with its CIA since the demo declares them.
    assert 5 < pages < 55
    width, height = document[0].get_size()
    assert (round(width), round(height)) == (595, 842)  # A4 in points
    texts = [document[i].get_textpage().get_text_range() for i in range(pages)]
    assert f"Page 1 sur {pages}" in texts[0] and f"Page {pages} sur {pages}" in texts[-1]
    synthesis = [i for i, text in enumerate(texts) if "une ligne par obligation" in text]
    assert len(synthesis) == 1
    page = texts[synthesis[0]]
    results = json.loads((demo_reports / "rapport-2025.json").read_text(encoding="utf-8"))[
        "results"
    ]
    # pdfium reads a hyphen that ends a line as U+FFFE: long identifiers wrap at their hyphens.
    flat = page.replace("\r\n", "").replace("\n", "").replace("\ufffe", "-")
    for rule in {r["rule"] for r in results}:
        assert rule in flat  # every obligation on that page
    assert "Qui doit" in page and "« Manque »" in page
