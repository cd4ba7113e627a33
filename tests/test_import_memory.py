"""What an import keeps in memory: the known dwellings' values shared, the QPV links of the
dwellings written as they come, the allocator's free pages given back between files."""

from __future__ import annotations

import csv
import platform
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from checker.db import models
from checker.db.engine import make_engine
from checker.ingest import importer as importer_module
from checker.ingest.heap import release_free_memory
from checker.ingest.importer import import_bundle
from checker.ingest.reference import Described, KnownWorld
from tests.conftest import DATA
from tests.test_import_first_load import _edit, _refusal


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


@pytest.fixture
def switches(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The number of keys in the dict of lines each time a file turned to it (`Described`)."""
    found: list[int] = []
    real = Described.lines_by_key

    def lines_by_key(self: Described[Any], known: dict[Any, Any]) -> dict[Any, int]:
        seen = real(self, known)
        found.append(len(seen))
        return seen

    monkeypatch.setattr(Described, "lines_by_key", lines_by_key)
    return found


def _repeated_dwellings(rows: list[list[str]]) -> list[list[str]]:
    """Line 6 repeats line 3; line 7 has an unknown commune (refused), line 8 repeats it,
    line 9 repeats line 2."""
    commune = rows[0].index("commune_insee")
    unknown = [f"L{9:09d}", *rows[2][1:]]  # a dwelling outside any QPV
    unknown[commune] = "80999"
    return [*rows, rows[2], unknown, unknown, rows[1]]


_REPEATED_DWELLINGS = [
    "logements.csv:6:1: le logement L000000002 est déjà décrit ligne 3",
    "logements.csv:7:3: commune 80999 inconnue (absente de territoire.yaml et de la base)",
    "logements.csv:8:1: le logement L000000009 est déjà décrit ligne 7",
    "logements.csv:9:1: le logement L000000001 est déjà décrit ligne 2",
]


def test_dwellings_described_twice_on_a_first_import_are_reported_with_their_lines(
    db_url: str, mini_bundle: Path, switches: list[int]
) -> None:
    """No dwelling known: the lines are kept in an array until the first repetition, then in
    the dict; the messages are those of the dict (a later import, below)."""
    _edit(mini_bundle / "logements.csv", _repeated_dwellings)
    problems = _refusal(mini_bundle, db_url)
    assert [p for p in problems if p.startswith("logements.csv")] == _REPEATED_DWELLINGS
    assert switches == [4]  # lines 2 to 5 met before line 6 repeated one


def test_dwellings_described_twice_on_a_later_import_give_the_same_messages(
    db_url: str, mini_bundle: Path, switches: list[int], tmp_path: Path
) -> None:
    shutil.copytree(mini_bundle, tmp_path / "premier")
    import_bundle([tmp_path / "premier"], db_url)
    _edit(mini_bundle / "logements.csv", _repeated_dwellings)
    problems = _refusal(mini_bundle, db_url)
    assert [p for p in problems if p.startswith("logements.csv")] == _REPEATED_DWELLINGS
    assert switches == []  # dwellings were known: the dict from the first row


@pytest.fixture
def peuplement_bundle(mini_bundle: Path) -> Path:
    for path in (DATA / "peuplement").iterdir():
        shutil.copy(path, mini_bundle / path.name)
    return mini_bundle


def test_residences_described_twice_on_a_first_import_are_reported_with_their_lines(
    db_url: str, peuplement_bundle: Path, switches: list[int]
) -> None:
    """Line 5 repeats line 2; line 6 has an unknown commune (refused), line 7 repeats it."""

    def edit(rows: list[list[str]]) -> list[list[str]]:
        unknown = ["NEW", *rows[2][1:]]  # a residence outside any QPV
        unknown[rows[0].index("commune_insee")] = "80999"
        return [*rows, rows[1], unknown, unknown]

    _edit(peuplement_bundle / "residences.csv", edit)
    problems = _refusal(peuplement_bundle, db_url)
    assert [p for p in problems if p.startswith("residences.csv")] == [
        "residences.csv:5:1: même résidence (bailleur, code) que la ligne 2",
        "residences.csv:6:4: commune 80999 inconnue (absente de territoire.yaml et de la base)",
        "residences.csv:7:1: même résidence (bailleur, code) que la ligne 6",
    ]
    assert switches[0] == 3  # the residences file turned to the dict at line 5


def test_known_keys_not_added_by_the_file_are_never_taken_for_its_lines() -> None:
    described = Described[str]()
    described.lines.append(2)
    with pytest.raises(RuntimeError):
        described.lines_by_key({"L1": (), "L2": ()})
    assert described.lines_by_key({"L1": ()}) == {"L1": 2}
