"""What an import keeps in memory: the known dwellings' values shared, the QPV links of the
dwellings written as they come, the allocator's free pages given back between files."""

from __future__ import annotations

import csv
import platform
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select

from checker.db import models
from checker.db.engine import make_engine
from checker.ingest import importer as importer_module
from checker.ingest.heap import release_free_memory
from checker.ingest.importer import import_bundle
from checker.ingest.reference import KnownWorld


def test_dwellings_of_the_same_bailleur_commune_and_financement_share_one_value() -> None:
    world = KnownWorld()
    world.add_logement("L1", "910000017", "80901", "PLUS")
    world.add_logement("L2", "".join(["910000", "017"]), "80901", "PLUS")  # equal, not the same
    world.add_logement("L3", "910000017", "80901", "PLAI")
    assert world.logements["L1"] == ("910000017", "80901", "PLUS")
    assert world.logements["L1"] is world.logements["L2"]
    assert world.logements["L3"] == ("910000017", "80901", "PLAI")


@pytest.mark.skipif(
    not sys.platform.startswith("linux") or platform.libc_ver()[0] != "glibc",
    reason="malloc_trim is glibc's",
)
def test_free_memory_is_given_back_with_glibc() -> None:
    assert release_free_memory() is True


def test_qpv_links_of_more_dwellings_than_a_chunk_are_all_written(
    db_url: str, mini_bundle: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The links are written every `_CHUNK` links, after their dwellings (a foreign key)."""
    monkeypatch.setattr(importer_module, "_CHUNK", 2)
    path = mini_bundle / "logements.csv"
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle, delimiter=";"))
    qpv = rows[0].index("qpv_code")
    linked = [row for row in rows[1:] if row[qpv]]
    extra = [[f"L1{n:08d}", *linked[0][1:]] for n in range(7)]
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle, delimiter=";").writerows([*rows, *extra])
    import_bundle([mini_bundle], db_url)
    expected = sum(len(row[qpv].split("|")) for row in [*linked, *extra])
    engine = make_engine(db_url)
    try:
        with engine.connect() as connection:
            stored = connection.scalar(select(func.count()).select_from(models.LogementQpv))
    finally:
        engine.dispose()
    assert stored == expected > 2 * 2
