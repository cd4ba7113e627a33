"""Signing in and out. Ten failed attempts within a minute, for a login or from an address,
slow every further attempt down (1 s, then doubling, up to 30 s)."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from checker.access import accounts, journal
from checker.access.accounts import Account
from checker.web.context import log, render, set_cookie, state, transaction
from checker.web.security import SESSION_COOKIE, client_address

router = APIRouter(include_in_schema=False)
WINDOW = dt.timedelta(minutes=1)
FREE_FAILURES = 9
MAX_DELAY = 30.0


def slowdown(failures: int) -> float:
    """Seconds to wait before answering an attempt that follows `failures` recent failures."""
    if failures < FREE_FAILURES:
        return 0.0
    return min(2.0 ** (failures - FREE_FAILURES), MAX_DELAY)


def _safe_next(target: str | None) -> str:
    """Only a path of this site (never another site) after signing in."""
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return "/"


@router.get("/connexion")
def sign_in_page(request: Request, suite: str | None = None) -> Response:
    return render(request, "connexion.html", {"suite": _safe_next(suite), "erreur": None})


@router.post("/connexion")
async def sign_in(request: Request, identifiant: str = Form(""), mot_de_passe: str = Form(""),
                  suite: str = Form("/")) -> Response:  # fmt: skip
    address = client_address(request)
    login = identifiant.strip()[:64]

    def failures() -> int:
        with transaction(request) as connection:
            return journal.recent_failures(connection, login, address, journal.now() - WINDOW)

    delay = slowdown(await run_in_threadpool(failures))
    if delay:
        await state(request).config.wait(delay)

    def attempt() -> tuple[Account | None, str | None]:
        with transaction(request) as connection:
            account = accounts.authenticate(connection, login, mot_de_passe)
            if account is None:
                # The login tried is kept: failures are counted per login and per address.
                journal.record(connection, None, "connexion", f"compte {login}", "echec",
                               "web", address, login=login)  # fmt: skip
                return None, None
            secret = accounts.open_session(connection, account, state(request).config.session)
            log(request, connection, account.actor(), "connexion", f"compte {login}")
            return account, secret

    account, secret = await run_in_threadpool(attempt)
    if account is None or secret is None:
        return render(request, "connexion.html", {
            "suite": _safe_next(suite),
            "erreur": "Identifiant ou mot de passe incorrect (ou compte désactivé).",
        }, status_code=401)  # fmt: skip
    response = RedirectResponse(_safe_next(suite), status_code=303)
    set_cookie(request, response, SESSION_COOKIE, secret)
    return response


@router.post("/deconnexion")
def sign_out(request: Request) -> Response:
    secret = request.cookies.get(SESSION_COOKIE)
    if secret:
        with transaction(request) as connection:
            accounts.close_session(connection, secret)
    response = RedirectResponse("/connexion", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response
