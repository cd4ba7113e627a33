"""The yearly table a bailleur owes its réservataires before 28 February (CCH R441-5-1):
attributions of the previous year by réservataire, dwelling type, financing, in or outside
QPV, commune and construction period. Counted in the database."""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass
from typing import Any

from openpyxl import Workbook
from sqlalchemy import Connection, Date, String, case, cast, func, literal, select

from checker.db import models
from checker.evaluate import base
from checker.report.names import Names
from checker.report.xlsx import _sheet_name, _table
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

    def cells(self, names: Names) -> list[Any]:
        reservataire = (
            "—" if self.reservataire == "—" else names.of("reservataire", self.reservataire)
        )
        return [names.of("bailleur", self.bailleur), self.bailleur,
                capitalized(names.of("contingent", self.contingent)), reservataire, self.reservataire,
                self.typologie, names.of("financement", self.financement), self.qpv,
                names.of("commune", self.commune), self.commune, self.periode,
                self.attributions]  # fmt: skip


def bilan(connection: Connection, year: int, bailleur: str | None = None) -> list[BilanRow]:
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
    query = (
        select(*dimensions, func.count())
        .select_from(a.join(logement, logement.c.rpls_id == a.c.rpls_id))
        .where(a.c.date_bail >= literal(start, Date), a.c.date_bail <= literal(end, Date))
        .group_by(*dimensions)
        .order_by(*dimensions)
    )
    if bailleur:
        query = query.where(a.c.bailleur == bailleur)
    found = []
    for row in connection.execute(query):
        labels = [str(value) for value in row[:-1]]
        found.append(BilanRow(*labels, attributions=int(row[-1])))  # type: ignore[arg-type, misc]
    return found


def to_csv(rows: list[BilanRow], names: Names) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(COLUMNS)
    writer.writerows(row.cells(names) for row in rows)
    return "\ufeff" + buffer.getvalue()


def to_xlsx(rows: list[BilanRow], year: int, names: Names) -> bytes:
    workbook = Workbook()
    used: set[str] = set()
    summary = workbook.active
    assert summary is not None
    summary.title = _sheet_name("Synthèse", used)
    totals: dict[str, int] = {}
    for row in rows:
        totals[row.bailleur] = totals.get(row.bailleur, 0) + row.attributions
    _table(summary, ["Bailleur", "SIREN du bailleur", f"Attributions {year}"],
           [[names.of("bailleur", siren), siren, count] for siren, count in sorted(totals.items())],
           set())  # fmt: skip
    summary.cell(row=len(totals) + 3, column=1, value=SOURCE)
    for siren in sorted(totals):
        sheet = workbook.create_sheet(_sheet_name(names.of("bailleur", siren), used))
        _table(sheet, list(COLUMNS), [r.cells(names) for r in rows if r.bailleur == siren], set())
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
