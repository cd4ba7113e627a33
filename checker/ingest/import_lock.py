"""One import at a time per database, and no trace of a refused one in PostgreSQL's counters.

Two imports at once would race on the metadata tables and on the key file; the second one is
told to wait and retry instead. The lock belongs to the importing process: the kernel
(SQLite: a lock on the database's folder) or the server (PostgreSQL: an advisory lock of the
session) releases it when the process ends, even killed, so a crashed import never blocks the
next one.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, text

from checker.db.engine import connection_errors, make_engine, sqlite_file
from checker.errors import MixiteError

# The advisory lock's number: any fixed 64-bit value; derived from a name to avoid colliding
# with another application's lock on a shared server.
_LOCK_ID = int.from_bytes(hashlib.sha256(b"mixite:import").digest()[:8], "big", signed=True)


def _sequenced() -> list[str]:
    """Tables only imports write to (their rows carry the import's batch_id), with an id drawn
    from a sequence. Only these are put back: another table may be drawing ids meanwhile."""
    from checker.db.models import Base

    return [
        table.name
        for table in Base.metadata.sorted_tables
        if ("batch_id" in table.c or table.name == "import_batch")
        and "id" in table.c
        and table.c.id.primary_key
    ]


class ImportInProgress(MixiteError):
    def __init__(self) -> None:
        super().__init__(
            "Un autre import est en cours sur cette base : attendez qu'il se termine, puis "
            "relancez mixite import.",
            "Deux imports à la fois pourraient mêler leurs lots ; la base n'a pas été modifiée.",
        )


@contextmanager
def import_lock(db_url: str) -> Iterator[Connection | None]:
    """Hold the database's import lock, or raise `ImportInProgress` at once.

    Yields the PostgreSQL session holding the lock (None on SQLite), which `reset_sequences`
    uses after a refused import, still under the lock.
    """
    database = sqlite_file(db_url)
    if database is not None:
        with _folder_lock(str(database.parent) if database.parent.is_dir() else None):
            yield None
        return
    if not db_url.startswith("postgresql"):
        yield None
        return
    engine = make_engine(db_url)
    try:
        with connection_errors(db_url):
            connection = engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        try:
            taken = connection.scalar(text("SELECT pg_try_advisory_lock(:id)"), {"id": _LOCK_ID})
            if not taken:
                raise ImportInProgress()
            yield connection
        finally:
            connection.close()  # ends the session, and with it the lock
    finally:
        engine.dispose()


@contextmanager
def _folder_lock(folder: str | None) -> Iterator[None]:
    """An exclusive lock on the database's folder (flock: released when the process ends).

    The folder, not the database file, because a first import creates the file, and a refused
    one removes it; and no lock file is left beside the database.
    """
    try:
        import fcntl
    except ImportError:  # Windows: SQLite's own locking is all there is
        yield
        return
    if folder is None:
        yield
        return
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:  # a folder we may write in but not list: SQLite's own locking remains
        yield
        return
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ImportInProgress() from None
        yield
    finally:
        os.close(descriptor)  # releases the lock


def reset_sequences(connection: Connection | None) -> None:
    """Put PostgreSQL's id sequences back after a refused import: a sequence is not rolled
    back with the transaction, and import numbers would skip. Safe under the import lock, as
    no other import draws from them."""
    if connection is None:
        return
    existing = set(
        connection.scalars(
            text("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
        )
    )
    for table in _sequenced():
        if table not in existing:
            continue
        connection.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"COALESCE((SELECT max(id) FROM {table}), 0) + 1, false)"
            )
        )
