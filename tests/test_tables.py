"""The tables read from the cache (checker/db/tables.py) are the models' tables: same columns and
types, same SQL for the statements built on them; a process that reads them does not build the
ORM; an unreadable entry or `MIXITE_CACHE=0` fall back to the models."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

# Run in a process of its own (this one has imported the models): the description of every
# table, the SQL of a population statement, and whether the ORM was built.
_DESCRIBE = """
import datetime as dt, json, sys
from sqlalchemy.dialects import sqlite
from checker.db.tables import metadata
from checker.evaluate import base

tables = {
    name: [(c.name, repr(c.type), c.nullable, c.primary_key, [f.target_fullname for f in c.foreign_keys])
           for c in table.columns]
    for name, table in sorted(metadata().tables.items())
}
period = (dt.date(2024, 1, 1), dt.date(2024, 12, 31))
statement = base.population("attributions", ["248000531"], period).select()
print(json.dumps({
    "tables": tables,
    "sql": str(statement.compile(dialect=sqlite.dialect())),
    "orm": "sqlalchemy.orm" in sys.modules,
}))
"""


def _describe(cache: Path | None) -> dict[str, object]:
    env = {key: value for key, value in os.environ.items() if key != "MIXITE_CACHE"}
    if cache is None:
        env["MIXITE_CACHE"] = "0"
    else:
        env["XDG_CACHE_HOME"] = str(cache)
    process = subprocess.run([sys.executable, "-c", _DESCRIBE], capture_output=True, text=True,
                             env=env, check=False, timeout=120)  # fmt: skip
    assert process.returncode == 0, process.stderr[-2000:]
    found: dict[str, object] = json.loads(process.stdout)
    return found


def _entries(cache: Path) -> list[Path]:
    return sorted((cache / "mixite" / "tables").glob("*.pickle"))


def test_tables_from_the_cache_are_the_models_tables_without_the_orm(tmp_path: Path) -> None:
    first = _describe(tmp_path)  # no entry yet: the models, written to the cache
    assert first["orm"] is True
    assert len(_entries(tmp_path)) == 1
    again = _describe(tmp_path)
    assert again["orm"] is False  # read from the cache: no ORM built
    assert again["tables"] == first["tables"]
    assert again["sql"] == first["sql"]
    assert "attribution" in str(again["sql"])


def test_an_unreadable_entry_falls_back_to_the_models_and_is_written_again(
    tmp_path: Path,
) -> None:
    expected = _describe(tmp_path)
    (entry,) = _entries(tmp_path)
    entry.write_bytes(b"not a pickle")
    found = _describe(tmp_path)
    assert found["orm"] is True and found["tables"] == expected["tables"]
    assert entry.read_bytes() != b"not a pickle"
    assert _describe(tmp_path)["orm"] is False


def test_without_the_cache_the_models_are_used_and_nothing_is_written(tmp_path: Path) -> None:
    found = _describe(None)
    assert found["orm"] is True
    assert found["tables"] == _describe(tmp_path)["tables"]


@pytest.mark.parametrize("name", ["attribution", "logement", "epci", "residence"])
def test_a_process_holding_the_models_uses_their_tables(name: str) -> None:
    from checker.db import models
    from checker.db.tables import metadata, table

    metadata.cache_clear()  # chosen again, the models being imported
    assert table(name) is models.Base.metadata.tables[name]
