"""The data of each page and of its JSON twin, computed once, after the permission check."""

from __future__ import annotations

import datetime as dt
import json
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO

from fastapi import Request
from fastapi.responses import Response, StreamingResponse
from sqlalchemy import Connection

from checker import runs
from checker.access import permissions
from checker.access.roles import Actor
from checker.checking import options_document
from checker.errors import MixiteError
from checker.evaluate.explain import Explanation, explainer
from checker.evaluate.results import Result
from checker.evaluate.run import Options, Period
from checker.report import json_report
from checker.report.collect import years_held
from checker.web.context import Denied, log, require, state

MAX_SCOPE_KEYS = 7
RECORDS_PER_PAGE = 100  # on a records page; its CSV, like the API, holds them all


def parse_to_date(text: str | None, year: int | None) -> tuple[int, dt.date | None]:
    """(year, situation date) from the query: `au` must fall within `annee`."""
    to_date = None
    if text:
        try:
            to_date = dt.date.fromisoformat(text)
        except ValueError:
            raise MixiteError(
                f"Date illisible : « {text} ».", "Forme attendue : AAAA-MM-JJ"
            ) from None
    if year is None:
        if to_date is None:
            raise MixiteError("Indiquez l'année : annee=AAAA.")
        year = to_date.year
    if not 1990 <= year <= 2100:
        raise MixiteError(f"Année hors des limites : {year}.")
    if to_date is not None and to_date.year != year:
        raise MixiteError(f"La date {to_date:%d/%m/%Y} n'est pas dans l'année {year}.")
    return year, to_date


def parse_scope(items: list[str]) -> dict[str, str]:
    """`bailleur=912000379` items into a scope; refuses an item that names nothing."""
    from checker.evaluate.run import DIMENSION_COLUMNS

    scope: dict[str, str] = {}
    for item in items[:MAX_SCOPE_KEYS]:
        key, sep, value = item.partition("=")
        key, value = key.strip(), value.strip()
        if not sep or not value:
            raise MixiteError(f"Périmètre mal écrit : « {item} ».", "Forme attendue : cle=valeur")
        if key not in DIMENSION_COLUMNS:
            raise MixiteError(f"Périmètre inconnu : « {key} ».",
                              "Clés possibles : " + ", ".join(DIMENSION_COLUMNS))  # fmt: skip
        scope[key] = value
    return scope


def default_year(connection: Connection) -> tuple[int, dt.date | None]:
    """The latest year held; up to today when it is the current year."""
    held = years_held(connection)
    today = dt.date.today()
    year = held[-1] if held else today.year
    return year, (today if year == today.year else None)


def visible_results(request: Request, connection: Connection, actor: Actor, year: int,
                    to_date: dt.date | None, bailleur: str | None = None,
                    epci: str | None = None, found: list[Result] | None = None) -> list[Result]:  # fmt: skip
    """The results of `mixite check` for the period that the actor may see: among `found`,
    or the cached results of the period."""
    require_results_access(request, connection, actor, year, to_date, bailleur, epci)
    if found is None:
        found = state(request).results(connection, year, to_date)
    shown = [r for r in found if permissions.can_see_result(actor, r.scope)]
    if bailleur is not None:  # as `mixite check --bailleur`: its scopes and the territory's
        shown = [r for r in shown if r.scope.get("bailleur", bailleur) == bailleur]
    if epci is not None:
        # A whole-flow result stays beside the EPCI's own: it is the verdict of its réservataires.
        shown = [r for r in shown if r.scope.get("epci", epci) == epci]
    return shown


def require_results_access(request: Request, connection: Connection, actor: Actor, year: int,
                           to_date: dt.date | None, bailleur: str | None = None,
                           epci: str | None = None) -> None:  # fmt: skip
    """Refuse (logged, 403) an actor who may not read these results."""
    what = f"résultats {year}" + (f" au {to_date:%d/%m/%Y}" if to_date else "")
    require(request, connection, actor, permissions.can(actor, "lire_resultats"),
            "consulter_resultats", what, "Votre compte ne permet pas de lire les résultats.")  # fmt: skip
    if bailleur is not None:
        require(request, connection, actor,
                actor.role != "bailleur" or bailleur == actor.bailleur,
                "consulter_resultats", f"{what}, bailleur {bailleur}",
                "Vous ne pouvez consulter que les résultats de votre propre organisme.")  # fmt: skip
    if epci is not None:
        require(request, connection, actor, actor.covers_epci(epci), "consulter_resultats",
                f"{what}, EPCI {epci}", "Ce territoire n'est pas l'un des vôtres.")  # fmt: skip


def unrecorded_receipt(connection: Connection, year: int, to_date: dt.date | None,
                       bailleur: str | None, epci: str | None,
                       rulebook_digest: str) -> dict[str, Any]:  # fmt: skip
    """What a receipt says, for results read without recording a run (`run_id` null)."""
    from checker import __version__

    period = Period.year(year, to_date)
    return {
        "run_id": None,
        "created_at": None,
        "tool_version": __version__,
        "rulebook_digest": rulebook_digest,
        "data_digest": runs.data_digest(connection),
        "period": {"start": period.start.isoformat(), "end": period.end.isoformat()},
        "as_of": to_date.isoformat() if to_date else None,
        "options": options_document(period, Options(epci, bailleur), to_date),
        "hash": None,
    }


