"""The import of a bundle: all or nothing, idempotent, pseudonymised, tolerant of French exports."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from openpyxl import Workbook

from checker.db.engine import sqlite_file
from checker.errors import MixiteError
from checker.ingest.importer import ImportRefused, import_bundle
from checker.ingest.pseudonym import load_key
from tests.dbdump import content, dump

CLEAR_IDS = [
    "080012400000001GUI01",
    "080012400000002GUI01",
    "080012400000003GUI01",
    "080012400000004GUI01",
    "080012400000011GUI01",
]


def _state(url: str) -> object:
    """What must not change when an import is refused: the file bytes for SQLite."""
    path = sqlite_file(url)
    if path is not None:
        return path.read_bytes() if path.exists() else None
    return dump(url)


def test_a_good_bundle_is_imported(db_url: str, mini_bundle: Path) -> None:
    result = import_bundle([mini_bundle], db_url)
    assert result.batch_id == 1
    assert {label: c.added for label, c in result.counts.items()} == {
        "EPCI": 1,
        "communes": 2,
        "QPV": 2,
        "bailleurs": 2,
        "réservataires": 3,
        "logements": 4,
        "attributions": 4,
        "examens CALEOL": 3,
        "conventions de réservation": 6,
        "baux": 5,
    }
    data = content(db_url)
    assert len(data["attribution"]) == 4
    assert len(data["logement_qpv"]) == 2
    assert len(data["convention_reservation"]) == 6
    assert len(data["bail"]) == 5


def test_no_clear_household_identifier_is_stored(db_url: str, mini_bundle: Path) -> None:
    import_bundle([mini_bundle], db_url)
    everything = repr(dump(db_url))
    for clear in CLEAR_IDS:
        assert clear not in everything
        assert clear.lower() not in everything.lower()
    key = load_key(db_url, create=False)
    assert key.pseudonym(CLEAR_IDS[0]) in everything  # the key holder can find the household


def test_the_same_bundle_twice_changes_nothing(db_url: str, mini_bundle: Path) -> None:
    import_bundle([mini_bundle], db_url)
    before = _state(db_url)
    again = import_bundle([mini_bundle], db_url)
    assert again.already_imported_at is not None
    assert _state(db_url) == before


def _rewrite(path: Path, edit: object) -> None:
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle, delimiter=";"))
    rows = edit(rows)  # type: ignore[operator]
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle, delimiter=";").writerows(rows)


def test_a_later_extract_adds_and_replaces(db_url: str, mini_bundle: Path, tmp_path: Path) -> None:
    import_bundle([mini_bundle], db_url)

    def later(rows: list[list[str]]) -> list[list[str]]:
        rows[4][4] = "03/07/2024"  # the lease of the 4th attribution has now been signed
        extra = list(rows[1])
        extra[0] = "080012400000099GUI01"
        extra[3], extra[4] = "01/09/2024", "15/09/2024"
        return [*rows, extra]

    _rewrite(mini_bundle / "attributions.csv", later)
    result = import_bundle([mini_bundle], db_url)
    counts = result.counts["attributions"]
    assert (counts.added, counts.replaced, counts.unchanged) == (1, 1, 3)
    assert len(content(db_url)["attribution"]) == 5


TABLES = ("logements", "attributions", "caleol", "reservations", "baux")


def _windows_twin(source: Path, target: Path) -> None:
    """The same bundle as Excel on a French Windows machine would save it."""
    target.mkdir()
    (target / "territoire.yaml").write_bytes((source / "territoire.yaml").read_bytes())
    headers = {
        "numero_unique": "Numéro unique",
        "date_bail": "Date de signature du bail",
        "revenus_mensuels": "Revenus mensuels",
        "bailleur_siren": "SIREN bailleur",
        "criteres_prioritaires": "Critères prioritaires",
        "rpls_id": "Identifiant RPLS",
        "nb_moins_14": "Nb moins de 14 ans",
    }
    for name in (f"{table}.csv" for table in TABLES):
        with (source / name).open(encoding="utf-8", newline="") as handle:
            rows = list(csv.reader(handle, delimiter=";"))
        rows[0] = [headers.get(column, column.upper()) for column in rows[0]]
        rows[0].append("Commentaire libre (é)")
        for row in rows[1:]:
            row.append("à revoir — noté par Mme Dupont")
            for position, cell in enumerate(row):
                if cell.count("/") == 2:  # dates are already JJ/MM/AAAA in the source
                    continue
                if cell.replace(" ", "").replace(",", "").isdigit() and " " in cell:
                    row[position] = cell.replace(" ", "\u00a0")
        with (target / name).open("w", encoding="cp1252", newline="") as handle:
            csv.writer(handle, delimiter=";", lineterminator="\r\n").writerows(rows)


def _iso_twin(source: Path, target: Path) -> None:
    """The same bundle in UTF-8, with commas, ISO dates and decimal points."""
    target.mkdir()
    (target / "territoire.yaml").write_bytes((source / "territoire.yaml").read_bytes())
    for name in (f"{table}.csv" for table in TABLES):
        with (source / name).open(encoding="utf-8", newline="") as handle:
            rows = list(csv.reader(handle, delimiter=";"))
        for row in rows[1:]:
            for position, cell in enumerate(row):
                if cell.count("/") == 2:
                    day, month, year = cell.split("/")
                    row[position] = f"{year}-{month}-{day}"
                elif any(ch.isdigit() for ch in cell) and set(cell) <= set("0123456789, "):
                    row[position] = cell.replace(" ", "").replace(",", ".")
        with (target / name).open("w", encoding="utf-8", newline="") as handle:
            csv.writer(handle, delimiter=",").writerows(rows)


def test_windows_export_and_its_utf8_iso_twin_give_the_same_content(
    mini_bundle: Path, tmp_path: Path
) -> None:
    windows, iso = tmp_path / "windows", tmp_path / "iso"
    _windows_twin(mini_bundle, windows)
    _iso_twin(mini_bundle, iso)
    assert b"\xe9" in (windows / "attributions.csv").read_bytes()  # really cp1252
    url_windows = f"sqlite:///{tmp_path / 'w.db'}"
    url_iso = f"sqlite:///{tmp_path / 'i.db'}"
    result = import_bundle([windows], url_windows)
    import_bundle([iso], url_iso)
    attributions = next(f for f in result.files if f.role == "attributions")
    assert attributions.encoding == "cp1252"
    assert attributions.ignored_columns == ["Commentaire libre (é)"]
    assert content(url_windows) == content(url_iso)
    assert "Dupont" not in repr(dump(url_windows))


def test_xlsx_gives_the_same_content_as_csv(mini_bundle: Path, tmp_path: Path) -> None:
    xlsx_bundle = tmp_path / "xlsx"
    xlsx_bundle.mkdir()
    (xlsx_bundle / "territoire.yaml").write_bytes((mini_bundle / "territoire.yaml").read_bytes())
    for name in TABLES:
        with (mini_bundle / f"{name}.csv").open(encoding="utf-8", newline="") as handle:
            rows = list(csv.reader(handle, delimiter=";"))
        workbook = Workbook()
        sheet = workbook.active
        assert sheet is not None
        for row in rows:
            sheet.append(row)
        workbook.save(xlsx_bundle / f"{name}.xlsx")
    url_csv = f"sqlite:///{tmp_path / 'c.db'}"
    url_xlsx = f"sqlite:///{tmp_path / 'x.db'}"
    import_bundle([mini_bundle], url_csv)
    import_bundle([xlsx_bundle], url_xlsx)
    assert content(url_csv) == content(url_xlsx)


BAD_ROWS = {
    # (line in attributions.csv, column, what the message must say)
    "unknown dwelling": (2, 3, "logement « L999999999 » inconnu"),
    "impossible date": (3, 4, "la date « 30/02/2024 » n'existe pas"),
    "negative income": (4, 16, "revenus_mensuels : « -1 100 » : doit être supérieur ou égal à 0"),
    "malformed siren": (5, 2, "clé de contrôle invalide"),
}


def test_bad_rows_are_all_reported_with_their_place_and_nothing_changes(
    db_url: str, mini_bundle: Path, tmp_path: Path
) -> None:
    # A first, good import; the bad extract comes second so that "nothing changes" means
    # something.
    first = tmp_path / "premier"
    import shutil

    shutil.copytree(mini_bundle, first)
    import_bundle([first], db_url)
    before = _state(db_url)

    def spoil(rows: list[list[str]]) -> list[list[str]]:
        rows[1][2] = "L999999999"
        rows[2][3] = "30/02/2024"
        rows[3][15] = "-1 100"
        rows[4][1] = "910000018"
        rows[4][5] = "prefecture"
        extra = list(rows[1])
        extra[0], extra[2], extra[12] = "080012400000077GUI01", "L000000002", "0"
        return [*rows, extra]

    _rewrite(mini_bundle / "attributions.csv", spoil)
    with pytest.raises(ImportRefused) as refused:
        import_bundle([mini_bundle], db_url)
    rendered = [problem.render() for problem in refused.value.problems]
    for line, column, message in BAD_ROWS.values():
        assert any(
            text.startswith(f"attributions.csv:{line}:{column}: ") and message in text
            for text in rendered
        ), (message, rendered)
    assert any(
        text.startswith("attributions.csv:5:6: ") and "prefecture" in text for text in rendered
    ), rendered
    assert any(
        text.startswith("attributions.csv:6:13: ") and "supérieur ou égal à 1" in text
        for text in rendered
    ), rendered
    assert _state(db_url) == before


def test_a_missing_required_column_refuses_the_file(db_url: str, mini_bundle: Path) -> None:
    _rewrite(mini_bundle / "attributions.csv", lambda rows: [row[:-4] + row[-3:] for row in rows])
    with pytest.raises(ImportRefused) as refused:
        import_bundle([mini_bundle], db_url)
    assert any("« rfr_n2 »" in problem.message for problem in refused.value.problems)
    path = sqlite_file(db_url)
    if path is not None:
        assert not path.exists(), "a refused first import must not leave a database behind"


def test_an_import_with_another_key_is_refused(
    db_url: str, mini_bundle: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import_bundle([mini_bundle], db_url)
    _rewrite(mini_bundle / "caleol.csv", lambda rows: rows[:-1])
    monkeypatch.setenv("MIXITE_CLE", "une-tout-autre-cle-secrete")
    with pytest.raises(MixiteError, match="clé de pseudonymisation"):
        import_bundle([mini_bundle], db_url)


def test_territory_errors_point_at_the_yaml_line(db_url: str, mini_bundle: Path) -> None:
    path = mini_bundle / "territoire.yaml"
    text = path.read_text(encoding="utf-8")
    text = text.replace('siren: "910000017"', 'siren: "910000018"')
    text = text.replace("zone_plafonds: autres_regions, zone_abc: C", "zone_plafonds: lune")
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ImportRefused) as refused:
        import_bundle([mini_bundle], db_url)
    rendered = [problem.render() for problem in refused.value.problems]
    line_of = {
        n: i + 1
        for i, line in enumerate(text.splitlines())
        for n in ("lune", "910000018")
        if n in line
    }
    assert any(
        r.startswith(f"territoire.yaml:{line_of['lune']}:") and "lune" in r for r in rendered
    ), rendered
    assert any(
        r.startswith(f"territoire.yaml:{line_of['910000018']}:") and "clé de contrôle" in r
        for r in rendered
    ), rendered


def test_parsing_in_a_second_process_gives_the_same_result(
    mini_bundle: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Large files are parsed in a worker process; force it on the small bundle."""
    from checker.ingest import parsing

    in_process = f"sqlite:///{tmp_path / 'a.db'}"
    import_bundle([mini_bundle], in_process)
    monkeypatch.setattr(parsing, "WORKER_THRESHOLD_ROWS", 0)
    in_worker = f"sqlite:///{tmp_path / 'b.db'}"
    import_bundle([mini_bundle], in_worker)
    assert content(in_process) == content(in_worker)

    _rewrite(
        mini_bundle / "attributions.csv",
        lambda rows: [*rows[:2], [*rows[2][:3], "31/02/2024", *rows[2][4:]]],
    )
    with pytest.raises(ImportRefused) as refused:
        import_bundle([mini_bundle], f"sqlite:///{tmp_path / 'c.db'}")
    assert [p.render() for p in refused.value.problems] == [
        "attributions.csv:3:4: date_decision : la date « 31/02/2024 » n'existe pas"
    ]
