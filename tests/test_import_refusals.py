"""Inputs an import must refuse, located and in French, leaving the database as it was (#12).

Each test imports the small bundle, breaks one of its files, and checks the exact message of
the refused import and that a dump of the database is unchanged, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import codecs
import csv
import os
import subprocess
import sys
import time
import zipfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from checker.errors import MixiteError
from checker.ingest import tabular, territory
from checker.ingest.import_lock import ImportInProgress, import_lock
from checker.ingest.importer import ImportRefused, import_bundle
from checker.ingest.pseudonym import load_key
from tests.dbdump import dump

NBSP = "\u202f"


def _rows(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.reader(handle, delimiter=";"))


def _write_raw(path: Path, rows: list[list[str]], separator: str = ";") -> None:
    """Rows joined with `separator` and no quoting at all, as a careless re-save writes them."""
    path.write_text("\n".join(separator.join(row) for row in rows) + "\n", encoding="utf-8")


def _refused_unchanged(bundle: Path, url: str, edit: Callable[[Path], None]) -> list[str]:
    """Import the bundle, apply `edit`, import again: refused, and the database unchanged."""
    import_bundle([bundle], url)
    before = dump(url)
    edit(bundle)
    with pytest.raises(ImportRefused) as refused:
        import_bundle([bundle], url)
    assert dump(url) == before
    return [problem.render() for problem in refused.value.problems]


# -- 1. shifted columns -----------------------------------------------------------------------


def test_a_comma_file_with_decimal_commas_is_refused_once_with_the_cause(
    db_url: str, mini_bundle: Path
) -> None:
    def edit(bundle: Path) -> None:
        rows = _rows(bundle / "attributions.csv")
        position = rows[0].index("revenus_mensuels")
        for row in rows[1:]:
            row[position] = "1194,97"
            row[rows[0].index("rfr_n2")] = "14140"
        _write_raw(bundle / "attributions.csv", rows, ",")

    rendered = _refused_unchanged(mini_bundle, db_url, edit)
    assert rendered == [
        "attributions.csv:2: 4 ligne(s) sur 4 ont 1 champ(s) de plus que l'en-tête (20), à "
        "partir de celle-ci : leurs valeurs sont décalées, elles sont refusées. Cause probable : "
        "des nombres à virgule décimale (1194,97) dans un fichier séparé par des virgules. "
        "Enregistrez le fichier avec le séparateur « ; », ou mettez ces nombres entre guillemets."
    ]


def test_one_row_with_a_field_too_many_or_too_few_is_located(
    db_url: str, mini_bundle: Path
) -> None:
    def edit(bundle: Path) -> None:
        rows = _rows(bundle / "attributions.csv")
        rows[2].append("")  # line 3: one field more, empty
        rows[3] = rows[3][:-1]  # line 4: one field fewer
        _write_raw(bundle / "attributions.csv", rows)

    rendered = _refused_unchanged(mini_bundle, db_url, edit)
    assert rendered == [
        "attributions.csv:3: la ligne a 21 champ(s), l'en-tête en a 20 : valeurs décalées, "
        "ligne refusée",
        "attributions.csv:4: la ligne a 19 champ(s), l'en-tête en a 20 : valeurs décalées, "
        "ligne refusée",
    ]


# -- 2. look-alike digits ---------------------------------------------------------------------


def test_full_width_digits_are_refused(db_url: str, mini_bundle: Path) -> None:
    def edit(bundle: Path) -> None:
        rows = _rows(bundle / "attributions.csv")
        rows[1][rows[0].index("revenus_mensuels")] = "１２３"
        rows[2][rows[0].index("nb_titulaires")] = "٢"  # Arabic-Indic two
        _write_raw(bundle / "attributions.csv", rows)

    rendered = _refused_unchanged(mini_bundle, db_url, edit)
    assert rendered == [
        "attributions.csv:2:16: revenus_mensuels : « １２３ » contient un chiffre qui n'est pas "
        "0 à 9 (« １ », chiffre pleine chasse ou d'un autre alphabet) : retapez la valeur",
        "attributions.csv:3:13: nb_titulaires : « ٢ » contient un chiffre qui n'est pas 0 à 9 "
        "(« ٢ », chiffre pleine chasse ou d'un autre alphabet) : retapez la valeur",
    ]


# -- 3. what the CSV reader cannot read -------------------------------------------------------


def test_a_quote_never_closed_is_located_where_it_opens(db_url: str, mini_bundle: Path) -> None:
    def edit(bundle: Path) -> None:
        rows = _rows(bundle / "attributions.csv")
        rows[2][rows[0].index("derogation_plafonds")] = '"sans fin'
        filler = [["x" * 100] for _ in range(1400)]  # 140 000 characters after the quote
        _write_raw(bundle / "attributions.csv", rows + filler)

    rendered = _refused_unchanged(mini_bundle, db_url, edit)
    assert rendered == [
        f"attributions.csv:3: une cellule commençant sur cette ligne dépasse 131{NBSP}072 "
        "caractères : un guillemet ouvert n'y est sans doute jamais refermé (ou le fichier "
        "n'est pas un export texte). Fichier refusé."
    ]


def test_a_stray_quote_in_a_short_file_is_reported_on_its_own_line(
    db_url: str, mini_bundle: Path
) -> None:
    def edit(bundle: Path) -> None:
        rows = _rows(bundle / "logements.csv")
        rows[2][rows[0].index("surface")] = '"48'
        _write_raw(bundle / "logements.csv", rows)

    rendered = _refused_unchanged(mini_bundle, db_url, edit)
    assert rendered == [
        "logements.csv:3: la ligne a 7 champ(s), l'en-tête en a 8 : valeurs décalées, ligne "
        "refusée (elle court jusqu'à la ligne 5 : un guillemet ouvert sur cette ligne n'est sans "
        "doute pas refermé)"
    ]


def test_a_cell_of_ten_megabytes_is_refused(db_url: str, mini_bundle: Path) -> None:
    def edit(bundle: Path) -> None:
        rows = _rows(bundle / "attributions.csv")
        rows[3][rows[0].index("derogation_plafonds")] = "y" * 10_000_000
        _write_raw(bundle / "attributions.csv", rows)

    rendered = _refused_unchanged(mini_bundle, db_url, edit)
    assert len(rendered) == 1
    assert rendered[0].startswith(
        f"attributions.csv:4: une cellule commençant sur cette ligne dépasse 131{NBSP}072"
    )


def test_binary_garbage_is_refused_at_its_first_undefined_byte(
    db_url: str, mini_bundle: Path
) -> None:
    def edit(bundle: Path) -> None:
        path = bundle / "caleol.csv"
        path.write_bytes(path.read_bytes() + b"\x02\x81\xfe\xff garbage\n")

    rendered = _refused_unchanged(mini_bundle, db_url, edit)
    assert rendered == [
        "caleol.csv:5:2: octet 0x81 : le fichier n'est ni en UTF-8 ni en Windows-1252 (fichier "
        "binaire ou autre encodage). Fichier refusé."
    ]


def test_a_nul_byte_is_refused_where_it_is(db_url: str, mini_bundle: Path) -> None:
    def edit(bundle: Path) -> None:
        path = bundle / "attributions.csv"
        lines = path.read_bytes().split(b"\n")
        lines[2] = lines[2].replace(b";non;", b";n\x00n;", 1)
        path.write_bytes(b"\n".join(lines))

    rendered = _refused_unchanged(mini_bundle, db_url, edit)
    assert len(rendered) == 1
    assert rendered[0].startswith("attributions.csv:3:")
    assert "caractère NUL (octet 0) : le fichier n'est pas un export texte" in rendered[0]


@pytest.mark.parametrize(
    ("codec", "name"),
    [("utf-16", "UTF-16"), ("utf-32", "UTF-32"), ("utf-16-le", "UTF-16 ou UTF-32")],
)
def test_utf16_and_utf32_files_are_a_wrong_encoding(
    db_url: str, mini_bundle: Path, codec: str, name: str
) -> None:
    def edit(bundle: Path) -> None:
        path = bundle / "logements.csv"
        path.write_bytes(path.read_text(encoding="utf-8").encode(codec))

    rendered = _refused_unchanged(mini_bundle, db_url, edit)
    assert rendered == [
        f"logements.csv: le fichier est encodé en {name}, que mixite ne lit pas. Fichier refusé."
    ]


def test_an_oversized_file_is_refused_before_reading(
    db_url: str, mini_bundle: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def edit(bundle: Path) -> None:
        monkeypatch.setattr(tabular, "MAX_TABLE_BYTES", 512)
        with (bundle / "attributions.csv").open("a", encoding="utf-8") as handle:
            handle.write("\n")  # a new digest, the same rows

    rendered = _refused_unchanged(mini_bundle, db_url, edit)
    assert rendered == [
        "attributions.csv: fichier trop volumineux (755 octets ; 512 octets au plus).",
    ]


# -- 4. values a database column cannot hold --------------------------------------------------


def test_values_over_a_column_limit_are_refused_on_both_databases(
    db_url: str, mini_bundle: Path
) -> None:
    def edit(bundle: Path) -> None:
        rows = _rows(bundle / "caleol.csv")
        rows[1][rows[0].index("rang")] = "3000000000"
        _write_raw(bundle / "caleol.csv", rows)
        rows = _rows(bundle / "logements.csv")
        rows[1][rows[0].index("surface")] = "99 999 999 999,99"
        _write_raw(bundle / "logements.csv", rows)
        rows = _rows(bundle / "attributions.csv")
        rows[1][rows[0].index("revenus_mensuels")] = "9" * 30
        rows[2][rows[0].index("rfr_n2")] = str(2**63)
        rows[3][rows[0].index("nb_moins_14")] = "9" * 5000
        _write_raw(bundle / "attributions.csv", rows)

    rendered = _refused_unchanged(mini_bundle, db_url, edit)
    nines = "9" * 40
    assert rendered == [
        f"logements.csv:2:7: surface : « 99 999 999 999,99 » : dépasse la limite de la base "
        f"(999{NBSP}999,99 au plus)",
        f"attributions.csv:2:16: revenus_mensuels : « {'9' * 30} » : dépasse la limite de la "
        f"base (9{NBSP}223{NBSP}372{NBSP}036{NBSP}854{NBSP}775{NBSP}807 au plus)",
        f"attributions.csv:3:17: rfr_n2 : « {2**63} » : dépasse la limite de la base "
        f"(9{NBSP}223{NBSP}372{NBSP}036{NBSP}854{NBSP}775{NBSP}807 au plus)",
        f"attributions.csv:4:15: nb_moins_14 : « {nines}… » : nombre trop long (30 chiffres au "
        "plus)",
        f"caleol.csv:2:5: rang : « 3000000000 » : dépasse la limite de la base "
        f"(2{NBSP}147{NBSP}483{NBSP}647 au plus)",
    ]


def test_the_wrong_encoding_check_reads_the_marks() -> None:
    assert tabular.wrong_encoding(codecs.BOM_UTF32_LE + b"a\0\0\0") == "UTF-32"
    assert tabular.wrong_encoding(codecs.BOM_UTF8 + b"rpls_id;x") is None
    assert tabular.wrong_encoding("rpls_id;é".encode("cp1252")) is None


# -- 5. territoire.yaml -----------------------------------------------------------------------

LAUGHS = 'lol0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]\n' + "".join(
    f"lol{n}: &l{n} [{', '.join([f'*l{n - 1}'] * 9)}]\n" for n in range(1, 9)
)


def _territory_edit(text: Callable[[str], str]) -> Callable[[Path], None]:
    def edit(bundle: Path) -> None:
        path = bundle / "territoire.yaml"
        path.write_text(text(path.read_text(encoding="utf-8")), encoding="utf-8")

    return edit


def test_a_billion_laughs_territory_is_refused_quickly(db_url: str, mini_bundle: Path) -> None:
    started = time.monotonic()
    rendered = _refused_unchanged(mini_bundle, db_url, _territory_edit(lambda t: t + LAUGHS))
    assert time.monotonic() - started < 20
    line = 25 + 5  # the first list whose expansion passes the bound (lol5: about 9^6 nodes)
    assert rendered == [
        f"territoire.yaml:{line}:7: les alias YAML (*nom) répètent ici le document au-delà de "
        f"100{NBSP}000 éléments (ou en boucle) : fichier refusé"
    ]


def test_a_raw_nul_in_the_territory_is_located_in_french(db_url: str, mini_bundle: Path) -> None:
    edit = _territory_edit(lambda t: t.replace("ESH de test", "ESH\x00de test"))
    rendered = _refused_unchanged(mini_bundle, db_url, edit)
    assert len(rendered) == 1
    assert rendered[0].endswith(": caractère de contrôle U+0000 interdit dans un fichier YAML")
    line = next(
        number
        for number, text in enumerate((mini_bundle / "territoire.yaml").read_text().split("\n"), 1)
        if "\x00" in text
    )
    assert rendered[0].startswith(f"territoire.yaml:{line}:")


def test_a_stray_quote_is_reported_where_it_opens(db_url: str, mini_bundle: Path) -> None:
    def text(original: str) -> str:
        lines = original.split("\n")
        assert lines[4].endswith('"'), lines[4]  # line 5: a quoted value
        # Line 5 opens a quote never closed; no other quote follows.
        rest = [line.replace('"', "") for line in lines[5:]]
        return "\n".join([*lines[:4], lines[4][:-1], *rest] + ["#"] * 2600)

    rendered = _refused_unchanged(mini_bundle, db_url, _territory_edit(text))
    assert len(rendered) == 1
    assert rendered[0].startswith("territoire.yaml:5:"), rendered
    assert rendered[0].endswith("(guillemet ouvert ici et jamais refermé)")


@pytest.mark.parametrize(("codec", "name"), [("utf-16", "UTF-16"), ("utf-32", "UTF-32")])
def test_a_utf16_or_utf32_territory_is_a_wrong_encoding(
    db_url: str, mini_bundle: Path, codec: str, name: str
) -> None:
    def edit(bundle: Path) -> None:
        path = bundle / "territoire.yaml"
        path.write_bytes(path.read_text(encoding="utf-8").encode(codec))

    rendered = _refused_unchanged(mini_bundle, db_url, edit)
    assert rendered == [
        f"territoire.yaml: le fichier est encodé en {name}, que mixite ne lit pas : "
        "enregistrez-le en UTF-8."
    ]


def test_an_oversized_territory_is_refused(
    db_url: str, mini_bundle: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def edit(bundle: Path) -> None:
        monkeypatch.setattr(territory, "MAX_TERRITORY_BYTES", 1024)
        _territory_edit(lambda t: t + "#" * 2000 + "\n")(bundle)

    rendered = _refused_unchanged(mini_bundle, db_url, edit)
    assert len(rendered) == 1
    assert rendered[0].startswith("territoire.yaml: fichier trop volumineux (")
    assert rendered[0].endswith(" ; 1 ko au plus).")


# -- 6. two imports at once -------------------------------------------------------------------


def test_a_second_import_while_one_runs_is_told_to_retry(db_url: str, mini_bundle: Path) -> None:
    import_bundle([mini_bundle], db_url)
    before = dump(db_url)
    (mini_bundle / "caleol.csv").write_text(
        (mini_bundle / "caleol.csv").read_text(encoding="utf-8") + "\n", encoding="utf-8"
    )
    with import_lock(db_url), pytest.raises(ImportInProgress) as busy:
        import_bundle([mini_bundle], db_url)
    assert busy.value.message == (
        "Un autre import est en cours sur cette base : attendez qu'il se termine, puis "
        "relancez mixite import."
    )
    assert dump(db_url) == before
    assert import_bundle([mini_bundle], db_url).batch_id == 2  # the lock is released


def test_the_lock_is_taken_before_the_key_is_created(
    db_url: str, mini_bundle: Path, tmp_path: Path
) -> None:
    key_file = Path(os.environ["MIXITE_CLE_FICHIER"])
    with import_lock(db_url), pytest.raises(ImportInProgress):
        import_bundle([mini_bundle], db_url)
    assert not key_file.exists()
    assert not (tmp_path / "mixite.db").exists()


@pytest.mark.postgres
def test_two_import_processes_at_once_never_fail_internally(mini_bundle: Path) -> None:
    from tests.conftest import _postgres_database

    databases = _postgres_database()
    url = next(databases)
    try:
        command = [sys.executable, "-m", "checker", "import", str(mini_bundle), "--db", url]
        runs = [
            subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for _ in range(3)
        ]
        outputs = [run.communicate(timeout=120) for run in runs]
        codes = [run.returncode for run in runs]
        texts = [out + err for out, err in outputs]
        assert codes.count(0) >= 1, texts
        for code, text in zip(codes, texts, strict=True):
            assert "Traceback" not in text and "interne" not in text, text
            if code != 0:
                assert "Un autre import est en cours sur cette base" in text, text
        assert len(dump(url)["import_batch"]) == 1
    finally:
        next(databases, None)


# -- 8. sequences -----------------------------------------------------------------------------


def test_a_refused_import_does_not_skip_import_numbers(db_url: str, mini_bundle: Path) -> None:
    import_bundle([mini_bundle], db_url)
    attributions = mini_bundle / "attributions.csv"
    good = attributions.read_text(encoding="utf-8")
    rows = _rows(attributions)
    rows[2][rows[0].index("nb_titulaires")] = "deux"
    _write_raw(attributions, rows)
    for _ in range(2):
        with pytest.raises(ImportRefused):
            import_bundle([mini_bundle], db_url)
    attributions.write_text(good + "\n", encoding="utf-8")
    (mini_bundle / "caleol.csv").write_text(
        (mini_bundle / "caleol.csv").read_text(encoding="utf-8").replace(";1;", ";3;"),
        encoding="utf-8",
    )
    assert import_bundle([mini_bundle], db_url).batch_id == 2


# -- 9. the key file --------------------------------------------------------------------------


def test_a_key_file_others_can_read_gets_a_warning(db_url: str, mini_bundle: Path) -> None:
    key_file = Path(os.environ["MIXITE_CLE_FICHIER"])
    key_file.write_text("0123456789abcdef0123456789abcdef\n", encoding="utf-8")
    key_file.chmod(0o644)
    result = import_bundle([mini_bundle], db_url)
    assert result.key is not None
    assert result.key.warning == (
        f"Le fichier de clé {key_file} est lisible par d'autres comptes que le vôtre (droits "
        f"0644) : qui lit la clé peut retrouver les ménages. Restreignez-le : chmod 600 {key_file}"
    )
    key_file.chmod(0o600)
    assert load_key(db_url, create=False).warning is None


@pytest.mark.parametrize("kind", ["dossier", "binaire"])
def test_a_key_file_that_is_a_folder_or_not_text_is_refused_in_french(
    db_url: str, mini_bundle: Path, tmp_path: Path, kind: str
) -> None:
    key_file = Path(os.environ["MIXITE_CLE_FICHIER"])
    if kind == "dossier":
        key_file.mkdir()
        expected = f"Le fichier de clé {key_file} est un dossier."
    else:
        key_file.write_bytes(b"\xff\xfe" + os.urandom(30).replace(b"\n", b""))
        expected = (
            f"Le fichier de clé {key_file} n'est pas un texte UTF-8 : ce n'est pas une clé mixite."
        )
    with pytest.raises(MixiteError) as refused:
        import_bundle([mini_bundle], db_url)
    assert refused.value.message == expected
    if db_url.startswith("sqlite"):
        assert not (tmp_path / "mixite.db").exists()
    else:
        assert all(rows == [] for rows in dump(db_url).values())


def test_two_processes_creating_the_key_at_once_share_it(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'autre.db'}"
    with ThreadPoolExecutor(8) as pool:
        keys = list(pool.map(lambda _: load_key(url, create=True), range(8)))
    assert len({key.secret for key in keys}) == 1
    assert sum(key.created for key in keys) == 1
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_a_territory_neither_utf8_nor_windows_1252_is_located(
    db_url: str, mini_bundle: Path
) -> None:
    def edit(bundle: Path) -> None:  # found by the fuzz test: an internal error before
        path = bundle / "territoire.yaml"
        path.write_bytes(b"\x8d" + path.read_bytes())

    rendered = _refused_unchanged(mini_bundle, db_url, edit)
    assert rendered == [
        "territoire.yaml:1:1: octet 0x8D : le fichier n'est ni en UTF-8 ni en Windows-1252 : "
        "enregistrez-le en UTF-8."
    ]


def test_a_caleol_docket_row_with_shifted_fields_is_refused(tmp_path: Path) -> None:
    from checker.caleol_check import DocketRefused, read_docket

    docket = tmp_path / "dossier.csv"
    docket.write_text(
        "date_commission;bailleur_siren;rpls_id;numero_unique;nb_titulaires;revenus_mensuels;"
        "rfr_n2\n"
        "03/02/2025;912000007;8012000040;X1;1;950;11000\n"
        "03/02/2025;912000007;8012000040;X2;1;950;11000;\n",
        encoding="utf-8",
    )
    with pytest.raises(DocketRefused) as refused:
        read_docket(docket)
    assert [problem.render() for problem in refused.value.problems] == [
        "dossier.csv:3: la ligne a 8 champ(s), l'en-tête en a 7 : valeurs décalées, ligne refusée"
    ]


def test_the_reading_process_reports_shifted_rows_and_unreadable_cells_too(
    mini_bundle: Path, tmp_path: Path
) -> None:
    """Files of more than WORKER_THRESHOLD_ROWS lines are parsed in a second process: the same
    refusals come back from it, located."""
    from checker.ingest.parsing import WORKER_THRESHOLD_ROWS

    url = f"sqlite:///{tmp_path / 'gros.db'}"
    path = mini_bundle / "attributions.csv"
    rows = _rows(path)
    header, first = rows[0], rows[1]
    generated = [header]
    for number in range(WORKER_THRESHOLD_ROWS + 10):
        generated.append([f"08001240{number:07d}GRO01", *first[1:]])
    generated[3] = [*generated[3], "en trop"]  # line 4
    generated[-1][header.index("derogation_plafonds")] = '"' + "x" * 140_000  # never closed
    _write_raw(path, generated)
    with pytest.raises(ImportRefused) as refused:
        import_bundle([mini_bundle], url)
    assert [problem.render() for problem in refused.value.problems] == [
        "attributions.csv:4: la ligne a 21 champ(s), l'en-tête en a 20 : valeurs décalées, "
        "ligne refusée",
        f"attributions.csv:{len(generated)}: une cellule commençant sur cette ligne dépasse "
        f"131{NBSP}072 caractères : un guillemet ouvert n'y est sans doute jamais refermé (ou le "
        "fichier n'est pas un export texte). Fichier refusé.",
    ]
    assert not (tmp_path / "gros.db").exists()


BROKEN_WORKBOOK = (
    "logements.xlsx: classeur Excel illisible : ce n'est pas un fichier XLSX intact (fichier "
    "abîmé, ou d'un autre format renommé en .xlsx). Fichier refusé."
)


def _as_workbook(bundle: Path) -> Path:
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    for row in _rows(bundle / "logements.csv"):
        sheet.append(row)
    (bundle / "logements.csv").unlink()
    target = bundle / "logements.xlsx"
    workbook.save(target)
    return target


@pytest.mark.parametrize("damage", ["pas une archive", "feuille coupée"])
def test_a_broken_workbook_is_refused_in_french(
    db_url: str, mini_bundle: Path, tmp_path: Path, damage: str
) -> None:
    target = _as_workbook(mini_bundle)
    if damage == "pas une archive":
        target.write_bytes(b"PK\x03\x04" + bytes(range(256)) * 8)
    else:  # a sound archive whose sheet's XML stops in the middle of the data
        damaged = tmp_path / "abime.xlsx"
        with zipfile.ZipFile(target) as source, zipfile.ZipFile(damaged, "w") as copy:
            for item in source.infolist():
                data = source.read(item)
                if item.filename == "xl/worksheets/sheet1.xml":
                    data = data[: int(len(data) * 0.6)]
                copy.writestr(item, data)
        target.write_bytes(damaged.read_bytes())
    with pytest.raises(ImportRefused) as refused:
        import_bundle([mini_bundle], db_url)
    assert [problem.render() for problem in refused.value.problems] == [BROKEN_WORKBOOK]
