"""Mutated bundles, on SQLite and PostgreSQL: no internal error, no English, every message
located, and a refused import changes nothing (#12).

Bounded: a few dozen mutations per database, each one import of the small bundle. The
mutations are those that met internal errors or silent readings: hostile cell texts (huge
numbers, look-alike digits, quotes, separators, NUL), raw bytes inserted anywhere, truncated
files, YAML tokens dropped into the territory, damaged workbooks.
"""

from __future__ import annotations

import csv
import io
import re
import shutil
from functools import cache
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from checker.errors import MixiteError
from checker.ingest.importer import ImportRefused, import_bundle
from tests.conftest import DATA
from tests.dbdump import dump

HOSTILE_CELLS = (
    "１２３", "٣", "9" * 30, "9" * 5000, str(2**63), "3000000000", "99 999 999 999,99", '"',
    'a"b', "\x00", "1,5", "1.500", "-1", "", " ", "\ufeff", "\r", "\n", ";", ",", "nan", "inf",
    "1e9", "31/02/2024", "0000-00-00", "x" * 200, "é" * 50, "${x}", "'; DROP TABLE logement;--",
)  # fmt: skip
YAML_TOKENS = (":", '"', "'", "\t", "&a ", "*a", "[", "{", "- ", "\x00", "? ", "!!", "%", "|")
TABLES = ("logements.csv", "attributions.csv", "caleol.csv", "reservations.csv", "baux.csv")
FILES = ("territoire.yaml", *TABLES)
# Words of the parsers' and validators' English messages (word-bounded: « invalide » is French).
ENGLISH = re.compile(
    r"\b(the|should|expected|found|could|error|input|value|field larger|line contains|"
    r"string|integer|cannot|unable|invalid)\b",
    re.IGNORECASE,
)


def _mutate_cell(path: Path, data: st.DataObject) -> None:
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle, delimiter=";"))
    row = data.draw(st.integers(0, len(rows) - 1), label="ligne")
    column = data.draw(st.integers(0, len(rows[row]) - 1), label="colonne")
    rows[row][column] = data.draw(
        st.one_of(st.sampled_from(HOSTILE_CELLS), st.text(max_size=20)), label="cellule"
    )
    if data.draw(st.booleans(), label="sans guillemets"):
        path.write_text("\n".join(";".join(cells) for cells in rows) + "\n", encoding="utf-8")
    else:
        with path.open("w", encoding="utf-8", newline="") as handle:
            csv.writer(handle, delimiter=";").writerows(rows)


@cache
def _workbook_bytes() -> bytes:
    """The small bundle's logements as an XLSX workbook, built once: a workbook saved twice
    differs (its creation time), and hypothesis needs the same bytes for the same draws."""
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    with (DATA / "mini" / "logements.csv").open(encoding="utf-8", newline="") as handle:
        for row in csv.reader(handle, delimiter=";"):
            sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _mutate_workbook(bundle: Path, data: st.DataObject) -> None:
    """logements as an XLSX workbook, then bytes of the archive overwritten or cut."""
    (bundle / "logements.csv").unlink()
    target = bundle / "logements.xlsx"
    raw = _workbook_bytes()
    offset = data.draw(st.integers(0, len(raw) - 1), label="position")
    if data.draw(st.booleans(), label="coupe"):
        target.write_bytes(raw[:offset])
    else:
        patch = data.draw(st.binary(min_size=1, max_size=16), label="octets")
        target.write_bytes(raw[:offset] + patch + raw[offset + len(patch) :])


def _mutate(bundle: Path, data: st.DataObject) -> None:
    kinds = ("cellule", "octets", "coupe", "yaml", "classeur")
    kind = data.draw(st.sampled_from(kinds), label="mutation")
    if kind == "cellule":
        _mutate_cell(bundle / data.draw(st.sampled_from(TABLES), label="fichier"), data)
        return
    if kind == "classeur":
        _mutate_workbook(bundle, data)
        return
    path = bundle / data.draw(st.sampled_from(FILES), label="fichier")
    raw = path.read_bytes()
    offset = data.draw(st.integers(0, len(raw)), label="position")
    if kind == "octets":
        inserted = data.draw(st.binary(min_size=1, max_size=8), label="octets")
        path.write_bytes(raw[:offset] + inserted + raw[offset:])
    elif kind == "coupe":
        path.write_bytes(raw[:offset])
    else:
        territory = bundle / "territoire.yaml"
        raw = territory.read_bytes()
        offset = min(offset, len(raw))
        token = data.draw(st.sampled_from(YAML_TOKENS), label="jeton").encode()
        territory.write_bytes(raw[:offset] + token + raw[offset:])


def _check_messages(messages: list[tuple[str, str]]) -> None:
    for place, message in messages:
        assert message.strip(), place
        assert not ENGLISH.search(message), f"{place}: {message}"
        assert "Traceback" not in message


@settings(
    max_examples=15,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_mutated_bundles_are_imported_or_refused_cleanly(
    db_url: str, tmp_path: Path, data: st.DataObject
) -> None:
    # One database for all examples: each compares the database with its state just before.
    marker = tmp_path / "base-initialisee"
    if not marker.exists():
        import_bundle([DATA / "mini"], db_url)
        marker.touch()
    bundle = tmp_path / "lot-mute"
    shutil.rmtree(bundle, ignore_errors=True)
    shutil.copytree(DATA / "mini", bundle)
    _mutate(bundle, data)
    before = dump(db_url)
    try:
        import_bundle([bundle], db_url)
    except ImportRefused as refused:
        names = {path.name for path in bundle.iterdir()}
        for problem in refused.problems:
            assert problem.file in names, problem.render()  # located: at least its file
        _check_messages([(p.render(), p.message) for p in refused.problems])
        assert dump(db_url) == before
    except MixiteError as error:  # a bundle refused whole (no file left to import…)
        _check_messages([("lot", error.message)])
        assert dump(db_url) == before
