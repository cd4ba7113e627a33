"""A logical dump of a mixite database, to compare two states of it."""

from __future__ import annotations

from typing import Any

from sqlalchemy import create_engine, inspect, select

from checker.db.models import Base


def dump(url: str, skip: tuple[str, ...] = ()) -> dict[str, list[tuple[Any, ...]]]:
    engine = create_engine(url)
    try:
        existing = set(inspect(engine).get_table_names())
        result: dict[str, list[tuple[Any, ...]]] = {}
        with engine.connect() as connection:
            for table in Base.metadata.sorted_tables:
                if table.name in skip or table.name not in existing:
                    continue
                rows = connection.execute(select(table)).all()
                result[table.name] = sorted((tuple(row) for row in rows), key=repr)
        return result
    finally:
        engine.dispose()


def content(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """The domain content, without import bookkeeping (batch ids, digests, dates)."""
    engine = create_engine(url)
    try:
        result: dict[str, list[tuple[Any, ...]]] = {}
        with engine.connect() as connection:
            for table in Base.metadata.sorted_tables:
                if table.name in ("import_batch", "mixite_meta"):
                    continue
                columns = [c for c in table.columns if c.name not in ("id", "batch_id")]
                rows = connection.execute(select(*columns)).all()
                result[table.name] = sorted((tuple(row) for row in rows), key=repr)
        return result
    finally:
        engine.dispose()
