"""The same household in attributions.csv and relogements.csv (issue #14).

A row of relogements.csv that gives a `numero_unique` says the household was rehoused through an
attribution: its pseudonym (`relogement.menage_sne`) is the attribution's `menage`, and the
attribution is on the destination dwelling, decided on or before the rehousing date. When the
attributions known for the destination's bailleur cover that date (from their first decision to
their last decision or lease) and no such attribution exists, or the attribution found is not marked `relogement = anru` (the mark that counts the
household among the rehoused of CCH L441-1), the two files contradict each other: a located
error, and the import is refused.

An attribution marked `anru` with no rehoused household behind it is only reported: the
household may come from an NPNRU operation the territory's relogements.csv does not follow
(another EPCI's). `orcod` attributions are not looked for: relogements.csv follows NPNRU
operations only (peuplement.md).

Run inside the import's transaction, once every file's rows are written, as a few set-based
queries over the tables (the bundle's rows and those already stored); the bundle's line numbers
only locate what the queries return.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, and_, exists, func, or_, select

from checker.db import models
from checker.db.codes import STATUTS_RELOGES
from checker.ingest.problems import ProblemLog

_CHUNK = 500  # households per IN list
_SHOWN = 10  # lines quoted in a notice


@dataclass
class BundleFile:
    """One file of the bundle: its name, the line of each row by natural key, its columns."""

    name: str
    lines: Mapping[tuple[Any, ...], int]  # attributions: packed (packed_keys.AttributionLines)
    column: Callable[[str], int | None]
    # A first load (first_load.py): every stored row of the table is the file's, and its line
    # is found from its id; `lines` is then empty (no key of the file was remembered).
    stored_line: Callable[[int], int] | None = None

    def line_of(self, key: tuple[Any, ...], row_id: int) -> int | None:
        """The line of the stored row `row_id`, whose natural key is `key`, when the row is
        this file's (None: a row stored by an earlier import)."""
        if self.stored_line is not None:
            return self.stored_line(row_id)
        return self.lines.get(key)


def _day(value: Any) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))


def _fr(value: Any) -> str:
    return f"{_day(value):%d/%m/%Y}"


def check_links(
    connection: Connection,
    relogements: BundleFile,
    attributions: BundleFile | None,
    problems: ProblemLog,
) -> list[str]:
    """Log the contradictions between the two files; return the notices (French)."""
    _rehousings_without_attribution(connection, relogements, attributions, problems)
    _attributions_not_marked(connection, relogements, attributions, problems)
    if attributions is None:
        return []
    return _unlinked_attributions(connection, attributions)


def _rehousings_without_attribution(
    connection: Connection,
    relogements: BundleFile,
    attributions: BundleFile | None,
    problems: ProblemLog,
) -> None:
    r = models.Relogement.__table__
    a = models.Attribution.__table__
    logement = models.Logement.__table__
    spans = (
        select(
            a.c.bailleur_siren,
            func.min(a.c.date_decision).label("lo"),
            # A lease follows its decision: the last rehousings of a year are after its last
            # decision but on or before its last lease.
            func.max(func.coalesce(a.c.date_bail, a.c.date_decision)).label("hi"),
        )
        .group_by(a.c.bailleur_siren)
        .subquery()
    )
    linked = exists().where(
        a.c.menage == r.c.menage_sne,
        a.c.rpls_id == r.c.rpls_id_destination,
        a.c.date_decision <= r.c.date_relogement,
    )
    query = (
        select(
            r.c.operation_npnru,
            r.c.menage,
            r.c.menage_sne,
            r.c.rpls_id_destination,
            r.c.date_relogement,
            spans.c.bailleur_siren,
            spans.c.lo,
            spans.c.hi,
        )
        .join(logement, logement.c.rpls_id == r.c.rpls_id_destination)
        .join(spans, spans.c.bailleur_siren == logement.c.bailleur_siren)
        .where(
            r.c.menage_sne.is_not(None),
            r.c.statut.in_(STATUTS_RELOGES),
            r.c.date_relogement.between(spans.c.lo, spans.c.hi),
            ~linked,
        )
    )
    broken = [row for row in connection.execute(query) if (row[0], row[1]) in relogements.lines]
    if not broken:
        return
    # What the household does have, to say what is wrong rather than only that something is.
    known: dict[str, list[tuple[str, dt.date]]] = {}
    for household, rpls_id, decided in _attributions_of(connection, {row[2] for row in broken}):
        known.setdefault(household, []).append((rpls_id, _day(decided)))
    here = attributions.name if attributions is not None else "ce lot"
    for operation, menage, household, destination, rehoused, bailleur, lo, hi in broken:
        line = relogements.lines[(operation, menage)]
        own = sorted(known.get(household, []), key=lambda item: item[1])
        on_destination = [decided for rpls_id, decided in own if rpls_id == destination]
        if on_destination:
            column = "date_relogement"
            message = (
                f"relogé le {_fr(rehoused)} dans le logement {destination}, avant la décision "
                f"qui le lui attribue ({on_destination[0]:%d/%m/%Y})"
            )
        elif own:
            column = "rpls_id_destination"
            others = ", ".join(f"{rpls_id} (décision du {d:%d/%m/%Y})" for rpls_id, d in own[:3])
            message = (
                f"le ménage de ce numéro unique a reçu en attribution le logement {others}, "
                f"pas le logement de destination {destination}"
            )
        else:
            column = "numero_unique"
            message = (
                f"relogé le {_fr(rehoused)} par une attribution (numéro unique renseigné), mais "
                f"aucune attribution de ce ménage n'est connue, ni dans {here} ni dans la base, "
                f"alors que les attributions connues du bailleur {bailleur} couvrent la "
                f"période du {_fr(lo)} au {_fr(hi)}"
            )
        problems.add(relogements.name, line, relogements.column(column), message)


