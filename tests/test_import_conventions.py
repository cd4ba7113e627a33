"""reservations.csv and baux.csv: reservation conventions and leases, with the same bar as the
other files of a bundle (located French messages, all or nothing, idempotent, later extracts)."""

from __future__ import annotations

import csv
import datetime as dt
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from checker.errors import MixiteError
from checker.ingest.bundle import find_bundle
from checker.ingest.importer import ImportRefused, import_bundle
from tests.dbdump import content
from tests.test_import import _state

Edit = Callable[[list[list[str]]], list[list[str]]]


def _rewrite(path: Path, edit: Edit) -> None:
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle, delimiter=";"))
    rows = edit(rows)
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle, delimiter=";").writerows(rows)


def _cell(line: int, column: str, value: str) -> Edit:
    def edit(rows: list[list[str]]) -> list[list[str]]:
        rows[line - 1][rows[0].index(column)] = value
        return rows

    return edit


def _imported_first(mini_bundle: Path, tmp_path: Path, db_url: str) -> None:
    """A first, good import, so that a refused second one has something to leave alone."""
    first = tmp_path / "premier"
    shutil.copytree(mini_bundle, first)
    import_bundle([first], db_url)


def test_conventions_and_leases_are_stored_as_given(db_url: str, mini_bundle: Path) -> None:
    import_bundle([mini_bundle], db_url)
    data = content(db_url)
    conventions = {(row[1], row[2], row[4]): row for row in data["convention_reservation"]}
    # (epci, bailleur, réservataire, mode, date, motif, part in hundredths of a percent)
    assert conventions[("910000017", "AL", dt.date(2023, 9, 1))] == (
        "910000009", "910000017", "AL", "flux", dt.date(2023, 9, 1), None, 2250,
    )  # fmt: skip
    assert conventions[("910000025", "ETAT", dt.date(2016, 2, 1))][3:] == (
        "stock", dt.date(2016, 2, 1), "defense_nationale", None,
    )  # fmt: skip
    # A stock convention replaced by a flow one: both kept, the latest is in force.
    assert ("910000017", "80901", dt.date(2012, 3, 12)) in conventions
    assert ("910000017", "80901", dt.date(2023, 11, 20)) in conventions
    leases = {(row[0], row[1]): row for row in data["bail"]}
    assert leases[("L000000004", dt.date(2019, 9, 1))] == (
        "L000000004", dt.date(2019, 9, 1), dt.date(2022, 9, 3), "handicap|sur_occupation",
        None, None,
    )  # fmt: skip
    assert leases[("L000000001", dt.date(2024, 2, 15))][2:] == (None, "", None, None)


def test_bad_rows_each_get_one_located_french_message_and_nothing_changes(
    db_url: str, mini_bundle: Path, tmp_path: Path
) -> None:
    _imported_first(mini_bundle, tmp_path, db_url)
    before = _state(db_url)
    reservations = mini_bundle / "reservations.csv"
    _rewrite(reservations, _cell(2, "reservataire_id", "MAIRIE"))
    _rewrite(reservations, _cell(3, "motif_stock", "securite interieure"))
    _rewrite(reservations, _cell(5, "part_flux", "120 %"))
    baux = mini_bundle / "baux.csv"
    _rewrite(baux, _cell(3, "date_dernier_examen", "10/03/2014"))
    _rewrite(baux, _cell(4, "rpls_id", "L000000099"))
    _rewrite(baux, _cell(5, "date_fin", "31/02/2024"))
    with pytest.raises(ImportRefused) as refused:
        import_bundle([mini_bundle], db_url)
    assert [problem.render() for problem in refused.value.problems] == [
        "reservations.csv:2:2: réservataire « MAIRIE » inconnu sur ce territoire (voir territoire.yaml)",
        "reservations.csv:3:5: motif de gestion en stock « securite_interieure » donné pour une "
        "convention en flux : laissez-le vide, ou indiquez le mode stock",
        "reservations.csv:5:6: part_flux : « 120 % » : un pourcentage est compris entre 0 et 100",
        "baux.csv:3:3: le dernier examen d'occupation (10/03/2014) serait antérieur à la "
        "signature du bail (01/03/2015)",
        "baux.csv:4:1: logement « L000000099 » inconnu (absent de logements et de la base)",
        "baux.csv:5:6: date_fin : la date « 31/02/2024 » n'existe pas",
    ]
    assert _state(db_url) == before


