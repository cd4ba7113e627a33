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


def restore_foreign_keys(connection: Connection, dropped: list[DroppedKey]) -> None:
    """Add the keys back; PostgreSQL checks every row of the table against each, in one join."""
    for key in dropped:
        connection.exec_driver_sql(
            f'ALTER TABLE "{key.table}" ADD CONSTRAINT "{key.name}" {key.definition}'
        )