def results_document(request: Request, connection: Connection, actor: Actor, year: int,
                     to_date: dt.date | None, bailleur: str | None,
                     epci: str | None) -> dict[str, Any]:  # fmt: skip
    """The JSON of `mixite check --format json`, restricted to what the caller may see."""
    shown = visible_results(request, connection, actor, year, to_date, bailleur, epci)
    rulebook = state(request).rulebook(connection)
    receipt = unrecorded_receipt(connection, year, to_date, bailleur, epci, rulebook.digest)
    return json_report.document(shown, receipt)


@dataclass
class Drilldown:
    rule: str
    title: str
    year: int
    to_date: dt.date | None
    scope: dict[str, str]
    # All the records, or a page of them (`first`, `size`) with the whole scope's counts.
    explanation: Explanation
    territories: tuple[str, ...] | None  # a whole-flow figure: the actor's territories only


def drilldown(request: Request, connection: Connection, actor: Actor, rule_id: str, year: int,
              to_date: dt.date | None, scope: dict[str, str], *, first: int = 0,
              size: int = RECORDS_PER_PAGE) -> Drilldown:  # fmt: skip
    """The records behind a result, as `mixite explain` lists them (pseudonyms only): the page
    of `size` records from the `first` (from 0), with the whole scope's counts
    (`AppState.records_page`). Checks the actor's right to see them and logs the access."""
    resource = f"{rule_id} {year} " + ", ".join(f"{k}={v}" for k, v in sorted(scope.items()))
    require(request, connection, actor, permissions.can_see_records(actor, scope),
            "consulter_enregistrements", resource,
            "Votre compte ne permet pas de voir les enregistrements de ce périmètre.")  # fmt: skip
    rulebook = state(request).rulebook(connection)
    if rule_id not in rulebook.rules:
        raise MixiteError(f"Règle inconnue : {rule_id}.")
    territories = permissions.records_territories(actor, scope)
    explanation = state(request).records_page(connection, rule_id, year, to_date, scope,
                                              territories, first, size)  # fmt: skip
    log(request, connection, actor, "consulter_enregistrements",
        f"{resource} ({explanation.counted} enregistrement(s))")  # fmt: skip
    title = rulebook.rules[rule_id].meta.title or rule_id
    return Drilldown(rule_id, title, year, to_date, scope, explanation, territories)


def drilldown_slices(request: Request, found: Drilldown,
                     connection: Connection) -> Iterator[Explanation]:  # fmt: skip
    """Every record of `found`'s scope (and territories), a slice at a time, read on
    `connection` (`Explainer.slices`): for a download written as the records are read."""
    rulebook = state(request).rulebook(connection)
    period = Period.year(found.year, found.to_date)
    return explainer(connection, rulebook, found.rule, period, found.scope).slices(
        found.rule, found.scope, territories=found.territories
    )


def drilldown_json_pieces(found: Drilldown, slices: Iterable[Explanation]) -> Iterator[str]:
    """The API's document of the records behind a result (`rule`, `year`, `as_of`, `scope`,
    `columns`, `rows`, `counted`, `qualifying`, `unknown`) made a slice of records at a time
    (`drilldown_slices`): the columns, the rows and the counts all from that one read."""
    head = {
        "rule": found.rule,
        "year": found.year,
        "as_of": found.to_date.isoformat() if found.to_date else None,
        "scope": dict(sorted(found.scope.items())),
    }
    counted = qualifying = unknown = 0
    separator = ""
    for piece in slices:
        if not separator:
            yield _json(head | {"columns": piece.titles})[:-1] + ',"rows":['
        rows = piece.text_rows()
        if rows:
            yield separator + ",".join(_json(row) for row in rows)
        separator = ","
        counted += piece.counted
        qualifying += piece.qualifying
        unknown += piece.unknown
    counts = {"counted": counted, "qualifying": qualifying, "unknown": unknown}
    yield "]," + _json(counts)[1:]


def spooled(pieces: Iterable[str], media_type: str, filename: str | None = None) -> Response:
    """A text download made a piece at a time (`spooled_file`)."""

    def write(handle: BinaryIO) -> None:
        for piece in pieces:
            handle.write(piece.encode("utf-8"))

    return spooled_file(write, media_type, filename)


def spooled_file(write: Callable[[BinaryIO], None], media_type: str,
                 filename: str | None = None) -> Response:  # fmt: skip
    """A download made whole before it is sent, in an anonymous temporary file (no name on
    disk, gone when closed): the records are read in the request's transaction and the
    connection is given back before the client takes the file, however slowly (a cursor left
    open during the transfer kept SQLite's lock from every write of the application); a
    refusal midway is an error answer, never half a file with a success status; the memory
    holds a slice, whatever the size of the file."""
    spool = tempfile.TemporaryFile()  # noqa: SIM115 (closed by the answer, once sent)
    try:
        write(spool)
        size = spool.tell()
        spool.seek(0)
    except BaseException:
        spool.close()
        raise

    def blocks() -> Iterator[bytes]:
        with spool:
            while block := spool.read(1 << 16):
                yield block

    headers = {"Content-Length": str(size)}
    if filename is not None:
        headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return StreamingResponse(blocks(), media_type=media_type, headers=headers)


def _json(value: Any) -> str:
    """JSON as FastAPI's JSONResponse writes it (UTF-8 text, no spaces)."""
    return json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":"))


def deny_unless(allowed: bool, reason: str) -> None:
    if not allowed:
        raise Denied(reason)
