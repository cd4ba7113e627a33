"""The dwellings and residences an import knows, kept by the database (staging.py).

The rows of a chunk are checked against the dwellings and residences looked up for that chunk.
The same refused bundles are imported with the whole of each file in one chunk and with one row
a chunk (every look-up then crosses the staging table, and the dwellings accepted by earlier
chunks are no longer in the process): the messages, their places and their order must be the
same, and those of the dicts that held every dwelling (the expected lists below are what the
import gave before staging.py: the same tests pass on that code), on both backends.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from checker.ingest import importer as importer_module
from checker.ingest import parsing
from checker.ingest.importer import import_bundle
from tests.conftest import DATA
from tests.test_import_first_load import Rows, _edit, _refusal


@pytest.fixture
def peuplement_bundle(mini_bundle: Path) -> Path:
    for path in (DATA / "peuplement").iterdir():
        shutil.copy(path, mini_bundle / path.name)
    return mini_bundle


def _chunked_both_ways(bundle: Path, url: str, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The refusal with each file in one chunk, then one row a chunk (and a batch of writes
    every row); both must be the same."""
    whole = _refusal(bundle, url)
    monkeypatch.setattr(parsing, "CHUNK_ROWS", 1)
    monkeypatch.setattr(importer_module, "_CHUNK", 1)
    one_by_one = _refusal(bundle, url)
    assert one_by_one == whole
    return whole


def _with(rows: Rows, line: int, **cells: str) -> list[str]:
    """A copy of the row at `line` (the header is line 1) with some cells changed."""
    row = list(rows[line - 1])
    for column, value in cells.items():
        row[rows[0].index(column)] = value
    return row


def _dwellings(rows: Rows) -> Rows:
    """Line 6: a refused dwelling (the first problem: nothing is written after it); line 7:
    a dwelling accepted but never written; 8: a residence of another bailleur; 9: an unknown
    residence; 10: line 3 again."""
    return [
        *rows,
        _with(rows, 2, rpls_id="L000000005", commune_insee="80999", qpv_code=""),
        _with(rows, 2, rpls_id="L000000006"),
        _with(rows, 4, rpls_id="L000000007", residence_id="TIL"),
        _with(rows, 4, rpls_id="L000000008", residence_id="ZZZ"),
        rows[2],
    ]


def _residences(rows: Rows) -> Rows:
    """Line 5: a residence refused (unknown commune); 6: the code VER of another bailleur."""
    return [
        *rows,
        _with(rows, 3, residence_id="NEW", commune_insee="80999"),
        _with(rows, 3, bailleur_siren="910000025", commune_insee="80902"),
    ]


_DWELLING_PROBLEMS = [
    "logements.csv:6:3: commune 80999 inconnue (absente de territoire.yaml et de la base)",
    "logements.csv:8:9: la résidence « TIL » appartient au bailleur 910000017, pas à 910000025",
    "logements.csv:9:9: résidence « ZZZ » du bailleur 910000025 inconnue (absente de residences"
    " et de la base)",
    "logements.csv:10:1: le logement L000000002 est déjà décrit ligne 3",
]


