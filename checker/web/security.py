"""Who is asking, and whether the form is genuine: sessions, API tokens and CSRF.

- A browser holds a session cookie (`mixite_session`, HttpOnly, SameSite=Lax, Secure behind
  HTTPS); the server keeps only its digest, with an idle and an absolute expiry.
- Scripts send `Authorization: Bearer <jeton>`; the API accepts nothing else (so a browser's
  cookies can never act on it, and it needs no CSRF token).
- Every form carries `csrf_token`, an HMAC of the visitor's cookies under a secret kept in the
  database: a page of another site cannot know it. The middleware checks it before any
  handler runs, on every non-API POST, signed in or not (the sign-in form included).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import HTMLResponse

SESSION_COOKIE = "mixite_session"
VISITOR_COOKIE = "mixite_visiteur"
CSRF_FIELD = "csrf_token"
_SAFE_METHODS = ("GET", "HEAD", "OPTIONS")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]


def csrf_token(secret: bytes, cookies: dict[str, str]) -> str:
    """The token a form of this visitor must carry (empty cookies: no valid token)."""
    material = f"{cookies.get(VISITOR_COOKIE, '')}|{cookies.get(SESSION_COOKIE, '')}"
    return hmac.new(secret, material.encode(), hashlib.sha256).hexdigest()


def new_visitor_id() -> str:
    return secrets.token_urlsafe(24)


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()


def client_address(request: Request) -> str | None:
    return request.client.host if request.client else None


_REFUSED = """<!doctype html><html lang="fr"><head><meta charset="utf-8">
<title>Formulaire refusé — mixite</title></head><body><main>
<h1>Formulaire refusé</h1>
<p>Ce formulaire n'a pas été reconnu comme venant de mixite (jeton de sécurité absent ou
périmé). Rien n'a été modifié.</p>
<p><a href="/">Revenir à l'accueil</a> puis recommencez depuis la page du formulaire.</p>
</main></body></html>"""

_TOO_LARGE = """<!doctype html><html lang="fr"><head><meta charset="utf-8">
<title>Fichier trop volumineux — mixite</title></head><body><main>
<h1>Fichier trop volumineux</h1><p>L'envoi dépasse la taille admise ({limit} Mo). Rien n'a été
modifié.</p><p><a href="/">Revenir à l'accueil</a></p></main></body></html>"""


class CsrfMiddleware:
    """Refuses (403) a non-API POST whose `csrf_token` field does not match the cookies.

    The body is read here (bounded), checked, then replayed to the application unchanged.
    """

    def __init__(self, app: App, secret: Callable[[], bytes], max_bytes: int) -> None:
        self.app = app
        self.secret = secret
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] in _SAFE_METHODS
            or scope["path"].startswith("/api/")
        ):
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                limit = self.max_bytes // (1024 * 1024)
                response = HTMLResponse(_TOO_LARGE.format(limit=limit), status_code=413)
                await response(scope, receive, send)
                return
            chunks.append(chunk)
            more = bool(message.get("more_body", False))
        body = b"".join(chunks)

        def replay() -> Receive:
            sent = False

            async def receive_again() -> Message:
                nonlocal sent
                if sent:
                    return {"type": "http.disconnect"}
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}

            return receive_again

        request = Request(scope, replay())
        given = request.headers.get("x-csrf-token")
        if given is None:
            try:
                form: FormData = await request.form()
                value = form.get(CSRF_FIELD)
                given = value if isinstance(value, str) else None
                await form.close()
            except Exception:  # an unreadable body carries no valid token
                given = None
        expected = csrf_token(self.secret(), dict(request.cookies))
        if (
            not given
            or not request.cookies.get(VISITOR_COOKIE)
            or not hmac.compare_digest(given, expected)
        ):
            await HTMLResponse(_REFUSED, status_code=403)(scope, receive, send)
            return
        await self.app(scope, replay(), send)
