"""Published reports: the list, the downloads, and publishing a run."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from checker import runs
from checker.access import permissions
from checker.errors import MixiteError
from checker.report import json_report
from checker.report.names import Names
from checker.report.outputs import COMPLETE, render_complete
from checker.report.tabular import to_csv, to_markdown
from checker.web import publications
from checker.web.context import log, page_actor, render, require, state, transaction
from checker.web.pages_results import REPORT_FORMATS, restrict_report
from checker.web.pages_runs import run_epcis

router = APIRouter(include_in_schema=False)
FORMATS = REPORT_FORMATS  # every format of `mixite check`


@router.get("/publications")
def publications_page(request: Request) -> Response:
    with transaction(request) as connection:
        actor = page_actor(request, connection)
        require(request, connection, actor, permissions.can(actor, "lire_publications"),
                "telecharger_publication", "rapports publiés",
                "Votre compte ne permet pas de lire les rapports publiés.")  # fmt: skip
        listed = publications.published(connection, actor)
    return render(request, "publications.html", {"publications": listed, "formats": FORMATS})


@router.get("/publications/{run_id}.{fmt}")
def publication_download(request: Request, run_id: int, fmt: str) -> Response:
    if fmt not in FORMATS:
        raise MixiteError(f"Format inconnu : {fmt}.", "Formats : " + ", ".join(FORMATS))
    if fmt == "pdf":
        from checker.report.pdf import find_chromium

        find_chromium()  # before any work: the PDF needs the browser on the server
    with transaction(request) as connection:
        actor = page_actor(request, connection)
        run = runs.load_run(connection, run_id)
        allowed = (
            run is not None
            and permissions.can(actor, "lire_publications")
            and publications.is_published(connection, run_id)
            and all(actor.covers_epci(epci) for epci in run_epcis(run))
        )
        require(request, connection, actor, allowed, "telecharger_publication",
                f"rapport publié n° {run_id}", "Ce rapport n'est pas publié pour votre compte.")  # fmt: skip
        shown = publications.visible_results(connection, actor, run)
        receipt = publications.receipt_of(run)
        rulebook = state(request).rulebook(connection)
        names = Names.load(connection)
        year = run.period_end[:4]
        title = f"Contrôle des attributions {year} (exécution n° {run_id})"
        body: str | bytes
        if fmt in COMPLETE:
            data = publications.complete_report(connection, rulebook, run, shown, title)
            restrict_report(actor, data)
            body = render_complete(data, fmt)
        elif fmt == "json":
            body = json_report.dumps(json_report.document(shown, receipt))
        elif fmt == "md":
            body = to_markdown(shown, receipt, title, rulebook, names)
        else:
            body = to_csv(shown, rulebook, names, int(year))
        log(request, connection, actor, "telecharger_publication",
            f"rapport publié n° {run_id} ({fmt})")  # fmt: skip
    media, _ = FORMATS[fmt]
    return Response(body, media_type=media, headers={
        "Content-Disposition": f'attachment; filename="rapport-publie-{run_id}.{fmt}"'})  # fmt: skip


@router.post("/executions/{run_id}/publier")
def publish(request: Request, run_id: int) -> Response:
    with transaction(request) as connection:
        actor = page_actor(request, connection)
        run = runs.load_run(connection, run_id)
        if run is None:
            raise MixiteError(f"Aucune exécution n° {run_id}.")
        allowed = permissions.can(actor, "publier") and all(
            actor.covers_epci(epci) for epci in run_epcis(run))  # fmt: skip
        require(request, connection, actor, allowed, "publier_rapport", f"exécution n° {run_id}",
                "Votre compte ne permet pas de publier ce rapport.")  # fmt: skip
        if publications.publish(connection, run_id, actor.login):
            log(request, connection, actor, "publier_rapport", f"exécution n° {run_id}")
    return RedirectResponse("/publications", status_code=303)
