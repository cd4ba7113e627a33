"""Per-request helpers shared by the pages and the API: the state, the actor, the access log,
and rendering a page."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from importlib.resources import files
from typing import Any

from fastapi import Request
from fastapi.templating import Jinja2Templates
from sqlalchemy import Connection
from starlette.responses import Response

from checker import __version__
from checker.access import accounts, journal, permissions
from checker.access.roles import Actor
from checker.checking import begin_check
from checker.web import formats
from checker.web.security import (
    SESSION_COOKIE,
    VISITOR_COOKIE,
    bearer_token,
    client_address,
    csrf_token,
    new_visitor_id,
)
from checker.web.state import AppState

templates = Jinja2Templates(directory=str(files("checker.web") / "templates"))
formats.install(templates.env)


class NotSignedIn(Exception):
    """No valid session (pages: to the sign-in page) or no valid token (API: 401)."""


class Denied(Exception):
    """The actor may not do this: 403, with a French reason."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def state(request: Request) -> AppState:
    found: AppState = request.app.state.mixite
    return found


@contextmanager
def transaction(request: Request, *, check: bool = False) -> Iterator[Connection]:
    """One transaction per request. A refusal commits what was written before it (the access
    log's entry of the refusal); any other error rolls everything back. `check`: the request
    records a run, in a check's transaction (`checking.begin_check`: on PostgreSQL one
    snapshot for the results, the digests and the receipt)."""
    with state(request).engine.connect() as connection:
        if check:
            begin_check(connection)
        try:
            yield connection
        except Denied:
            connection.commit()
            raise
        except BaseException:
            connection.rollback()
            raise
        connection.commit()


def page_actor(request: Request, connection: Connection) -> Actor:
    secret = request.cookies.get(SESSION_COOKIE)
    account = (
        accounts.session_account(connection, secret, state(request).config.session)
        if secret
        else None
    )
    if account is None:
        raise NotSignedIn
    actor = account.actor()
    request.state.actor = actor
    return actor


def api_actor(request: Request, connection: Connection) -> Actor:
    token = bearer_token(request)
    account = accounts.token_account(connection, token) if token else None
    if account is None:
        raise NotSignedIn
    return account.actor()


def channel(request: Request) -> str:
    return "api" if request.url.path.startswith("/api/") else "web"


def log(request: Request, connection: Connection, actor: Actor | None, action: str,
        resource: str, outcome: str = "autorise") -> None:  # fmt: skip
    journal.record(connection, actor, action, resource, outcome, channel(request),
                   client_address(request))  # fmt: skip


def require(request: Request, connection: Connection, actor: Actor, allowed: bool,
            action: str, resource: str, reason: str) -> None:  # fmt: skip
    """Go on when allowed; otherwise log the refusal (kept: see `transaction`) and answer 403."""
    if allowed:
        return
    log(request, connection, actor, action, resource, "refuse")
    raise Denied(reason)


def can(actor: Actor, action: str, epci: str | None = None) -> bool:
    return permissions.can(actor, action, epci)


def render(request: Request, template: str, context: dict[str, Any],
           status_code: int = 200) -> Response:  # fmt: skip
    actor: Actor | None = getattr(request.state, "actor", None)
    full = {
        "actor": actor,
        "can": (lambda action, epci=None: actor is not None and can(actor, action, epci)),
        "csrf": csrf_token(state(request).secret, _cookies_after(request)),
        "version": __version__,
        **context,
    }
    response = templates.TemplateResponse(request, template, full, status_code=status_code)
    if not request.cookies.get(VISITOR_COOKIE):
        set_cookie(request, response, VISITOR_COOKIE, request.state.visitor)
    return response


def _cookies_after(request: Request) -> dict[str, str]:
    """The cookies the browser will hold once this response arrives."""
    cookies = dict(request.cookies)
    if not cookies.get(VISITOR_COOKIE):
        request.state.visitor = getattr(request.state, "visitor", None) or new_visitor_id()
        cookies[VISITOR_COOKIE] = request.state.visitor
    return cookies


def set_cookie(request: Request, response: Response, name: str, value: str) -> None:
    response.set_cookie(name, value, httponly=True, samesite="lax", path="/",
                        secure=request.url.scheme == "https")  # fmt: skip