@pytest.mark.parametrize(
    ("file", "edit", "expected"),
    [
        (
            "reservations.csv",
            _cell(7, "part_flux", "5"),
            "reservations.csv:7:6: part du flux donnée pour une convention en stock : "
            "elle ne vaut que pour le mode flux",
        ),
        (
            "reservations.csv",
            _cell(2, "mode", "mixte"),
            "reservations.csv:2:3: mode : « mixte » n'est pas une valeur admise "
            "(valeurs admises : flux, stock)",
        ),
        (
            "reservations.csv",
            _cell(2, "bailleur_siren", "910000033"),
            "reservations.csv:2:1: bailleur 910000033 inconnu (absent de territoire.yaml et de "
            "la base)",
        ),
        (
            "reservations.csv",
            lambda rows: [*rows, rows[1]],
            "reservations.csv:8:4: même convention (bailleur, réservataire, date de signature) "
            "que la ligne 2",
        ),
        (
            "baux.csv",
            _cell(6, "date_dernier_examen", ""),
            "baux.csv:6:4: situations constatées sans date de dernier examen : indiquez la date "
            "de l'examen qui les a constatées (date_dernier_examen)",
        ),
        (
            "baux.csv",
            _cell(3, "date_transmission_caleol", "01/01/2015"),
            "baux.csv:3:5: la transmission à la CALEOL (01/01/2015) serait antérieure à la "
            "signature du bail (01/03/2015)",
        ),
        (
            "baux.csv",
            _cell(6, "situations", "sous_occupation|pauvrete"),
            "baux.csv:6:4: situations : situation « pauvrete » inconnue (valeurs admises, "
            "séparées par | : sur_occupation, sous_occupation, logement_adapte_non_requis, "
            "handicap, depassement_plafond)",
        ),
        (
            "baux.csv",
            lambda rows: [*rows, rows[2]],
            "baux.csv:7:2: même bail (logement, date de signature) que la ligne 3",
        ),
    ],
    ids=[
        "part-with-stock",
        "unknown-mode",
        "unknown-bailleur",
        "duplicate-convention",
        "situations-without-review",
        "transmission-before-lease",
        "unknown-situation",
        "duplicate-lease",
    ],
)
def test_other_inconsistencies_are_located(
    mini_bundle: Path, tmp_path: Path, file: str, edit: Edit, expected: str
) -> None:
    _rewrite(mini_bundle / file, edit)
    url = f"sqlite:///{tmp_path / 'm.db'}"
    with pytest.raises(ImportRefused) as refused:
        import_bundle([mini_bundle], url)
    assert [problem.render() for problem in refused.value.problems] == [expected]
    assert not (tmp_path / "m.db").exists()


def test_leases_of_a_refused_dwelling_are_not_reported_again(
    mini_bundle: Path, tmp_path: Path
) -> None:
    _rewrite(mini_bundle / "logements.csv", _cell(2, "financement", "HLM"))
    with pytest.raises(ImportRefused) as refused:
        import_bundle([mini_bundle], f"sqlite:///{tmp_path / 'm.db'}")
    rendered = [problem.render() for problem in refused.value.problems]
    assert not any(text.startswith("baux.csv") for text in rendered), rendered


def test_unchanged_rows_of_a_new_bundle_are_left_alone(
    db_url: str, mini_bundle: Path, tmp_path: Path
) -> None:
    _imported_first(mini_bundle, tmp_path, db_url)
    before = content(db_url)
    # Another bundle (another digest) that repeats the conventions and leases as they were.
    _rewrite(mini_bundle / "caleol.csv", lambda rows: rows[:-1])
    result = import_bundle([mini_bundle], db_url)
    for label, total in (("conventions de réservation", 6), ("baux", 5)):
        counts = result.counts[label]
        assert (counts.added, counts.replaced, counts.unchanged) == (0, 0, total)
    assert content(db_url) == before


def test_a_later_extract_adds_conventions_and_replaces_changed_leases(
    db_url: str, mini_bundle: Path, tmp_path: Path
) -> None:
    _imported_first(mini_bundle, tmp_path, db_url)

    def convert(rows: list[list[str]]) -> list[list[str]]:
        rows[1][5] = "25"  # the État's share revised in the same convention
        return [*rows, ["910000025", "AL", "flux", "02/10/2023", "", "20"]]  # AL converted

    def review(rows: list[list[str]]) -> list[list[str]]:
        rows[5][4] = "15/10/2022"  # the situations were sent to the CALEOL
        return [*rows, ["L000000003", "02/05/2024", "", "", "", ""]]

    _rewrite(mini_bundle / "reservations.csv", convert)
    _rewrite(mini_bundle / "baux.csv", review)
    result = import_bundle([mini_bundle], db_url)
    for label, expected in (("conventions de réservation", (1, 1, 5)), ("baux", (1, 1, 4))):
        counts = result.counts[label]
        assert (counts.added, counts.replaced, counts.unchanged) == expected, label
    data = content(db_url)
    al = sorted(row[3:5] for row in data["convention_reservation"] if row[1:3] == (
        "910000025", "AL"))  # fmt: skip
    assert al == [("flux", dt.date(2023, 10, 2)), ("stock", dt.date(2016, 2, 1))]
    assert ("910000017", "ETAT", "flux", dt.date(2023, 6, 15), None, 2500) in [
        row[1:] for row in data["convention_reservation"]
    ]
    assert len(data["bail"]) == 6


