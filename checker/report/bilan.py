"""The yearly table a bailleur owes its réservataires before 28 February (CCH R441-5-1):
attributions of the previous year by réservataire, dwelling type, financing, in or outside
QPV, commune and construction period. Counted in the database.

Written as the database gives its rows, a row at a time, to the CSV and to the workbook at
once: the table has several hundred thousand rows at national scale (1 000 000 attributions),
which held whole as rows, cells and one text took 1.7 GB there."""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterable, Iterator
from contextlib import suppress
from dataclasses import dataclass
from itertools import chain, groupby
from pathlib import Path
from typing import Any, TextIO

from openpyxl import Workbook
from sqlalchemy import Connection, Date, String, case, cast, func, literal, select

from checker.db import models
from checker.evaluate import base
from checker.report.names import Names
from checker.report.xlsx import WIDTH_SAMPLE, _Columns, _layout, _sheet_name, write_table
from checker.vocabulary import capitalized

# Names first, their code in the next column (as in every report), so that the réservataire
# reading the table sees « Commune de Saint-Aubin-sur-Lize », and a spreadsheet can still join
# on `80902`.
COLUMNS = ("Bailleur", "SIREN du bailleur", "Contingent", "Réservataire",
           "Identifiant du réservataire", "Typologie", "Financement", "QPV", "Commune",
           "Code INSEE", "Période de construction", "Attributions")  # fmt: skip
SOURCE = ("CCH R441-5-1 : bilan annuel des logements attribués, par réservataire et par typologie de "
          "logement, type de financement, localisation hors et en QPV, commune et période de construction")  # fmt: skip


@dataclass
class BilanRow:
    bailleur: str
    contingent: str
    reservataire: str
    typologie: str
    financement: str
    qpv: str
    commune: str
    periode: str
    attributions: int
    # The rows of its bailleur, this one included: its sheet's size, which a sheet written as
    # it comes declares before its first row.
    bailleur_rows: int

    def cells(self, names: Names) -> list[Any]:
        reservataire = (
            "—" if self.reservataire == "—" else names.of("reservataire", self.reservataire)
        )
        return [names.of("bailleur", self.bailleur), self.bailleur,
                capitalized(names.of("contingent", self.contingent)), reservataire, self.reservataire,
                self.typologie, names.of("financement", self.financement), self.qpv,
                names.of("commune", self.commune), self.commune, self.periode,
                self.attributions]  # fmt: skip


@dataclass
class Written:
    """What a bilan written holds: its attributions and its rows."""

    attributions: int = 0
    rows: int = 0


def bilan(connection: Connection, year: int, bailleur: str | None = None) -> Iterator[BilanRow]:
    """The table's rows, by bailleur, as the database gives them (never all held at once)."""
    a = base.attributions()
    logement = models.Logement.__table__
    start, end = dt.date(year, 1, 1), dt.date(year, 12, 31)
    pieces = logement.c.nb_pieces
    typologie = case(
        (pieces.is_(None), "inconnue"), (pieces >= 6, "T6 et plus"),
        else_=literal("T") + cast(pieces, String(2)),
    )  # fmt: skip
    built = logement.c.annee_construction
    periode = case(
        (built.is_(None), "inconnue"), (built < 1949, "avant 1949"), (built < 1975, "1949-1974"),
        (built < 1990, "1975-1989"), (built < 2006, "1990-2005"), else_="2006 et après",
    )  # fmt: skip
    qpv = case((a.c.en_qpv, "en QPV"), else_="hors QPV")
    reservataire = func.coalesce(a.c.reservataire, "—")
    dimensions = [
        a.c.bailleur,
        a.c.contingent,
        reservataire,
        typologie,
        a.c.financement,
        qpv,
        a.c.commune,
        periode,
    ]
    # Each bailleur's number of rows, counted over the grouped rows by the database with the
    # grouping (0.7 s more at 1 000 000 attributions, on SQLite): the alternatives were holding
    # a bailleur's rows until its last one, or grouping twice.
    bailleur_rows = func.count().over(partition_by=a.c.bailleur)
    query = (
        select(*dimensions, func.count(), bailleur_rows)
        .select_from(a.join(logement, logement.c.rpls_id == a.c.rpls_id))
        .where(a.c.date_bail >= literal(start, Date), a.c.date_bail <= literal(end, Date))
        .group_by(*dimensions)
        .order_by(*dimensions)
    )
    if bailleur:
        query = query.where(a.c.bailleur == bailleur)
    # A server-side cursor on PostgreSQL, whose driver otherwise fetches every row at once.
    streamed = query.execution_options(stream_results=True, yield_per=2000)
    for row in connection.execute(streamed):
        labels = [str(value) for value in row[:-2]]
        yield BilanRow(*labels, attributions=int(row[-2]), bailleur_rows=int(row[-1]))  # type: ignore[arg-type, misc]


