"""The population of leases in progress, for the triennial occupation review (CCH L442-5-2).

For each lease in progress at the control date: the last third anniversary of its signature
(3, 6, 9… years) on or before that date — the review that should have happened by then — and
the anniversary before it, after which that review falls. Anniversaries are computed from the
year, month and day, the same way on SQLite and PostgreSQL: a lease signed on 29 February
reaches its anniversary on 1 March of a common year.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    Date,
    Integer,
    Subquery,
    case,
    cast,
    extract,
    func,
    literal,
    or_,
    select,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from checker.db.codes import LINK_PREFIX
from checker.db.tables import table

_REVIEW_EVERY_YEARS = 3  # "tous les trois ans à compter de la date de signature" (L442-5-2)


class _day_from_parts(FunctionElement[dt.date]):  # noqa: N801 (an SQL function's name)
    """The date of (year, month, day), a day past the month's end rolling into the next."""

    type = Date()
    inherit_cache = True
    name = "day_from_parts"


@compiles(_day_from_parts, "sqlite")
def _day_from_parts_sqlite(element: _day_from_parts, compiler: SQLCompiler, **kw: Any) -> str:
    year, month, day = (compiler.process(arg, **kw) for arg in element.clauses)
    return f"date(printf('%04d-%02d-01', {year}, {month}), '+' || ({day} - 1) || ' days')"


@compiles(_day_from_parts, "postgresql")
def _day_from_parts_postgresql(element: _day_from_parts, compiler: SQLCompiler, **kw: Any) -> str:
    year, month, day = (compiler.process(arg, **kw) for arg in element.clauses)
    return f"(make_date({year}, {month}, 1) + ({day} - 1))"


def _part(field: str, day: Any) -> Any:
    return cast(extract(field, day), Integer)


def baux(epci_sirens: list[str], period: tuple[dt.date, dt.date]) -> Subquery:
    bail = table("bail")
    logement = table("logement")
    commune = table("commune")
    epci = table("epci")
    control = literal(period[1], Date)
    signed = bail.c.date_signature
    year, month, day = (_part(field, signed) for field in ("year", "month", "day"))
    before_anniversary = (_part("month", control) * 100 + _part("day", control)) < (
        month * 100 + day
    )
    full_years = _part("year", control) - year - case((before_anniversary, 1), else_=0)
    # Integer division on both databases; full_years >= 0 for a lease signed by the control date.
    cycles = full_years // _REVIEW_EVERY_YEARS
    due = _day_from_parts(year + cycles * _REVIEW_EVERY_YEARS, month, day)
    previous = _day_from_parts(year + (cycles - 1) * _REVIEW_EVERY_YEARS, month, day)
    zone = func.upper(func.replace(commune.c.zone_abc, " ", ""))
    query = (
        select(
            bail.c.rpls_id.label("rpls_id"),
            logement.c.bailleur_siren.label("bailleur"),
            logement.c.commune_insee.label("commune"),
            logement.c.financement.label("financement"),
            case(
                (zone == "ABIS", "Abis"),
                *((zone == value, value) for value in ("A", "B1", "B2", "C")),
                else_=None,
            ).label("zone_abc"),
            signed.label("date_signature"),
            bail.c.date_dernier_examen.label("date_dernier_examen"),
            func.nullif(bail.c.situations, "").label("situations"),
            bail.c.date_transmission_caleol.label("date_transmission_caleol"),
            case((cycles >= 1, due), else_=None).label("echeance_examen"),
            case((cycles >= 1, previous), else_=None).label("debut_cycle"),
            commune.c.epci_siren.label("epci"),
            control.label("date_controle"),
            control.label("fact_date"),
            *(column.label(LINK_PREFIX + column.name) for column in epci.c),
        )
        .select_from(
            bail.join(logement, logement.c.rpls_id == bail.c.rpls_id)
            .join(commune, commune.c.insee == logement.c.commune_insee)
            .join(epci, epci.c.siren == commune.c.epci_siren)
        )
        .where(
            commune.c.epci_siren.in_(epci_sirens),
            signed <= control,
            or_(bail.c.date_fin.is_(None), bail.c.date_fin >= control),
        )
    )
    return query.subquery("baux")
