"""A large file loaded into an empty SQLite table: its indexes are dropped for the load and
created again after it, its rows written without per-row CHECKs and checked once as a set
(checker/ingest/sqlite_load.py). The database must end exactly as a row-by-row load leaves it,
and a row that would break a CHECK or the unique key must fail the import and leave nothing."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.exc import IntegrityError

import checker.ingest.importer as importer_module
from checker.db.engine import IMPORT_CACHE_MIB, ensure_schema, make_engine
from checker.ingest import sqlite_load
from checker.ingest.importer import import_bundle

_DATA_TABLES = ("logement", "attribution", "caleol_examen", "convention_reservation", "bail")


@dataclass
class Spy:
    tables: list[str] = field(default_factory=list)  # whose indexes were dropped, in order
    indexes: list[str] = field(default_factory=list)


@pytest.fixture
def large(monkeypatch: pytest.MonkeyPatch) -> Spy:
    """Every file counts as large; records which indexes were dropped."""
    spy = Spy()

    def drop(connection: Any, table: str) -> list[sqlite_load.DroppedIndex]:
        spy.tables.append(table)
        dropped = sqlite_load.drop_indexes(connection, table)
        spy.indexes.extend(index.name for index in dropped)
        return dropped

    monkeypatch.setattr(importer_module, "LARGE_FILE_ROWS", 1)
    monkeypatch.setattr(importer_module, "drop_indexes", drop)
    return spy


def _schema_sql(path: Path) -> list[tuple[str, str, list[str]]]:
    """Every table and index with its SQL; a table's clauses sorted (the migrations' table
    rebuilds do not keep the order of its constraints from one database to another)."""
    with sqlite3.connect(path) as connection:
        found = connection.execute(
            "SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY name"
        ).fetchall()
    return [
        (kind, name, sorted(line.strip().rstrip(",") for line in (sql or "").splitlines()))
        for kind, name, sql in found
    ]


def _rows(path: Path, table: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(path) as connection:
        return connection.execute(f"SELECT * FROM {table} ORDER BY rowid").fetchall()


def _empty_schema(path: Path) -> None:
    engine = make_engine(f"sqlite:///{path}")
    try:
        ensure_schema(engine)
    finally:
        engine.dispose()


def test_the_database_ends_as_a_row_by_row_load_leaves_it(
    tmp_path: Path, mini_bundle: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plain = tmp_path / "ligne-a-ligne.db"
    import_bundle([mini_bundle], f"sqlite:///{plain}")
    spy = Spy()

    def drop(connection: Any, table: str) -> list[sqlite_load.DroppedIndex]:
        spy.tables.append(table)
        dropped = sqlite_load.drop_indexes(connection, table)
        spy.indexes.extend(index.name for index in dropped)
        return dropped

    monkeypatch.setattr(importer_module, "LARGE_FILE_ROWS", 1)
    monkeypatch.setattr(importer_module, "drop_indexes", drop)
    bulk = tmp_path / "en-bloc.db"
    import_bundle([mini_bundle], f"sqlite:///{bulk}")
    assert {"attribution", "caleol_examen", "logement"} <= set(spy.tables)
    assert {"uq_attribution_cle", "ix_attribution_date_bail", "uq_caleol_examen_cle"} <= set(
        spy.indexes
    )
    assert _schema_sql(bulk) == _schema_sql(plain)
    for table in _DATA_TABLES:
        assert _rows(bulk, table) == _rows(plain, table), table
        assert _rows(bulk, table), table
    with sqlite3.connect(bulk) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchall() == [("ok",)]


def test_a_second_import_into_filled_tables_drops_nothing(mini_bundle: Path, large: Spy) -> None:
    url = f"sqlite:///{mini_bundle.parent / 'base.db'}"
    import_bundle([mini_bundle], url)
    assert "attribution" in large.tables
    large.tables.clear()
    (mini_bundle / "baux.csv").unlink()  # another bundle digest: imported again, not skipped
    import_bundle([mini_bundle], url)
    assert large.tables == []


def _tamper(monkeypatch: pytest.MonkeyPatch, change: Any) -> None:
    """The rows the importer validated, changed on their way to the unchecked insert."""
    real = sqlite_load.insert_unchecked

    def insert(connection: Any, statement: str, rows: list[tuple[Any, ...]]) -> None:
        if statement.startswith("INSERT INTO attribution "):
            rows = change(rows)
        real(connection, statement, rows)

    monkeypatch.setattr(importer_module, "insert_unchecked", insert)


def test_a_row_breaking_a_check_fails_the_import_and_leaves_nothing(
    tmp_path: Path, mini_bundle: Path, large: Spy, monkeypatch: pytest.MonkeyPatch
) -> None:
    database = tmp_path / "base.db"
    _empty_schema(database)
    before = _schema_sql(database)
    # contingent is the sixth column of the importer's attribution rows
    _tamper(monkeypatch, lambda rows: [(*rows[0][:5], "inconnu", *rows[0][6:]), *rows[1:]])
    with pytest.raises(sqlite_load.ConstraintViolation, match="attribution"):
        import_bundle([mini_bundle], f"sqlite:///{database}")
    assert _schema_sql(database) == before
    assert _rows(database, "attribution") == []
    assert _rows(database, "logement") == []


def test_a_duplicate_reaching_the_unique_key_fails_the_import_and_leaves_nothing(
    tmp_path: Path, mini_bundle: Path, large: Spy, monkeypatch: pytest.MonkeyPatch
) -> None:
    database = tmp_path / "base.db"
    _empty_schema(database)
    before = _schema_sql(database)
    _tamper(monkeypatch, lambda rows: [*rows, rows[0]])
    with pytest.raises(IntegrityError, match="UNIQUE"):
        import_bundle([mini_bundle], f"sqlite:///{database}")
    assert _schema_sql(database) == before
    assert _rows(database, "attribution") == []


@pytest.mark.parametrize(
    "definition",
    [
        "CREATE TABLE t (a INTEGER, b TEXT, CONSTRAINT ck_t_a CHECK (a >= 1), "
        "CONSTRAINT ck_t_b CHECK (b IS NULL OR b IN ('x', 'y')))",
        # "CHECK (" inside a literal: the count of CHECKs in the statement differs from what
        # reflection found, so the expressions are not trusted and quick_check checks instead
        "CREATE TABLE t (a INTEGER, b TEXT, CHECK (a >= 1), "
        "CHECK (b IS NULL OR b IN ('x', 'y') OR b = 'CHECK ('))",
    ],
)
def test_rows_written_unchecked_are_checked_as_a_set(tmp_path: Path, definition: str) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 't.db'}")
    try:
        with engine.begin() as connection:
            connection.exec_driver_sql(definition)
            read = sqlite_load.check_expressions(connection, "t")
            assert read is None if "'CHECK ('" in definition else len(read or ()) == 2
            statement = "INSERT INTO t (a, b) VALUES (?, ?)"
            sqlite_load.insert_unchecked(connection, statement, [(1, "x"), (2, None)])
            sqlite_load.rebuild(connection, [], {"t"})  # all rows hold: nothing raised
            sqlite_load.insert_unchecked(connection, statement, [(0, "x")])
            with pytest.raises(sqlite_load.ConstraintViolation, match="table t"):
                sqlite_load.rebuild(connection, [], {"t"})
            connection.exec_driver_sql("DELETE FROM t WHERE a = 0")
            sqlite_load.insert_unchecked(connection, statement, [(3, "z")])
            with pytest.raises(sqlite_load.ConstraintViolation):
                sqlite_load.rebuild(connection, [], {"t"})
            # the per-row checks are back once the unchecked insert is over
            with pytest.raises(IntegrityError, match="CHECK"):
                connection.exec_driver_sql(statement, (0, "x"))
    finally:
        engine.dispose()


def test_a_caleol_row_seen_twice_is_reported_with_its_first_line(
    tmp_path: Path, mini_bundle: Path
) -> None:
    """The CALEOL keys seen are packed into bytes (importer._caleol_identity): the same
    commission, dwelling and household is a duplicate; one of the three changed is not."""
    caleol = mini_bundle / "caleol.csv"
    lines = caleol.read_text(encoding="utf-8").splitlines()
    header, first = lines[0].split(";"), lines[1].split(";")
    again = first.copy()  # the same row, its numéro unique in lower case (same household)
    again[header.index("numero_unique")] = first[header.index("numero_unique")].lower()
    other_day = first.copy()
    other_day[header.index("date_commission")] = "03/02/2024"
    other_dwelling = first.copy()
    other_dwelling[header.index("rpls_id")] = lines[-1].split(";")[header.index("rpls_id")]
    other_dwelling[header.index("bailleur_siren")] = lines[-1].split(";")[
        header.index("bailleur_siren")
    ]
    caleol.write_text(
        "\n".join([*lines, ";".join(other_day), ";".join(other_dwelling), ";".join(again)]) + "\n",
        encoding="utf-8",
    )
    with pytest.raises(importer_module.ImportRefused) as refused:
        import_bundle([mini_bundle], f"sqlite:///{tmp_path / 'base.db'}")
    found = [
        (problem.line, problem.message)
        for problem in refused.value.problems
        if problem.file == "caleol.csv"
    ]
    assert found == [
        (
            len(lines) + 3,
            "même candidature (commission, logement, ménage) que la ligne 2",
        )
    ]


def test_the_import_writes_and_builds_its_indexes_with_a_smaller_page_cache(
    tmp_path: Path, mini_bundle: Path, large: Spy, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SQLite sorts each CREATE INDEX in memory up to the page cache's size: the import's
    connection has `IMPORT_CACHE_MIB`, not the engine's 64 MiB, for the whole import."""
    during: list[int] = []
    after: list[int] = []
    real_rebuild = importer_module.rebuild
    real_after = importer_module._Importer.rebuild_indexes

    def cache_size(connection: Any) -> int:
        return int(connection.exec_driver_sql("PRAGMA cache_size").scalar_one())

    def rebuild(connection: Any, indexes: Any, unchecked: set[str]) -> None:
        during.append(cache_size(connection))
        real_rebuild(connection, indexes, unchecked)

    def rebuild_indexes(self: Any) -> None:
        real_after(self)
        after.append(cache_size(self.connection))

    monkeypatch.setattr(importer_module, "rebuild", rebuild)
    monkeypatch.setattr(importer_module._Importer, "rebuild_indexes", rebuild_indexes)
    import_bundle([mini_bundle], f"sqlite:///{tmp_path / 'base.db'}")
    assert during and after
    assert set(during) == set(after) == {-IMPORT_CACHE_MIB * 1024} != {-65536}
