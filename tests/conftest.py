"""Shared fixtures: every database test runs on SQLite and on the PostgreSQL server.

PostgreSQL is reached at MIXITE_TEST_PG_URL (default: the local server, user postgres,
database test); each test gets a database of its own, dropped afterwards. Outside CI an
unreachable server skips those tests with a visible reason; in CI (CI=true) it is an error, so
that a green CI always means PostgreSQL was exercised.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

DATA = Path(__file__).parent / "data"
PG_ADMIN_URL = os.environ.get(
    "MIXITE_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def _postgres_database() -> Iterator[str]:
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"mixite_test_{uuid.uuid4().hex[:12]}"
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except OperationalError as exc:
        admin.dispose()
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL injoignable en CI ({PG_ADMIN_URL}) : {exc}")
        pytest.skip(f"PostgreSQL injoignable ({PG_ADMIN_URL})")
    url = make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A URL to an empty database, on each backend in turn."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'mixite.db'}"
    else:
        yield from _postgres_database()


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A URL to an empty PostgreSQL database, for what only PostgreSQL has (mark the test
    `postgres`)."""
    yield from _postgres_database()


@pytest.fixture(autouse=True, scope="session")
def _private_rulebook_cache(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Checked rulebooks are cached in a folder of the test session, never in the user's
    home; commands run as subprocesses inherit it."""
    os.environ["XDG_CACHE_HOME"] = str(tmp_path_factory.mktemp("cache"))


@pytest.fixture(autouse=True)
def _isolated_key(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Each test uses its own pseudonymisation key file, never one from the environment."""
    monkeypatch.delenv("MIXITE_CLE", raising=False)
    monkeypatch.setenv("MIXITE_CLE_FICHIER", str(tmp_path / "cle-de-test.cle"))


@pytest.fixture
def mini_bundle(tmp_path: Path) -> Path:
    """A copy of the small hand-written bundle, safe to edit in a test."""
    target = tmp_path / "lot"
    shutil.copytree(DATA / "mini", target)
    return target
