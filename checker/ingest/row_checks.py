"""Checks between the fields of one valid row of reservations.csv or baux.csv.

Column-wise validation (`columnar.py`) sees one field at a time; what ties two fields of a row
together is checked here, on valid records, before references to other files. Each check
gives the column to point at and a French message.
"""

from __future__ import annotations

import datetime as dt

from checker.ingest.rows import BailRow, ReservationRow

Finding = tuple[str, str]  # (column, message)


def _day(date: dt.date) -> str:
    return f"{date:%d/%m/%Y}"


def reservation_findings(row: ReservationRow) -> list[Finding]:
    """A stock motive only for a stock convention, a share of the flow only for a flow one."""
    found: list[Finding] = []
    if row.motif_stock is not None and row.mode != "stock":
        found.append(
            (
                "motif_stock",
                f"motif de gestion en stock « {row.motif_stock} » donné pour une convention en "
                f"{row.mode} : laissez-le vide, ou indiquez le mode stock",
            )
        )
    if row.part_flux is not None and row.mode != "flux":
        found.append(
            (
                "part_flux",
                f"part du flux donnée pour une convention en {row.mode} : "
                "elle ne vaut que pour le mode flux",
            )
        )
    return found


def bail_findings(row: BailRow) -> list[Finding]:
    """Nothing before the signature of the lease; situations only with a review date."""
    found: list[Finding] = []
    signed = row.date_signature
    if row.date_dernier_examen is not None and row.date_dernier_examen < signed:
        found.append(
            (
                "date_dernier_examen",
                f"le dernier examen d'occupation ({_day(row.date_dernier_examen)}) serait "
                f"antérieur à la signature du bail ({_day(signed)})",
            )
        )
    if row.situations and row.date_dernier_examen is None:
        found.append(
            (
                "situations",
                "situations constatées sans date de dernier examen : indiquez la date de "
                "l'examen qui les a constatées (date_dernier_examen)",
            )
        )
    if row.date_transmission_caleol is not None and row.date_transmission_caleol < signed:
        found.append(
            (
                "date_transmission_caleol",
                f"la transmission à la CALEOL ({_day(row.date_transmission_caleol)}) serait "
                f"antérieure à la signature du bail ({_day(signed)})",
            )
        )
    if row.date_fin is not None and row.date_fin < signed:
        found.append(
            (
                "date_fin",
                f"le bail finirait ({_day(row.date_fin)}) avant d'être signé ({_day(signed)})",
            )
        )
    return found
