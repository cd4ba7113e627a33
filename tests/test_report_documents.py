"""The reports a CIL adopts and a préfet receives (issue #16), on the demo territory with its
CIA: every failing record in the HTML, the workbook and the CSV is one `mixite explain` lists;
names, not codes, wherever a person reads; caps read as caps; several years side by side; the
terminal at 80 columns."""

from __future__ import annotations

import csv
import datetime as dt
import functools
import json
import os
import re
import sys
from html import unescape
from html.parser import HTMLParser
from pathlib import Path

import pytest
from docx import Document
from openpyxl import load_workbook
from sqlalchemy import create_engine

from checker.checking import run_check
from checker.evaluate.explain import IDENTITY_COLUMNS, explain
from checker.evaluate.run import Options, Period
from checker.ingest.importer import import_bundle
from checker.paths import demo_bundle_dir, rules_dir
from checker.report import docx_report, html, xlsx
from checker.report.collect import collect
from checker.report.names import Names
from checker.report.outputs import Checked, write
from checker.report.records import CODE_TITLES, record_key
from checker.report.tabular import failing_csv, to_csv
from checker.rulebook_loader import require_rules
from checker.vocabulary import capitalized, field_label
from dsl.rulebook import Rulebook
from tests.test_cli import mixite

YEAR = 2025
ROOT = Path(__file__).resolve().parent.parent
CIA = str(demo_bundle_dir() / "cia.regles")
RULES = ("--rules", str(rules_dir()), "--rules", CIA)


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    folder = tmp_path_factory.mktemp("demo-db")
    os.environ["MIXITE_CLE_FICHIER"] = str(folder / "demo.cle")
    url = f"sqlite:///{folder / 'demo.db'}"
    import_bundle([demo_bundle_dir()], url)
    return url


@pytest.fixture(scope="module")
def checked(demo_db: str) -> Checked:
    """The 2025 check of the demo with its CIA (a receipt is recorded, as by mixite check)."""
    engine = create_engine(demo_db)
    try:
        with engine.begin() as connection:
            outcome = run_check(connection, RULEBOOK(), Period.year(YEAR), Options(), None)
    finally:
        engine.dispose()
    return Checked(Period.year(YEAR), outcome.results, outcome.receipt)


def RULEBOOK() -> Rulebook:  # noqa: N802  # a constant, loaded once
    return _rulebook()


@functools.cache
def _rulebook() -> Rulebook:
    rulebook, _ = require_rules([rules_dir(), Path(CIA)])
    return rulebook