def _attributions_of(
    connection: Connection, households: Iterable[str]
) -> Iterable[tuple[str, str, Any]]:
    a = models.Attribution.__table__
    wanted = sorted(households)
    for start in range(0, len(wanted), _CHUNK):
        chunk = wanted[start : start + _CHUNK]
        query = select(a.c.menage, a.c.rpls_id, a.c.date_decision).where(a.c.menage.in_(chunk))
        yield from ((row[0], row[1], row[2]) for row in connection.execute(query))


def _attributions_not_marked(
    connection: Connection,
    relogements: BundleFile,
    attributions: BundleFile | None,
    problems: ProblemLog,
) -> None:
    r = models.Relogement.__table__
    a = models.Attribution.__table__
    query = (
        select(
            r.c.operation_npnru,
            r.c.menage,
            a.c.rpls_id,
            a.c.menage,
            a.c.date_decision,
            a.c.relogement,
            a.c.id,
        )
        .join(
            a,
            and_(
                a.c.menage == r.c.menage_sne,
                a.c.rpls_id == r.c.rpls_id_destination,
                a.c.date_decision <= r.c.date_relogement,
            ),
        )
        .where(
            r.c.statut.in_(STATUTS_RELOGES),
            or_(a.c.relogement.is_(None), a.c.relogement != "anru"),
        )
    )
    for operation, menage, rpls_id, household, decided, mark, row_id in connection.execute(
        query
    ).all():
        said = "aucun relogement" if mark is None else f"relogement {mark}"
        attribution_key = (rpls_id, household, _day(decided))
        line = None if attributions is None else attributions.line_of(attribution_key, row_id)
        if attributions is not None and line is not None:
            where = relogements.name
            if (operation, menage) in relogements.lines:
                where += f", ligne {relogements.lines[(operation, menage)]}"
            problems.add(
                attributions.name,
                line,
                attributions.column("relogement"),
                f"{said}, alors que ce ménage est relogé dans ce logement au titre de "
                f"l'opération NPNRU {operation} ({where}) : indiquez anru",
            )
        elif (operation, menage) in relogements.lines:
            problems.add(
                relogements.name,
                relogements.lines[(operation, menage)],
                relogements.column("numero_unique"),
                f"l'attribution de ce ménage sur le logement {rpls_id} (décision du "
                f"{_fr(decided)}), déjà importée, porte « {said} » et non relogement anru",
            )


def _unlinked_attributions(connection: Connection, attributions: BundleFile) -> list[str]:
    r = models.Relogement.__table__
    a = models.Attribution.__table__
    rehoused = exists().where(
        r.c.menage_sne == a.c.menage,
        r.c.rpls_id_destination == a.c.rpls_id,
        r.c.statut.in_(STATUTS_RELOGES),
        r.c.date_relogement >= a.c.date_decision,
    )
    query = select(a.c.rpls_id, a.c.menage, a.c.date_decision, a.c.id).where(
        a.c.relogement == "anru", ~rehoused
    )
    found = (
        attributions.line_of((rpls_id, menage, _day(day)), row_id)
        for rpls_id, menage, day, row_id in connection.execute(query).all()
    )
    lines = sorted(line for line in found if line is not None)
    if not lines:
        return []
    shown = ", ".join(map(str, lines[:_SHOWN])) + (" …" if len(lines) > _SHOWN else "")
    shown = shown.removesuffix(" …") + (
        f" et {len(lines) - _SHOWN} autre(s)" if len(lines) > _SHOWN else ""
    )
    return [
        f"{attributions.name} : {len(lines)} attribution(s) marquée(s) relogement anru sans "
        "ménage relogé correspondant dans les relogements NPNRU (même numéro unique, même "
        f"logement, relogé après la décision) : ligne(s) {shown}. Elles comptent parmi les "
        "relogés ; si le ménage vient d'une opération suivie par le territoire, complétez son "
        "numéro unique dans relogements.csv."
    ]
