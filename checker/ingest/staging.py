"""The dwellings and residences an import knows, kept by the database instead of its process.

Rows of attributions, CALEOL, leases, occupation and rehousing refer to dwellings (`rpls_id`)
and residences (bailleur, code): those of earlier imports, in the database, and those of the
bundle's `logements.csv` and `residences.csv`, read before them. The import used to hold all of
them in dicts for its row checks, for the whole import: the 433 333 dwellings and 198 167
residences of a 1 000 000-attribution bundle were about 80 MiB of the main process, the part of
its memory that still grew with the bundle (docs/dev/performance.md, « Memory »).

Now the database keeps them, inside the import's own transaction:

- the dwellings and residences the bundle's files accept go, chunk after chunk, to a temporary
  table of the import's connection (`mixite_import_logement`, `mixite_import_residence`: the
  key, the order it was accepted in, and for a dwelling its bailleur, commune and
  financement). They cannot simply be read back from
  `logement` and `residence`: once a problem is found, the importer writes nothing more, yet
  the rows after it are still checked against every dwelling the bundle accepted;
- before the rows of a chunk (5 000 rows) are checked, the keys they name are looked up there,
  and in `logement` / `residence` when the database held some before the import (`look_up`),
  into `KnownWorld.logements` / `KnownWorld.residences`, which hold only that chunk's (and the
  rows of the file being read that were accepted since the chunk began). The checks then read
  those dicts as before, row by row, so every message, its place and its order are those of
  the dicts that held everything.

A temporary table is the connection's own: it is not seen by other sessions, it goes with a
rolled-back transaction (and on PostgreSQL with the committed one, `ON COMMIT DROP`; on SQLite
`drop` removes it before the commit).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

from sqlalchemy import Connection, exists, select

from checker.db import models
from checker.ingest.reference import KnownWorld

DWELLINGS_TABLE = "mixite_import_logement"
RESIDENCES_TABLE = "mixite_import_residence"


class _Staging:
    """A temporary table of keys accepted by the bundle, in the order they were accepted."""

    def __init__(self, connection: Connection, table: str, columns: str, key: str) -> None:
        self.connection = connection
        self.table = table
        self.postgresql = connection.dialect.name == "postgresql"
        self._columns = columns  # the table's columns, as SQL
        self._key = key  # its primary key, as SQL
        self._created = False
        self.staged = 0  # rows written to the table

    def write(self, rows: list[tuple[Any, ...]]) -> None:
        if not rows:
            return
        if not self._created:
            if self.postgresql:
                self.connection.exec_driver_sql(
                    f"CREATE TEMPORARY TABLE {self.table} ({self._columns}, "
                    f"PRIMARY KEY ({self._key})) ON COMMIT DROP"
                )
            else:  # no rowid: the key is the table's own order, the lookups' index
                # A table left by an import that failed before its rollback reached SQLite.
                self.connection.exec_driver_sql(f"DROP TABLE IF EXISTS temp.{self.table}")
                self.connection.exec_driver_sql(
                    f"CREATE TEMPORARY TABLE {self.table} ({self._columns}, "
                    f"PRIMARY KEY ({self._key})) WITHOUT ROWID"
                )
            self._created = True
        width = len(rows[0])
        if self.postgresql and self.connection.dialect.driver == "psycopg":
            driver = self.connection.connection.driver_connection
            assert driver is not None
            with driver.cursor() as cursor, cursor.copy(f"COPY {self.table} FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            marks = ", ".join(["%s" if self.postgresql else "?"] * width)
            self.connection.exec_driver_sql(f"INSERT INTO {self.table} VALUES ({marks})", rows)
        self.staged += len(rows)

    def analyze(self) -> None:
        """PostgreSQL: statistics for the planner, once the file is staged (a temporary table
        is never analysed by autovacuum: without them, a join of a chunk's keys with it may be
        planned as a scan of every row)."""
        if self._created and self.postgresql:
            self.connection.exec_driver_sql(f"ANALYZE {self.table}")

    def drop(self) -> None:
        """SQLite: the table removed before the import commits (PostgreSQL drops it then)."""
        if self._created and not self.postgresql:
            self.connection.exec_driver_sql(f"DROP TABLE temp.{self.table}")
        self._created = False

    def ordered(self, columns: str) -> Iterator[tuple[Any, ...]]:
        """Every staged row's `columns`, in the order the rows were accepted."""
        if not self._created:
            return
        for row in self.connection.exec_driver_sql(
            f"SELECT {columns} FROM {self.table} ORDER BY seq"
        ):
            yield tuple(row)


