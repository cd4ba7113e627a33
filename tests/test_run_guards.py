"""`runs replay` and `audit verify` on a database edited by hand: French messages (#12)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from sqlalchemy import create_engine, text, update

from checker.db import models
from tests.test_runs import _checked


def _mixite(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "checker", *args], capture_output=True, text=True, timeout=300
    )


def _edit(db_url: str, **values: str) -> None:
    engine = create_engine(db_url)
    with engine.begin() as connection:
        connection.execute(update(models.Run).where(models.Run.id == 1).values(**values))
    engine.dispose()


def test_replay_of_a_receipt_whose_results_are_not_json(db_url: str, tmp_path: Path) -> None:
    _checked(db_url, tmp_path, years=(2024,))
    _edit(db_url, results="{pas du json")
    done = _mixite("runs", "replay", "1", "--db", db_url)
    assert done.returncode != 0
    assert "Traceback" not in done.stderr and "interne" not in done.stderr, done.stderr
    assert (
        "L'exécution n° 1 est illisible : ses résultats ne sont pas du JSON. Son reçu a été "
        "modifié hors de mixite." in " ".join(done.stderr.split())
    ), done.stderr


def test_replay_of_a_receipt_with_other_json_or_a_bad_date(db_url: str, tmp_path: Path) -> None:
    _checked(db_url, tmp_path, years=(2024,))
    _edit(db_url, results="42")
    done = _mixite("runs", "replay", "1", "--db", db_url)
    assert "ses résultats n'ont pas la forme d'une liste de résultats" in " ".join(
        done.stderr.split()
    ), done.stderr
    _edit(db_url, results="[]", period_start="hier")
    done = _mixite("runs", "replay", "1", "--db", db_url)
    assert "sa date « period_start » ('hier') n'est pas une date" in " ".join(
        done.stderr.split()
    ), done.stderr
    assert done.returncode != 0 and "Traceback" not in done.stderr


def test_audit_verify_on_a_database_without_the_run_table(db_url: str, tmp_path: Path) -> None:
    _checked(db_url, tmp_path, years=(2024,))
    engine = create_engine(db_url)
    with engine.begin() as connection:
        cascade = " CASCADE" if connection.dialect.name == "postgresql" else ""
        connection.execute(text(f"DROP TABLE run{cascade}"))
    engine.dispose()
    done = _mixite("audit", "verify", "--db", db_url)
    assert done.returncode != 0
    assert "Traceback" not in done.stderr and "interne" not in done.stderr, done.stderr
    assert (
        "La table des exécutions (« run ») est absente de cette base : elle a été supprimée "
        "hors de mixite, et aucune exécution ne peut être vérifiée ni refaite."
        in " ".join(done.stderr.split())
    ), done.stderr
