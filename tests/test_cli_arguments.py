"""Arguments that name nothing, read commands on a missing database, and `--out` guards: each is
refused in French before anything is evaluated, written or recorded."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from checker.cli.arguments import luhn_ok

ROOT = Path(__file__).resolve().parent.parent
KNOWN_BAILLEUR = "912000379"  # Les Toits du Val, in the demo bundle
DEMO_EPCI = "980008015"


def mixite(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "checker", *args], capture_output=True, text=True, check=False,
        cwd=cwd or ROOT, env={**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "200"},
    )  # fmt: skip


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo bundle imported once; tests work on copies."""
    folder = tmp_path_factory.mktemp("demo")
    done = subprocess.run(
        [sys.executable, "-m", "checker", "import", str(ROOT / "fixtures" / "demo"),
         "--db", f"sqlite:///{folder / 'mixite.db'}"],
        capture_output=True, text=True, check=False, cwd=folder,
        env={**os.environ, "PYTHONPATH": str(ROOT), "MIXITE_CLE_FICHIER": str(folder / "k.cle")},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return folder / "mixite.db"


@pytest.fixture
def db(demo_db: Path, tmp_path: Path) -> Iterator[Path]:
    copy = tmp_path / "mixite.db"
    shutil.copyfile(demo_db, copy)
    yield copy


def _receipts(path: Path) -> int:
    with sqlite3.connect(path) as connection:
        return int(connection.execute("SELECT count(*) FROM run").fetchone()[0])


def _refused(done: subprocess.CompletedProcess[str], *expected: str, code: int = 1) -> None:
    assert done.returncode == code, done.stdout + done.stderr
    assert "Traceback" not in done.stderr and "interne" not in done.stderr
    for text in expected:
        assert text in done.stderr, done.stderr


def test_siren_check_digit() -> None:
    assert luhn_ok(KNOWN_BAILLEUR) and luhn_ok("912000007") and luhn_ok(DEMO_EPCI)
    assert not luhn_ok("999999999") and not luhn_ok("912000372")


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--bailleur", "999999999"],
         ["--bailleur « 999999999 » : bailleur inconnu dans la base ; ce n'est pas un SIREN "
          "valide : sa clé de contrôle, le 9e chiffre, est fausse.", "Les Toits du Val"]),
        (["--bailleur", "912000372"], ["clé de contrôle", f"({KNOWN_BAILLEUR})"]),
        (["--bailleur", "1' or '1'='1"],
         ["--bailleur « 1' or '1'='1 » : bailleur inconnu dans la base.", "Valeurs connues"]),
        (["--bailleur", "12345"], ["un SIREN s'écrit avec 9 chiffres"]),
        (["--epci", "999999999"],
         ["--epci « 999999999 » : EPCI inconnu dans la base", f"Val de Lize ({DEMO_EPCI})"]),
        (["--year", "2031"],
         ["--year 2031 : aucune donnée pour cette année dans la base.",
          "Années présentes : 2012, 2013"]),
        (["--year", "2030-2031"], ["--year 2030, 2031 : aucune donnée pour ces années"]),
        (["--to-date", "2031-03-01"], ["--year 2031 : aucune donnée"]),
    ],
)  # fmt: skip
def test_check_refuses_arguments_that_name_nothing(db: Path, args: list[str],
                                                   expected: list[str]) -> None:  # fmt: skip
    if "--year" not in args and "--to-date" not in args:
        args = ["--year", "2025", *args]
    done = mixite("check", *args, "--db", f"sqlite:///{db}")
    _refused(done, *expected)
    assert _receipts(db) == 0


def test_check_year_with_two_digits_is_refused(db: Path) -> None:
    done = mixite("check", "--year", "25", "--db", f"sqlite:///{db}")
    assert done.returncode == 2 and "année illisible « 25 »" in done.stderr
    assert _receipts(db) == 0


