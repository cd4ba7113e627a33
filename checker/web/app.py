"""The ASGI application: FastAPI for routing, the JSON API and its OpenAPI document; Jinja2
pages rendered on the server, no JavaScript."""

from __future__ import annotations

import logging
from importlib.resources import files

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from checker import __version__
from checker.db.engine import busy_database
from checker.errors import MixiteError
from checker.web import (
    api,
    pages_auth,
    pages_data,
    pages_diagnostic,
    pages_publications,
    pages_results,
    pages_runs,
    pages_users,
)
from checker.web.config import WebConfig
from checker.web.context import Denied, NotSignedIn, render
from checker.web.security import CsrfMiddleware
from checker.web.state import AppState

logger = logging.getLogger("mixite.web")

API_DESCRIPTION = """API de mixite pour les scripts : mêmes droits que l'application web.

Authentification : en-tête `Authorization: Bearer <jeton>` (jeton créé par
`mixite users token IDENTIFIANT`). Sans jeton valide : 401. Hors des droits du compte : 403,
avec un message en français dans `detail`."""


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def create_app(config: WebConfig) -> FastAPI:
    app = FastAPI(
        title="mixite",
        version=__version__,
        description=API_DESCRIPTION,
        openapi_url="/api/openapi.json",
        docs_url=None,  # the interactive page would load scripts from a CDN
        redoc_url=None,
    )
    app.state.mixite = AppState(config)
    app.add_middleware(CsrfMiddleware, secret=lambda: app.state.mixite.secret,
                       max_bytes=config.max_upload_bytes)  # fmt: skip
    app.mount("/static", StaticFiles(directory=str(files("checker.web") / "static")), name="static")
    for router in (pages_auth.router, pages_results.router, pages_data.router,
                   pages_runs.router, pages_publications.router, pages_users.router, pages_diagnostic.router, api.router):  # fmt: skip
        app.include_router(router)

    @app.exception_handler(NotSignedIn)
    async def not_signed_in(request: Request, _: NotSignedIn) -> Response:
        if _wants_json(request):
            return JSONResponse(
                {"detail": "Authentification requise : en-tête Authorization: Bearer <jeton>."},
                status_code=401,
                headers={"WWW-Authenticate": "Bearer"},
            )
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        from urllib.parse import quote

        return RedirectResponse(f"/connexion?suite={quote(target)}", status_code=303)

    @app.exception_handler(Denied)
    async def denied(request: Request, error: Denied) -> Response:
        if _wants_json(request):
            return JSONResponse({"detail": error.reason}, status_code=403)
        return render(request, "erreur.html",
                      {"titre": "Accès refusé", "message": error.reason}, status_code=403)  # fmt: skip

    @app.exception_handler(MixiteError)
    async def refused(request: Request, error: MixiteError) -> Response:
        if _wants_json(request):
            return JSONResponse({"detail": error.message, "conseil": error.hint}, status_code=400)
        return render(request, "erreur.html", {"titre": "Demande refusée",
                      "message": error.message, "conseil": error.hint}, status_code=400)  # fmt: skip

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, error: RequestValidationError) -> Response:
        problems = [
            f"{'.'.join(str(p) for p in item['loc'][1:]) or 'requête'} : valeur absente ou invalide"
            for item in error.errors()
        ]
        message = "Paramètres invalides : " + " ; ".join(problems) + "."
        if _wants_json(request):
            return JSONResponse({"detail": message}, status_code=422)
        return render(request, "erreur.html", {"titre": "Demande refusée", "message": message},
                      status_code=422)  # fmt: skip

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException) -> Response:
        message = "Page introuvable." if error.status_code == 404 else str(error.detail)
        if _wants_json(request):
            return JSONResponse({"detail": message}, status_code=error.status_code)
        return render(request, "erreur.html", {"titre": message, "message": message},
                      status_code=error.status_code)  # fmt: skip

    @app.exception_handler(Exception)
    async def unexpected(request: Request, error: Exception) -> Response:
        busy = busy_database(error)
        if busy is not None:  # a SQLite file another command writes to: try again later
            if _wants_json(request):
                return JSONResponse({"detail": busy.message, "conseil": busy.hint}, status_code=503)
            return render(request, "erreur.html", {"titre": "Base occupée",
                          "message": busy.message, "conseil": busy.hint}, status_code=503)  # fmt: skip
        logger.exception("erreur interne sur %s", request.url.path)
        message = ("Erreur interne inattendue : l'opération n'a pas abouti et rien n'a été "
                   "modifié. Le détail est dans le journal du serveur.")  # fmt: skip
        if _wants_json(request):
            return JSONResponse({"detail": message}, status_code=500)
        return render(request, "erreur.html", {"titre": "Erreur interne", "message": message},
                      status_code=500)  # fmt: skip

    return app
