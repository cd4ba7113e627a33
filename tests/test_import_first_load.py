"""A large file into an empty table: duplicates found by the database (first_load.py).

The same bundles imported twice: along the first-load path (the bulk threshold lowered to one
row, so the mini bundle's files are "large") and along the row-by-row path of a small file,
whose keys are remembered in a dict. Both must refuse with the very same messages, lines and
order, on both backends; and the first-load path must really have been taken.
"""

from __future__ import annotations

import csv
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table

from checker.db.engine import make_engine
from checker.ingest import first_load
from checker.ingest import importer as importer_module
from checker.ingest.importer import ImportRefused, import_bundle
from tests.conftest import DATA

Rows = list[list[str]]


class _Paths:
    """What the first-load path did during an import."""

    def __init__(self) -> None:
        self.loads: list[str] = []  # tables loaded along the first-load path
        self.database_duplicates: list[str] = []  # tables whose duplicates the database found
        self.switched: list[str] = []  # tables whose keys went back to a dict


@pytest.fixture
def paths(monkeypatch: pytest.MonkeyPatch) -> _Paths:
    spy = _Paths()

    class SpiedLines(first_load.LoadedLines):
        def __init__(self, *args: Any) -> None:
            super().__init__(*args)
            spy.loads.append(self.table.name)

        def duplicates(self, connection: Any) -> list[tuple[int, int]]:
            spy.database_duplicates.append(self.table.name)
            return super().duplicates(connection)

        def stored_keys(self, connection: Any) -> Any:
            spy.switched.append(self.table.name)
            return super().stored_keys(connection)

    monkeypatch.setattr(importer_module, "LoadedLines", SpiedLines)
    return spy


def _edit(path: Path, edit: Callable[[Rows], Rows]) -> None:
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle, delimiter=";"))
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle, delimiter=";").writerows(edit(rows))


def _refusal(bundle: Path, url: str) -> list[str]:
    with pytest.raises(ImportRefused) as refused:
        import_bundle([bundle], url)
    return [problem.render() for problem in refused.value.problems]


def _both_paths(
    bundle: Path, url: str, monkeypatch: pytest.MonkeyPatch, chunk: int | None = None
) -> tuple[list[str], list[str]]:
    """The refusal along the row-by-row path, then along the first-load path (same URL: a
    refused import leaves the database as it was, empty)."""
    by_row = _refusal(bundle, url)
    monkeypatch.setattr(importer_module, "LARGE_FILE_ROWS", 1)
    if chunk is not None:  # rows written a few at a time: some written, some waiting
        monkeypatch.setattr(importer_module, "_CHUNK", chunk)
    return by_row, _refusal(bundle, url)


def _unknown_dwelling(row: list[str]) -> list[str]:
    return [*row[:2], "L000000099", *row[3:]]


def test_duplicates_of_a_first_load_are_reported_as_row_by_row(
    db_url: str, mini_bundle: Path, paths: _Paths, monkeypatch: pytest.MonkeyPatch
) -> None:
    _edit(mini_bundle / "attributions.csv", lambda rows: [*rows, rows[1], rows[3], rows[1]])
    by_row, first = _both_paths(mini_bundle, db_url, monkeypatch)
    assert (
        first
        == by_row
        == [
            "attributions.csv:6:1: même attribution (logement, ménage, date de décision) que la "
            "ligne 2",
            "attributions.csv:7:1: même attribution (logement, ménage, date de décision) que la "
            "ligne 4",
            "attributions.csv:8:1: même attribution (logement, ménage, date de décision) que la "
            "ligne 2",
        ]
    )
    assert paths.database_duplicates == ["attribution"]
    assert paths.switched == []


def test_duplicates_of_a_first_caleol_load_are_reported_as_row_by_row(
    db_url: str, mini_bundle: Path, paths: _Paths, monkeypatch: pytest.MonkeyPatch
) -> None:
    _edit(mini_bundle / "caleol.csv", lambda rows: [*rows, rows[2], rows[1]])
    by_row, first = _both_paths(mini_bundle, db_url, monkeypatch)
    assert (
        first
        == by_row
        == [
            "caleol.csv:5:4: même candidature (commission, logement, ménage) que la ligne 3",
            "caleol.csv:6:4: même candidature (commission, logement, ménage) que la ligne 2",
        ]
    )
    assert paths.loads == ["attribution", "caleol_examen"]
    assert paths.database_duplicates == ["caleol_examen"]
    assert paths.switched == []


@pytest.mark.parametrize("chunk", [None, 2], ids=["rows-waiting", "rows-written"])
def test_a_problem_after_a_duplicate_turns_to_the_dict_with_the_same_messages(
    db_url: str, mini_bundle: Path, paths: _Paths, monkeypatch: pytest.MonkeyPatch, chunk: int
) -> None:
    """Line 6 repeats line 2 (unseen yet: written), line 7 cites an unknown dwelling (the
    writing stops), line 8 repeats line 3 (now found by the dict)."""
    _edit(
        mini_bundle / "attributions.csv",
        lambda rows: [*rows, rows[1], _unknown_dwelling(rows[2]), rows[2]],
    )
    by_row, first = _both_paths(mini_bundle, db_url, monkeypatch, chunk)
    assert first == by_row
    assert by_row == [
        "attributions.csv:6:1: même attribution (logement, ménage, date de décision) que la "
        "ligne 2",
        "attributions.csv:7:3: logement « L000000099 » inconnu (absent de logements et de la base)",
        "attributions.csv:8:1: même attribution (logement, ménage, date de décision) que la "
        "ligne 3",
    ]
    assert paths.switched == ["attribution"]
    assert paths.database_duplicates == []


