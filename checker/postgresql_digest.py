"""The content digest of a PostgreSQL database's data tables, read in a process of its own.

Run as a script (`python postgresql_digest.py`, the connection's arguments and the tables as
JSON on standard input, never on the command line where `ps` shows a password; the
hexadecimal digest on standard output) by `content_digest.start`. It imports the standard
library and psycopg only, so it starts in a few hundredths of a second. A process rather than
a thread: the digest's rows cross to Python one `read()` each, and a thread doing that would
take Python's lock from the evaluation between every two of its statements.
`content_digest` reads in place through the same `digest_tables`, so both give the same bytes.

Each table is written by the server with `COPY (SELECT … ORDER BY primary key) TO STDOUT`:
COPY's text format tells NULL from an empty text and escapes tabs and line breaks, so a row's
text says its values exactly, and the server only formats rows (hashing each row in the server
cost it three times as much).

The script owns its connection, so it reads COPY's rows from libpq directly
(`PGconn.get_copy_data`), without psycopg's `Copy` object and its generator around each row:
half the client's CPU (0.26 → 0.12-0.14 s for 300 000 CALEOL rows), the same bytes. The
connection a check hands to `content_digest` in place keeps psycopg's `Copy`, which keeps the
connection's state in psycopg's hands.
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

# The settings COPY's text of a value depends on, and the values the digest reads them with,
# so that a session's own (a French DateStyle, another time zone) cannot change it. Not
# `client_encoding`: psycopg sets UTF8 on every connection it opens.
PINNED_OUTPUT = {"DateStyle": "ISO, YMD", "IntervalStyle": "postgres", "TimeZone": "UTC",
                 "extra_float_digits": "1", "bytea_output": "hex"}  # fmt: skip

Tables = list[tuple[str, list[str], list[str]]]  # name, columns, primary key


def quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def digest_tables(raw: Any, tables: Tables, *, owned: bool = False) -> str:
    """SHA-256 (hex) of the tables' rows, read on the psycopg connection `raw` in its current
    transaction (one snapshot if the caller made it REPEATABLE READ). `owned`: the caller owns
    the connection and nothing else uses it, so rows may be read from libpq directly."""
    sha = hashlib.sha256()
    feed = _feed_from_libpq if owned else _feed_from_copy
    with pinned_output(raw):
        for name, columns, order in tables:
            sha.update(b"\x1e" + name.encode())
            table_sha = hashlib.sha256()
            feed(raw, copy_statement(name, columns, order), table_sha.update)
            sha.update(table_sha.digest())
    return sha.hexdigest()


def copy_statement(table: str, columns: list[str], order: list[str]) -> str:
    """COPY of the table's rows, in primary-key order, in COPY's text format."""
    selected = ", ".join(map(quoted, columns))
    ordered = ", ".join(map(quoted, order))
    return f"COPY (SELECT {selected} FROM {quoted(table)} ORDER BY {ordered}) TO STDOUT"


def _feed_from_copy(raw: Any, statement: str, feed: Callable[[bytes], object]) -> None:
    with raw.cursor() as cursor, cursor.copy(statement) as copy:
        while block := copy.read():
            feed(block)


def _feed_from_libpq(raw: Any, statement: str, feed: Callable[[bytes], object]) -> None:
    """The same rows as `_feed_from_copy`, each taken from libpq by one C call."""
    from psycopg import OperationalError, pq

    pgconn = raw.pgconn
    pgconn.send_query(statement.encode())
    started = pgconn.get_result()
    if started is None or started.status != pq.ExecStatus.COPY_OUT:
        _drain(pgconn)
        raise OperationalError(_message(pgconn, started, "la copie n'a pas commencé"))
    take = pgconn.get_copy_data
    while True:
        size, row = take(0)  # 0: wait for the next row
        if size < 0:  # -1: the copy is over; -2: it failed (the result says why)
            break
        feed(row)
    ended = pgconn.get_result()
    _drain(pgconn)
    if size == -2 or ended is None or ended.status != pq.ExecStatus.COMMAND_OK:
        raise OperationalError(_message(pgconn, ended, "la copie a échoué"))


def _drain(pgconn: Any) -> None:
    """Read the results left, so that the connection can take the next statement."""
    while pgconn.get_result() is not None:
        pass


def _message(pgconn: Any, result: Any, fallback: str) -> str:
    text = result.error_message if result is not None else pgconn.error_message
    return (text.decode(errors="replace") if isinstance(text, bytes) else str(text)) or fallback


@contextmanager
def pinned_output(raw: Any) -> Iterator[None]:
    """`PINNED_OUTPUT` while the caller reads, then the session's own settings again (a
    transaction rolled back after a failure takes them back by itself)."""
    names = list(PINNED_OUTPUT)
    with raw.cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(f"current_setting('{name}')" for name in names))
        before = cursor.fetchone()
    _set(raw, PINNED_OUTPUT)
    yield
    _set(raw, dict(zip(names, before, strict=True)))


def _set(raw: Any, settings: dict[str, str]) -> None:
    pairs = ", ".join(f"set_config('{name}', %({name})s, false)" for name in settings)
    with raw.cursor() as cursor:
        cursor.execute(f"SELECT {pairs}", settings)


def _literal(text: str) -> str:
    """A text as a SQL literal (SET TRANSACTION SNAPSHOT takes no parameter)."""
    return "'" + text.replace("'", "''") + "'"


def main() -> int:
    import psycopg

    request = json.load(sys.stdin)
    tables = [(name, list(columns), list(order)) for name, columns, order in request["tables"]]
    try:
        with psycopg.connect(**request["connect"]) as raw:
            raw.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ  # one snapshot
            raw.read_only = True
            if request.get("snapshot"):  # the check's own: the first statement of the transaction
                raw.execute("SET TRANSACTION SNAPSHOT " + _literal(request["snapshot"]))
            print(digest_tables(raw, tables, owned=True))
    except psycopg.Error as error:  # the caller computes it in place, where it is reported
        print(error, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
