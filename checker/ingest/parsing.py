"""Turning a file's rows into validated, pseudonymised records, chunk by chunk.

Large CSV files are parsed in a second process while this one checks references and writes to
the database: on two cores this nearly doubles the import rate. Small files and XLSX workbooks
are parsed in-process; both ways run the same `parse_chunks`. The reading processes are forked
by a small process the import starts before it reads anything (`ReadingProcesses`), not by the
import itself, so that their memory does not include the import's.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import queue as queue_module
import signal
import sys
import threading
import traceback
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from multiprocessing import reduction
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from operator import itemgetter
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from checker.ingest import rows as row_models
from checker.ingest.columnar import CellError, ColumnValidator, chunks
from checker.ingest.pseudonym import PseudonymKey
from checker.ingest.tabular import Table, UnreadableFile, csv_rows

CHUNK_ROWS = 5000
WORKER_THRESHOLD_ROWS = 50_000
_MODELS: dict[str, type[BaseModel]] = {
    model.__name__: model
    for model in (
        row_models.LogementRow,
        row_models.AttributionRow,
        row_models.CaleolRow,
        row_models.ReservationRow,
        row_models.BailRow,
        row_models.ResidenceRow,
        row_models.OccupationRow,
        row_models.RelogementRow,
    )
}


@dataclass(frozen=True)
class ParsedChunk:
    lines: list[int]
    records: list[tuple[Any, ...] | None]  # in the model's field order; None for a bad row
    errors: list[CellError]
    pseudonyms: list[str] | None  # HMAC of numero_unique, for models that have one
    # The dwelling (rpls_id as typed) of each refused row, by its index in the chunk: rows
    # elsewhere that cite a refused dwelling are not reported again as citing an unknown one.
    refused_rpls: dict[int, str]
    # Rows whose number of fields is not the header's, by index in the chunk: (fields, number
    # of line breaks inside the row, which a quote left open produces). Their cells are shifted,
    # so they are refused without reporting their cells.
    misshapen: dict[int, tuple[int, int]]
    # Likewise the residence (residence_id as typed) of each refused row of residences.csv.
    refused_residences: dict[int, str] = field(default_factory=dict)


@dataclass(frozen=True)
class _WorkerFailure:
    trace: str


@dataclass(frozen=True)
class _WorkerRefusal:
    """The file cannot be read (`UnreadableFile` in the reading process)."""

    message: str
    hint: str | None
    line: int | None
    column: int | None


@cache
def validator_for(model: type[BaseModel]) -> ColumnValidator:
    return ColumnValidator(model)


def parse_chunks(
    rows: Iterator[tuple[int, list[str]]],
    columns: dict[str, int],
    model: type[BaseModel],
    key: PseudonymKey | None,
    expected_width: int | None = None,
) -> Iterator[ParsedChunk]:
    """`expected_width`: the header's number of fields, which every row must have (CSV)."""
    validator = validator_for(model)
    width = max(columns.values()) + 1 if columns else 0
    positions = list(columns.items())
    pseudonymise = key is not None and "numero_unique" in validator.fields
    for chunk in chunks(rows, CHUNK_ROWS):
        lines, cells_of_rows = _unzip(chunk)
        # Row widths are compared in C (map, min, max); Python loops over the rows only when
        # some row is not the header's width, which a clean file never has.
        lengths = list(map(len, cells_of_rows))
        shortest, longest = min(lengths), max(lengths)
        misshapen: dict[int, tuple[int, int]] = {}
        if expected_width is not None and not shortest == longest == expected_width:
            misshapen = {
                index: (len(cells), line_breaks(cells))
                for index, cells in enumerate(cells_of_rows)
                if len(cells) != expected_width
            }
        if shortest < width:
            for index, cells in enumerate(cells_of_rows):
                if len(cells) < width:  # Excel drops trailing empty cells
                    cells_of_rows[index] = cells + [""] * (width - len(cells))
        # One transposition of the chunk gives every column; rows longer than the header
        # (refused above) do not shorten it: every row has at least `width` cells now.
        transposed = list(zip(*cells_of_rows, strict=False))
        by_field: dict[str, Sequence[str]] = {name: transposed[pos] for name, pos in positions}
        records, errors = validator.validate(by_field, len(chunk))
        if misshapen:  # shifted cells: their errors would only be consequences
            errors = [error for error in errors if error.row not in misshapen]
            for index in misshapen:
                records[index] = None
        pseudonyms = None
        if pseudonymise:
            assert key is not None
            pseudonyms = [key.pseudonym(cell) for cell in by_field["numero_unique"]]
        refused_rpls: dict[int, str] = {}
        if errors and "rpls_id" in by_field:
            dwellings = by_field["rpls_id"]
            refused_rpls = {error.row: dwellings[error.row].strip() for error in errors}
        if misshapen and "rpls_id" in by_field:
            dwellings = by_field["rpls_id"]
            refused_rpls.update((index, dwellings[index].strip()) for index in misshapen)
        refused_residences: dict[int, str] = {}
        if errors and model is row_models.ResidenceRow:
            idents = by_field["residence_id"]
            refused_residences = {error.row: idents[error.row].strip() for error in errors}
        yield ParsedChunk(
            lines,
            records,
            errors,
            pseudonyms,
            refused_rpls,
            misshapen,
            refused_residences,
        )


