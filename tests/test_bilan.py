"""The bilan aux réservataires written as its rows come: never held whole (a national table has
several hundred thousand rows), and never left half-written."""

from __future__ import annotations

import csv
import tempfile
import weakref
from collections.abc import Iterator
from pathlib import Path

import pytest
from openpyxl import load_workbook

from checker.cli import out_guard
from checker.errors import MixiteError
from checker.report import bilan
from checker.report.bilan import BilanRow
from checker.report.names import Names
from checker.report.xlsx import WIDTH_SAMPLE, _sheet_name

# Three bailleurs, each with more rows than a sheet's width sample holds.
SIZES = {"912000007": 1200, "912000379": 700, "912000742": 450}
NAMES = Names(bailleurs={"912000007": "Lize Habitat", "912000379": "Les Toits du Val",
                         "912000742": "SEM du Val de Lize"}, reservataires={"AL": "Action Logement"})  # fmt: skip


class Code(str):
    """A commune code whose life can be watched: it is in the row, in its cells and, unknown
    to the names, in place of the commune's name."""


class Held:
    """How many of the objects watched are still alive somewhere."""

    def __init__(self) -> None:
        self.count = 0

    def watch(self, item: object) -> None:
        self.count += 1
        weakref.finalize(item, self._gone)

    def _gone(self) -> None:
        self.count -= 1


def _rows(held: Held, limit: int) -> Iterator[BilanRow]:
    """The table's rows, by bailleur; before each row, fails if more than `limit` of those
    given before are still held (their row, or their cells)."""
    number = 0
    for siren, size in SIZES.items():
        for _ in range(size):
            if held.count > limit:
                raise AssertionError(f"{held.count} rows or codes held after {number} rows")
            number += 1
            code = Code(f"{80000 + number}")
            row = BilanRow(siren, "action_logement", "AL", "T3", "PLAI_ADAPTE", "hors QPV", code,
                           "1990-2005", number % 7 + 1, bailleur_rows=size)  # fmt: skip
            held.watch(row)
            held.watch(code)
            yield row


def test_the_bilan_is_written_as_its_rows_come_never_held_whole(tmp_path: Path) -> None:
    held = Held()
    # A sheet's first rows set its columns' widths: those alone may wait to be written (their
    # cells, hence their codes).
    limit = WIDTH_SAMPLE + 5
    written = bilan.write(_rows(held, limit), 2025, NAMES, tmp_path / "b.csv", tmp_path / "b.xlsx")
    total = sum(n % 7 + 1 for n in range(1, sum(SIZES.values()) + 1))
    assert (written.rows, written.attributions) == (sum(SIZES.values()), total)
    text = (tmp_path / "b.csv").read_bytes()
    assert text.startswith("\ufeff".encode()) and b"\r\n" in text
    table = list(csv.reader(text.decode("utf-8-sig").splitlines(), delimiter=";"))
    assert table[0] == list(bilan.COLUMNS)
    assert table[1] == ["Lize Habitat", "912000007", "Action Logement", "Action Logement", "AL",
                        "T3", "PLAI adapté", "hors QPV", "80001", "80001", "1990-2005", "2"]  # fmt: skip
    assert len(table) == 1 + sum(SIZES.values())
    workbook = load_workbook(tmp_path / "b.xlsx", read_only=True)
    assert workbook.sheetnames == ["Synthèse", "Lize Habitat", "Les Toits du Val",
                                   "SEM du Val de Lize"]  # fmt: skip
    summary = list(workbook["Synthèse"].iter_rows(values_only=True))
    assert sum(row[2] for row in summary[1:4]) == total
    assert summary[-1][0] == bilan.SOURCE
    for siren, size in SIZES.items():
        sheet = workbook[NAMES.of("bailleur", siren)]
        rows = list(sheet.iter_rows(values_only=True))
        assert len(rows) == 1 + size
        assert all(row[1] == siren for row in rows[1:])


def test_a_bilan_that_fails_leaves_the_earlier_files_and_no_temporary_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    scratch = tmp_path / "tmp"  # where openpyxl puts each sheet while it is written
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    folder = tmp_path / "bilans"
    folder.mkdir()
    files = [folder / "bilan-reservataires-2025.csv", folder / "bilan-reservataires-2025.xlsx"]
    for path in files:
        path.write_bytes(b"the earlier bilan")

    def failing() -> Iterator[BilanRow]:
        for number, row in enumerate(_rows(Held(), 10**6)):
            if number == 1500:  # in the second bailleur's sheet
                raise OSError(28, "No space left on device")
            yield row

    with pytest.raises(MixiteError) as caught, out_guard.replacing(files) as (csv_file, xlsx_file):
        bilan.write(failing(), 2025, NAMES, csv_file, xlsx_file)
    assert "le rapport n'a pas pu être écrit (disque plein)" in str(caught.value)
    assert sorted(p.name for p in folder.iterdir()) == sorted(p.name for p in files)
    assert all(path.read_bytes() == b"the earlier bilan" for path in files)
    assert list(scratch.iterdir()) == []


def test_sheet_names_keep_to_31_characters_past_a_hundred_alike() -> None:
    used: set[str] = set()
    names = [_sheet_name("Lize Habitat, office public de l'habitat", used) for _ in range(150)]
    assert len(set(names)) == 150
    assert max(len(name) for name in names) == 31
    assert names[1] == "Lize Habitat, office public  2"  # as before the hundredth
