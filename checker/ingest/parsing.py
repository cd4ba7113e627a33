"""Turning a file's rows into validated, pseudonymised records, chunk by chunk.

Large CSV files are parsed in a second process while this one checks references and writes to
the database: on two cores this nearly doubles the import rate. Small files and XLSX workbooks
are parsed in-process; both ways run the same `parse_chunks`.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import queue as queue_module
import signal
import sys
import traceback
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import cache
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
    """Make the reading process end when the import ends, even killed (SIGKILL).

    A forked process shares the import's database connection: left running after its parent
    was killed, it would keep the PostgreSQL session (and its locks) open. On Linux the kernel
    sends SIGKILL to it when its parent dies (prctl PR_SET_PDEATHSIG); elsewhere the worker
    checks its parent between chunks (`_parent_alive`).
    """
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # 1 = PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            pass
    if os.getppid() != parent:  # the parent died before the line above took effect
        os._exit(1)


def _worker(
    path: Path,
    encoding: str,
    separator: str,
    columns: dict[str, int],
    model_name: str,
    secret: bytes | None,
    out: Any,
    width: int | None,
    parent: int,
) -> None:
    _die_with_parent(parent)
    try:
        key = PseudonymKey(secret, "processus de lecture") if secret is not None else None
        rows = csv_rows(path, encoding, separator)
        for parsed in parse_chunks(rows, columns, _MODELS[model_name], key, width):
            if os.getppid() != parent:  # no PR_SET_PDEATHSIG: stop at the next chunk
                os._exit(1)
            out.put(parsed)  # records travel as plain tuples; named on arrival
        out.put(None)
    except UnreadableFile as exc:
        out.put(_WorkerRefusal(exc.message, exc.hint, exc.line, exc.column))
    except BaseException:
        out.put(_WorkerFailure(traceback.format_exc()))


def _parse_in_worker(
    table: Table, model: type[BaseModel], key: PseudonymKey | None
) -> Iterator[ParsedChunk]:
    context = multiprocessing.get_context("fork")
    channel = context.Queue(maxsize=8)
    process = context.Process(
        target=_worker,
        args=(
            table.path,
            table.encoding,
            table.separator,
            table.columns,
            model.__name__,
            key.secret if key is not None else None,
            channel,
            table.width,
            os.getpid(),
        ),
        daemon=True,
    )
    process.start()
    make = validator_for(model).record_type._make
    try:
        while True:
            try:
                item = channel.get(timeout=1.0)
            except queue_module.Empty:
                if not process.is_alive():
                    raise RuntimeError("le processus de lecture s'est arrêté sans finir") from None
                continue
            if item is None:
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
        if process.is_alive():
            process.terminate()
        process.join()


def parse_table(
    table: Table, model: type[BaseModel], key: PseudonymKey | None
) -> Iterator[ParsedChunk]:
    """Chunks of records with named fields (None for bad rows), with their errors."""
    parallel = (
        table.kind == "csv"
        and table.approximate_rows >= WORKER_THRESHOLD_ROWS
        and "fork" in multiprocessing.get_all_start_methods()
    )
    if parallel:
        return _parse_in_worker(table, model, key)
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
