"""The files of a report in each format, for one year or several side by side: what
`mixite check --format …` and `mixite demo` write. A report that lists only some of the
failing records (HTML, PDF) comes with the CSV holding them all."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from checker.report import json_report
from checker.report.names import Names

# What only some formats need (the full report's data, the tables, the failing records) is
# imported where it is used: a JSON report needs none of it.
if TYPE_CHECKING:
    from sqlalchemy import Connection

    from checker.evaluate.results import Result
    from checker.evaluate.run import Options, Period
    from checker.report.collect import Listing, ReportData, YearRun
    from checker.runs import Receipt
    from dsl.rulebook import Rulebook

FORMATS = ("json", "md", "csv", "html", "xlsx", "pdf", "docx")
BINARY = frozenset({"xlsx", "pdf", "docx"})
COMPLETE = frozenset({"html", "xlsx", "pdf", "docx"})  # the full report (collect)
FAILING_SUFFIX = "-en-defaut.csv"


@dataclass(frozen=True)
class Streamed:
    """A text file made a piece at a time as it is written (the JSON report, a result at a
    time): never held whole, as a report of 9 MB at 1 000 000 attributions was, beside the
    run's results and receipt. `pieces` gives a new iterator at each call."""

    pieces: Callable[[], Iterator[str]]

    def text(self) -> str:
        return "".join(self.pieces())


@dataclass(frozen=True)
class Written:
    """A binary file written by `write` straight into the file opened for it, never held
    whole: the HTML report (19 million characters at 500 000 attributions) and the workbook
    (118 MB at 1 000 000), held until written, were most of what a full report's memory
    still grew by (docs/dev/performance.md, « Full reports with flat memory (session 13) »).
    `out_guard.write_files` writes it beside its path and renames it over it once complete."""

    write: Callable[[BinaryIO], None]


Content = str | bytes | Streamed | Written


@dataclass
class Checked:
    """One year checked: its period, results and receipt."""

    period: Period
    results: list[Result]
    receipt: Receipt

    @property
    def year(self) -> int:
        return self.period.end.year

    def as_run(self) -> YearRun:
        from checker.report.collect import YearRun

        return YearRun(self.year, self.results, self.receipt.as_json())


def failing_path(destination: Path) -> Path:
    """Where the CSV of every failing record goes, beside a report."""
    return destination.with_name(destination.stem + FAILING_SUFFIX)


def report_files(connection: Connection, rulebook: Rulebook, options: Options,
                 checked: list[Checked], title: str, output_format: str,
                 destination: Path) -> dict[Path, Content]:  # fmt: skip
    """The files to write for `checked` (oldest year first; the last one is the report's
    year): the report at `destination`, and the failing records' CSV beside it when the
    report is HTML, PDF or a CSV."""
    current = checked[-1]
    earlier = [c.as_run() for c in checked[:-1]]
    names = Names.load(connection)
    files: dict[Path, Content] = {}
    if output_format in COMPLETE:
        from checker.report.collect import collect

        data = collect(connection, rulebook, current.period, options, current.results,
                       current.receipt, title, earlier if earlier else None,
                       stem=destination.stem)  # fmt: skip
        files[destination] = complete_content(data, output_format)
        if output_format in ("html", "pdf"):
            files[failing_path(destination)] = _failing_file(data.listings, names, current.year)
        return files
    if output_format == "json":
        # Made one result at a time as it is written: the same text as json_report.dumps of the
        # document, without every result's document, nor the whole text, held at once.
        if earlier:
            runs = [c.as_run() for c in checked]
            files[destination] = Streamed(
                functools.partial(json_report.years_document_pieces, runs)
            )
        else:
            files[destination] = Streamed(functools.partial(json_report.document_pieces,
                                                            current.results,
                                                            current.receipt.as_json()))  # fmt: skip
    elif output_format == "md":
        from checker.report.tabular import to_markdown

        receipt = current.receipt.as_json()
        files[destination] = to_markdown(current.results, receipt, title, rulebook, names, earlier)
    elif output_format == "csv":
        from checker.report.tabular import to_csv

        files[destination] = to_csv(current.results, rulebook, names, current.year, earlier)
        found = failing_listings(connection, rulebook, current.period, options, current.results)
        files[failing_path(destination)] = _failing_file(found, names, current.year)
    return files


def complete_content(data: ReportData, output_format: str) -> str | bytes | Written:
    """A full report's file: the HTML and the workbook written into it as they are made, never
    held whole; the others (PDF, Word) rendered first."""
    if output_format in ("html", "xlsx"):
        from checker.report import html, xlsx

        writer = html.write if output_format == "html" else xlsx.write
        return Written(functools.partial(writer, data))
    return render_complete(data, output_format)


def render_complete(data: ReportData, output_format: str) -> str | bytes:
    if output_format == "html":
        from checker.report import html

        return html.render(data)
    if output_format == "xlsx":
        from checker.report import xlsx

        return xlsx.render(data)
    if output_format == "docx":
        from checker.report import docx_report

        return docx_report.render(data)
    from checker.report import html, pdf

    return pdf.to_pdf_bytes(html.render(data))


def _failing_file(listings: dict[int, Listing], names: Names, year: int) -> Streamed:
    """The CSV of the records at fault, written as it is made (`tabular.failing_csv_pieces`)."""
    from checker.report.tabular import failing_csv_pieces

    return Streamed(functools.partial(failing_csv_pieces, listings, names, year))


def failing_listings(connection: Connection, rulebook: Rulebook, period: Period, options: Options,
                     results: list[Result]) -> dict[int, Listing]:  # fmt: skip
    from checker.evaluate.explain import Explainer
    from checker.evaluate.run import Evaluator
    from checker.report.collect import listings

    evaluator = Evaluator(connection, rulebook, period, options)
    return listings(Explainer(connection, evaluator), results)


def write(files: dict[Path, str | bytes]) -> None:
    for path, content in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8", newline="")
