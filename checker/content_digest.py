"""The digest of what the data tables hold, row by row, for run receipts and `audit verify`.

Every column of every row of every data table is read at each check: the receipt attests what
the check read, so that an edit made directly in the database (without an import) is detected
between two runs and after the last one. The digest is only ever compared with digests of the
same database computed by the same version of mixite, so each database reads it its own way,
the cheapest it has:

- PostgreSQL writes each table with `COPY (SELECT … ORDER BY primary key) TO STDOUT`, its
  own text format, hashed as it arrives, one SHA-256 per table (`postgresql_digest`), with the
  output settings the text depends on pinned while it is read;
- SQLite has no hash function: rows are read as raw bytes (no UTF-8 decoding) and serialised
  with `marshal` (format 2: no back-references, so the bytes depend on the values only), a
  chunk at a time; `repr` of the rows cost twice as much.

A check starts the digest before evaluating the rules, on a connection of its own (`start`), in
one snapshot of the tables; the digest alone was a third of a whole check on SQLite. Both
databases are read by a process of its own (`postgresql_digest`, `sqlite_file_digest`): a
thread would share Python's lock with the evaluation.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import Connection, Engine
from sqlalchemy.engine import URL

from checker import postgresql_digest, sqlite_file_digest
from checker.sqlite_file_digest import feed_rows

# The tables that are not data a check reads: the runs, the metadata, the accounts, the access
# log, the uploaded CIA versions (rules, digested apart) and the published reports. Every other
# table is data, so that a data table added later is covered without a change here.
NOT_DATA = frozenset({"run", "mixite_meta", "utilisateur", "jeton_api", "session_web",
                      "journal_acces", "version_cia", "publication"})  # fmt: skip


def data_tables() -> list[str]:
    from checker.db import models

    return sorted(set(models.Base.metadata.tables) - NOT_DATA)


def content_digest(connection: Connection) -> str:
    """SHA-256 (hex) of the content of every data table, in primary-key order."""
    tables = _table_specs()
    if connection.dialect.name == "postgresql":
        return postgresql_digest.digest_tables(connection.connection.driver_connection, tables)
    raw = connection.connection.driver_connection
    assert isinstance(raw, sqlite3.Connection)
    sha = hashlib.sha256()
    for name, columns, order in tables:
        sha.update(b"\x1e" + name.encode())
        feed_rows(raw, name, columns, order, sha)
    return sha.hexdigest()


def _table_specs() -> list[tuple[str, list[str], list[str]]]:
    """Each data table's name, columns and primary key, as the digest reads them."""
    from checker.db import models

    specs = []
    for name in data_tables():
        table = models.Base.metadata.tables[name]
        specs.append((name, [column.name for column in table.columns],
                      [column.name for column in table.primary_key.columns]))  # fmt: skip
    return specs


def start(connection: Connection) -> Callable[[], str]:
    """Start the content digest of the database behind `connection`; the returned function
    gives it, waiting if need be. It is computed on a connection of its own while the caller
    evaluates the rules, by a Python process of its own (see the module's docstring), so both
    proceed at once on two cores. An in-memory
    SQLite database cannot be opened twice: its digest is computed when asked for."""
    url = connection.engine.url
    in_place = lambda: content_digest(connection)  # noqa: E731
    if url.get_backend_name() == "sqlite":
        path = _sqlite_path(url)
        if path is None:
            return in_place
        return _in_thread(lambda: _sqlite_file_digest(path), in_place)
    engine = connection.engine
    snapshot = exported_snapshot(connection)
    return _in_thread(lambda: _server_process_digest(engine, snapshot), in_place)


def exported_snapshot(connection: Connection) -> str | None:
    """The snapshot of the caller's transaction, for the digest's process to read the very same
    data (`pg_export_snapshot`), when that transaction reads in one snapshot (REPEATABLE READ or
    SERIALIZABLE, as `checking.check_transaction`); None under READ COMMITTED, whose every
    statement reads the latest data: the process then reads in a snapshot of its own."""
    isolation = connection.exec_driver_sql("SELECT current_setting('transaction_isolation')")
    if isolation.scalar_one() not in ("repeatable read", "serializable"):
        return None
    return str(connection.exec_driver_sql("SELECT pg_export_snapshot()").scalar_one())


def _sqlite_path(url: URL) -> Path | None:
    database = url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database)


def _in_thread(compute: Callable[[], str], in_place: Callable[[], str]) -> Callable[[], str]:
    """`compute` in a thread; if it fails (a second connection refused: too many clients, a
    read-only SQLite file in WAL mode…), the digest is computed on the caller's connection,
    where a real problem of the database fails again, and is reported, as before."""
    found: list[str] = []
    failed: list[Exception] = []

    def work() -> None:
        try:
            found.append(compute())
        except Exception as error:
            failed.append(error)

    thread = threading.Thread(target=work, name="mixite-empreinte-contenu", daemon=True)
    thread.start()

    def result() -> str:
        thread.join()
        return in_place() if failed else found[0]

    return result


def _server_process_digest(engine: Engine, snapshot: str | None = None) -> str:
    """The digest read by `postgresql_digest` run as a script, on a connection of its own in
    one snapshot (REPEATABLE READ): `snapshot`, exported by the check's transaction, or its
    own; the connection's arguments go to it on standard input."""
    _, arguments = engine.dialect.create_connect_args(engine.url)
    # The URL's own parameters (host, port, user, password, database, its query's options);
    # not the dialect's Python objects (psycopg's adapters), which the script does not need.
    plain = {name: value for name, value in arguments.items()
             if isinstance(value, str | int | float | bool)}  # fmt: skip
    request = {"connect": plain, "tables": _table_specs(), "snapshot": snapshot}
    return _run_script(postgresql_digest.__file__, [], json.dumps(request))


def _sqlite_file_digest(path: Path) -> str:
    """The digest read by `sqlite_file_digest` run as a script: the standard library only, no
    module of mixite imported, so the process starts in a few hundredths of a second."""
    return _run_script(sqlite_file_digest.__file__, [str(path)], json.dumps(_table_specs()))


def _run_script(script: str, arguments: list[str], request: str) -> str:
    done = subprocess.run([sys.executable, script, *arguments], input=request,
                          capture_output=True, text=True, check=False)  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(f"empreinte du contenu refusée : {done.stderr.strip()}")
    return done.stdout.strip()
