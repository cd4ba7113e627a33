"""The digest of what the data tables hold, row by row, for run receipts and `audit verify`.

Every column of every row of every data table is read at each check: the receipt attests what
the check read, so that an edit made directly in the database (without an import) is detected
between two runs and after the last one. The digest is only ever compared with digests of the
same database computed by the same version of mixite, so each database reads it its own way,
the cheapest it has:

- PostgreSQL hashes in the server: one SHA-256 per row (of the row's text), chained in
  primary-key order, so that no row crosses to Python;
- SQLite has no hash function: rows are read as raw bytes (no UTF-8 decoding) and serialised
  with `marshal` (format 2: no back-references, so the bytes depend on the values only), a
  chunk at a time; `repr` of the rows cost twice as much.
"""

from __future__ import annotations

import hashlib
import marshal
import sqlite3
from typing import Any

from sqlalchemy import Connection, Table

# marshal's format 2 writes every value in full (format 3 and later add back-references that
# depend on objects' reference counts); pinned so that a Python upgrade keeps the digest.
_MARSHAL_FORMAT = 2
_CHUNK = 10_000


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
    for name in data_tables():
        table = models.Base.metadata.tables[name]
        sha.update(b"\x1e" + name.encode())
        if connection.dialect.name == "postgresql":
            sha.update(_postgresql_table(connection, table))
        else:
            _sqlite_table(connection, table, sha)
    return sha.hexdigest()


def _names(connection: Connection, table: Table) -> tuple[str, str]:
    quote = connection.dialect.identifier_preparer.quote
    columns = ", ".join(quote(column.name) for column in table.columns)
    order = ", ".join(quote(column.name) for column in table.primary_key.columns)
    return columns, order


def _postgresql_table(connection: Connection, table: Table) -> bytes:
    columns, order = _names(connection, table)
    # ROW(...)::text is PostgreSQL's own text of the row (NULL and empty text told apart); the
    # rows' digests are aggregated, not their text, so that a million rows need 32 MB in the
    # server rather than their whole text.
    digest = connection.exec_driver_sql(
        f"SELECT sha256(coalesce(string_agg(sha256(convert_to(ROW({columns})::text, 'UTF8')), "
        f"''::bytea ORDER BY {order}), ''::bytea)) FROM {table.name}"
    ).scalar_one()
    return bytes(digest)


def _sqlite_table(connection: Connection, table: Table, sha: Any) -> None:
    columns, order = _names(connection, table)
    raw = connection.connection.driver_connection
    assert isinstance(raw, sqlite3.Connection)
    before = raw.text_factory
    raw.text_factory = bytes  # the stored bytes, not decoded: a third of the reading time
    try:
        cursor = raw.execute(f"SELECT {columns} FROM {table.name} ORDER BY {order}")
        while chunk := cursor.fetchmany(_CHUNK):
            sha.update(marshal.dumps(chunk, _MARSHAL_FORMAT))
        cursor.close()
    finally:
        raw.text_factory = before