def test_french_headers_are_understood(mini_bundle: Path, tmp_path: Path) -> None:
    reference = f"sqlite:///{tmp_path / 'a.db'}"
    import_bundle([mini_bundle], reference)
    renamed = {
        "reservations.csv": {
            "bailleur_siren": "SIREN du bailleur",
            "reservataire_id": "Réservataire",
            "mode": "Mode de gestion",
            "date_signature": "Date convention",
            "motif_stock": "Motif de gestion en stock",
            "part_flux": "Part du flux",
        },
        "baux.csv": {
            "rpls_id": "Identifiant RPLS",
            "date_signature": "Date de signature du bail",
            "date_dernier_examen": "Date du dernier examen",
            "situations": "Situations constatées",
            "date_transmission_caleol": "Date de transmission à la CALEOL",
            "date_fin": "Date de fin du bail",
        },
    }
    for name, headers in renamed.items():

        def rename(rows: list[list[str]], headers: dict[str, str] = headers) -> list[list[str]]:
            rows[0] = [headers[column] for column in rows[0]]
            return rows

        _rewrite(mini_bundle / name, rename)
    aliased = f"sqlite:///{tmp_path / 'b.db'}"
    result = import_bundle([mini_bundle], aliased)
    assert all(not summary.ignored_columns for summary in result.files)
    assert content(aliased) == content(reference)


def test_the_optional_columns_may_be_left_out(mini_bundle: Path, tmp_path: Path) -> None:
    _rewrite(mini_bundle / "reservations.csv", lambda rows: [row[:4] for row in rows])
    _rewrite(mini_bundle / "baux.csv", lambda rows: [row[:3] for row in rows[:2]])
    url = f"sqlite:///{tmp_path / 'm.db'}"
    import_bundle([mini_bundle], url)
    data = content(url)
    assert {row[5:] for row in data["convention_reservation"]} == {(None, None)}
    assert data["bail"] == [("L000000001", dt.date(2024, 2, 15), None, "", None, None)]


def test_file_names_give_the_roles(tmp_path: Path) -> None:
    for name in ("Réservations 2025.csv", "Baux en cours.xlsx", "bailleurs.csv", "notes.txt"):
        (tmp_path / name).write_text("x", encoding="utf-8")
    bundle = find_bundle([tmp_path])
    assert {role: path.name for role, path in bundle.files.items()} == {
        "reservations": "Réservations 2025.csv",
        "baux": "Baux en cours.xlsx",
    }
    assert sorted(path.name for path in bundle.skipped) == ["bailleurs.csv", "notes.txt"]
    with pytest.raises(MixiteError) as refused:
        find_bundle([tmp_path / "bailleurs.csv"])
    assert "reservations.csv, baux.csv" in (refused.value.hint or "")


def test_conventions_alone_use_the_territory_in_the_database(
    mini_bundle: Path, tmp_path: Path
) -> None:
    alone = tmp_path / "seul"
    alone.mkdir()
    shutil.copy(mini_bundle / "reservations.csv", alone)
    empty = f"sqlite:///{tmp_path / 'vide.db'}"
    with pytest.raises(ImportRefused) as refused:
        import_bundle([alone], empty)
    assert refused.value.problems[0].render() == (
        "reservations.csv: aucun territoire en base : joignez territoire.yaml au lot"
    )
    url = f"sqlite:///{tmp_path / 'm.db'}"
    _rewrite(mini_bundle / "reservations.csv", lambda rows: rows[:2])
    import_bundle([mini_bundle], url)
    result = import_bundle([alone], url)
    assert result.counts["conventions de réservation"].added == 5


def test_an_excel_workbook_with_percent_and_date_cells(mini_bundle: Path, tmp_path: Path) -> None:
    """In a cell formatted as a percentage Excel stores 30 % as 0.3: it must read as 30 %."""
    from openpyxl import Workbook

    reference = f"sqlite:///{tmp_path / 'csv.db'}"
    import_bundle([mini_bundle], reference)
    path = mini_bundle / "reservations.csv"
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle, delimiter=";"))
    path.unlink()
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(rows[0])
    for row in rows[1:]:
        day, month, year = (int(part) for part in row[3].split("/"))
        part = float(row[5].replace(" %", "").replace(",", ".")) / 100 if row[5] else None
        sheet.append([*row[:3], dt.datetime(year, month, day), row[4], part])
        sheet.cell(sheet.max_row, 6).number_format = "0.0%"
    workbook.save(mini_bundle / "reservations.xlsx")
    url = f"sqlite:///{tmp_path / 'xlsx.db'}"
    import_bundle([mini_bundle], url)
    assert content(url) == content(reference)