def _unzip(chunk: list[tuple[int, list[str]]]) -> tuple[list[int], list[list[str]]]:
    """The chunk's line numbers and its rows of cells, as two lists."""
    return list(map(itemgetter(0), chunk)), list(map(itemgetter(1), chunk))


def line_breaks(cells: list[str]) -> int:
    """Line breaks inside a row's cells (a quote left open swallows the lines after it), not
    counting the file's last one."""
    breaks = sum(cell.count("\n") for cell in cells)
    return breaks - 1 if cells and cells[-1].endswith("\n") else breaks


def _die_with_parent(parent: int) -> None:
    """Make a process end when its parent ends, even killed (SIGKILL): the launcher of the
    reading processes when the import ends, a reading process when its launcher does.

    Left running after the import was killed, a reading process would go on reading a file for
    nobody (and, forked from the import while it held a database connection, keep that
    PostgreSQL session and its locks open: the launcher is forked before the import connects).
    On Linux the kernel sends SIGKILL to it when its parent dies (prctl PR_SET_PDEATHSIG);
    elsewhere the worker checks its parent between chunks, and the launcher sees the import's
    end of their channel close.
    """
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # 1 = PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            pass
    if os.getppid() != parent:  # the parent died before the line above took effect
        os._exit(1)


@dataclass(frozen=True)
class _ReadJob:
    """What a reading process needs to parse a file: the table found by `read_table`."""

    path: Path
    encoding: str
    separator: str
    columns: dict[str, int]
    model_name: str
    secret: bytes | None
    width: int | None


class _Sender:
    """Chunks sent to the import by a thread, up to `AHEAD` waiting: the reading process parses
    the next chunk while the previous one is written to the pipe, as multiprocessing's queue
    did, and stops when the import is that many chunks behind."""

    AHEAD = 8

    def __init__(self, out: Connection) -> None:
        self._out = out
        self._waiting: queue_module.Queue[Any] = queue_module.Queue(maxsize=self.AHEAD)
        self._thread = threading.Thread(target=self._send, daemon=True)
        self._thread.start()

    def put(self, item: Any) -> None:
        self._waiting.put(item)

    def _send(self) -> None:
        while True:
            item = self._waiting.get()
            try:
                self._out.send(item)
            except OSError:  # the import no longer reads (it stopped, or it died): stop too
                os._exit(1)
            if item is None or isinstance(item, (_WorkerFailure, _WorkerRefusal)):
                return

    def close(self) -> None:
        self._thread.join()


def _worker(job: _ReadJob, out: Connection, parent: int, theirs: Connection) -> None:
    """`theirs`: the import's end of the pipe, inherited from the launcher and closed here."""
    _die_with_parent(parent)
    theirs.close()
    sender = _Sender(out)
    try:
        key = PseudonymKey(job.secret, "processus de lecture") if job.secret is not None else None
        rows = csv_rows(job.path, job.encoding, job.separator)
        model = _MODELS[job.model_name]
        for parsed in parse_chunks(rows, job.columns, model, key, job.width):
            if os.getppid() != parent:  # no PR_SET_PDEATHSIG: stop at the next chunk
                os._exit(1)
            sender.put(parsed)  # records travel as plain tuples; named on arrival
        sender.put(None)
    except UnreadableFile as exc:
        sender.put(_WorkerRefusal(exc.message, exc.hint, exc.line, exc.column))
    except BaseException:
        sender.put(_WorkerFailure(traceback.format_exc()))
    sender.close()


def _launcher(requests: Connection, parent: int, theirs: Connection) -> None:
    """The launcher's loop: a reading process forked for each file asked for, the receiving
    end of its pipe handed to the import; a reading process joined when the import is done
    with it; all of them when the import closes the channel (or dies). `theirs`: the import's
    end of the channel, inherited, closed here so that the import's closing it ends the loop."""
    _die_with_parent(parent)
    theirs.close()
    context = multiprocessing.get_context("fork")
    readers: dict[int, BaseProcess] = {}
    try:
        while True:
            try:
                message = requests.recv()
            except (EOFError, OSError):
                return
            if isinstance(message, _ReadJob):
                receiving, sending = context.Pipe(duplex=False)
                process = context.Process(
                    target=_worker, args=(message, sending, os.getpid(), receiving), daemon=True
                )
                process.start()
                sending.close()  # the reader's alone: its end closes when it dies
                assert process.pid is not None
                readers[process.pid] = process
                requests.send(process.pid)
                reduction.send_handle(requests, receiving.fileno(), parent)
                receiving.close()
            else:  # (pid, stop): the import is done with that reader
                pid, stop = message
                done = readers.pop(pid)
                if stop and done.is_alive():
                    done.terminate()
                done.join()
                requests.send(pid)
    finally:
        for left in readers.values():
            left.terminate()
            left.join()


