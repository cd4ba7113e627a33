"""Runs and their receipts: list, detail, replay, and the audit of the chain."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import Connection

from checker import runs
from checker.access import permissions
from checker.access.roles import Actor
from checker.checking import evaluate
from checker.errors import MixiteError
from checker.evaluate.run import Options, Period
from checker.report import json_report
from checker.web import services
from checker.web.context import log, page_actor, render, require, state, transaction
from checker.web.publications import is_published

router = APIRouter(include_in_schema=False)


def run_epcis(run: Any) -> set[str]:
    """The territories of a run's results (a whole-flow result, without EPCI, names none: it
    sums the territories the run's other results name)."""
    return {r["scope"]["epci"] for r in json.loads(run.results) if "epci" in r["scope"]}


def visible_runs(connection: Connection, actor: Actor) -> list[Any]:
    """Runs whose every territory is one of the actor's."""
    return [run for run in runs.list_runs(connection)
            if all(actor.covers_epci(epci) for epci in run_epcis(run))]  # fmt: skip


def runs_document(request: Request, connection: Connection, actor: Actor) -> list[dict[str, Any]]:
    require(request, connection, actor, permissions.can(actor, "lire_executions"),
            "consulter_executions", "exécutions",
            "Votre compte ne permet pas de consulter les exécutions.")  # fmt: skip
    return [{
        "run_id": run.id, "created_at": run.created_at, "tool_version": run.tool_version,
        "period": {"start": run.period_start, "end": run.period_end}, "as_of": run.as_of,
        "options": json.loads(run.options), "rulebook_digest": run.rulebook_digest,
        "data_digest": run.data_digest, "hash": run.hash, "previous_hash": run.previous_hash,
    } for run in visible_runs(connection, actor)]  # fmt: skip


@router.get("/executions")
def runs_page(request: Request) -> Response:
    with transaction(request) as connection:
        actor = page_actor(request, connection)
        listed = runs_document(request, connection, actor)
        year, _ = services.default_year(connection)
    return render(request, "executions.html", {"executions": list(reversed(listed)),
                                               "annee": year, "audit": None})  # fmt: skip


@router.post("/executions")
def record(request: Request, annee: int = Form(...)) -> Response:
    with transaction(request, check=True) as connection:
        actor = page_actor(request, connection)
        require(request, connection, actor, permissions.can(actor, "enregistrer_execution"),
                "enregistrer_execution", f"année {annee}",
                "Votre compte ne permet pas d'enregistrer une exécution.")  # fmt: skip
        year, to_date = services.parse_to_date(None, annee)
        # Evaluated again with its receipt (not the cached results): see `recorded_check`.
        receipt = state(request).recorded_check(connection, year, to_date).receipt
        log(request, connection, actor, "enregistrer_execution", f"exécution n° {receipt.run_id}")
    # Committed: its head goes to the heads file beside the key, as after `mixite check`.
    runs.keep_head(state(request).config.db_url, receipt)
    return RedirectResponse(f"/executions/{receipt.run_id}", status_code=303)


def _run(request: Request, connection: Connection, actor: Actor, run_id: int) -> Any:
    require(request, connection, actor, permissions.can(actor, "lire_executions"),
            "consulter_executions", f"exécution n° {run_id}",
            "Votre compte ne permet pas de consulter les exécutions.")  # fmt: skip
    run = runs.load_run(connection, run_id)
    if run is None:
        raise MixiteError(f"Aucune exécution n° {run_id}.")
    require(request, connection, actor, all(actor.covers_epci(e) for e in run_epcis(run)),
            "consulter_executions", f"exécution n° {run_id}",
            "Cette exécution porte sur un territoire qui n'est pas l'un des vôtres.")  # fmt: skip
    return run


@router.get("/executions/{run_id}")
def run_page(request: Request, run_id: int) -> Response:
    with transaction(request) as connection:
        actor = page_actor(request, connection)
        run = _run(request, connection, actor, run_id)
        published = is_published(connection, run_id)
    return render(request, "execution.html", {"run": run, "options": json.loads(run.options),
                                              "resultats": json.loads(run.results),
                                              "rejeu": None, "publiee": published})  # fmt: skip


@router.post("/executions/{run_id}/rejouer")
def replay(request: Request, run_id: int) -> Response:
    """`mixite runs replay`: recompute and compare with the stored results."""
    with transaction(request) as connection:
        actor = page_actor(request, connection)
        run = _run(request, connection, actor, run_id)
        options = json.loads(run.options)
        period = Period(
            dt.date.fromisoformat(run.period_start), dt.date.fromisoformat(run.period_end)
        )
        as_of = dt.date.fromisoformat(run.as_of) if run.as_of else None
        rulebook = state(request).rulebook(connection)
        results = evaluate(connection, rulebook, period,
                           Options(options.get("epci"), options.get("bailleur")), as_of)  # fmt: skip
        fresh = {
            runs.canonical([r["rule"], r["scope"]]): r
            for r in runs.as_stored(json_report.results_block(results), run.results)
        }
        stored = {runs.canonical([r["rule"], r["scope"]]): r for r in json.loads(run.results)}
        differences = [(key, stored.get(key), fresh.get(key)) for key in sorted(set(stored) | set(fresh))
                       if stored.get(key) != fresh.get(key)]  # fmt: skip
        causes = []
        if rulebook.digest != run.rulebook_digest:
            causes.append("les règles ont changé depuis cette exécution")
        if runs.data_digest(connection) != run.data_digest:
            causes.append("les données ont changé depuis cette exécution (nouvel import)")
        log(request, connection, actor, "rejouer_execution",
            f"exécution n° {run_id} : {len(differences)} différence(s)")  # fmt: skip
        published = is_published(connection, run_id)
    return render(request, "execution.html", {
        "run": run, "options": options, "resultats": json.loads(run.results),
        "rejeu": {"differences": [(k, runs.canonical(a), runs.canonical(b)) for k, a, b in differences],
                  "causes": causes, "total": len(fresh)},
        "publiee": published,
    })  # fmt: skip


@router.post("/executions/verifier")
def audit(request: Request) -> Response:
    """`mixite audit verify`: the chain of receipts, none edited, none deleted."""
    with transaction(request) as connection:
        actor = page_actor(request, connection)
        require(request, connection, actor, permissions.can(actor, "lire_executions"),
                "verifier_chaine", "chaîne des exécutions",
                "Votre compte ne permet pas de vérifier les exécutions.")  # fmt: skip
        count, problems = runs.verify_chain(connection)
        log(request, connection, actor, "verifier_chaine",
            f"{count} exécution(s), {len(problems)} atteinte(s)")  # fmt: skip
        listed = runs_document(request, connection, actor)
        year, _ = services.default_year(connection)
    return render(request, "executions.html", {
        "executions": list(reversed(listed)), "annee": year,
        "audit": {"total": count, "problemes": [p.message for p in problems]},
    })  # fmt: skip