def test_epci_and_bailleur_by_name_or_siren(db: Path) -> None:
    url = f"sqlite:///{db}"
    by_siren = mixite("check", "--year", "2025", "--epci", DEMO_EPCI, "--format", "json",
                      "--bailleur", KNOWN_BAILLEUR, "--db", url)  # fmt: skip
    by_name = mixite("check", "--year", "2025", "--epci", "communauté d'agglomération du VAL DE LIZE",
                     "--bailleur", "les toits du val, sa d'hlm", "--format", "json", "--db", url)  # fmt: skip
    assert by_siren.returncode == 0 and by_name.returncode == 0, by_name.stderr
    assert '"bailleur": "912000379"' in by_name.stdout
    assert _receipts(db) == 2


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--year", "25"], ["--year 25 : année illisible.", "Forme attendue : AAAA"]),
        (["--year", "2031"], ["--year 2031 : aucune donnée pour cette année dans la base."]),
        (["--year", "2025", "--scope", "bailleur=999999999"],
         ["--scope bailleur=999999999 : bailleur inconnu dans la base"]),
        (["--year", "2025", "--scope", "epci=Nulle Part"],
         ["--scope epci=Nulle Part : EPCI inconnu dans la base.", DEMO_EPCI]),
        (["--year", "2025", "--scope", "reservataire=XX"],
         ["--scope reservataire=XX : réservataire inconnu dans la base."]),
        (["--year", "2025", "--scope", "contingent=etat"],
         ["--scope contingent=etat : contingent inconnu", "etat_prioritaires"]),
    ],
)  # fmt: skip
def test_explain_refuses_arguments_that_name_nothing(db: Path, args: list[str],
                                                     expected: list[str]) -> None:  # fmt: skip
    done = mixite("explain", "L441-1.Q1-HORS-QPV", *args, "--db", f"sqlite:///{db}")
    _refused(done, *expected)


def test_explain_accepts_a_bailleur_by_name(db: Path) -> None:
    done = mixite("explain", "L441-1.Q1-HORS-QPV", "--year", "2025", "--scope",
                  "bailleur=Les Toits du Val, SA d'HLM", "--db", f"sqlite:///{db}")  # fmt: skip
    assert done.returncode == 0, done.stderr


def test_bilan_refuses_an_unknown_bailleur_and_a_short_year(db: Path, tmp_path: Path) -> None:
    url = f"sqlite:///{db}"
    _refused(mixite("bilan-reservataires", "--year", "2025", "--bailleur", "999999999",
                    "--out", str(tmp_path / "b"), "--db", url), "bailleur inconnu")  # fmt: skip
    _refused(mixite("bilan-reservataires", "--year", "25", "--db", url), "année illisible")
    assert not (tmp_path / "b").exists()


@pytest.mark.parametrize(
    "command",
    [
        ["check", "--year", "2025"],
        ["explain", "L441-1.Q1-HORS-QPV", "--year", "2025"],
        ["runs"],
        ["runs", "replay", "1"],
        ["audit", "verify"],
        ["audit", "acces"],
        ["bilan-reservataires", "--year", "2025"],
        ["users", "list"],
    ],
)
def test_read_commands_on_a_missing_database_create_nothing(tmp_path: Path,
                                                            command: list[str]) -> None:  # fmt: skip
    done = mixite(*command, cwd=tmp_path)
    _refused(done, "Base introuvable : lancez d'abord mixite import.", code=3)
    assert list(tmp_path.iterdir()) == []


def test_out_refuses_the_database_and_the_key(db: Path, tmp_path: Path) -> None:
    url = f"sqlite:///{db}"
    before = db.read_bytes()
    key = tmp_path / "cle-de-test.cle"
    key.write_text("0123456789abcdef0123456789abcdef\n", encoding="utf-8")
    _refused(mixite("check", "--year", "2025", "--format", "json", "--out", str(db), "--db", url),
             f"--out {db} : ce fichier est la base de données")  # fmt: skip
    _refused(mixite("check", "--year", "2025", "--format", "json", "--out", str(db), "--force",
                    "--db", url), "la base de données")  # fmt: skip
    _refused(mixite("explain", "L441-1.Q1-HORS-QPV", "--year", "2025", "--format", "csv",
                    "--out", str(key), "--force", "--db", url),
             "ce fichier est la clé de pseudonymisation")  # fmt: skip
    other_key = tmp_path / "autre.cle"
    _refused(mixite("check", "--year", "2025", "--format", "md", "--out", str(other_key),
                    "--db", url), "un fichier .cle est une clé")  # fmt: skip
    assert db.read_bytes() == before
    assert key.read_text(encoding="utf-8").startswith("0123")
    assert not other_key.exists()
    assert _receipts(db) == 0


