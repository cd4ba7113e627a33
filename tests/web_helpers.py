"""Helpers for the web tests, the browser tests, the load benchmark and the docs screenshots:
a database with a bundle and one account per role, and signed-in clients."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from fastapi.testclient import TestClient

from checker.access import accounts
from checker.db.engine import make_engine
from checker.ingest.importer import import_bundle

PASSWORD = "mot-de-passe-de-test-1"
_CSRF = re.compile(r'name="csrf_token" value="([0-9a-f]+)"')


@dataclass(frozen=True)
class Account:
    login: str
    role: str
    bailleur: str | None = None
    reservataire: str | None = None
    territories: tuple[str, ...] = ()


def populate(url: str, bundle: Path, people: list[Account]) -> dict[str, str]:
    """Import the bundle and create the accounts; returns an API token per login."""
    import_bundle([bundle], url)
    engine = make_engine(url)
    tokens = {}
    with engine.begin() as connection:
        for person in people:
            accounts.create(connection, person.login, person.role, PASSWORD,
                            bailleur=person.bailleur, reservataire=person.reservataire,
                            territories=list(person.territories))  # fmt: skip
            tokens[person.login] = accounts.issue_token(connection, person.login, 30)[0]
    engine.dispose()
    return tokens


def csrf_of(html: str) -> str:
    found = _CSRF.search(html)
    assert found, "no CSRF token in the page"
    return found.group(1)


def sign_in(client: TestClient, login: str, password: str = PASSWORD) -> None:
    page = client.get("/connexion")
    answer = client.post("/connexion", data={"identifiant": login, "mot_de_passe": password,
                                              "csrf_token": csrf_of(page.text), "suite": "/"},
                         follow_redirects=False)  # fmt: skip
    assert answer.status_code == 303, answer.text
