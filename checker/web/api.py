"""The JSON API for scripts: Bearer tokens, the same permissions and data as the pages."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Query, Request, UploadFile
from fastapi.responses import JSONResponse, Response, StreamingResponse
from starlette.concurrency import run_in_threadpool

from checker.access.roles import Actor
from checker.web import imports, services
from checker.web.context import api_actor, transaction
from checker.web.pages_runs import runs_document

_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "Jeton absent, inconnu ou expiré."},
    403: {"description": "Hors des droits du compte (message en français dans `detail`)."},
    400: {"description": "Demande refusée (paramètre illisible, règle inconnue…)."},
}
router = APIRouter(prefix="/api", tags=["API"], responses=_ERRORS)


@router.get("/results", summary="Résultats d'une année (JSON de mixite check --format json)")
def results(request: Request, year: Annotated[int, Query(description="Année vérifiée.")],
            bailleur: Annotated[str | None, Query(description="SIREN d'un bailleur.")] = None,
            epci: Annotated[str | None, Query(description="SIREN d'un EPCI.")] = None,
            au: Annotated[str | None, Query(description="Situation à cette date (AAAA-MM-JJ).")] = None,
            ) -> dict[str, Any]:  # fmt: skip
    """Le document JSON de `mixite check --format json` (`schema_version`, `receipt`,
    `results`), limité aux résultats que le compte peut voir. Les résultats sont lus sans
    enregistrer d'exécution : `receipt.run_id` vaut `null`."""
    with transaction(request) as connection:
        actor = api_actor(request, connection)
        year, to_date = services.parse_to_date(au, year)
        return services.results_document(request, connection, actor, year, to_date, bailleur, epci)


@router.get("/explain/{rule_id}", summary="Les enregistrements derrière un résultat",
            response_class=StreamingResponse,
            responses={200: {"content": {"application/json": {}},
                             "description": "`rule`, `year`, `as_of`, `scope`, `columns`, `rows`, "
                                            "`counted`, `qualifying`, `unknown`."}})  # fmt: skip
def explain(request: Request, rule_id: str, year: int,
            scope: Annotated[list[str], Query(description="Périmètre, ex. bailleur=912000379 (répétable).")] = [],  # noqa: B006
            au: str | None = None) -> Response:  # fmt: skip
    """Ce que liste `mixite explain` : une ligne par enregistrement compté, pseudonymes
    seulement, avec les raisons. Chaque appel est inscrit au journal des accès."""
    with transaction(request) as connection:
        actor = api_actor(request, connection)
        year, to_date = services.parse_to_date(au, year)
        found = services.drilldown(request, connection, actor, rule_id, year, to_date,
                                   services.parse_scope(scope))  # fmt: skip
        slices = services.drilldown_slices(request, found, connection)
        return services.spooled(services.drilldown_json_pieces(found, slices), "application/json")


@router.post("/imports", summary="Importer un lot (archive zip)")
async def import_bundle(request: Request,
                        bundle: Annotated[UploadFile, File(description="Le lot : un .zip des fichiers.")]
                        ) -> JSONResponse:  # fmt: skip
    """L'import de `mixite import` : tout ou rien. Refusé : 422 et la liste des problèmes
    localisés (fichier, ligne, colonne, message) ; rien n'est écrit."""

    def who() -> Actor:
        with transaction(request) as connection:
            return api_actor(request, connection)

    actor = await run_in_threadpool(who)
    outcome = await imports.run_import(request, actor, [bundle])
    if outcome.result is None:
        return JSONResponse({
            "detail": f"Import refusé : {len(outcome.problems)} problème(s) ; rien n'a été écrit.",
            "problems": [{"file": p.file, "line": p.line, "column": p.column, "message": p.message}
                         for p in outcome.problems],
        }, status_code=422)  # fmt: skip
    result = outcome.result
    return JSONResponse({
        "batch_id": result.batch_id,
        "already_imported": result.already_imported_at is not None,
        "counts": {label: vars(count) for label, count in result.counts.items()},
        "files": [{"name": f.name, "role": f.role, "rows": f.rows} for f in result.files],
    }, status_code=201 if result.batch_id is not None else 200)  # fmt: skip


@router.get("/runs", summary="Les exécutions enregistrées (reçus)")
def list_runs(request: Request) -> list[dict[str, Any]]:
    """Les reçus des exécutions que le compte peut voir (celles de ses territoires)."""
    with transaction(request) as connection:
        actor = api_actor(request, connection)
        return runs_document(request, connection, actor)