@pytest.mark.parametrize("chunk", [None, 2], ids=["rows-waiting", "rows-written"])
def test_a_problem_after_the_last_row_met_still_reports_the_duplicates(
    db_url: str, mini_bundle: Path, paths: _Paths, monkeypatch: pytest.MonkeyPatch, chunk: int
) -> None:
    """The last rows of the file repeat a key, then cite an unknown dwelling and have a
    missing field: no row after the problem reaches the dict, found once the file ends."""
    _edit(
        mini_bundle / "attributions.csv",
        lambda rows: [*rows, rows[4], _unknown_dwelling(rows[1]), rows[1][:5]],
    )
    by_row, first = _both_paths(mini_bundle, db_url, monkeypatch, chunk)
    assert first == by_row
    assert by_row[0] == (
        "attributions.csv:6:1: même attribution (logement, ménage, date de décision) que la ligne 5"
    )
    assert len(by_row) == 3
    assert paths.switched == ["attribution"]


def test_a_problem_before_any_row_leaves_the_first_load_unused(
    db_url: str, mini_bundle: Path, paths: _Paths, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A problem in an earlier file: nothing is written any more, keys go to the dict."""
    _edit(mini_bundle / "logements.csv", lambda rows: [*rows, rows[1]])
    _edit(mini_bundle / "attributions.csv", lambda rows: [*rows, rows[2]])
    by_row, first = _both_paths(mini_bundle, db_url, monkeypatch)
    assert first == by_row
    assert (
        "attributions.csv:6:1: même attribution (logement, ménage, date de décision) que la ligne 3"
    ) in first
    assert paths.loads == []


def test_a_clean_first_load_writes_every_row(
    db_url: str, mini_bundle: Path, paths: _Paths, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(importer_module, "LARGE_FILE_ROWS", 1)
    result = import_bundle([mini_bundle], db_url)
    assert result.counts["attributions"].added == 4
    assert result.counts["examens CALEOL"].added == 3
    assert paths.loads == ["attribution", "caleol_examen"]
    assert paths.switched == paths.database_duplicates == []


def test_loaded_lines_follow_ids_that_follow_each_other(tmp_path: Path) -> None:
    table = Table("t", MetaData(), Column("id", Integer, primary_key=True), Column("k", String))
    engine = make_engine(f"sqlite:///{tmp_path / 't.db'}")
    try:
        with engine.begin() as connection:
            table.create(connection)
            loaded = first_load.LoadedLines(table, ["k"])
            for row_id, key, line in [(5, "a", 2), (6, "b", 4), (7, "b", 7)]:
                connection.execute(table.insert().values(id=row_id, k=key))
                loaded.lines.append(line)
            assert [loaded.line_of_id(connection, i) for i in (5, 6, 7)] == [2, 4, 7]
            assert loaded.duplicates(connection) == [(7, 4)]
            for outside in (4, 8):
                with pytest.raises(KeyError):
                    loaded.line_of_id(connection, outside)
    finally:
        engine.dispose()


@pytest.fixture
def peuplement_bundle(mini_bundle: Path) -> Path:
    for path in (DATA / "peuplement").iterdir():
        shutil.copy(path, mini_bundle / path.name)
    return mini_bundle


def _cell(line: int, column: str, value: str) -> Callable[[Rows], Rows]:
    def edit(rows: Rows) -> Rows:
        rows[line - 1][rows[0].index(column)] = value
        return rows

    return edit


def test_rehousing_links_locate_attributions_of_a_first_load(
    db_url: str, peuplement_bundle: Path, paths: _Paths, monkeypatch: pytest.MonkeyPatch
) -> None:
    _edit(peuplement_bundle / "attributions.csv", _cell(3, "relogement", ""))
    by_row, first = _both_paths(peuplement_bundle, db_url, monkeypatch)
    assert (
        first
        == by_row
        == [
            "attributions.csv:3:11: aucun relogement, alors que ce ménage est relogé dans ce "
            "logement au titre de l'opération NPNRU ANRU-TIL (relogements.csv, ligne 2) : "
            "indiquez anru"
        ]
    )
    assert "attribution" in paths.loads


def test_the_notice_of_unlinked_attributions_names_lines_of_a_first_load(
    tmp_path: Path, peuplement_bundle: Path, paths: _Paths, monkeypatch: pytest.MonkeyPatch
) -> None:
    _edit(peuplement_bundle / "relogements.csv", _cell(2, "numero_unique", "080012400000009GUI01"))
    _edit(peuplement_bundle / "relogements.csv", _cell(2, "date_relogement", "21/03/2024"))
    monkeypatch.setattr(importer_module, "LARGE_FILE_ROWS", 1)
    result = import_bundle([peuplement_bundle], f"sqlite:///{tmp_path / 'm.db'}")
    assert "attribution" in paths.loads
    assert len(result.notices) == 1
    assert "attribution(s) marquée(s) relogement anru" in result.notices[0]
    assert ": ligne(s) 3." in result.notices[0]


def test_loaded_lines_follow_ids_that_do_not_follow_each_other(tmp_path: Path) -> None:
    """Ids with gaps (never seen from one writer, kept correct): positions from every id."""
    table = Table("t", MetaData(), Column("id", Integer, primary_key=True), Column("k", String))
    engine = make_engine(f"sqlite:///{tmp_path / 't.db'}")
    try:
        with engine.begin() as connection:
            table.create(connection)
            loaded = first_load.LoadedLines(table, ["k"])
            for row_id, key, line in [(3, "a", 2), (7, "b", 3), (8, "a", 5), (20, "a", 9)]:
                connection.execute(table.insert().values(id=row_id, k=key))
                loaded.lines.append(line)
            assert [loaded.line_of_id(connection, i) for i in (3, 7, 8, 20)] == [2, 3, 5, 9]
            assert loaded.duplicates(connection) == [(5, 2), (9, 2)]
            assert list(loaded.stored_keys(connection)) == [("a",), ("b",), ("a",), ("a",)]
            with pytest.raises(KeyError):
                loaded.line_of_id(connection, 4)
    finally:
        engine.dispose()


def test_loaded_lines_of_a_table_holding_other_rows_find_no_duplicate(tmp_path: Path) -> None:
    """A row the importer did not write (the unique key then fails the import as before)."""
    table = Table("t", MetaData(), Column("id", Integer, primary_key=True), Column("k", String))
    engine = make_engine(f"sqlite:///{tmp_path / 't.db'}")
    try:
        with engine.begin() as connection:
            table.create(connection)
            connection.execute(table.insert(), [{"k": "a"}, {"k": "a"}])
            loaded = first_load.LoadedLines(table, ["k"])
            loaded.lines.append(2)
            assert loaded.duplicates(connection) == []
            with pytest.raises(RuntimeError):
                loaded.line_of_id(connection, 1)
    finally:
        engine.dispose()


@pytest.mark.parametrize("chunk", [None, 2], ids=["rows-waiting", "rows-written"])
def test_duplicates_of_a_first_occupation_load_are_reported_as_row_by_row(
    db_url: str,
    peuplement_bundle: Path,
    paths: _Paths,
    monkeypatch: pytest.MonkeyPatch,
    chunk: int | None,
) -> None:
    """SQLite keeps the unique key of occupation (a UNIQUE table constraint) during the load:
    the repeated key is refused as its batch is written, the keys then go to the dict; on
    PostgreSQL the key is dropped and built after the file, as for attributions."""
    _edit(peuplement_bundle / "occupation.csv", lambda rows: [*rows, rows[2], rows[1], rows[2]])
    by_row, first = _both_paths(peuplement_bundle, db_url, monkeypatch, chunk)
    assert (
        first
        == by_row
        == [
            f"occupation.csv:{line}:1: même résidence et même enquête que la ligne {first_line}"
            for line, first_line in [(5, 3), (6, 2), (7, 3)]
        ]
    )
    assert "occupation" in paths.loads
    found_by = paths.switched if db_url.startswith("sqlite") else paths.database_duplicates
    assert found_by == ["occupation"]


def test_a_problem_after_a_duplicate_of_occupation_turns_to_the_dict(
    db_url: str, peuplement_bundle: Path, paths: _Paths, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Line 5 repeats line 2 (written, or waiting), line 6 names an unknown residence (the
    writing stops), line 7 repeats line 3 (found by the dict)."""

    def edit(rows: Rows) -> Rows:
        unknown = list(rows[1])
        unknown[rows[0].index("residence_id")] = "INCONNUE"
        return [*rows, rows[1], unknown, rows[2]]

    _edit(peuplement_bundle / "occupation.csv", edit)
    by_row, first = _both_paths(peuplement_bundle, db_url, monkeypatch, 2)
    assert first == by_row
    assert by_row[0] == "occupation.csv:5:1: même résidence et même enquête que la ligne 2"
    assert by_row[-1] == "occupation.csv:7:1: même résidence et même enquête que la ligne 3"
    assert len(by_row) == 3
    assert paths.switched == ["occupation"]


def test_a_clean_first_occupation_load_writes_every_row(
    db_url: str, peuplement_bundle: Path, paths: _Paths, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(importer_module, "LARGE_FILE_ROWS", 1)
    monkeypatch.setattr(importer_module, "_CHUNK", 2)
    result = import_bundle([peuplement_bundle], db_url)
    assert result.counts["enquêtes d'occupation"].added == 3
    assert "occupation" in paths.loads
    assert paths.switched == paths.database_duplicates == []
