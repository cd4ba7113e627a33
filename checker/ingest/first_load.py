"""A large file loaded into an empty table: its duplicates found by the database.

The importer reports a row whose natural key an earlier row of the same file had, with the line
of that earlier row (« même attribution … que la ligne N »). Remembering every key of a file
to find them made the import's memory grow with the file: about 145 bytes a row packed
(packed_keys.py), 1 GiB for the 1 000 000 attributions and 3 million CALEOL rows of a national
year (docs/dev/performance.md, « Memory »).

On a first load (the table is empty, and its unique key is dropped for the load: sqlite_load.py,
bulk_load.py) the rows are in the table anyway, in the order of the file. So the importer keeps
only the line of each written row, in that order (`LoadedLines`, as runs of consecutive lines:
line_runs.py), and:

- once the file is written, builds the table's indexes at once (it would right after anyway):
  when the unique key builds, no key came twice; when it does not, `duplicates` finds the rows
  sharing a key (`GROUP BY … HAVING count(*) > 1`), reported with the same message, the same
  two lines, in the order of the file, as the row-by-row check would have;
- when a problem stops the writing before the end of the file, reads the keys written so far
  back in their order (`stored_keys`) and goes on with a dict of keys, as before: the rows of
  the rest of the file are no longer written, so only a dict can still compare them.

A stored row's line is found from its id: the rows of the file are the only rows of the table,
written in the file's order, so the n-th id is the n-th row written.
"""

from __future__ import annotations

import datetime as dt
from array import array
from bisect import bisect_left
from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import Connection, Table, and_, func, select

from checker.ingest.line_runs import LineRuns


class LoadedLines:
    """The line of each row written to an empty table, in the order the rows were written."""

    def __init__(self, table: Table, key_columns: Sequence[str], key_kept: bool = False) -> None:
        self.table = table
        self.key_columns = tuple(key_columns)  # the natural key, in the importer's batch order
        # Whether the table's unique key stayed in place for the load (SQLite cannot drop the
        # index of a UNIQUE table constraint): a repeated key is then refused as its batch is
        # written, not when the key is built after the file; `refusal` is that error.
        self.key_kept = key_kept
        self.refusal: Exception | None = None
        self.lines = LineRuns()  # the line of the n-th row written
        # How a row id gives its position: the first id when the ids follow each other (a
        # single writer in one transaction), else every id in order (never seen; kept correct).
        self._first_id: int | None = None
        self._ids: array[int] | None = None

    def line_of_id(self, connection: Connection, row_id: int) -> int:
        """The line of a stored row, once the file is written (its positions no longer move)."""
        if not self._indexed(connection):
            raise RuntimeError(f"table {self.table.name} : d'autres lignes que celles du fichier")
        if self._ids is not None:
            position = bisect_left(self._ids, row_id)
            if position == len(self._ids) or self._ids[position] != row_id:
                raise KeyError(row_id)
        else:
            assert self._first_id is not None
            position = row_id - self._first_id
            if not 0 <= position < len(self.lines):  # a negative index would read from the end
                raise KeyError(row_id)
        return self.lines[position]

    def _indexed(self, connection: Connection) -> bool:
        """Whether the table holds as many rows as were written (then positions are known)."""
        if self._first_id is not None or self._ids is not None:
            return True
        id_column = self.table.c.id
        low, high, count = connection.execute(
            select(func.min(id_column), func.max(id_column), func.count())
        ).one()
        if count != len(self.lines):
            return False
        if count and high - low + 1 == count:
            self._first_id = low
        else:
            self._ids = array("q", connection.scalars(select(id_column).order_by(id_column)))
        return True

    def stored_keys(self, connection: Connection) -> Iterator[tuple[Any, ...]]:
        """The natural key of every row written so far, in the order they were written (a
        server-side cursor on PostgreSQL: millions of rows are not held at once)."""
        columns = [self.table.c[name] for name in self.key_columns]
        query = select(*columns).order_by(self.table.c.id)
        streamed = connection.execution_options(stream_results=True, yield_per=20_000)
        for row in streamed.execute(query):
            yield tuple(row)

    def duplicates(self, connection: Connection) -> list[tuple[int, int]]:
        """(line, line of the first row with the same key) for every row whose key an earlier
        row of the file has, in the order of the file; none when the table holds other rows
        than those written (then the lines cannot be told: the caller fails instead)."""
        if not self._indexed(connection):
            return []
        table = self.table
        columns = [table.c[name] for name in self.key_columns]
        repeated = select(*columns).group_by(*columns).having(func.count() > 1).subquery()
        query = (
            select(table.c.id, *columns)
            .join(repeated, and_(*(c == repeated.c[c.name] for c in columns)))
            .order_by(*columns, table.c.id)
        )
        found: list[tuple[int, int]] = []
        first_key: tuple[Any, ...] | None = None
        first_line = 0
        for row_id, *key in connection.execute(query).all():
            line = self.line_of_id(connection, row_id)
            if tuple(key) != first_key:
                first_key, first_line = tuple(key), line
            else:
                found.append((line, first_line))
        return sorted(found)


def as_date(value: Any) -> dt.date:
    """A date as the batches (ISO text) or the databases (text on SQLite) hold it."""
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(value)
