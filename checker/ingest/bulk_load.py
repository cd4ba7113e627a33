"""Loading a large file into an empty PostgreSQL table: foreign keys checked once, as a set.

PostgreSQL checks a foreign key with a trigger per inserted row: on the attributions of a
national year, those checks cost about twice the COPY itself (benchmarks/import_benchmark.py;
docs/dev/performance.md). PostgreSQL's own advice for bulk loading ("Populating a Database",
"Remove Foreign Key Constraints") is to drop the foreign keys before the load and add them back
after: adding a foreign key checks the whole table in one join. Both statements run inside the
import's transaction, so a refused or interrupted import restores the constraints with
everything else (PostgreSQL's DDL is transactional), and a row that would break a key makes
`ALTER TABLE … ADD CONSTRAINT` fail, so the import fails instead of storing it.

The price: dropping a foreign key locks its table and the table it refers to (ACCESS
EXCLUSIVE) until the import commits, so readers of those tables wait for the import (the key
to the import history is kept for that reason, see KEPT_REFERENCE). It is
paid only where it buys much: a large file (`LARGE_FILE_ROWS`) loaded into a table that is
empty (a first import: nobody has anything to read there yet).

The same load also drops the table's secondary indexes (its unique key and the plain indexes,
not the primary key) and builds them again once the file is written: one sort of the whole
column set instead of a B-tree insertion per row ("Remove Indexes" in the same PostgreSQL page).
A unique key built again checks every row, so a duplicate the importer let through would fail
the import, as the COPY would have. The table is already locked by dropping its keys; nothing
more is locked.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection

# The size from which the per-row checks cost more than locking the tables for the load: the
# same threshold as the parallel parsing (parsing.WORKER_THRESHOLD_ROWS).
LARGE_FILE_ROWS = 50_000
# The key to the import history stays: dropping it would lock import_batch, which another
# import reads before waiting for the import lock (to say at once that a bundle is already
# imported, or to retry later) and which the web's pages list.
KEPT_REFERENCE = "import_batch"


@dataclass(frozen=True)
class DroppedKey:
    table: str
    name: str
    definition: str  # as PostgreSQL prints it (pg_get_constraintdef), to add it back as it was


def drop_foreign_keys(connection: Connection, table: str) -> list[DroppedKey]:
    """Drop the foreign keys of `table` (PostgreSQL), returning what adds them back."""
    found = connection.exec_driver_sql(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE conrelid = %(table)s::regclass AND contype = 'f' "
        "AND confrelid <> %(kept)s::regclass ORDER BY conname",
        {"table": table, "kept": KEPT_REFERENCE},
    ).all()
    dropped = [DroppedKey(table, name, definition) for name, definition in found]
    for key in dropped:
        connection.exec_driver_sql(f'ALTER TABLE "{table}" DROP CONSTRAINT "{key.name}"')
    return dropped


@dataclass(frozen=True)
class DroppedIndex:
    table: str
    name: str
    # As PostgreSQL prints it: for a constraint (a unique key), pg_get_constraintdef, added back
    # with ALTER TABLE … ADD CONSTRAINT; for a plain index, the whole pg_get_indexdef statement.
    definition: str
    constraint: bool


def drop_indexes(connection: Connection, table: str) -> list[DroppedIndex]:
    """Drop the secondary indexes of `table` (PostgreSQL), returning what builds them again.

    Left in place: the primary key (other tables' keys may refer to it), an index another
    table's foreign key depends on, and an index kept elsewhere than the default tablespace
    (its definition would not bring it back there)."""
    found = connection.exec_driver_sql(
        "SELECT index.relname, pg_get_indexdef(index.oid), owner.conname, "
        "pg_get_constraintdef(owner.oid) "
        "FROM pg_index i JOIN pg_class index ON index.oid = i.indexrelid "
        "LEFT JOIN pg_constraint owner ON owner.conindid = i.indexrelid "
        "AND owner.conrelid = i.indrelid "
        "WHERE i.indrelid = %(table)s::regclass AND NOT i.indisprimary AND i.indisvalid "
        "AND index.reltablespace = 0 "
        "AND NOT EXISTS (SELECT FROM pg_constraint other WHERE other.conindid = i.indexrelid "
        "AND other.contype = 'f') "
        "ORDER BY index.relname",
        {"table": table},
    ).all()
    dropped = [
        DroppedIndex(table, constraint, constraint_definition, True)
        if constraint is not None
        else DroppedIndex(table, index, index_definition, False)
        for index, index_definition, constraint, constraint_definition in found
    ]
    for index in dropped:
        if index.constraint:
            connection.exec_driver_sql(f'ALTER TABLE "{table}" DROP CONSTRAINT "{index.name}"')
        else:
            connection.exec_driver_sql(f'DROP INDEX "{index.name}"')
    return dropped


def restore_indexes(connection: Connection, dropped: list[DroppedIndex]) -> None:
    """Build the indexes again, each in one sort of the table; a unique one checks every row."""
    for index in dropped:
        if index.constraint:
            connection.exec_driver_sql(
                f'ALTER TABLE "{index.table}" ADD CONSTRAINT "{index.name}" {index.definition}'
            )
        else:
            connection.exec_driver_sql(index.definition)


def restore_foreign_keys(connection: Connection, dropped: list[DroppedKey]) -> None:
    """Add the keys back; PostgreSQL checks every row of the table against each, in one join."""
    for key in dropped:
        connection.exec_driver_sql(
            f'ALTER TABLE "{key.table}" ADD CONSTRAINT "{key.name}" {key.definition}'
        )
