"""Published reports: runs the EPCI published, read back from their stored results (the
receipt's own figures, never recomputed), restricted to what the reader may see."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from sqlalchemy import Connection, insert, select

from checker import runs
from checker.access import permissions
from checker.access.models import Publication
from checker.access.roles import Actor
from checker.evaluate.results import Result
from checker.evaluate.run import Options, Period
from checker.report.collect import ReportData, collect
from dsl.rulebook import Rulebook

_TABLE = Publication.__table__
_FIELDS = ("rule", "version", "scope", "status", "numerator", "denominator", "rate", "target",
           "shortfall", "unknown", "kind", "bound", "target_source", "versions", "message",
           "parameters", "cumulative", "target_reference", "information")  # fmt: skip


def result_of(document: dict[str, Any]) -> Result:
    """A result back from its stored JSON (the documented result object)."""
    known = {name: document[name] for name in _FIELDS if name in document}
    indicators = {k: v for k, v in document.items() if k not in _FIELDS}
    return Result(**known, indicators=indicators)


def publish(connection: Connection, run_id: int, login: str) -> bool:
    """Publish a run; False when it already was."""
    if connection.scalar(select(_TABLE.c.id).where(_TABLE.c.run_id == run_id)) is not None:
        return False
    connection.execute(insert(Publication).values(
        run_id=run_id, publiee_le=dt.datetime.now(dt.UTC), publiee_par=login))  # fmt: skip
    return True


def published(connection: Connection, actor: Actor) -> list[dict[str, Any]]:
    """The published runs the actor may read (all their territories are the actor's)."""
    listed = []
    rows = connection.execute(select(_TABLE).order_by(_TABLE.c.run_id.desc())).all()
    for row in rows:
        run = runs.load_run(connection, row.run_id)
        results = [result_of(r) for r in json.loads(run.results)]
        # A whole-flow result (no EPCI) belongs to no territory: `can_see_result` decides it.
        if not all(actor.covers_epci(r.scope["epci"]) for r in results if "epci" in r.scope):
            continue
        listed.append({"run": run, "published_at": row.publiee_le, "by": row.publiee_par,
                       "visible": sum(permissions.can_see_result(actor, r.scope) for r in results)})  # fmt: skip
    return listed


def is_published(connection: Connection, run_id: int) -> bool:
    return connection.scalar(select(_TABLE.c.id).where(_TABLE.c.run_id == run_id)) is not None


def visible_results(connection: Connection, actor: Actor, run: Any) -> list[Result]:
    return [r for r in (result_of(d) for d in json.loads(run.results))
            if permissions.can_see_result(actor, r.scope)]  # fmt: skip


def complete_report(connection: Connection, rulebook: Rulebook, run: Any, shown: list[Result],
                    title: str) -> ReportData:  # fmt: skip
    """The full report (HTML, PDF, XLSX, DOCX) of a published run, on its stored results.

    A published report lists no record. What the report computes beside the results (the
    breakdowns by commune and QPV, the data quality annex) comes from the database as it is
    now: it is kept only while the data and the rules are still those of the run, so that
    nothing in the report contradicts the receipt."""
    start, end = dt.date.fromisoformat(run.period_start), dt.date.fromisoformat(run.period_end)
    stored = runs.Receipt(run.id, run.created_at, run.tool_version, run.rulebook_digest,
                          run.data_digest, run.period_start, run.period_end, run.as_of,
                          json.loads(run.options), run.hash)  # fmt: skip
    unchanged = (run.data_digest == runs.data_digest(connection)
                 and run.rulebook_digest == rulebook.digest)  # fmt: skip
    data = collect(connection, rulebook, Period(start, end), Options(), shown, stored,
                   title if unchanged else title + " — données modifiées depuis : répartitions "
                   "et qualité des données omises", [], stem=f"rapport-publie-{run.id}")  # fmt: skip
    data.listings = {}
    if not unchanged:
        data.breakdowns, data.imports, data.missing, data.data_until = [], [], [], None
    return data


def receipt_of(run: Any) -> dict[str, Any]:
    return {
        "run_id": run.id, "created_at": run.created_at, "tool_version": run.tool_version,
        "rulebook_digest": run.rulebook_digest, "data_digest": run.data_digest,
        "period": {"start": run.period_start, "end": run.period_end}, "as_of": run.as_of,
        "options": json.loads(run.options), "hash": run.hash,
    }  # fmt: skip