def _fetched(connection: Connection, query: str, params: tuple[Any, ...]) -> list[Any]:
    """The rows of a query on the import's connection, as the driver's tuples: SQLAlchemy's
    rows cost a third of the look-ups' client time, for nothing here."""
    driver = connection.connection.driver_connection
    assert driver is not None
    cursor = driver.cursor()
    try:
        cursor.execute(query, params)
        return list(cursor.fetchall())
    finally:
        cursor.close()


class _BundleKeys:
    """What `BundleDwellings` and `BundleResidences` share: the keys a file accepted, staged a
    chunk at a time, and the tables a look-up reads (the stored table when the database held
    rows before the import, then the staging table, whose values win)."""

    def __init__(self, staging: _Staging, stored: str, earlier: bool) -> None:
        self._staging = staging
        self._stored = stored
        self.earlier = earlier
        self._pending: list[tuple[Any, ...]] = []  # accepted, not staged yet

    def flush(self) -> None:
        pending, self._pending = self._pending, []
        self._staging.write(pending)

    def file_done(self) -> None:
        """After the file: every accepted key staged, the table analysed."""
        self.flush()
        self._staging.analyze()

    def _sources(self) -> list[str]:
        return ([self._stored] if self.earlier else []) + (
            [self._staging.table] if self._staging.staged else []
        )

    def __len__(self) -> int:
        return self._staging.staged + len(self._pending)

    def drop(self) -> None:
        self._staging.drop()


class BundleDwellings(_BundleKeys):
    """The dwellings the import knows: the database's and those the bundle accepted.

    For `Described` (a first import, no dwelling in the database), it is also the collection of
    the file's accepted dwellings in the order they were accepted: `in` for those the current
    chunk names (after `look_up`) or that the file accepted since, `len` and iteration over all.
    """

    def __init__(self, connection: Connection, world: KnownWorld) -> None:
        self.world = world
        # Dwellings of earlier imports: looked up in `logement` too. Read before any file, so
        # the bundle's own (written to `logement` while no problem is found) are not counted.
        earlier = bool(connection.scalar(select(exists().select_from(models.Logement))))
        staging = _Staging(
            connection,
            DWELLINGS_TABLE,
            "rpls_id TEXT NOT NULL, seq INTEGER NOT NULL, bailleur_siren TEXT NOT NULL, "
            "commune_insee TEXT NOT NULL, financement TEXT NOT NULL",
            "rpls_id",
        )
        super().__init__(staging, "logement", earlier)

    def add(self, rpls_id: str, bailleur: str, commune: str, financement: str) -> None:
        """A dwelling the bundle accepted: known to the rows after it."""
        self.world.add_logement(rpls_id, bailleur, commune, financement)
        self._pending.append((rpls_id, len(self), bailleur, commune, financement))

    def look_up(self, keys: Iterable[str]) -> None:
        """`KnownWorld.logements` set to the known dwellings among `keys` (the database's, with
        the bundle's values over them), for the rows of one chunk."""
        self.flush()
        self.world.forget_dwellings()
        wanted = list(set(keys))
        if not wanted:
            return
        staging = self._staging
        connection = staging.connection
        wanted_sql, keys_given = among(staging.postgresql, wanted)
        logements = self.world.logements
        for table in self._sources():  # the database's first: the bundle's values replace them
            # A tuple each: the chunk's dwellings are forgotten with it, nothing to share.
            found = _fetched(
                connection,
                "SELECT rpls_id, bailleur_siren, commune_insee, financement "
                f"FROM {table} WHERE rpls_id {wanted_sql}",
                keys_given,
            )
            logements.update({row[0]: row[1:] for row in found})

    def __contains__(self, rpls_id: object) -> bool:
        return rpls_id in self.world.logements

    def __iter__(self) -> Iterator[str]:
        self.flush()
        for (rpls_id,) in self._staging.ordered("rpls_id"):
            yield rpls_id


