"""`mixite users …` and `mixite audit acces`: accounts from the terminal, and their traces."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from checker.ingest.importer import import_bundle
from tests.conftest import DATA

ROOT = Path(__file__).resolve().parent.parent


def mixite(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "checker", *args], input=stdin, capture_output=True,
                          text=True, check=False, cwd=ROOT,
                          env={**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "200"})  # fmt: skip


def test_accounts_from_the_terminal(tmp_path: Path) -> None:
    # SQLite only: each command is a process of its own; the web tests cover both backends.
    db_url = f"sqlite:///{tmp_path / 'mixite.db'}"
    import_bundle([DATA / "mini"], db_url)
    db = ("--db", db_url)
    done = mixite("users", "add", "lize", "--role", "bailleur", "--bailleur", "910000017",
                  "--password-stdin", *db, stdin="un-long-mot-de-passe\n")  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "Compte « lize » créé (bailleur)" in done.stdout
    short = mixite(
        "users", "add", "x", "--role", "lecteur", "--password-stdin", *db, stdin="court\n"
    )
    assert short.returncode == 1 and "trop court" in short.stderr
    wrong = mixite("users", "add", "y", "--role", "bailleur", "--bailleur", "999999999",
                   "--password-stdin", *db, stdin="un-long-mot-de-passe\n")  # fmt: skip
    assert wrong.returncode == 1 and "Traceback" not in wrong.stderr
    no_terminal = mixite("users", "add", "z", "--role", "lecteur", *db)
    assert no_terminal.returncode == 1 and "--password-stdin" in no_terminal.stderr
    token = mixite("users", "token", "lize", *db)
    assert token.returncode == 0 and token.stdout.strip().startswith("mxt_")
    listed = mixite("users", "list", *db)
    assert "lize" in listed.stdout and "actif" in listed.stdout
    assert mixite("users", "disable", "lize", *db).returncode == 0
    assert "désactivé" in mixite("users", "list", *db).stdout
    log = mixite("audit", "acces", "--format", "csv", *db)
    assert log.returncode == 0
    lines = log.stdout.splitlines()
    assert lines[0].lstrip("\ufeff").startswith("Moment;Compte;Rôle;Canal;Action")
    actions = [line.split(";")[4] for line in lines[1:]]
    assert actions == ["création d'un compte", "création d'un jeton d'API",
                       "désactivation d'un compte"]  # fmt: skip
    assert mixite("audit", "acces", "--depuis", "hier", *db).returncode == 1


def test_serve_refuses_a_database_without_mixite_data_in_french(tmp_path: Path) -> None:
    missing = tmp_path / "absente.db"
    done = mixite("serve", "--db", f"sqlite:///{missing}", "--port", "1")
    assert done.returncode == 3 and "Base introuvable" in done.stderr
    assert "Traceback" not in done.stderr and not missing.exists()
