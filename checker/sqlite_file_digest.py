"""The content digest of a SQLite file's data tables, read in a process of its own.

Run as a script (`python sqlite_file_digest.py PATH`, the tables as JSON on standard input,
the hexadecimal digest on standard output) by `content_digest.start`, so that it imports the
standard library only: a check on SQLite evaluates its rules in Python, and a thread reading
the digest beside it would share Python's lock with the evaluation (the rows are turned into
Python objects and serialised while the lock is held); a process of its own runs on the other
core. `content_digest` reads in place through the same `feed_rows`, so both give the same
bytes.
"""

from __future__ import annotations

import hashlib
import json
import marshal
import sqlite3
import sys
from pathlib import Path
from typing import Any

# marshal's format 2 writes every value in full (format 3 and later add back-references that
# depend on objects' reference counts); pinned so that a Python upgrade keeps the digest.
MARSHAL_FORMAT = 2
_CHUNK = 10_000


def quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def feed_rows(raw: sqlite3.Connection, table: str, columns: list[str], order: list[str],
              sha: Any) -> None:  # fmt: skip
    """Feed `sha` with every row of `table`, in primary-key order, as stored bytes."""
    selected = ", ".join(quoted(name) for name in columns)
    ordered = ", ".join(quoted(name) for name in order)
    before = raw.text_factory
    raw.text_factory = bytes  # the stored bytes, not decoded: a third of the reading time
    try:
        cursor = raw.execute(f"SELECT {selected} FROM {quoted(table)} ORDER BY {ordered}")
        while chunk := cursor.fetchmany(_CHUNK):
            sha.update(marshal.dumps(chunk, MARSHAL_FORMAT))
        cursor.close()
    finally:
        raw.text_factory = before


def digest_file(path: Path, tables: list[tuple[str, list[str], list[str]]]) -> str:
    """SHA-256 (hex) of the given tables of the file, every table read in one snapshot."""
    raw = sqlite3.connect(path.resolve().as_uri() + "?mode=ro", uri=True)
    try:
        raw.execute("BEGIN")
        sha = hashlib.sha256()
        for name, columns, order in tables:
            sha.update(b"\x1e" + name.encode())
            feed_rows(raw, name, columns, order, sha)
        return sha.hexdigest()
    finally:
        raw.close()


def main() -> int:
    tables = [(name, list(columns), list(order)) for name, columns, order in json.load(sys.stdin)]
    try:
        print(digest_file(Path(sys.argv[1]), tables))
    except sqlite3.Error as error:  # the caller computes it in place, where it is reported
        print(error, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