def write(rows: Iterable[BilanRow], year: int, names: Names, csv_file: Path,
          xlsx_file: Path) -> Written:  # fmt: skip
    """The CSV and the workbook of `rows` (a bailleur's rows together), written together a row
    at a time as `rows` gives them: a row's cells go to both files before the next is read."""
    written = Written()
    with csv_file.open("w", encoding="utf-8", newline="") as handle:
        workbook = Workbook(write_only=True)
        try:
            _write_both(rows, year, names, handle, workbook, written)
            workbook.save(xlsx_file)
        except BaseException:
            _discard(workbook)
            raise
    return written


def _write_both(rows: Iterable[BilanRow], year: int, names: Names, handle: TextIO,
                workbook: Workbook, written: Written) -> None:  # fmt: skip
    used: set[str] = set()
    # First in the workbook, written last: it needs every bailleur's total.
    summary = workbook.create_sheet(_sheet_name("Synthèse", used))
    handle.write("\ufeff")  # for Excel, which reads a CSV without it in its own code page
    table = csv.writer(handle, delimiter=";", lineterminator="\r\n")
    table.writerow(COLUMNS)
    totals: dict[str, int] = {}
    for siren, group in groupby(rows, key=lambda row: row.bailleur):
        first = next(group)  # its sheet's size, read before the sheet is begun
        sheet = workbook.create_sheet(_sheet_name(names.of("bailleur", siren), used))
        cells = _cells(chain([first], group), names, table, totals, written)  # noqa: B031
        write_table(sheet, list(COLUMNS), cells, length=first.bailleur_rows)
        # Closed now, not when the workbook is saved: a sheet open holds a file (and its
        # buffer), and a national bilan has a sheet per bailleur, hundreds of them.
        sheet.close()
    _summary(summary, year, names, totals)


def _cells(rows: Iterable[BilanRow], names: Names, table: Any, totals: dict[str, int],
           written: Written) -> Iterator[list[Any]]:  # fmt: skip
    """Each row's cells for its bailleur's sheet, once written to the CSV and counted."""
    for row in rows:
        cells = row.cells(names)
        table.writerow(cells)
        totals[row.bailleur] = totals.get(row.bailleur, 0) + row.attributions
        written.attributions += row.attributions
        written.rows += 1
        yield cells


def _summary(sheet: Any, year: int, names: Names, totals: dict[str, int]) -> None:
    """Each bailleur's total, then, a row below, the article the table answers."""
    columns = _Columns(["Bailleur", "SIREN du bailleur", f"Attributions {year}"])
    rows = [[names.of("bailleur", siren), siren, count] for siren, count in sorted(totals.items())]
    _layout(sheet, columns.widths(rows[:WIDTH_SAMPLE]), f"C{len(rows) + 3}")
    sheet.append(columns.header(sheet))
    for row in rows:
        sheet.append(columns.cells(sheet, row))
    sheet.append([])
    sheet.append([SOURCE])
    sheet.auto_filter.ref = f"A1:C{1 + max(len(rows), 1)}"


def _discard(workbook: Workbook) -> None:
    """The temporary files of a workbook left unsaved removed now: openpyxl removes them only
    when the process ends."""
    sheets: list[Any] = list(workbook.worksheets)
    for sheet in sheets:
        writer = sheet._writer
        if writer is None:  # nothing written
            continue
        # A sheet cut short may fail to close (the disk full): its file is removed all the same.
        with suppress(Exception):
            if not sheet.closed:
                sheet.close()
        with suppress(OSError, ValueError):  # removed already, when saved
            writer.cleanup()