def test_out_refuses_a_file_that_is_not_a_report_of_that_format(db: Path, tmp_path: Path) -> None:
    url = f"sqlite:///{db}"
    notes = tmp_path / "notes.json"
    notes.write_text("Mes notes\n", encoding="utf-8")
    _refused(mixite("check", "--year", "2025", "--format", "json", "--out", str(notes), "--db", url),
             f"--out {notes} : ce fichier existe et n'est pas un rapport JSON ; il n'est pas "
             "remplacé.", "--force")  # fmt: skip
    assert notes.read_text(encoding="utf-8") == "Mes notes\n"
    # The CSV report's companion is guarded too.
    report = tmp_path / "r.csv"
    companion = tmp_path / "r-en-defaut.csv"
    companion.write_bytes(b"PK\x03\x04 un classeur")
    _refused(mixite("check", "--year", "2025", "--format", "csv", "--out", str(report), "--db", url),
             f"--out {companion}")  # fmt: skip
    assert not report.exists() and companion.read_bytes().startswith(b"PK")
    assert _receipts(db) == 0
    # An earlier report of the same format is replaced; --force replaces anything else.
    done = mixite("check", "--year", "2025", "--format", "json", "--out", str(notes), "--force",
                  "--db", url)  # fmt: skip
    assert done.returncode == 0, done.stderr
    again = mixite("check", "--year", "2025", "--format", "json", "--out", str(notes), "--db", url)
    assert again.returncode == 0, again.stderr
    assert _receipts(db) == 2


def test_a_report_that_cannot_be_written_leaves_no_receipt(db: Path, tmp_path: Path) -> None:
    url = f"sqlite:///{db}"
    _refused(mixite("check", "--year", "2025", "--format", "csv", "--out", str(tmp_path), "--db", url),
             f"--out {tmp_path} : c'est un dossier, pas un fichier.")  # fmt: skip
    if Path("/dev/full").exists():
        _refused(mixite("check", "--year", "2025", "--format", "json", "--out", "/dev/full",
                        "--force", "--db", url),
                 "/dev/full : le rapport n'a pas pu être écrit (disque plein).")  # fmt: skip
    locked = tmp_path / "ferme"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        if not os.access(locked, os.W_OK):  # not when the tests run as root
            _refused(mixite("check", "--year", "2025", "--format", "csv", "--out",
                            str(locked / "r.csv"), "--db", url), "droits insuffisants")  # fmt: skip
    finally:
        locked.chmod(0o700)
    assert _receipts(db) == 0


def test_help_screens_show_french_kinds_not_python_types() -> None:
    import typer

    from checker.cli.app import app
    from checker.cli.french_cli import set_french_help_option

    command = typer.main.get_command(app)
    set_french_help_option(command)
    pending = [("mixite", command)]
    screens = 0
    while pending:
        path, current = pending.pop()
        pending.extend(
            (f"{path} {name}", sub) for name, sub in getattr(current, "commands", {}).items()
        )
        done = mixite(*path.split()[1:], "--help")
        assert done.returncode == 0, (path, done.stderr)
        for python_type in (
            "<list[",
            "<bool>",
            "<str>",
            "<int>",
            "<float>",
            "<Path>",
            "<path>",
            "<text>",
        ):
            assert python_type not in done.stdout, (path, done.stdout)
        screens += 1
    assert screens > 20


def test_dates_in_french_or_iso_and_epci_by_siren_in_quartile(db: Path) -> None:
    url = f"sqlite:///{db}"
    french = mixite("check", "--to-date", "30/09/2025", "--format", "json", "--db", url)
    iso = mixite("check", "--to-date", "2025-09-30", "--format", "json", "--db", url)
    assert french.returncode == 0 and iso.returncode == 0, french.stderr
    assert '"as_of": "2025-09-30"' in french.stdout and '"as_of": "2025-09-30"' in iso.stdout
    _refused(mixite("check", "--to-date", "31/02/2025", "--db", url),
             "--to-date : date illisible « 31/02/2025 ».", "JJ/MM/AAAA ou AAAA-MM-JJ")  # fmt: skip
    # The SIREN the arrêtés give CA Amiens Métropole (rules/national/donnees/seuils_quartiles.csv).
    by_siren = mixite("quartile", "--epci", "248000531", "--annee", "2024", "--revenus-mensuels",
                      "1000", "--json")  # fmt: skip
    assert by_siren.returncode == 0, by_siren.stderr
    assert '"epci": "CA Amiens Métropole"' in by_siren.stdout


