"""Loading a large file into an empty SQLite table: indexes built and CHECKs verified once.

SQLite maintains every index of a table row by row (one B-tree insertion per index and row)
and evaluates every CHECK constraint of the table on each inserted row. On the attributions of
a national year, with the enumerated lists of the CHECKs (contingents, situations, housing
before…), those per-row costs are most of the insert (docs/dev/performance.md, « The
import »). For a first load of a large file into an empty table, the import instead:

- drops the table's named indexes (the natural keys of attributions and CALEOL examinations
  are named unique indexes since migrations 0011 and 0012; the index SQLite keeps for a UNIQUE
  table constraint cannot be dropped, so the other tables' keys stay per row) and creates them again after the rows, from the very SQL SQLite kept for
  them: one sort of the whole table each. A row that would break a unique index (the importer
  has already refused duplicates with their lines) makes the creation fail, so the import fails
  instead of storing it;
- writes the rows with `PRAGMA ignore_check_constraints` on, then checks the table's CHECK
  constraints once, as a set: one `SELECT … WHERE NOT (check) OR NOT (check) …` over the table
  with the expressions of the table's own CREATE TABLE statement as SQLite keeps it (not a copy
  in the code), so a row passes exactly when SQLite's per-row check would have let it in (a
  CHECK passes on NULL, and `NOT NULL` selects nothing). Should those expressions not all be
  found in that statement, `PRAGMA quick_check(table)` (which evaluates every CHECK on every
  row, but also walks the table's pages: 0.35 s per 100 000 attributions against 0.05 s)
  checks instead. A violation fails the import.

All of it inside the import's transaction (SQLite's DDL is transactional): a refused or
interrupted import leaves the table, its indexes and its constraints as they were.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection


@dataclass(frozen=True)
class DroppedIndex:
    table: str
    name: str
    definition: str  # the CREATE INDEX statement as SQLite kept it in sqlite_master


class ConstraintViolation(RuntimeError):
    """A row loaded without its per-row checks breaks a CHECK constraint of its table."""


def drop_indexes(connection: Connection, table: str) -> list[DroppedIndex]:
    """Drop the table's named indexes (not those SQLite keeps for PRIMARY KEY or UNIQUE
    constraints, whose `sql` is NULL); returned to be created again by `rebuild`."""
    found = connection.exec_driver_sql(
        "SELECT name, sql FROM sqlite_master "
        "WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL ORDER BY name",
        (table,),
    ).all()
    dropped = [DroppedIndex(table, name, definition) for name, definition in found]
    for index in dropped:
        connection.exec_driver_sql(f'DROP INDEX "{index.name}"')
    return dropped


def insert_unchecked(connection: Connection, statement: str, rows: Sequence[Any]) -> None:
    """`executemany` with the table's CHECK constraints not evaluated per row: `rebuild`
    evaluates them once on the whole table afterwards."""
    connection.exec_driver_sql("PRAGMA ignore_check_constraints = ON")
    try:
        connection.exec_driver_sql(statement, rows)
    finally:
        connection.exec_driver_sql("PRAGMA ignore_check_constraints = OFF")


def rebuild(connection: Connection, indexes: Sequence[DroppedIndex], unchecked: set[str]) -> None:
    """Create the dropped indexes again, then check the CHECK constraints of the tables whose
    rows were written unchecked. Raises (the import then fails) if a row breaks either."""
    for index in indexes:
        connection.exec_driver_sql(index.definition)
    for table in sorted(unchecked):
        checks = check_expressions(connection, table)
        if checks is None:
            found = [row[0] for row in connection.exec_driver_sql(f'PRAGMA quick_check("{table}")')]
            broken = [] if found == ["ok"] else found[:5]
        elif checks:
            broken_rule = " OR ".join(f"NOT ({check})" for check in checks)
            broken = [
                f"rowid {row[0]}"
                for row in connection.exec_driver_sql(
                    f'SELECT rowid FROM "{table}" WHERE {broken_rule} LIMIT 5'
                )
            ]
        else:
            broken = []
        if broken:
            raise ConstraintViolation(
                f"table {table} : contrainte CHECK non respectée après le chargement "
                f"({'; '.join(broken)})"
            )


def check_expressions(connection: Connection, table: str) -> list[str] | None:
    """The expressions of the table's CHECK constraints, read from its CREATE TABLE statement
    (SQLAlchemy's reflection); None when not every CHECK of the statement was found."""
    from sqlalchemy import inspect

    definition = connection.exec_driver_sql(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)
    ).scalar_one()
    checks = [str(found["sqltext"]) for found in inspect(connection).get_check_constraints(table)]
    if len(re.findall(r"\bCHECK\s*\(", definition, re.IGNORECASE)) != len(checks):
        return None
    return checks