class BundleResidences(_BundleKeys):
    """The residences the import knows, as `BundleDwellings` the dwellings."""

    def __init__(self, connection: Connection, world: KnownWorld) -> None:
        self.world = world
        earlier = bool(connection.scalar(select(exists().select_from(models.Residence))))
        # The code first: the owners of a code are found by the key's first column.
        staging = _Staging(
            connection,
            RESIDENCES_TABLE,
            "residence_id TEXT NOT NULL, bailleur_siren TEXT NOT NULL, seq INTEGER NOT NULL",
            "residence_id, bailleur_siren",
        )
        super().__init__(staging, "residence", earlier)

    def add(self, bailleur: str, ident: str) -> None:
        self.world.residences.add((bailleur, ident))
        self._pending.append((ident, bailleur, len(self)))

    def look_up(self, keys: Iterable[tuple[str, str]]) -> None:
        """`KnownWorld.residences` set to the known residences among `keys` (bailleur, code)."""
        self.flush()
        residences = self.world.residences
        residences.clear()
        wanted = list(set(keys))
        if not wanted:
            return
        staging = self._staging
        # One JSON array of [bailleur, code] pairs: see `among`.
        if staging.postgresql:
            pairs = "(SELECT p ->> 0 AS b, p ->> 1 AS r FROM json_array_elements(%s::json) p) k"
        else:
            pairs = "(SELECT value ->> 0 AS b, value ->> 1 AS r FROM json_each(?)) AS k"
        params = (json.dumps(wanted),)
        for table in self._sources():
            query = (
                f"SELECT t.bailleur_siren, t.residence_id FROM {pairs} JOIN {table} AS t "
                "ON t.bailleur_siren = k.b AND t.residence_id = k.r"
            )
            residences.update(map(tuple, _fetched(staging.connection, query, params)))

    def owners(self, ident: str) -> list[str]:
        """Every bailleur with a residence of that code, known to the import, sorted."""
        self.flush()
        staging = self._staging
        mark = "%s" if staging.postgresql else "?"
        found: set[str] = set()
        for table in self._sources():
            found.update(
                staging.connection.exec_driver_sql(
                    f"SELECT bailleur_siren FROM {table} WHERE residence_id = {mark}", (ident,)
                ).scalars()
            )
        return sorted(found)

    def __contains__(self, key: object) -> bool:
        return key in self.world.residences

    def __iter__(self) -> Iterator[tuple[str, str]]:
        self.flush()
        for ident, bailleur in self._staging.ordered("residence_id, bailleur_siren"):
            yield bailleur, ident


def among(postgresql: bool, keys: list[str]) -> tuple[str, tuple[Any, ...]]:
    """`IN` the given keys, as SQL and its one parameter, a JSON array (`json.dumps`, in C).
    SQLite: a list of `?` would be a new statement for each number of keys, and sqlite3 keeps
    the last 128 statements prepared: 30 MiB of them for lists of thousands of keys.
    PostgreSQL: psycopg dumps a list as an array element by element in Python, 5.2 ms of
    client CPU for 5 000 keys against 2.3 ms for the JSON text (the rows fetched included);
    the array built from it on the server keeps the index scan of `= ANY`."""
    if postgresql:
        return "= ANY(ARRAY(SELECT json_array_elements_text(%s::json)))", (json.dumps(keys),)
    return "IN (SELECT value FROM json_each(?))", (json.dumps(keys),)
