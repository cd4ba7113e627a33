"""The reading processes, forked by a launcher the import starts first (parsing.py): same
chunks as in-process parsing, a failure re-raised with its traceback, a reader that dies
detected, and their memory not the import's."""

from __future__ import annotations

import gc
import os
import sys
from pathlib import Path
from typing import Any

import pytest

from checker.ingest import parsing
from checker.ingest import rows as row_models
from checker.ingest.gc_tuning import IMPORT_THRESHOLD
from checker.ingest.importer import import_bundle
from checker.ingest.parsing import parse_table, reading_processes
from checker.ingest.pseudonym import PseudonymKey
from checker.ingest.tabular import Table, read_table
from tests.conftest import DATA

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="processus forkés, /proc (Linux)"
)


def _attributions() -> Table:
    spec = row_models.ATTRIBUTIONS_SPEC
    return read_table(
        DATA / "mini" / "attributions.csv",
        spec["required"],  # type: ignore[arg-type]
        spec["optional"],  # type: ignore[arg-type]
        spec["aliases"],  # type: ignore[arg-type]
    )


@pytest.fixture
def every_file_in_a_reader(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parsing, "WORKER_THRESHOLD_ROWS", 0)


def _chunks(readers: Any) -> list[tuple[Any, ...]]:
    key = PseudonymKey(b"cle", "test")
    model = row_models.AttributionRow
    return [
        (chunk.lines, chunk.records, chunk.pseudonyms)
        for chunk in parse_table(_attributions(), model, key, readers)
    ]


def test_a_reader_gives_the_chunks_of_in_process_parsing(every_file_in_a_reader: None) -> None:
    with reading_processes() as readers:
        assert readers is not None
        assert _chunks(readers) == _chunks(None)
        assert _chunks(readers) == _chunks(None)  # a second reader from the same launcher


def test_a_failure_in_the_reader_is_raised_with_its_traceback(
    every_file_in_a_reader: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: Any) -> Any:
        raise ValueError("cellule impossible")

    monkeypatch.setattr(parsing, "parse_chunks", broken)  # before the launcher is forked
    with reading_processes() as readers, pytest.raises(RuntimeError) as failed:
        _chunks(readers)
    assert "échec du processus de lecture" in str(failed.value)
    assert "Traceback" in str(failed.value)
    assert "ValueError: cellule impossible" in str(failed.value)


def test_a_reader_that_dies_is_detected(
    every_file_in_a_reader: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    def dies(*args: Any) -> Any:
        os._exit(3)

    monkeypatch.setattr(parsing, "parse_chunks", dies)
    with reading_processes() as readers, pytest.raises(RuntimeError) as failed:
        _chunks(readers)
    assert str(failed.value) == "le processus de lecture s'est arrêté sans finir"


def _status(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    raise LookupError(field)


def test_readers_do_not_hold_what_the_import_held_after_the_launcher_started() -> None:
    ballast_kib = 96 * 1024
    with reading_processes() as readers:
        assert readers is not None
        ballast = b"x" * (ballast_kib * 1024)  # written, so resident
        job = parsing._ReadJob(
            DATA / "mini" / "attributions.csv", "utf-8", ";", {}, "AttributionRow", None, None
        )
        channel, pid = readers.start(job)
        try:
            launcher = readers._process.pid
            assert launcher is not None
            # The reader is the launcher's child (alive or not yet reaped), not the import's.
            assert _status(pid, "PPid") == launcher != os.getpid()
            assert _status(launcher, "VmRSS") < _status(os.getpid(), "VmRSS") - ballast_kib // 2
        finally:
            channel.close()
            readers.done(pid, stop=True)
        assert len(ballast) == ballast_kib * 1024


def test_readers_collect_as_rarely_as_the_import(
    every_file_in_a_reader: None,
    monkeypatch: pytest.MonkeyPatch,
    mini_bundle: Path,
    tmp_path: Path,
) -> None:
    """The import raises the collector's thresholds before it forks the launcher (importer.py):
    its readers inherit them (a fifth of their CPU otherwise, gc_tuning.py)."""

    def thresholds(*args: Any) -> Any:
        raise ValueError(f"seuils {gc.get_threshold()[0]}")

    monkeypatch.setattr(parsing, "parse_chunks", thresholds)
    with pytest.raises(RuntimeError) as failed:
        import_bundle([mini_bundle], f"sqlite:///{tmp_path / 'm.db'}")
    assert f"ValueError: seuils {IMPORT_THRESHOLD}" in str(failed.value)
    assert gc.get_threshold()[0] != IMPORT_THRESHOLD  # put back after the import


def test_a_reader_left_open_after_its_launcher_closed_is_let_go(
    every_file_in_a_reader: None,
) -> None:
    """An error in the import leaves a reader's generator open until the collector closes it,
    after the import closed the launcher (which terminated the reader then)."""
    with reading_processes() as readers:
        chunks = parse_table(_attributions(), row_models.AttributionRow, None, readers)
        next(chunks)
    chunks.close()  # asks nothing of the closed launcher, raises nothing
