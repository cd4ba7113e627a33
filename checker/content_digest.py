"""The digest of what the data tables hold, row by row, for run receipts and `audit verify`.

Every column of every row of every data table is read at each check: the receipt attests what
the check read, so that an edit made directly in the database (without an import) is detected
between two runs and after the last one. The digest is only ever compared with digests of the
same database computed by the same version of mixite, so each database reads it its own way,
the cheapest it has:

- PostgreSQL writes each table with `COPY (SELECT … ORDER BY primary key) TO STDOUT`, its
  own text format (NULL told apart from an empty text, tabs and line breaks escaped), and the
  stream is hashed as it arrives, one SHA-256 per table. The server only formats the rows:
  hashing every row in the server and aggregating the hashes (the earlier way) cost it three
  times as much, more than the hand-written SQL of the whole rulebook. The output settings the
  text depends on (dates, time zone, floats, intervals, bytea) are pinned while it is read, so
  that a session's own settings cannot change the digest;
- SQLite has no hash function: rows are read as raw bytes (no UTF-8 decoding) and serialised
  with `marshal` (format 2: no back-references, so the bytes depend on the values only), a
  chunk at a time; `repr` of the rows cost twice as much.

A check starts the digest before evaluating the rules, on a connection of its own (`start`), in
one snapshot of the tables; the digest alone was a third of a whole check on SQLite. On
PostgreSQL a thread waits for the server; a SQLite file is read by a process of its own
(`sqlite_file_digest`), since a thread would share Python's lock with the evaluation.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, Table
from sqlalchemy.engine import URL

from checker import sqlite_file_digest
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
    from checker.db import models

    sha = hashlib.sha256()
    postgresql = connection.dialect.name == "postgresql"
    with _pinned_output(connection) if postgresql else nullcontext():
        for name in data_tables():
            table = models.Base.metadata.tables[name]
            sha.update(b"\x1e" + name.encode())
            if postgresql:
                sha.update(_postgresql_table(connection, table))
            else:
                _sqlite_table(connection, table, sha)
    return sha.hexdigest()


def start(connection: Connection) -> Callable[[], str]:
    """Start the content digest of the database behind `connection`; the returned function
    gives it, waiting if need be. It is computed on a connection of its own while the caller
    evaluates the rules: PostgreSQL hashes in a server process of its own, a SQLite file is
    read by a Python process of its own, so both proceed at once on two cores. An in-memory
    SQLite database cannot be opened twice: its digest is computed when asked for."""
    url = connection.engine.url
    in_place = lambda: content_digest(connection)  # noqa: E731
    if url.get_backend_name() == "sqlite":
        path = _sqlite_path(url)
        if path is None:
            return in_place
        return _in_thread(lambda: _sqlite_file_digest(path), in_place)
    engine = connection.engine
    return _in_thread(lambda: _server_digest(engine), in_place)


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


def _server_digest(engine: Engine) -> str:
    # One snapshot for every table, as one statement would see them.
    with engine.connect().execution_options(isolation_level="REPEATABLE READ") as other:
        return content_digest(other)


def _sqlite_file_digest(path: Path) -> str:
    """The digest read by `sqlite_file_digest` run as a script: the standard library only, no
    module of mixite imported, so the process starts in a few hundredths of a second."""
    from checker.db import models

    tables = []
    for name in data_tables():
        table = models.Base.metadata.tables[name]
        tables.append((name, [column.name for column in table.columns],
                       [column.name for column in table.primary_key.columns]))  # fmt: skip
    done = subprocess.run(
        [sys.executable, sqlite_file_digest.__file__, str(path)],
        input=json.dumps(tables), capture_output=True, text=True, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(f"empreinte du contenu refusée : {done.stderr.strip()}")
    return done.stdout.strip()


def _names(connection: Connection, table: Table) -> tuple[str, str]:
    quote = connection.dialect.identifier_preparer.quote
    columns = ", ".join(quote(column.name) for column in table.columns)
    order = ", ".join(quote(column.name) for column in table.primary_key.columns)
    return columns, order


# The settings COPY's text of a value depends on, and the values they are read with. Not
# `client_encoding`: psycopg sets UTF8 on every connection it opens.
_PINNED_OUTPUT = {"DateStyle": "ISO, YMD", "IntervalStyle": "postgres", "TimeZone": "UTC",
                  "extra_float_digits": "1", "bytea_output": "hex"}  # fmt: skip


def _postgresql_table(connection: Connection, table: Table) -> bytes:
    """SHA-256 of the table's rows as COPY writes them, in primary-key order."""
    columns, order = _names(connection, table)
    quoted_table = connection.dialect.identifier_preparer.quote(table.name)
    raw = connection.connection.driver_connection
    assert raw is not None
    sha = hashlib.sha256()
    # Read with the output settings pinned by `content_digest` (`_pinned_output`).
    with (
        raw.cursor() as cursor,
        cursor.copy(
            f"COPY (SELECT {columns} FROM {quoted_table} ORDER BY {order}) TO STDOUT"
        ) as copy,
    ):
        while block := copy.read():
            sha.update(block)
    return sha.digest()


@contextmanager
def _pinned_output(connection: Connection) -> Iterator[None]:
    """The output settings of `_PINNED_OUTPUT` while the caller reads, then the session's own
    again (a transaction rolled back after a failure takes them back by itself)."""
    names = list(_PINNED_OUTPUT)
    before = connection.exec_driver_sql(
        "SELECT " + ", ".join(f"current_setting('{name}')" for name in names)
    ).one()
    _set(connection, _PINNED_OUTPUT)
    yield
    _set(connection, dict(zip(names, before, strict=True)))


def _set(connection: Connection, settings: dict[str, str]) -> None:
    pairs = ", ".join(f"set_config('{name}', %({name})s, false)" for name in settings)
    connection.exec_driver_sql(f"SELECT {pairs}", settings)


def _sqlite_table(connection: Connection, table: Table, sha: Any) -> None:
    raw = connection.connection.driver_connection
    assert isinstance(raw, sqlite3.Connection)
    _sqlite_rows(raw, table, sha)


def _sqlite_rows(raw: sqlite3.Connection, table: Table, sha: Any) -> None:
    feed_rows(raw, table.name, [column.name for column in table.columns],
              [column.name for column in table.primary_key.columns], sha)  # fmt: skip
