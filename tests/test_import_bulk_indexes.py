"""A large file loaded into an empty PostgreSQL table: its unique keys and secondary indexes are
dropped for the load and built again once the file is written (checker/ingest/bulk_load.py).
They must come back exactly as they were, whether the import succeeds or is refused after the
load, and a unique key built again must still refuse a duplicate."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

import checker.ingest.importer as importer_module
from checker.db.engine import ensure_schema, make_engine
from checker.ingest import bulk_load
from checker.ingest.importer import ImportRefused, import_bundle
from tests.conftest import DATA

pytestmark = pytest.mark.postgres


@pytest.fixture
def dropped(monkeypatch: pytest.MonkeyPatch) -> list[bulk_load.DroppedIndex]:
    """Every file counts as large; records the indexes dropped."""
    found: list[bulk_load.DroppedIndex] = []

    def drop(connection: Any, table: str) -> list[bulk_load.DroppedIndex]:
        indexes = bulk_load.drop_indexes(connection, table)
        found.extend(indexes)
        return indexes

    monkeypatch.setattr(importer_module, "LARGE_FILE_ROWS", 1)
    monkeypatch.setattr(importer_module, "pg_drop_indexes", drop)
    return found


def _query(url: str, sql: str) -> list[Any]:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return list(connection.execute(text(sql)).all())
    finally:
        engine.dispose()


def _indexes(url: str) -> set[tuple[Any, ...]]:
    """Every index and every constraint, as PostgreSQL prints them."""
    indexes = _query(
        url,
        "SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema()",
    )
    constraints = _query(
        url,
        "SELECT conrelid::regclass::text, conname, contype, pg_get_constraintdef(oid) "
        "FROM pg_constraint WHERE connamespace = current_schema()::regnamespace",
    )
    return {tuple(row) for row in indexes} | {tuple(row) for row in constraints}


def _schema(url: str) -> None:
    engine = make_engine(url)
    try:
        ensure_schema(engine)
    finally:
        engine.dispose()


def test_the_indexes_come_back_as_they_were(
    pg_url: str, mini_bundle: Path, dropped: list[bulk_load.DroppedIndex]
) -> None:
    _schema(pg_url)
    before = _indexes(pg_url)
    import_bundle([mini_bundle], pg_url)
    names = {(index.table, index.name) for index in dropped}
    assert ("attribution", "uq_attribution_cle") in names
    assert ("attribution", "ix_attribution_date_bail") in names
    assert ("caleol_examen", "uq_caleol_examen_cle") in names
    assert ("logement", "ix_logement_commune_insee") in names  # written by _flush
    assert not any(index.name.startswith("pk_") for index in dropped)  # primary keys stay
    assert _indexes(pg_url) == before
    assert _query(pg_url, "SELECT count(*) FROM attribution")[0][0] > 0
    # A second import finds the tables filled: nothing is dropped again.
    dropped.clear()
    (mini_bundle / "baux.csv").unlink()
    import_bundle([mini_bundle], pg_url)
    assert dropped == []
    assert _indexes(pg_url) == before


def test_a_refused_import_after_the_load_leaves_the_indexes(
    pg_url: str, mini_bundle: Path, dropped: list[bulk_load.DroppedIndex]
) -> None:
    _schema(pg_url)
    before = _indexes(pg_url)
    # The leases come after the attributions and CALEOL: their problem is found after the load.
    leases = mini_bundle / "baux.csv"
    lines = leases.read_text(encoding="utf-8").splitlines()
    header = lines[0].split(";")
    cells = lines[1].split(";")
    cells[header.index("date_signature")] = "pas une date"
    leases.write_text("\n".join([lines[0], ";".join(cells), *lines[2:]]) + "\n", encoding="utf-8")
    with pytest.raises(ImportRefused):
        import_bundle([mini_bundle], pg_url)
    assert any(index.table == "attribution" for index in dropped)
    assert _indexes(pg_url) == before
    assert _query(pg_url, "SELECT count(*) FROM attribution")[0][0] == 0


def test_a_unique_key_built_again_refuses_a_duplicate(pg_url: str) -> None:
    engine = make_engine(pg_url)
    try:
        with engine.connect() as connection:
            connection.exec_driver_sql(
                "CREATE TABLE t (id integer PRIMARY KEY, a text, b text, "
                "CONSTRAINT uq_t UNIQUE (a, b))"
            )
            connection.exec_driver_sql("CREATE INDEX ix_t_b ON t (b) WHERE b IS NOT NULL")
            connection.commit()
            dropped = bulk_load.drop_indexes(connection, "t")
            assert {(index.name, index.constraint) for index in dropped} == {
                ("uq_t", True),
                ("ix_t_b", False),
            }
            connection.exec_driver_sql("INSERT INTO t VALUES (1, 'x', 'y'), (2, 'x', 'y')")
            with pytest.raises(IntegrityError):
                bulk_load.restore_indexes(connection, dropped)
            connection.rollback()
            # The rollback brought them back, the partial index with its condition.
            found = {
                row[0]
                for row in connection.exec_driver_sql(
                    "SELECT indexdef FROM pg_indexes WHERE tablename = 't'"
                )
            }
            assert "CREATE INDEX ix_t_b ON public.t USING btree (b) WHERE (b IS NOT NULL)" in found
            assert "CREATE UNIQUE INDEX uq_t ON public.t USING btree (a, b)" in found
    finally:
        engine.dispose()


def test_the_planner_statistics_come_with_the_import(pg_url: str, mini_bundle: Path) -> None:
    """The import's last statement analyses the tables it wrote (checker/ingest/importer.py,
    _refresh_statistics): their statistics describe the rows imported, not empty tables."""
    import_bundle([mini_bundle], pg_url)
    rows = _query(pg_url, "SELECT count(*) FROM attribution")[0][0]
    estimated = _query(pg_url, "SELECT reltuples FROM pg_class WHERE relname = 'attribution'")
    assert rows > 0 and estimated[0][0] == rows
    columns = _query(pg_url, "SELECT attname FROM pg_stats WHERE tablename = 'attribution'")
    assert {"rpls_id", "menage", "date_decision"} <= {row[0] for row in columns}


def test_a_later_extract_finds_its_stored_rows_as_they_were_written(
    pg_url: str, tmp_path: Path
) -> None:
    """A later extract on PostgreSQL (importer.py, _stored_by_keys): the stored rows come back
    from the server in the batches' form (dates as ISO text, surfaces as floats), so that a row
    read again unchanged counts as unchanged, with a surface that is no exact binary fraction
    and a date in its key, and a changed one is replaced with its new values."""
    bundle = tmp_path / "lot"
    shutil.copytree(DATA / "mini", bundle)
    for path in (DATA / "peuplement").iterdir():
        shutil.copy(path, bundle / path.name)
    rehousing = bundle / "relogements.csv"
    text = rehousing.read_text(encoding="utf-8")
    rehousing.write_text(text.replace(";65,5;48", ";65,3;48,17"), encoding="utf-8")
    import_bundle([bundle], pg_url)
    leases = bundle / "baux.csv"
    lines = leases.read_text(encoding="utf-8").splitlines()
    header = lines[0].split(";")
    cells = lines[2].split(";")  # a lease reviewed, its situations sent to the CALEOL
    position = header.index("date_transmission_caleol")
    assert cells[position] == "02/05/2021"
    cells[position] = "03/05/2021"
    lines[2] = ";".join(cells)
    leases.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = import_bundle([bundle], pg_url)
    counts = {label: (c.added, c.replaced, c.unchanged) for label, c in result.counts.items()}
    total = len(lines) - 1
    assert counts["baux"] == (0, 1, total - 1)
    assert counts["relogements"] == (0, 0, 3)
    assert counts["attributions"][:2] == (0, 0)
    stored = _query(pg_url, "SELECT date_transmission_caleol FROM bail")
    assert dt.date(2021, 5, 3) in {row[0] for row in stored}
    assert dt.date(2021, 5, 2) not in {row[0] for row in stored}