def test_rule_ids_are_whole_at_80_columns(db: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "checker", "check", "--year", "2025", "--db", f"sqlite:///{db}"],
        capture_output=True, text=True, check=False, cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "80"},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    from checker.rulebook_loader import require_rules

    for rule_id in require_rules()[0].rules:
        assert rule_id in done.stdout, rule_id


def test_bilan_and_caleol_reports_are_guarded_too(db: Path, tmp_path: Path) -> None:
    url = f"sqlite:///{db}"
    folder = tmp_path / "bilan"
    folder.mkdir()
    sheet = folder / "bilan-reservataires-2025.xlsx"
    sheet.write_text("pas un classeur\n", encoding="utf-8")
    _refused(mixite("bilan-reservataires", "--year", "2025", "--out", str(folder), "--db", url),
             f"--out {sheet} : ce fichier existe et n'est pas un rapport XLSX")  # fmt: skip
    assert sheet.read_text(encoding="utf-8") == "pas un classeur\n"
    done = mixite("bilan-reservataires", "--year", "2025", "--out", str(folder), "--force",
                  "--db", url)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert sheet.read_bytes()[:2] == b"PK"
    docket = ROOT / "fixtures" / "exemples" / "dossier-caleol.csv"
    _refused(mixite("caleol", "check", str(docket), "--format", "html", "--out", str(db),
                    "--force", "--db", url), "ce fichier est la base de données")  # fmt: skip


def test_audit_verify_detects_a_deleted_last_run_with_the_kept_heads(
    db: Path, tmp_path: Path
) -> None:
    url = f"sqlite:///{db}"
    first = mixite("check", "--year", "2025", "--db", url)
    second = mixite("check", "--year", "2024", "--db", url)
    assert first.returncode == 0 and second.returncode == 0, second.stderr
    kept = second.stdout.strip().splitlines()[-1]  # the head, alone on the last line
    assert len(kept) == 64
    heads = tmp_path / "cle-de-test.tetes"  # beside the key file (MIXITE_CLE_FICHIER)
    assert len(heads.read_text(encoding="utf-8").splitlines()) == 2
    assert mixite("audit", "verify", "--tete", kept, "--db", url).returncode == 0
    with sqlite3.connect(db) as connection:  # the last run deleted, the stored head moved back
        connection.execute("DELETE FROM run WHERE id = 2")
        connection.execute("UPDATE mixite_meta SET valeur = (SELECT hash FROM run WHERE id = 1) "
                           "WHERE cle = 'empreinte_derniere_execution'")  # fmt: skip
    message = f"conservée dans {heads}:2 n'est plus dans la chaîne"
    _refused(mixite("audit", "verify", "--db", url), message)
    assert mixite("check", "--year", "2024", "--db", url).returncode == 0  # a new n° 2
    _refused(mixite("audit", "verify", "--db", url), message)
    _refused(mixite("audit", "verify", "--tete", kept, "--db", url),
             "conservée dans --tete n'est plus dans la chaîne")  # fmt: skip


def test_a_year_is_present_when_one_date_of_any_table_is_in_it(db: Path) -> None:
    # require_years asks each year by one dated row; the refusal lists every year: both agree,
    # a year present through one table only (a lease date, a decision date) included.
    from sqlalchemy import create_engine

    from checker.cli.arguments import _year_present, years_present

    with sqlite3.connect(db) as raw:
        raw.execute("UPDATE bail SET date_signature = '1999-06-30' WHERE rowid = "
                    "(SELECT min(rowid) FROM bail)")  # fmt: skip
        raw.execute("UPDATE attribution SET date_decision = '1998-12-31', date_bail = NULL "
                    "WHERE rowid = (SELECT min(rowid) FROM attribution)")  # fmt: skip
    engine = create_engine(f"sqlite:///{db}")
    with engine.connect() as connection:
        present = years_present(connection)
        assert {1998, 1999} <= set(present)
        found = [y for y in range(1990, 2040) if _year_present(connection, y)]
    engine.dispose()
    assert found == present
