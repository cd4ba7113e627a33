"""Choosing and opening the database, and keeping its schema up to date with Alembic."""

from __future__ import annotations

import ast
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine, create_engine, event, inspect
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, InterfaceError, NoSuchModuleError, OperationalError

from checker.errors import DatabaseError
from checker.paths import migrations_dir

if TYPE_CHECKING:
    import sqlite3

    from alembic.config import Config

DEFAULT_URL = "sqlite:///mixite.db"
ENV_VAR = "MIXITE_DB"


def resolve_url(explicit: str | None) -> str:
    """`--db` wins over `MIXITE_DB`, which wins over a `mixite.db` file in the working directory."""
    url = explicit or os.environ.get(ENV_VAR) or DEFAULT_URL
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise DatabaseError(
            f"Adresse de base de données illisible : « {url} ».",
            "Exemples : sqlite:///mixite.db ou postgresql+psycopg://utilisateur@hote/base",
        ) from exc
    if parsed.drivername == "postgresql":
        # psycopg 3 is the driver we ship; plain "postgresql://" would ask for psycopg2.
        url = parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    return url


def sqlite_file(url: str) -> Path | None:
    """The file behind a SQLite URL, or None for other backends and in-memory databases."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database:
        return None
    if parsed.database == ":memory:":
        return None
    return Path(parsed.database)


def database_exists(url: str) -> bool:
    """Whether opening `url` would read an existing database rather than create one."""
    path = sqlite_file(url)
    if path is not None:
        return path.exists()
    return True


def cannot_connect(url: str | URL, error: Exception) -> DatabaseError:
    """The French error for a database that cannot be reached or opened, naming it."""
    parsed = make_url(url)
    orig = getattr(error, "orig", None) or error
    detail = " ".join(str(orig).split()) or type(orig).__name__
    if parsed.get_backend_name() == "sqlite":
        where = parsed.database or ":memory:"
        return DatabaseError(
            f"Impossible d'ouvrir la base de données {where}.",
            f"Vérifiez le chemin du fichier et vos droits sur son dossier. Détail : {detail}",
        )
    server = parsed.host or "localhost (socket local)"
    if parsed.port:
        server += f":{parsed.port}"
    user = f", utilisateur « {parsed.username} »" if parsed.username else ""
    kind = {"postgresql": "PostgreSQL", "mysql": "MySQL"}.get(parsed.get_backend_name(), "")
    return DatabaseError(
        f"Impossible de se connecter au serveur {kind or 'de base de données'} {server} "
        f"(base « {parsed.database or ''} »{user}).",
        "Vérifiez que le serveur est démarré et joignable depuis ce poste, puis l'hôte, le "
        f"port, l'utilisateur et le mot de passe donnés par --db ou {ENV_VAR}. Détail : {detail}",
    )


def busy_database(error: BaseException) -> DatabaseError | None:
    """The French message for SQLite's « database is locked »: another connection (an import,
    a check recording its receipt) held the file's write lock longer than the driver waits
    (5 s). Nothing was written: the statement that waited failed, and its transaction is
    rolled back with everything the command had done. None for any other error."""
    cause: BaseException | None = error
    while cause is not None:
        if "database is locked" in str(cause) or "database table is locked" in str(cause):
            return DatabaseError(
                "La base est occupée : une autre opération y écrit en ce moment (un import, ou "
                "un contrôle qui enregistre son reçu). Rien n'a été enregistré.",
                "Réessayez quand elle aura fini. Pour travailler à plusieurs "
                "sur les mêmes données, placez la base sur PostgreSQL (guide « Une base "
                "partagée »).",
            )
        cause = cause.__cause__ or cause.__context__
    return None


@contextmanager
def connection_errors(url: str | URL) -> Iterator[None]:
    """Turn a failure to reach the database into a `DatabaseError` naming it."""
    try:
        yield
    except (OperationalError, InterfaceError) as exc:
        raise cannot_connect(url, exc) from exc


def _enable_sqlite_foreign_keys(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):  # type: ignore[no-untyped-def]
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        # 64 MiB of page cache; the import's and the checks' connections set a smaller one
        # (IMPORT_CACHE_MIB, CHECK_CACHE_MIB): SQLite bounds each sort's memory by it.
        cursor.execute("PRAGMA cache_size=-65536")
        cursor.close()


# The page cache of a connection that reads for a check (MiB); see `bound_sqlite_memory`.
# 8 rather than 16: a check's peak stays flat when the rows grow ten times on one territory
# (91 → 98 MiB from 100 000 to 1 000 000 attributions, 99 → 115 with 16), for no time measured
# at 100 000 (docs/dev/performance.md, « A smaller page cache for the check »).
CHECK_CACHE_MIB = 8
# The page cache of the connection that imports a bundle (MiB): importer.py.
IMPORT_CACHE_MIB = 16


def bound_sqlite_memory(connection: Connection, mib: int = CHECK_CACHE_MIB) -> None:
    """Give a SQLite connection that evaluates rules a smaller page cache than an import's.

    SQLite sizes each sort's memory by the page cache too (`cache_size`): with the 64 MiB an
    import wants, a check held the whole cache and 64 MiB per large sort once the database
    outgrew them, so its peak memory grew with the data (179 MiB at 100 000 attributions,
    239 MiB at 1 000 000). A larger sort is written to a temporary file instead; what the cache
    no longer keeps is read again from the system's file cache. Other databases: nothing.
    """
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql(f"PRAGMA cache_size=-{mib * 1024}")


# The page cache of a check's connection while its receipt is written (MiB): checking.py.
RECEIPT_CACHE_MIB = 2


@contextmanager
def memory_released(connection: Connection, mib: int = RECEIPT_CACHE_MIB) -> Iterator[None]:
    """Once the rules are evaluated, while the run's receipt is written: the memory the
    evaluation freed given back to the system, and on SQLite the page cache emptied
    (`PRAGMA shrink_memory`) and kept small (`mib`, the pages written excepted), then set back
    as it was.

    The receipt writes the run's results as one text into the `run` table (6 MB at 1 000 000
    attributions), which the driver encodes, SQLite copies into the statement, then into the
    row, then through the page cache into the file: about 30 MiB for a moment, which came on
    top of the 16 MiB cache kept from the evaluation and of the C heap's free pages (SQLite's
    sorts), and made the receipt, not the evaluation, the check's peak (docs/dev/performance.md,
    « Memory of a check »)."""
    from checker.ingest.heap import release_free_memory

    if connection.dialect.name != "sqlite":
        release_free_memory()
        yield
        return
    size = connection.exec_driver_sql("PRAGMA cache_size").scalar_one()
    spill = connection.exec_driver_sql("PRAGMA cache_spill").scalar_one()
    connection.exec_driver_sql("PRAGMA shrink_memory")
    release_free_memory()
    connection.exec_driver_sql(f"PRAGMA cache_size=-{mib * 1024}")
    # The new row's pages stay in memory until the commit, as they did in the larger cache:
    # spilled to the file, they would take the database's exclusive lock from now on, while
    # the report is written (and, over several years, while the next ones are evaluated).
    connection.exec_driver_sql("PRAGMA cache_spill=OFF")
    try:
        yield
    finally:
        connection.exec_driver_sql(f"PRAGMA cache_spill={'ON' if spill else 'OFF'}")
        connection.exec_driver_sql(f"PRAGMA cache_size={int(size)}")


# Engines that `make_engine` hands out again instead of building a new one (see `reuse_engine`).
_REUSED: dict[str, Engine] = {}


def reuse_engine(url: str, query_cache_size: int = 5000) -> Engine:
    """One engine for `url` for the rest of the process: `make_engine(url)` returns it too.

    SQLAlchemy caches each statement's compiled SQL on its engine (its dialect), so a new engine
    compiles every statement again. The rule tests run a hundred small cases one after the other
    on the same scratch database: with one engine, the importer's and the evaluator's statements
    are compiled once per process instead of once per case. Callers may still `dispose()` it:
    that closes its connections, not its cache of compiled statements.
    """
    engine = _REUSED.get(url)
    if engine is None:
        engine = make_engine(url, query_cache_size=query_cache_size)
        _REUSED[url] = engine
    return engine


def engine_on(connection: sqlite3.Connection, query_cache_size: int = 5000) -> Engine:
    """An engine whose one connection is `connection` (an in-memory database its owner fills),
    kept open from use to use, with the settings `make_engine` gives SQLite connections.

    SQLite keeps each statement it has prepared with its connection: a connection kept open
    prepares a statement sent again only once (see `checker.rule_tests._memory_engine`).
    """
    from sqlalchemy.pool import StaticPool

    engine = create_engine("sqlite://", creator=lambda: connection, poolclass=StaticPool,
                           query_cache_size=query_cache_size)  # fmt: skip
    _enable_sqlite_foreign_keys(engine)
    return engine


def make_engine(url: str, query_cache_size: int | None = None) -> Engine:
    reused = _REUSED.get(url)
    if reused is not None:
        return reused
    try:
        if query_cache_size is not None:
            engine = create_engine(url, query_cache_size=query_cache_size)
        else:
            engine = create_engine(url)
    except NoSuchModuleError as exc:
        raise DatabaseError(f"Type de base de données non pris en charge : « {url} ».") from exc
    except ModuleNotFoundError as exc:
        raise DatabaseError(
            f"Le pilote de cette base n'est pas installé ({exc.name}).",
            "Pour PostgreSQL : pip install 'mixite[postgres]'",
        ) from exc
    if engine.dialect.name == "sqlite":
        _enable_sqlite_foreign_keys(engine)
    return engine


def _alembic_config() -> Config:
    # Alembic is imported where it is used: most processes open a database without migrating it
    # (the rule tests copy an already built schema).
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(migrations_dir()))
    return config


@cache
def head_revision() -> str:
    """The latest revision of the migrations.

    Read from the `revision` and `down_revision` lines of the scripts, without importing Alembic
    (a fifth of a second of CPU, paid by every command that opens a database); Alembic's own
    reading when the scripts are not that plain (`tests/test_migrations.py` checks both agree).
    """
    head = _head_from_scripts(migrations_dir() / "versions")
    return head if head is not None else _alembic_head()


def _alembic_head() -> str:
    # Reading the revision scripts imports every migration module: once per process is enough.
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(_alembic_config()).get_current_head()
    assert head is not None, "the migrations folder has no revision"
    return head


# `revision = "0010"`, `down_revision: str | None = "0009"`… at the start of a line.
_REVISION_LINE = re.compile(
    r"^(revision|down_revision)\s*(?::[^=\n]*)?=\s*(.+?)\s*(?:#.*)?$", re.MULTILINE
)


def _head_from_scripts(folder: Path) -> str | None:
    """The one revision no script names as its `down_revision`, or None when a script does not
    state both as plain literals, or when there is not exactly one head: Alembic decides then."""
    revisions: set[str] = set()
    downs: set[str] = set()
    for script in folder.iterdir():
        # The files Alembic reads as revisions (alembic.script.base._only_source_rev_file).
        if not script.name.endswith(".py") or script.name.startswith(("__init__", ".#")):
            continue
        found: dict[str, object] = {}
        for name, value in _REVISION_LINE.findall(script.read_text(encoding="utf-8")):
            if name in found:
                return None
            try:
                found[name] = ast.literal_eval(value)
            except (ValueError, SyntaxError):
                return None
        revision, down = found.get("revision"), found.get("down_revision", ...)
        if not isinstance(revision, str) or revision in revisions:
            return None
        revisions.add(revision)
        if isinstance(down, str):
            downs.add(down)
        elif isinstance(down, tuple) and all(isinstance(d, str) for d in down):
            downs.update(down)
        elif down is not None:
            return None
    heads = revisions - downs
    if len(heads) != 1 or not downs <= revisions:
        return None
    return heads.pop()


def current_revision(engine: Engine) -> str | None:
    """The revision recorded in the database (Alembic's `alembic_version` table), or None for a
    database Alembic never touched. Read with one query rather than through Alembic's migration
    context, which imports Alembic; a table with several rows (branches, which mixite does not
    use) is left to Alembic, which refuses it."""
    with connection_errors(engine.url), engine.connect() as connection:
        if not inspect(connection).has_table(_VERSION_TABLE):
            return None
        stored = connection.exec_driver_sql(f"SELECT version_num FROM {_VERSION_TABLE}").all()
        if len(stored) <= 1:
            return stored[0][0] if stored else None
        from alembic.runtime.migration import MigrationContext

        return MigrationContext.configure(connection).get_current_revision()


_VERSION_TABLE = "alembic_version"


def upgrade(engine: Engine) -> tuple[str | None, str]:
    """Bring the schema to the latest revision. Returns (revision before, revision after)."""
    before = current_revision(engine)
    from alembic import command

    config = _alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
    return before, head_revision()


def ensure_schema(engine: Engine) -> None:
    """Create the schema in a new database; refuse to work on an outdated one."""
    revision = current_revision(engine)
    if revision is None:
        if inspect(engine).get_table_names():
            raise DatabaseError(
                "Cette base contient déjà des tables qui ne sont pas celles de mixite.",
                "Indiquez une base vide ou une base créée par mixite (--db).",
            )
        upgrade(engine)
    elif revision != head_revision():
        raise DatabaseError(
            f"Le schéma de cette base est ancien (révision {revision}).",
            "Sauvegardez la base puis lancez : mixite db upgrade",
        )


def require_schema(engine: Engine) -> None:
    """For read-only commands: the database must exist and be up to date.

    Checked before connecting: SQLite creates a missing file on connection, and a read command
    must leave nothing behind.
    """
    path = sqlite_file(engine.url.render_as_string(hide_password=False))
    if path is not None and not path.exists():
        raise DatabaseError(
            "Base introuvable : lancez d'abord mixite import.",
            f"Aucun fichier {path} ici ; sinon indiquez la base avec --db ou {ENV_VAR}.",
        )
    revision = current_revision(engine)
    if revision is None:
        raise DatabaseError(
            "Cette base ne contient pas encore de données mixite.",
            "Importez d'abord un lot : mixite import DOSSIER",
        )
    if revision != head_revision():
        raise DatabaseError(
            f"Le schéma de cette base est ancien (révision {revision}).",
            "Sauvegardez la base puis lancez : mixite db upgrade",
        )
