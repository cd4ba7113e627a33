"""Run receipts: stored with each check, replayable, and tamper-evident."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import create_engine, delete, text, update

from checker import runs
from checker.checking import evaluate, run_check
from checker.db import models
from checker.db.engine import head_revision, make_engine, upgrade
from checker.evaluate.run import Options, Period
from checker.ingest.importer import import_bundle
from checker.report.json_report import results_block
from checker.rulebook_loader import require_rules
from tests import bundles
from tests.test_evaluate import ATTRIBUTIONS, DWELLINGS


def _checked(db_url: str, tmp_path: Path, years: tuple[int, ...] = (2024, 2025)) -> None:
    import_bundle([bundles.write_bundle(tmp_path / "lot", DWELLINGS, ATTRIBUTIONS)], db_url)
    rulebook, _ = require_rules()
    engine = create_engine(db_url)
    with engine.begin() as connection:
        for year in years:
            run_check(connection, rulebook, Period.year(year), Options(), None)
    engine.dispose()


def test_a_new_database_is_created_at_the_latest_revision(db_url: str) -> None:
    engine = make_engine(db_url)
    before, after = upgrade(engine)
    assert (before, after) == (None, head_revision())
    assert upgrade(engine) == (head_revision(), head_revision())  # idempotent
    engine.dispose()


def test_a_stored_run_replays_identically(db_url: str, tmp_path: Path) -> None:
    _checked(db_url, tmp_path)
    rulebook, _ = require_rules()
    engine = create_engine(db_url)
    with engine.connect() as connection:
        stored = runs.load_run(connection, 1)
        again = results_block(evaluate(connection, rulebook, Period.year(2024), Options(), None))
        assert runs.canonical(again) == stored.results
        assert stored.rulebook_digest == rulebook.digest
        assert stored.data_digest == runs.data_digest(connection)
        assert runs.verify_chain(connection) == (2, [])
    engine.dispose()


def test_a_run_stored_before_the_bound_field_still_replays_identically(
    db_url: str, tmp_path: Path
) -> None:
    """Schema 1.2 added `bound` (floor or cap, from the rules): a run recorded before it is
    compared without it, and any other change still shows."""
    _checked(db_url, tmp_path, years=(2024,))
    rulebook, _ = require_rules()
    engine = create_engine(db_url)
    with engine.connect() as connection:
        stored = runs.load_run(connection, 1)
        assert '"bound":"min"' in stored.results and '"bound":"max"' in stored.results
        fresh = results_block(evaluate(connection, rulebook, Period.year(2024), Options(), None))
    older = [{k: v for k, v in result.items() if k != "bound"} for result in fresh]
    assert runs.canonical(runs.as_stored(fresh, runs.canonical(older))) == runs.canonical(older)
    assert runs.as_stored(fresh, stored.results) == fresh
    changed = [dict(older[0], numerator=-1), *older[1:]]
    assert runs.canonical(runs.as_stored(fresh, runs.canonical(changed))) != runs.canonical(changed)
    engine.dispose()


def test_audit_catches_an_edited_run(db_url: str, tmp_path: Path) -> None:
    _checked(db_url, tmp_path)
    engine = create_engine(db_url)
    with engine.begin() as connection:
        connection.execute(
            update(models.Run).where(models.Run.id == 1).values(period_end="2024-06-30")
        )
    with engine.connect() as connection:
        count, problems = runs.verify_chain(connection)
    engine.dispose()
    assert count == 2
    assert any("n° 1 a été modifié" in problem.message for problem in problems)


def test_audit_catches_a_deleted_run_in_the_middle_and_at_the_end(
    db_url: str, tmp_path: Path
) -> None:
    _checked(db_url, tmp_path, years=(2023, 2024, 2025))
    engine = create_engine(db_url)
    with engine.begin() as connection:
        connection.execute(delete(models.Run).where(models.Run.id == 2))
    with engine.connect() as connection:
        _, problems = runs.verify_chain(connection)
    assert any("supprimée" in problem.message for problem in problems)
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM run WHERE id = 3"))
    with engine.connect() as connection:
        _, problems = runs.verify_chain(connection)
    engine.dispose()
    assert any("dernière exécution" in problem.message for problem in problems)
