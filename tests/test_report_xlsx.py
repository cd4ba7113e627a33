"""The Excel report as a reader sees it, pinned: the demo's 2025 workbook (with its CIA) gives
the sheets, cells, values, number formats, fonts, fills, wrapping, borders, frozen panes,
filters, column widths, row heights and sizes of `tests/golden/xlsx/rapport-2025.json`. That
file was written by the workbook held whole in memory (session 12), before it was written in
openpyxl's write-only mode; after a deliberate change of the workbook,
`MIXITE_REGENERER_GOLDEN=1 pytest tests/test_report_xlsx.py` rewrites it (read the diff)."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import os
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import create_engine

from checker.checking import run_check
from checker.evaluate.run import Options, Period
from checker.ingest.importer import import_bundle
from checker.ingest.pseudonym import KEY_ENV, key_setting
from checker.paths import demo_bundle_dir, rules_dir
from checker.report import xlsx
from checker.report.collect import ReportData, collect
from checker.rulebook_loader import require_rules

YEAR = 2025
GOLDEN = Path(__file__).resolve().parent / "golden" / "xlsx" / f"rapport-{YEAR}.json"
REGENERATE = os.environ.get("MIXITE_REGENERER_GOLDEN") == "1"
# A fixed key: the households' pseudonyms, hence the listed records and their order, are the
# same at every run.
KEY = "cle-fixe-du-test-du-classeur"
SHOWN_ROWS = 30  # a sheet's first rows are in the golden file cell by cell, the rest by digest


@pytest.fixture(scope="module")
def report_data(tmp_path_factory: pytest.TempPathFactory) -> ReportData:
    """What `mixite check --year 2025 --format xlsx` reports for the demo and its CIA (the
    same functions, in-process)."""
    url = f"sqlite:///{tmp_path_factory.mktemp('classeur') / 'demo.db'}"
    rulebook, _ = require_rules([rules_dir(), demo_bundle_dir() / "cia.regles"])
    period = Period.year(YEAR)
    with key_setting(KEY_ENV, KEY):
        import_bundle([demo_bundle_dir()], url)
        engine = create_engine(url)
        try:
            with engine.begin() as connection:
                outcome = run_check(connection, rulebook, period, Options(), None)
            with engine.connect() as connection:
                data = collect(connection, rulebook, period, Options(), outcome.results,
                               outcome.receipt, f"Contrôle des attributions {YEAR}")  # fmt: skip
        finally:
            engine.dispose()
    return data


@pytest.fixture(scope="module")
def workbook(report_data: ReportData) -> bytes:
    """The workbook `mixite check --year 2025 --format xlsx` writes for the demo and its CIA."""
    return xlsx.render(report_data)


def _value(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return ["date", value.isoformat()]
    if isinstance(value, float):
        return ["float", repr(value)]
    return value


def _color(color: Any) -> Any:
    if color is None:
        return None
    return color.rgb if color.type == "rgb" else f"{color.type}:{color.value}"


def _look(cell: Any) -> list[Any]:
    font, fill, alignment, border = cell.font, cell.fill, cell.alignment, cell.border
    return [cell.number_format, bool(font.b), _color(font.color), fill.fill_type,
            _color(fill.fgColor) if fill.fill_type else None, bool(alignment.wrap_text),
            alignment.vertical,
            [[side.style, _color(side.color)] for side in (border.left, border.right, border.top,
                                                            border.bottom)]]  # fmt: skip


def _run_of_its_own(sheet: str, coordinate: str, value: Any) -> bool:
    """The values of the run itself, not of the data: the receipt (run number, time,
    version, digests) and the day of the import."""
    if sheet == "Reçu":
        return coordinate.startswith("C") and coordinate != "C1"
    return (
        sheet == "Qualité des données"
        and coordinate.startswith("A")
        and (isinstance(value, dt.date))
    )


PLAIN = _look(Workbook().active["A1"])  # type: ignore[index]  # a cell without a look of its own


def describe(content: bytes) -> dict[str, Any]:
    """What a reader of the workbook sees, as plain data: per sheet, its size as a streaming
    reader gets it (openpyxl's read_only, hence pandas, reads it from the file), its layout,
    and every cell, an empty one with a look of its own too, with its value and its look (an
    index into the sheet's looks): those of the first rows, and a digest of them all."""
    held = load_workbook(io.BytesIO(content))
    streamed = load_workbook(io.BytesIO(content), read_only=True)
    sheets = []
    for sheet in held.worksheets:
        size = streamed[sheet.title]
        looks: list[list[Any]] = []
        cells = []
        for cell in (c for row in sheet.iter_rows() for c in row):
            look = _look(cell)
            if cell.value is None and look == PLAIN:
                continue
            if look not in looks:
                looks.append(look)
            value = cell.value
            if _run_of_its_own(sheet.title, cell.coordinate, value):
                value = type(value).__name__
            cells.append([cell.coordinate, _value(value), looks.index(look), cell.row])
        sheets.append({
            "title": sheet.title,
            "size": [size.max_row, size.max_column],
            "freeze_panes": sheet.freeze_panes,
            "auto_filter": sheet.auto_filter.ref,
            "widths": {letter: d.width for letter, d in sorted(sheet.column_dimensions.items())
                       if d.customWidth},
            "heights": {str(row): d.height for row, d in sorted(sheet.row_dimensions.items())
                        if d.height is not None},
            "looks": looks,
            "cells": [c[:3] for c in cells if c[3] <= SHOWN_ROWS],
            "count": len(cells),
            "digest": hashlib.sha256(
                json.dumps([c[:3] for c in cells], ensure_ascii=False).encode("utf-8")
            ).hexdigest(),
        })  # fmt: skip
    streamed.close()
    return {"sheets": sheets}


def test_the_workbook_reads_as_the_one_held_whole_did(workbook: bytes) -> None:
    seen = describe(workbook)
    if REGENERATE:
        GOLDEN.parent.mkdir(parents=True, exist_ok=True)
        GOLDEN.write_text(json.dumps(seen, ensure_ascii=False, indent=0) + "\n", encoding="utf-8")
    assert GOLDEN.exists(), f"{GOLDEN} manque : MIXITE_REGENERER_GOLDEN=1 pour le créer"
    expected = json.loads(GOLDEN.read_text(encoding="utf-8"))
    assert [s["title"] for s in seen["sheets"]] == [s["title"] for s in expected["sheets"]]
    for mine, theirs in zip(seen["sheets"], expected["sheets"], strict=True):
        for key in ("size", "freeze_panes", "auto_filter", "widths", "heights", "looks"):
            assert mine[key] == theirs[key], (mine["title"], key)
        for cell, golden in zip(mine["cells"], theirs["cells"], strict=False):
            assert cell == golden, mine["title"]
        for key in ("cells", "count", "digest"):
            assert mine[key] == theirs[key], (mine["title"], key)
    assert next(s["count"] for s in seen["sheets"] if s["title"] == "En défaut") > 10_000


def test_a_table_made_as_it_is_written_gives_its_length_and_keeps_to_it() -> None:
    book = Workbook(write_only=True)
    sheet = book.create_sheet("Table")
    rows = ([("x" * 70 if n == 250 else "court"), n] for n in range(300))
    xlsx.write_table(sheet, ["Texte", "Nombre"], rows, length=300)
    wrong = book.create_sheet("Fausse")
    with pytest.raises(ValueError, match="299 rows written, 300 announced"):
        xlsx.write_table(wrong, ["A", "B"], ([n, n] for n in range(299)), length=300)
    buffer = io.BytesIO()
    book.save(buffer)
    read = load_workbook(io.BytesIO(buffer.getvalue()))["Table"]
    # the widths come from the first 200 rows (not from row 250's long text), as before
    assert read.column_dimensions["A"].width == 10
    assert read.auto_filter.ref == "A1:B301" and read.freeze_panes == "A2"
    assert read.cell(row=301, column=2).value == 299
    assert read.cell(row=301, column=2).number_format == xlsx.INTEGER_FORMAT
    assert load_workbook(io.BytesIO(buffer.getvalue()), read_only=True)["Table"].max_row == 301


def test_the_failing_records_sheet_does_not_depend_on_its_sort_runs(
    report_data: ReportData, workbook: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    """« En défaut » sorts the listed records on disk, a run at a time, then merges the runs:
    the sheet is the same with runs of a few hundred records as with one run."""
    monkeypatch.setattr(xlsx, "_SORT_RUN", 700)
    small_runs = describe(xlsx.render(report_data))
    whole = describe(workbook)
    for title in ("En défaut", "Défauts par résultat"):
        mine = next(s for s in small_runs["sheets"] if s["title"] == title)
        theirs = next(s for s in whole["sheets"] if s["title"] == title)
        assert mine == theirs, title
    assert next(s["count"] for s in whole["sheets"] if s["title"] == "En défaut") > 3 * 700


def test_a_workbook_that_fails_leaves_no_temporary_file(
    report_data: ReportData, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """openpyxl writes each sheet of a write-only workbook to a temporary file, removed at the
    save: a rendering that fails removes them too, instead of leaving them to the end of the
    process (a server's, for a workbook downloaded from `mixite web`)."""
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))

    def broken(*args: object) -> None:
        raise RuntimeError("panne au milieu du classeur")

    monkeypatch.setattr(xlsx, "_observations", broken)  # after the sheets of failing records
    with pytest.raises(RuntimeError, match="panne"):
        xlsx.render(report_data)
    assert list(tmp_path.iterdir()) == []