@pytest.fixture(scope="module")
def reports(demo_db: str, checked: Checked, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The 2025 report as `mixite check --format html|xlsx|csv|docx --out rapport.*` writes
    it (the same function, in-process)."""
    out = tmp_path_factory.mktemp("rapports")
    engine = create_engine(demo_db)
    try:
        with engine.connect() as connection:
            data = collect(connection, RULEBOOK(), checked.period, Options(), checked.results,
                           checked.receipt, "Contrôle des attributions 2025", stem="rapport")  # fmt: skip
            names = Names.load(connection)
            files: dict[Path, str | bytes] = {
                out / "rapport.html": html.render(data),
                out / "rapport.xlsx": xlsx.render(data),
                out / "rapport.docx": docx_report.render(data),
                out / "rapport-en-defaut.csv": failing_csv(data.listings, names, YEAR),
                out / "resultats.csv": to_csv(checked.results, RULEBOOK(), names, YEAR),
            }
    finally:
        engine.dispose()
    write(files)
    return out


@pytest.fixture(scope="module")
def expected(demo_db: str, checked: Checked) -> dict[tuple[str, str], set[str]]:
    """For every non-compliant result of the demo: the keys of the records `explain` says
    fail it, each explained on its own scope as `mixite explain --scope …` does."""
    engine = create_engine(demo_db)
    found: dict[tuple[str, str], set[str]] = {}
    try:
        with engine.connect() as connection:
            for result in checked.results:
                if result.status != "non_conforme" or result.denominator is None:
                    continue
                if result.information:  # a figure without verdict: nothing fails it
                    continue
                explanation = explain(connection, RULEBOOK(), result.rule, Period.year(YEAR),
                                      result.scope)  # fmt: skip
                keys = {record_key(explanation, row) for row in explanation.failing()}
                found[(result.rule, _scope_key(result.scope))] = keys
    finally:
        engine.dispose()
    assert len(found) >= 10 and all(found.values())
    return found


@pytest.fixture(scope="module")
def screen(demo_db: str) -> str:
    """`mixite check --year 2025` on the demo with its CIA, at 80 columns."""
    previous = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = "80"
    try:
        done = mixite("check", "--year", str(YEAR), *RULES, "--db", demo_db)
    finally:
        if previous is None:
            del os.environ["COLUMNS"]
        else:
            os.environ["COLUMNS"] = previous
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_the_guide_shows_what_mixite_check_prints_today(screen: str) -> None:
    """docs/illustrations.py wrote the sample; regenerate it when this fails."""
    sys.path.insert(0, str(ROOT / "docs"))
    from illustrations import mask  # type: ignore[import-not-found]

    sample = (ROOT / "docs" / "exemples-sortie" / "check-2025.txt").read_text(encoding="utf-8")
    assert mask(screen) == sample


def test_the_caleol_guide_shows_what_caleol_check_prints_today(
    demo_db: str, tmp_path: Path
) -> None:
    """docs/illustrations.py wrote the sample; the figures the guide's prose quotes are in it."""
    os.environ["COLUMNS"], previous = "80", os.environ.get("COLUMNS")
    try:
        done = mixite("caleol", "check", str(ROOT / "fixtures" / "exemples" / "dossier-caleol.csv"),
                      "--db", demo_db, cwd=tmp_path)  # fmt: skip
    finally:
        if previous is None:
            del os.environ["COLUMNS"]
        else:
            os.environ["COLUMNS"] = previous
    assert done.returncode == 0, done.stderr
    sample = (ROOT / "docs" / "exemples-sortie" / "caleol-check.txt").read_text(encoding="utf-8")
    assert done.stdout == sample
    guide = (ROOT / "docs" / "guide" / "caleol.md").read_text(encoding="utf-8")
    prose = guide[guide.index("## Lire la réponse") :]
    rates = re.findall(r"\d+,\d %", prose)
    remaining = re.findall(r"(?:resterait|au\s+lieu\s+de)\s+(\d+)", prose)
    assert len(rates) >= 2 and len(remaining) == 2
    for figure in rates + [f"encore {n} à trouver" for n in remaining]:
        assert figure in sample, figure


def test_the_bilan_guide_shows_what_the_command_prints_today(demo_db: str, tmp_path: Path) -> None:
    done = mixite("bilan-reservataires", "--year", str(YEAR), "--out", "bilans", "--db", demo_db,
                  cwd=tmp_path)  # fmt: skip
    assert done.returncode == 0, done.stderr
    sample = (ROOT / "docs" / "exemples-sortie" / "bilan-reservataires.txt").read_text("utf-8")
    assert done.stdout == sample
    # The table a réservataire reads names what it counts; the codes are in their own columns.
    text = (tmp_path / "bilans" / f"bilan-reservataires-{YEAR}.csv").read_text("utf-8-sig")
    rows = list(csv.DictReader(text.splitlines(), delimiter=";"))
    pairs = {("Bailleur", "SIREN du bailleur"), ("Réservataire", "Identifiant du réservataire"),
             ("Commune", "Code INSEE")}  # fmt: skip
    for name, code in pairs:
        assert all(row[name] != row[code] for row in rows), name
    assert "Commune de Saint-Aubin-sur-Lize" in {row["Réservataire"] for row in rows}
    assert {row["Contingent"] for row in rows} >= {"Action Logement", "Non réservé"}
    assert not any(_offending(" ".join(v for k, v in row.items() if k not in {c for _, c in pairs}))
                   for row in rows)  # fmt: skip
    workbook = load_workbook(tmp_path / "bilans" / f"bilan-reservataires-{YEAR}.xlsx")
    assert "SEM immobilière du Val de Lize" in workbook.sheetnames
    assert all(name == name.rstrip(" ,") for name in workbook.sheetnames), workbook.sheetnames


def _scope_key(scope: dict[str, str]) -> str:
    return ";".join(f"{k}={v}" for k, v in sorted(scope.items()))


def _codes_to_scope(text: str) -> str:
    """« EPCI 980008015, bailleur 912000379 » (Names.codes) back to the scope key."""
    labels = {"EPCI": "epci", "bailleur": "bailleur", "réservataire": "reservataire",
              "contingent": "contingent", "commune": "commune", "QPV": "qpv", "financement": "financement"}  # fmt: skip
    scope = {}
    for part in text.split(", "):
        label, _, code = part.rpartition(" ")
        scope[labels[label]] = code
    return _scope_key(scope)


# ------------------------------------------------------------------ every failing record
class _Listings(HTMLParser):
    """The HTML's listed rows (data-cle, data-resultats) and each listing's declared counts."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[tuple[str, set[str]]] = []
        self.declared: dict[str, tuple[str, int, int]] = {}  # index -> (scope key, total, listed)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if "data-cle" in found:
            self.rows.append(
                (found["data-cle"] or "", set((found["data-resultats"] or "").split()))
            )
        if "data-resultat" in found:
            self.declared[found["data-resultat"] or ""] = (
                found["data-perimetre"] or "", int(found["data-total"] or 0), int(found["data-listes"] or 0),
            )  # fmt: skip


def test_the_html_lists_failing_records_of_explain_and_counts_the_rest(
    reports: Path, expected: dict[tuple[str, str], set[str]]
) -> None:
    parser = _Listings()
    page = (reports / "rapport.html").read_text(encoding="utf-8")
    parser.feed(page)
    seen = set()
    for index, (key, total, listed) in parser.declared.items():
        rule, _, scope = key.partition("|")
        failing = expected[(rule, scope)]
        shown = {cle for cle, members in parser.rows if index in members}
        assert shown <= failing, (rule, scope, sorted(shown - failing)[:3])
        assert (total, len(shown)) == (len(failing), listed), (rule, scope)
        if listed < total:  # the rest is counted, and the file holding them all is named
            rest = f"{total - listed:,}".replace(",", "\u202f")
            assert f"les {rest} autres" in page and "rapport-en-defaut.csv" in page
        seen.add((rule, scope))
    assert seen == set(expected)  # every non-compliant result has its listing
    # The file named holds every failing record of every result.
    assert _csv_sets(reports / "rapport-en-defaut.csv") == expected


def _csv_sets(path: Path) -> dict[tuple[str, str], set[str]]:
    rows = list(csv.DictReader(path.read_text(encoding="utf-8-sig").splitlines(), delimiter=";"))
    found: dict[tuple[str, str], set[str]] = {}
    for row in rows:
        if row["enregistrement"] == "en défaut":
            key = (row["regle"], _codes_to_scope(row["codes_du_perimetre"]))
            found.setdefault(key, set()).add(row["cle"])
    return found


def _xlsx_key(row: dict[str, object], identity: list[tuple[str, str]]) -> str:
    parts = []
    for key, title in identity:
        value = row[CODE_TITLES[key]] if key in CODE_TITLES else row[title]
        if isinstance(value, dt.datetime):
            value = value.strftime("%d/%m/%Y")
        parts.append("" if value is None else str(value))
    return "|".join(parts)


def test_the_workbook_holds_every_failing_record_of_explain(
    demo_db: str, reports: Path, expected: dict[tuple[str, str], set[str]]
) -> None:
    identities: dict[str, list[tuple[str, str]]] = {}
    for rule, _ in expected:
        population = RULEBOOK().rules[rule].versions[-1].population
        assert population is not None
        identities[rule] = [(key, capitalized(field_label(key)))
                            for key, _ in IDENTITY_COLUMNS[population.entity]]  # fmt: skip
    workbook = load_workbook(reports / "rapport.xlsx", read_only=True)
    rows = list(workbook["Défauts par résultat"].iter_rows(values_only=True))
    header = [str(h) for h in rows[0]]
    found: dict[tuple[str, str], set[str]] = {}
    for values in rows[1:]:
        row = dict(zip(header, values, strict=True))
        if row["Enregistrement"] != "en défaut":
            continue
        key = (str(row["Règle"]), _codes_to_scope(str(row["Codes du périmètre"])))
        found.setdefault(key, set()).add(_xlsx_key(row, identities[key[0]]))
    assert found == expected
    # One sheet of all failing records, each once, with a column per reason (rule).
    sheet = list(workbook["En défaut"].iter_rows(values_only=True))
    columns = [str(h) for h in sheet[0]]
    assert {rule for rule, _ in expected} <= set(columns)
    every = set().union(*expected.values())
    assert len(sheet) - 1 == len(every)


def test_explain_lists_the_failing_records_in_french_with_names_and_codes(
    demo_db: str, tmp_path: Path, expected: dict[tuple[str, str], set[str]]
) -> None:
    out = tmp_path / "plafonds.csv"
    done = mixite("explain", "R441-1.PLAFONDS-RESSOURCES", "--year", str(YEAR), "--db", demo_db,
                  "--scope", "epci=980008015", "--en-defaut", "--format", "csv", "--out", str(out))  # fmt: skip
    assert done.returncode == 0, done.stderr
    rows = list(csv.DictReader(out.read_text(encoding="utf-8-sig").splitlines(), delimiter=";"))
    failing = expected[("R441-1.PLAFONDS-RESSOURCES", "epci=980008015")]
    assert len(rows) == len(failing) == 19
    assert {"Pseudonyme du ménage", "Bailleur", "SIREN du bailleur", "Commune", "code INSEE",
            "Date du bail", "Remplit la condition", "Ressources retenues"} <= set(rows[0])  # fmt: skip
    assert all(row["Remplit la condition"] == "non" for row in rows)
    assert {row["Bailleur"] for row in rows} <= {
        "Lize Habitat, office public de l'habitat", "Les Toits du Val, SA d'HLM",
        "Foyer picard de la Lize, SA d'HLM", "SEM immobilière du Val de Lize",
    }  # fmt: skip
    assert all(row["Ressources retenues"].endswith("€") for row in rows)


# ------------------------------------------------------------------ names, not codes
CODES = re.compile(r"\b(8090[1-8]|CD80|ETAT|CAF)\b")
INTERNAL = re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b|\w\[")
URL = re.compile(r"https?://\S+|\b[\w-]+/[\w./-]+\.(?:csv|regles)\b")
RULE_ID = re.compile(
    r"\b[LR]\d[\d-]*\.[A-Z0-9-]+"
)  # a rule's id is its name (R441-5-2.CONTINGENT-ETAT)


class _VisibleText(HTMLParser):
    """Text a reader sees, outside the code columns (class « code »), styles and titles."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[bool] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("br", "meta", "col", "img"):
            return
        hidden = tag in ("style", "title") or "code" in (dict(attrs).get("class") or "").split()
        self.stack.append(hidden or (bool(self.stack) and self.stack[-1]))

    def handle_endtag(self, tag: str) -> None:
        if tag not in ("br", "meta", "col", "img") and self.stack:
            self.stack.pop()

    def handle_data(self, data: str) -> None:
        if not (self.stack and self.stack[-1]):
            self.text.append(data)


def _offending(text: str) -> list[str]:
    text = RULE_ID.sub(" ", URL.sub(" ", text))
    return sorted(
        {m.group(0) for m in CODES.finditer(text)} | {m.group(0) for m in INTERNAL.finditer(text)}
    )


def test_the_html_names_what_it_shows(reports: Path) -> None:
    parser = _VisibleText()
    parser.feed((reports / "rapport.html").read_text(encoding="utf-8"))
    assert _offending(" ".join(parser.text)) == []


def test_the_workbook_names_what_it_shows_outside_code_columns(reports: Path) -> None:
    workbook = load_workbook(reports / "rapport.xlsx", read_only=True)
    code_titles = set(CODE_TITLES.values()) | set(xlsx.SCOPE_CODE_TITLES.values()) | {"SIREN de l'EPCI", "code du QPV", "code du financement",
                                               "Codes du périmètre", "Adresse"}  # fmt: skip
    found = []
    for sheet in workbook.worksheets:
        rows = list(sheet.iter_rows(values_only=True))
        if not rows:
            continue
        header = [str(h) for h in rows[0]]
        for row in rows:
            for title, value in zip(header, row, strict=False):
                if title in code_titles or not isinstance(value, str):
                    continue
                bad = _offending(value)
                if bad:
                    found.append((sheet.title, title, bad))
    assert found == []


def test_the_test_finds_codes_and_internal_names() -> None:
    found = _offending("réservataire 80902, contingent non_reserve, plafond_applicable")
    assert found == ["80902", "non_reserve", "plafond_applicable"]
    assert _offending("seuil[epci: nom]") == ["l["]
    assert _offending("voir https://x.fr/article_lc/ et donnees/criteres_prioritaires.csv") == []
    assert _offending("R441-5-2.CONTINGENT-ETAT") == []


# ------------------------------------------------------------------ caps, targets, units
def test_caps_read_as_caps_in_terminal_markdown_and_csv(demo_db: str, tmp_path: Path) -> None:
    screen = mixite("check", "--year", str(YEAR), *RULES, "--db", demo_db)
    assert screen.returncode == 0, screen.stderr
    assert "≤ 30 % (plafond, loi)" in screen.stdout
    markdown = mixite(
        "check", "--year", str(YEAR), *RULES, "--db", demo_db, "--format", "md"
    ).stdout
    assert "≤ 30 % (plafond, loi)" in markdown and "≥ 25 % (loi)" in markdown
    assert "Commune de Saint-Aubin-sur-Lize (collectivités territoriales)" in markdown
    out = tmp_path / "resultats.csv"
    assert mixite("check", "--year", str(YEAR), *RULES, "--db", demo_db, "--format", "csv",
                  "--out", str(out)).returncode == 0  # fmt: skip
    rows = list(csv.DictReader(out.read_text(encoding="utf-8-sig").splitlines(), delimiter=";"))
    cap = [r for r in rows if r["regle"] == "R441-5-2.CONTINGENT-ETAT"]
    assert cap and all(r["type_de_cible"] == "plafond" for r in cap)
    assert all(r["cible_lue"] == "≤ 30 % (plafond, loi)" for r in cap)
    assert {r["perimetre"] for r in cap} >= {"Lize Habitat, office public de l'habitat"}


def test_the_terminal_is_readable_at_80_columns(screen: str) -> None:
    lines = screen.splitlines()
    assert max(len(line) for line in lines) <= 80, max(lines, key=len)
    text = screen
    assert "SEM immobilière du Val de Lize" in text and "86 attributions" in text
    assert not CODES.search(RULE_ID.sub(" ", text))


def _at_80_columns(*args: str) -> str:
    previous = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = "80"
    try:
        done = mixite(*args)
    finally:
        if previous is None:
            del os.environ["COLUMNS"]
        else:
            os.environ["COLUMNS"] = previous
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.mark.parametrize(
    ("rule", "bailleur", "failing", "records"),
    [("L441-1.Q1-HORS-QPV", "912001112", False, 257),
     ("R441-3.CALEOL-TROIS-CANDIDATS", "912001112", True, 2)],
)  # fmt: skip
def test_explain_is_readable_at_80_columns(
    demo_db: str, rule: str, bailleur: str, failing: bool, records: int
) -> None:
    """Every line fits, no title or value is cut inside a word, and every record is there
    (a wide listing reads as one block per record, a narrow one as a table)."""
    args = ["explain", rule, "--year", str(YEAR), "--scope", f"bailleur={bailleur}", *RULES,
            "--db", demo_db] + (["--en-defaut"] if failing else [])  # fmt: skip
    text = _at_80_columns(*args)
    lines = text.splitlines()
    assert max(len(line) for line in lines) <= 80, max(lines, key=len)
    flat = " ".join(text.split())
    titles = ["Logement (RPLS)", "Remplit la condition"] + (
        ["Ménage du premier quartile", "Revenu annuel par unité de consommation"]
        if not failing else ["Date de la commission"]
    )  # fmt: skip
    for title in titles:
        assert title in flat
    records_seen = re.findall(r"\b80120\d{5}\b", text)  # each record names its dwelling once
    assert len(records_seen) == records
    assert all(re.search(r"\d{2}/\d{2}/\d{4}", line) for line in lines if "80120" in line)


def test_every_table_reads_against_the_target_of_its_scope(reports: Path) -> None:
    page = (reports / "rapport.html").read_text(encoding="utf-8")
    # The QPV rule's EPCI target is the CIA's 60 %: its commune and QPV tables say so.
    section = page[
        page.index('id="L441-1-5.QPV-HORS-Q1"') : page.index('id="L441-1.GESTION-EN-FLUX"')
    ]
    assert "Par commune — cible de l'EPCI : ≥ 60 % (CIA)" in section
    assert "Par QPV — cible de l'EPCI : ≥ 60 % (CIA)" in section
    assert "50 %" not in section.split("Par commune")[1]
    # A rule judged per réservataire says what its counts count.
    assert "11 réservataires conformes sur 15" in page


# ------------------------------------------------------------------ structure
def test_the_html_has_the_structure_a_cil_recognises(reports: Path) -> None:
    page = unescape((reports / "rapport.html").read_text(encoding="utf-8"))
    order = ['id="couverture"', 'id="synthese"', 'id="L441-1.Q1-HORS-QPV"', 'id="engagements-cia"',
             'id="observations"', 'id="annexe-methode"', 'id="annexe-incertains"',
             'id="annexe-donnees"', 'id="annexe-recu"']  # fmt: skip
    positions = [page.index(marker) for marker in order]
    assert positions == sorted(positions)
    cover = page[: page.index('id="synthese"')]
    for fact in ("Communauté d'agglomération du Val de Lize", "du 01/01/2025 au 31/12/2025",
                 "CIA du Val de Lize" if "CIA du Val de Lize" in cover else "Convention intercommunale",
                 "importées le", "exécution n°"):  # fmt: skip
        assert fact in cover
    # Uncertain points are in their annex, not in the sections.
    section = page[page.index('id="L441-1.Q1-HORS-QPV"') : page.index('id="engagements-cia"')]
    assert "annexe B" in section and "Point incertain :" not in section
    assert 'class="observations"' in page


def test_the_workbook_is_typed_and_has_named_sheets(reports: Path) -> None:
    workbook = load_workbook(reports / "rapport.xlsx")
    assert not any(name.startswith("Détail") for name in workbook.sheetnames)
    for name in ("Synthèse", "L441-1.Q1-HORS-QPV", "Engagements CIA", "En défaut", "Observations",
                 "Points incertains", "Qualité des données", "Reçu"):  # fmt: skip
        assert name in workbook.sheetnames
        assert workbook[name].freeze_panes == "A2"
        assert workbook[name].auto_filter.ref
    failing = workbook["Défauts par résultat"]
    header = [c.value for c in failing[1]]
    date = failing.cell(row=2, column=header.index("Date du bail") + 1)
    assert isinstance(date.value, dt.datetime) and date.number_format == "DD/MM/YYYY"
    synthesis = workbook["Synthèse"]
    version = synthesis.cell(row=2, column=[c.value for c in synthesis[1]].index("Version") + 1)
    assert isinstance(version.value, dt.datetime) and version.number_format == "DD/MM/YYYY"
    rule = workbook["R441-1.PLAFONDS-RESSOURCES"]
    header = [c.value for c in rule[1]]
    assert rule.cell(row=2, column=header.index("Taux") + 1).number_format == "0.0%"
    plafonds = [r for r in failing.iter_rows(min_row=2, values_only=True)
                if r[0] == "R441-1.PLAFONDS-RESSOURCES"]  # fmt: skip
    column = [c.value for c in failing[1]].index("Ressources retenues")
    assert plafonds and all(isinstance(r[column], int | float) for r in plafonds)


def test_the_word_document_has_the_synthesis_and_boxes_for_observations(reports: Path) -> None:
    document = Document(str(reports / "rapport.docx"))
    headings = [p.text for p in document.paragraphs if p.style.name.startswith("Heading")]
    assert "Synthèse 2025" in headings and "Avis de la CIL et visa" in headings
    synthesis = document.tables[0]
    # One line per obligation of the demo: the ten national rules and the CIA's own rule (the
    # multi-year count of NPNRU rehousing); and the per-EPCI figures of PRIORITAIRES-25, given
    # for information (no observation box: no verdict).
    assert len(synthesis.rows) == 1 + 11 + 1
    boxes = [t for t in document.tables if t.rows[0].cells[0].text == "Observations de la CIL"]
    assert len(boxes) == 11 + 1


def test_the_word_tables_fit_the_page_and_give_the_words_room(reports: Path) -> None:
    """Equal columns cut the rule ids inside words (checked in LibreOffice): the synthesis and
    the CIA's objectives have set widths, within the A4 text width, the obligation widest."""
    from docx.shared import Mm

    document = Document(str(reports / "rapport.docx"))
    synthesis = document.tables[0]
    objectives = next(t for t in document.tables if t.rows[0].cells[0].text == "Objectif")
    for table in (synthesis, objectives):
        widths = [column.width for column in table.columns]
        assert None not in widths and sum(widths) <= Mm(174.5)  # twips round up
        assert widths[0] == max(widths)
        for row in table.rows:
            assert [cell.width for cell in row.cells] == widths
    for row in synthesis.rows[1:]:
        rule, _, title = row.cells[0].text.partition("\n")
        assert re.fullmatch(r"[A-Z0-9-]+\.[A-Z0-9-]+", rule) and title  # a whole rule id
        owed = row.cells[5].text.split("\n")
        # « qui doit » names who owes what (« bailleur X : n »), or « — » when nobody does yet
        # (a multi-year objective before its end).
        assert owed == ["—"] or all(" : " in line for line in owed), (rule, owed)
    assert any(row.cells[5].text != "—" for row in synthesis.rows[1:])


# ------------------------------------------------------------------ several years
def test_several_years_side_by_side(demo_db: str, tmp_path: Path) -> None:
    done = mixite("check", "--year", "2024-2025", *RULES, "--db", demo_db)
    assert done.returncode == 0, done.stderr
    assert "Évolution" in done.stdout and "2024" in done.stdout
    document = json.loads(mixite("check", "--year", "2024", "--year", "2025", *RULES, "--db",
                                 demo_db, "--format", "json").stdout)  # fmt: skip
    assert document["schema_version"] == "1.4"
    assert [y["year"] for y in document["years"]] == [2024, 2025]
    assert all(y["receipt"]["run_id"] and y["results"] for y in document["years"])
    out = tmp_path / "bilan.html"
    assert mixite("check", "--year", "2024-2025", *RULES, "--db", demo_db, "--format", "html",
                  "--out", str(out)).returncode == 0  # fmt: skip
    page = out.read_text(encoding="utf-8")
    assert (tmp_path / "bilan-en-defaut.csv").stat().st_size > 0  # written beside the report
    evolution = page[page.index('id="evolution"') :]
    assert "2024" in evolution and "Réf. nationale" in evolution and "15,5 %" in evolution


@pytest.mark.parametrize(
    ("argument", "message"),
    [("25", "année illisible"), ("2025-2023", "la première année est après"),
     ("1990-2025", "au plus")],
)  # fmt: skip
def test_a_year_that_cannot_be_read_is_refused_in_french(
    demo_db: str, argument: str, message: str
) -> None:
    done = mixite("check", "--year", argument, "--db", demo_db)
    assert done.returncode != 0 and message in done.stderr and "Traceback" not in done.stderr


def test_pdf_without_chromium_is_refused_in_french(demo_db: str, tmp_path: Path) -> None:
    previous = os.environ.get("MIXITE_CHROMIUM")
    os.environ["MIXITE_CHROMIUM"] = str(tmp_path / "pas-de-chromium")
    try:
        done = mixite("check", "--year", str(YEAR), "--db", demo_db, "--format", "pdf",
                      "--out", str(tmp_path / "r.pdf"))  # fmt: skip
    finally:
        if previous is None:
            del os.environ["MIXITE_CHROMIUM"]
        else:
            os.environ["MIXITE_CHROMIUM"] = previous
    assert done.returncode != 0 and "Traceback" not in done.stderr
    assert "MIXITE_CHROMIUM désigne" in done.stderr and "introuvable" in done.stderr
    assert not (tmp_path / "r.pdf").exists()


def test_the_command_line_offers_every_format_the_reports_write() -> None:
    from checker.cli.check_commands import FORMATS as OFFERED
    from checker.report.outputs import FORMATS as WRITTEN

    assert OFFERED == WRITTEN


ARTICLE_4 = "CIA du Val de Lize (fictive), article 4"


def test_a_cia_target_is_cited_with_its_article_in_every_format(
    demo_db: str, checked: Checked, reports: Path
) -> None:
    """Issue #15, item 5: a target set by a CIA objective says which convention and which
    article set it — in the JSON, the CSV, the Markdown, the HTML, the workbook and the Word
    document — while the law's targets still read « loi »."""
    from checker.report.json_report import results_block
    from checker.report.tabular import to_markdown

    toits = {"epci": "980008015", "bailleur": "912000379"}
    by_json = [r for r in results_block(checked.results)
               if r["rule"] == "L441-1.Q1-HORS-QPV" and r["scope"] == toits]  # fmt: skip
    assert [(r["target"], r["target_source"], r["target_reference"]) for r in by_json] == [
        (0.3, "CIA-Val-de-Lize-2022", ARTICLE_4)
    ]
    law = [r for r in results_block(checked.results) if r["target_source"] == "loi"]
    assert law and all("target_reference" not in r for r in law)
    rows = list(csv.DictReader(
        (reports / "resultats.csv").read_text(encoding="utf-8-sig").splitlines(), delimiter=";"))  # fmt: skip
    row = next(
        r for r in rows if r["regle"] == "L441-1.Q1-HORS-QPV" and r["bailleur"] == "912000379"
    )
    assert (row["source_de_la_cible"], row["reference_de_la_cible"]) == (
        "CIA-Val-de-Lize-2022",
        ARTICLE_4,
    )
    assert all(r["reference_de_la_cible"] == "" for r in rows if r["source_de_la_cible"] == "loi")
    engine = create_engine(demo_db)
    try:
        with engine.connect() as connection:
            names = Names.load(connection)
    finally:
        engine.dispose()
    markdown = to_markdown(
        checked.results, checked.receipt.as_json(), "Contrôle", RULEBOOK(), names
    )
    assert f"fixée par : {ARTICLE_4}" in markdown
    page = unescape((reports / "rapport.html").read_text(encoding="utf-8"))
    assert f'<span class="note">{ARTICLE_4}</span>' in page
    workbook = load_workbook(reports / "rapport.xlsx")
    cells = {str(c.value) for sheet in workbook for r in sheet.iter_rows() for c in r}
    assert ARTICLE_4 in cells
    word = Document(str(reports / "rapport.docx"))
    texts = {cell.text for table in word.tables for r in table.rows for cell in r.cells}
    assert any(ARTICLE_4 in text for text in texts)
