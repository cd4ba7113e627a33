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
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Iterator
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


def digest_tables(raw: Any, tables: Tables) -> str:
    """SHA-256 (hex) of the tables' rows, read on the psycopg connection `raw` in its current
    transaction (one snapshot if the caller made it REPEATABLE READ)."""
    sha = hashlib.sha256()
    with pinned_output(raw):
        for name, columns, order in tables:
            sha.update(b"\x1e" + name.encode())
            sha.update(table_digest(raw, name, columns, order))
    return sha.hexdigest()


def table_digest(raw: Any, table: str, columns: list[str], order: list[str]) -> bytes:
    """SHA-256 of the table's rows as COPY writes them, in primary-key order."""
    selected = ", ".join(map(quoted, columns))
    ordered = ", ".join(map(quoted, order))
    sha = hashlib.sha256()
    with (
        raw.cursor() as cursor,
        cursor.copy(
            f"COPY (SELECT {selected} FROM {quoted(table)} ORDER BY {ordered}) TO STDOUT"
        ) as copy,
    ):
        while block := copy.read():
            sha.update(block)
    return sha.digest()


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


def main() -> int:
    import psycopg

    request = json.load(sys.stdin)
    tables = [(name, list(columns), list(order)) for name, columns, order in request["tables"]]
    try:
        with psycopg.connect(**request["connect"]) as raw:
            raw.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ  # one snapshot
            raw.read_only = True
            print(digest_tables(raw, tables))
    except psycopg.Error as error:  # the caller computes it in place, where it is reported
        print(error, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
