"""A large file loaded into an empty PostgreSQL table: its foreign keys are dropped for the load
and added back before commit (checker/ingest/bulk_load.py). They must come back exactly as they
were, whether the import succeeds or is refused after the load."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

import checker.ingest.importer as importer_module
from checker.db.engine import ensure_schema, make_engine
from checker.ingest import bulk_load
from checker.ingest.importer import ImportRefused, import_bundle

pytestmark = pytest.mark.postgres


@dataclass
class Spy:
    tables: list[str] = field(default_factory=list)  # whose keys were dropped, in order
    keys: list[bulk_load.DroppedKey] = field(default_factory=list)


@pytest.fixture
def dropped(monkeypatch: pytest.MonkeyPatch) -> Spy:
    """Every file counts as large; records what was dropped."""
    spy = Spy()

    def drop(connection: Any, table: str) -> list[bulk_load.DroppedKey]:
        spy.tables.append(table)
        keys = bulk_load.drop_foreign_keys(connection, table)
        spy.keys.extend(keys)
        return keys

    monkeypatch.setattr(importer_module, "LARGE_FILE_ROWS", 1)
    monkeypatch.setattr(importer_module, "drop_foreign_keys", drop)
    return spy


def _foreign_keys(url: str) -> set[tuple[str, str, str]]:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                text(
                    "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) "
                    "FROM pg_constraint WHERE contype = 'f'"
                )
            ).all()
    finally:
        engine.dispose()
    return {(table, name, definition) for table, name, definition in rows}


def _count(url: str, table: str) -> int:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return int(connection.scalar(text(f"SELECT count(*) FROM {table}")) or 0)
    finally:
        engine.dispose()


def _schema(url: str) -> None:
    engine = make_engine(url)
    try:
        ensure_schema(engine)
    finally:
        engine.dispose()


def test_the_keys_come_back_as_they_were(pg_url: str, mini_bundle: Path, dropped: Spy) -> None:
    _schema(pg_url)
    before = _foreign_keys(pg_url)
    import_bundle([mini_bundle], pg_url)
    assert "attribution" in dropped.tables and "caleol_examen" in dropped.tables
    assert _foreign_keys(pg_url) == before
    assert _count(pg_url, "attribution") > 0
    # The key to the import history is never dropped (readers of the history do not wait).
    assert dropped.keys
    assert all("import_batch" not in key.definition for key in dropped.keys)
    # A second import finds the tables filled: no key is dropped again.
    dropped.tables.clear()
    (mini_bundle / "baux.csv").unlink()
    import_bundle([mini_bundle], pg_url)
    assert dropped.tables == []


def test_a_refused_import_after_the_load_leaves_the_keys_and_no_row(
    pg_url: str, mini_bundle: Path, dropped: Spy
) -> None:
    _schema(pg_url)
    before = _foreign_keys(pg_url)
    # The leases come after the attributions and CALEOL: their problem is found after the load.
    leases = mini_bundle / "baux.csv"
    lines = leases.read_text(encoding="utf-8").splitlines()
    header = lines[0].split(";")
    cells = lines[1].split(";")
    cells[header.index("date_signature")] = "pas une date"
    leases.write_text("\n".join([lines[0], ";".join(cells), *lines[2:]]) + "\n", encoding="utf-8")
    with pytest.raises(ImportRefused):
        import_bundle([mini_bundle], pg_url)
    assert "attribution" in dropped.tables
    assert _foreign_keys(pg_url) == before
    assert _count(pg_url, "attribution") == 0
