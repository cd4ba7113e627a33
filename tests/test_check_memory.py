"""What a check holds once its rules are evaluated: the receipt keeps no copy of the run's
results text, the page cache is set back after the receipt, and the JSON report written a piece
at a time has the bytes of its whole text (docs/dev/performance.md, « Memory of a check »)."""

from __future__ import annotations

import datetime as dt
import gc
import io
import json
import tracemalloc
from pathlib import Path
from typing import BinaryIO

import pytest
from openpyxl import load_workbook
from sqlalchemy import create_engine

from checker import runs
from checker.checking import run_check
from checker.cli import out_guard
from checker.db.engine import CHECK_CACHE_MIB, bound_sqlite_memory, make_engine, upgrade
from checker.evaluate.run import Options, Period
from checker.ingest.importer import import_bundle
from checker.report import html, json_report
from checker.report.collect import collect
from checker.report.outputs import Checked, Streamed, Written, report_files
from checker.rulebook_loader import require_rules
from tests import bundles
from tests.test_evaluate import ATTRIBUTIONS, DWELLINGS

_RESULTS = 6_000  # documents of about 1 KB: a results text of about 5.5 MB


def _documents() -> list[dict[str, object]]:
    return [{"rule": f"R{n}", "message": "é" * 900 + str(n)} for n in range(_RESULTS)]


def test_a_recorded_run_keeps_no_copy_of_its_results_text(db_url: str) -> None:
    """A statement built with `insert().values(**fields)` stayed in SQLAlchemy's cache of
    compiled statements with its values: the first run's results text (and the UTF-8 copy the
    driver made of it) lived as long as the engine."""
    engine = make_engine(db_url)
    upgrade(engine)
    period = (dt.date(2025, 1, 1), dt.date(2025, 12, 31))
    with engine.begin() as connection:
        gc.collect()
        tracemalloc.start()  # the first run this engine records: the one its cache would keep
        try:
            before = tracemalloc.get_traced_memory()[0]
            runs.record_run(connection, rulebook_digest="r", period=period, as_of=None,
                            options={}, results=_documents(), content="c", imports="i")  # fmt: skip
            gc.collect()
            kept = tracemalloc.get_traced_memory()[0] - before
        finally:
            tracemalloc.stop()
        stored = connection.exec_driver_sql("SELECT results FROM run WHERE id = 1").scalar_one()
        assert stored == runs.canonical(_documents())
        assert len(stored) > 5_000_000
        # What a first run compiles and keeps (statements, the model's columns) is under
        # 1 MB; the text with its UTF-8 copy would be twice its length.
        assert kept < len(stored) / 2, f"{kept} octets gardés après l'enregistrement"
        assert runs.verify_chain(connection) == (1, [])
    engine.dispose()


def test_the_receipt_sets_the_page_cache_back_and_stores_the_same_results(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'mixite.db'}"
    import_bundle([bundles.write_bundle(tmp_path / "lot", DWELLINGS, ATTRIBUTIONS)], url)
    rulebook, _ = require_rules()
    engine = create_engine(url)
    with engine.begin() as connection:
        bound_sqlite_memory(connection)
        outcome = run_check(connection, rulebook, Period.year(2025), Options(), None)
        assert (
            connection.exec_driver_sql("PRAGMA cache_size").scalar_one() == -CHECK_CACHE_MIB * 1024
        )
        assert connection.exec_driver_sql("PRAGMA cache_spill").scalar_one() > 0
        stored = connection.exec_driver_sql("SELECT results FROM run").scalar_one()
        assert stored == runs.canonical(json_report.results_block(outcome.results))
        assert runs.verify_chain(connection) == (1, [])
        files = report_files(connection, rulebook, Options(),
                             [Checked(Period.year(2025), outcome.results, outcome.receipt)],
                             "Contrôle", "json", tmp_path / "r.json")  # fmt: skip
        workbook = report_files(connection, rulebook, Options(),
                                [Checked(Period.year(2025), outcome.results, outcome.receipt)],
                                "Contrôle", "xlsx", tmp_path / "r.xlsx")  # fmt: skip
        page = report_files(connection, rulebook, Options(),
                            [Checked(Period.year(2025), outcome.results, outcome.receipt)],
                            "Contrôle", "html", tmp_path / "r.html")  # fmt: skip
        data = collect(connection, rulebook, Period.year(2025), Options(), outcome.results,
                       outcome.receipt, "Contrôle", stem="r")  # fmt: skip
    engine.dispose()
    assert isinstance(page[tmp_path / "r.html"], Written)  # written as it is rendered
    out_guard.write_files(page)
    expected = html.render(data).encode("utf-8")
    assert (tmp_path / "r.html").read_bytes() == expected
    assert (tmp_path / "r-en-defaut.csv").exists()
    monkeypatch.setattr(html, "_WRITE_PIECES", 7)  # written a few pieces at a time
    buffer = io.BytesIO()
    html.write(data, buffer)
    assert buffer.getvalue() == expected
    [(book_path, book)] = workbook.items()
    assert isinstance(book, Written)  # written into its file, never held as bytes
    out_guard.write_files(workbook)
    assert "En défaut" in load_workbook(book_path, read_only=True).sheetnames
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []
    [(path, content)] = files.items()
    assert isinstance(content, Streamed)  # made as it is written, never held whole
    expected = json_report.dumps(json_report.document(outcome.results, outcome.receipt.as_json()))
    assert content.text() == expected
    out_guard.write_files(files)
    assert path.read_bytes() == expected.encode("utf-8")
    assert json.loads(path.read_text(encoding="utf-8"))["results"]


def test_a_streamed_report_is_written_with_the_bytes_of_its_text(tmp_path: Path) -> None:
    pieces = ["é\r\n€😀 résultat\n" * 1_000, "", "{\n", "fin\n"] * 50
    target = tmp_path / "rapport.json"
    out_guard.write_files({target: Streamed(lambda: iter(pieces))})
    assert target.read_bytes() == "".join(pieces).encode("utf-8")


def test_a_written_report_replaces_its_file_only_once_complete(tmp_path: Path) -> None:
    """A binary report (the workbook) is written as it is made into a file beside its own,
    renamed over it at the end: one that fails half-way leaves the former report as it was
    and no partial file."""
    target = tmp_path / "rapport.xlsx"
    out_guard.write_files({target: Written(lambda handle: handle.write(b"PK\x03\x04" * 1000))})
    assert target.read_bytes() == b"PK\x03\x04" * 1000

    def broken(handle: BinaryIO) -> None:
        handle.write(b"PK\x03\x04 moitie")
        raise RuntimeError("panne au milieu du classeur")

    with pytest.raises(RuntimeError, match="panne"):
        out_guard.write_files({target: Written(broken)})
    assert target.read_bytes() == b"PK\x03\x04" * 1000
    assert [p.name for p in tmp_path.iterdir()] == ["rapport.xlsx"]