def test_rows_citing_dwellings_and_residences_accepted_after_a_problem(
    db_url: str, peuplement_bundle: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rows of every file citing dwellings accepted but not written (after the first problem),
    refused, unknown, of another bailleur; residences likewise."""
    bundle = peuplement_bundle
    _edit(bundle / "residences.csv", _residences)
    _edit(bundle / "logements.csv", _dwellings)
    _edit(
        bundle / "attributions.csv",
        lambda rows: [
            *rows,
            # accepted after the problem: known
            _with(rows, 2, rpls_id="L000000006", numero_unique="080012400000051GUI01"),
            _with(
                rows,
                2,
                rpls_id="L000000006",
                bailleur_siren="910000025",
                numero_unique="080012400000052GUI01",
            ),
            # refused: reported in logements only
            _with(rows, 2, rpls_id="L000000005", numero_unique="080012400000053GUI01"),
            _with(rows, 2, rpls_id="L000000099", numero_unique="080012400000054GUI01"),
            # a dwelling of the other bailleur
            _with(rows, 4, rpls_id="L000000001", numero_unique="080012400000055GUI01"),
        ],
    )
    _edit(
        bundle / "caleol.csv",
        lambda rows: [
            *rows,
            _with(rows, 2, rpls_id="L000000006", bailleur_siren="910000025"),
            _with(rows, 2, rpls_id="L000000099"),
            _with(rows, 2, rpls_id="L000000005"),
            _with(rows, 2, rpls_id="L000000006", numero_unique="080012400000056GUI01"),
        ],
    )
    _edit(
        bundle / "baux.csv",
        lambda rows: [
            *rows,
            _with(rows, 2, rpls_id="L000000099"),
            _with(rows, 2, rpls_id="L000000006"),
        ],
    )
    _edit(
        bundle / "occupation.csv",
        lambda rows: [
            *rows,
            _with(rows, 2, bailleur_siren="910000025"),  # TIL is the other bailleur's
            _with(rows, 2, residence_id="NEW"),  # refused: reported in residences only
            _with(rows, 2, bailleur_siren="910000025", residence_id="VER"),  # both have a VER
            _with(rows, 2, residence_id="QQQ"),
        ],
    )
    _edit(
        bundle / "relogements.csv",
        lambda rows: [
            *rows,
            _with(rows, 4, menage_id="M-0009", rpls_id_origine="L000000099"),
            _with(rows, 2, menage_id="M-0010", rpls_id_destination="L000000006"),
            _with(rows, 2, menage_id="M-0011", rpls_id_origine="L000000006"),
            _with(rows, 2, menage_id="M-0012", rpls_id_destination="L000000098"),
            _with(rows, 4, menage_id="M-0013", bailleur_siren="910000025"),
        ],
    )
    problems = _chunked_both_ways(bundle, db_url, monkeypatch)
    assert problems == [
        "residences.csv:5:4: commune 80999 inconnue (absente de territoire.yaml et de la base)",
        *_DWELLING_PROBLEMS,
        "attributions.csv:7:2: le logement L000000006 appartient au bailleur 910000017, pas à "
        "910000025",
        "attributions.csv:9:3: logement « L000000099 » inconnu (absent de logements et de la base)",
        "attributions.csv:10:2: le logement L000000001 appartient au bailleur 910000017, pas "
        "à 910000025",
        "caleol.csv:5:2: le logement L000000006 appartient au bailleur 910000017, pas à 910000025",
        "caleol.csv:6:3: logement « L000000099 » inconnu (absent de logements et de la base)",
        "baux.csv:7:1: logement « L000000099 » inconnu (absent de logements et de la base)",
        "occupation.csv:5:3: la résidence « TIL » appartient au bailleur 910000017, pas à "
        "910000025",
        "occupation.csv:8:3: résidence « QQQ » du bailleur 910000017 inconnue (absente de "
        "residences et de la base)",
        "relogements.csv:5:4: logement « L000000099 » inconnu (absent de logements et de la base)",
        "relogements.csv:8:8: logement « L000000098 » inconnu (absent de logements et de la base)",
        "relogements.csv:9:3: le logement L000000001 appartient au bailleur 910000017, pas à "
        "910000025",
    ]


def test_a_later_import_checks_against_the_database_overlaid_with_the_bundle(
    db_url: str, peuplement_bundle: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Dwellings and residences of an earlier import, some described again by the bundle with
    other values after its first problem (so never written): the bundle's values are the ones
    the rows after them are checked against; a dwelling refused again keeps the stored ones."""
    shutil.copytree(peuplement_bundle, tmp_path / "premier")
    import_bundle([tmp_path / "premier"], db_url)
    bundle = peuplement_bundle
    (bundle / "territoire.yaml").unlink()
    (bundle / "reservations.csv").unlink()
    _edit(
        bundle / "logements.csv",
        lambda rows: [
            rows[0],
            _with(rows, 2, rpls_id="L000000005", commune_insee="80999", qpv_code=""),
            # L2 moves to the other bailleur (and off its residence), after the problem
            _with(rows, 3, bailleur_siren="910000025", residence_id=""),
            # L3 refused: its stored values stay known
            _with(rows, 4, residence_id="ZZZ", bailleur_siren="910000017"),
        ],
    )
    _edit(
        bundle / "attributions.csv",
        lambda rows: [
            *rows,  # line 3 (L2, bailleur 910000017) and 4 (L3, 910000025)
            _with(
                rows,
                2,
                rpls_id="L000000002",
                bailleur_siren="910000025",
                numero_unique="080012400000061GUI01",
            ),
            _with(rows, 2, rpls_id="L000000003", numero_unique="080012400000062GUI01"),
            _with(rows, 2, rpls_id="L000000099", numero_unique="080012400000063GUI01"),
        ],
    )
    _edit(bundle / "caleol.csv", lambda rows: [*rows, _with(rows, 2, rpls_id="L000000002")])
    _edit(
        bundle / "occupation.csv",
        lambda rows: [
            *rows,
            _with(rows, 2, annee_enquete="2023"),
            _with(rows, 2, residence_id="MOU"),
        ],
    )
    problems = _chunked_both_ways(bundle, db_url, monkeypatch)
    assert problems == [
        "logements.csv:2:3: commune 80999 inconnue (absente de territoire.yaml et de la base)",
        "logements.csv:4:9: résidence « ZZZ » du bailleur 910000017 inconnue (absente de "
        "residences et de la base)",
        "attributions.csv:3:2: le logement L000000002 appartient au bailleur 910000025, pas à "
        "910000017",
        "attributions.csv:7:2: le logement L000000003 appartient au bailleur 910000025, pas à "
        "910000017",
        "attributions.csv:8:3: logement « L000000099 » inconnu (absent de logements et de la base)",
        "caleol.csv:4:2: le logement L000000002 appartient au bailleur 910000025, pas à 910000017",
        "caleol.csv:5:2: le logement L000000002 appartient au bailleur 910000025, pas à 910000017",
        "occupation.csv:6:3: la résidence « MOU » appartient au bailleur 910000025, pas à "
        "910000017",
    ]