class ReadingProcesses:
    """The reading processes of an import, forked from a small process, the launcher, that the
    import forks before it reads anything (`reading_processes`).

    A process forked from the import itself counts as resident every page of the import it
    shares: a reading process forked late in a national import showed the import's 215 MiB plus
    its own 20 (docs/dev/performance.md, « Memory »). The launcher is forked while the import
    holds its modules and nothing else, so the readers it forks stay that size whatever the
    bundle. Each reader sends its chunks through a pipe of its own, whose receiving end the
    launcher hands to the import (SCM_RIGHTS): when the reader dies, the pipe closes and the
    import knows. The launcher reaps each reader when the import is done with it, and ends
    when the import closes their channel: the CPU and memory of the readers are then counted
    among the import's children (`RUSAGE_CHILDREN`), as when the import forked them itself.
    """

    def __init__(self) -> None:
        context = multiprocessing.get_context("fork")
        self._requests, launcher_end = context.Pipe(duplex=True)  # a socket pair
        # Not a daemon: a daemonic process may not fork. Joined by `close`.
        self._process = context.Process(
            target=_launcher, args=(launcher_end, os.getpid(), self._requests)
        )
        self._process.start()
        launcher_end.close()
        self._lock = threading.Lock()  # one exchange at a time, should threads share it

    def start(self, job: _ReadJob) -> tuple[Connection, int]:
        """A reading process for `job`: the end its chunks arrive at, and its process id."""
        with self._lock:
            self._requests.send(job)
            pid = self._requests.recv()
            handle = reduction.recv_handle(self._requests)
        return Connection(handle, writable=False), pid

    def done(self, pid: int, stop: bool) -> None:
        """The import is done with a reader; `stop`: before its end (terminated, then joined).
        Nothing once the launcher is closed: it terminated and joined its readers then (a
        reader's generator left open by an error is closed later, by the collector)."""
        with self._lock:
            if self._requests.closed:
                return
            self._requests.send((pid, stop))
            self._requests.recv()

    def close(self) -> None:
        self._requests.close()
        self._process.join()


@contextmanager
def reading_processes() -> Iterator[ReadingProcesses | None]:
    """The launcher of an import's reading processes, or None where processes cannot be
    forked (large files are then parsed in-process)."""
    if "fork" not in multiprocessing.get_all_start_methods():
        yield None
        return
    launcher = ReadingProcesses()
    try:
        yield launcher
    finally:
        launcher.close()


def _parse_in_worker(
    table: Table, model: type[BaseModel], key: PseudonymKey | None, readers: ReadingProcesses
) -> Iterator[ParsedChunk]:
    job = _ReadJob(
        table.path,
        table.encoding,
        table.separator,
        table.columns,
        model.__name__,
        key.secret if key is not None else None,
        table.width,
    )
    channel, pid = readers.start(job)
    make = validator_for(model).record_type._make
    finished = False
    try:
        while True:
            try:
                item = channel.recv()
            except (EOFError, OSError):  # its end of the pipe closed: it died
                raise RuntimeError("le processus de lecture s'est arrêté sans finir") from None
            if item is None:
                finished = True
                break
            if isinstance(item, _WorkerRefusal):
                raise UnreadableFile(item.message, item.hint, item.line, item.column)
            if isinstance(item, _WorkerFailure):
                raise RuntimeError(f"échec du processus de lecture :\n{item.trace}")
            records = [None if record is None else make(record) for record in item.records]
            yield ParsedChunk(
                item.lines,
                records,
                item.errors,
                item.pseudonyms,
                item.refused_rpls,
                item.misshapen,
                item.refused_residences,
            )
    finally:
        channel.close()
        readers.done(pid, stop=not finished)


def parse_table(
    table: Table,
    model: type[BaseModel],
    key: PseudonymKey | None,
    readers: ReadingProcesses | None = None,
) -> Iterator[ParsedChunk]:
    """Chunks of records with named fields (None for bad rows), with their errors. A large CSV
    file is parsed by a reading process of `readers`, when given."""
    parallel = (
        readers is not None
        and table.kind == "csv"
        and table.approximate_rows >= WORKER_THRESHOLD_ROWS
    )
    if parallel:
        assert readers is not None
        return _parse_in_worker(table, model, key, readers)
    return _named(parse_chunks(table.rows, table.columns, model, key, table.width), model)


def _named(chunks_: Iterator[ParsedChunk], model: type[BaseModel]) -> Iterator[ParsedChunk]:
    make = validator_for(model).record_type._make
    for parsed in chunks_:
        records = [None if record is None else make(record) for record in parsed.records]
        yield ParsedChunk(
            parsed.lines,
            records,
            parsed.errors,
            parsed.pseudonyms,
            parsed.refused_rpls,
            parsed.misshapen,
            parsed.refused_residences,
        )
