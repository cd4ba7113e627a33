"""Run receipts: stored with each check, replayable, and tamper-evident."""

from __future__ import annotations

import contextlib
import shutil
import threading
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, delete, select, text, update
from sqlalchemy.engine import make_url

from checker import runs
from checker.checking import evaluate, run_check
from checker.db import models
from checker.db.engine import head_revision, make_engine, upgrade
from checker.errors import MixiteError
from checker.evaluate.run import Options, Period
from checker.ingest.importer import import_bundle
from checker.report.json_report import results_block
from checker.rulebook_loader import require_rules
from tests import bundles
from tests.test_evaluate import ATTRIBUTIONS, DWELLINGS

ROOT = Path(__file__).resolve().parent.parent


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


def _problems(db_url: str, kept: list[runs.KeptHead] | None = None) -> list[str]:
    engine = create_engine(db_url)
    with engine.connect() as connection:
        _, problems = runs.verify_chain(connection, kept or [])
    engine.dispose()
    return [problem.message for problem in problems]


def _receipt(db_url: str, run_id: int) -> runs.Receipt:
    engine = create_engine(db_url)
    with engine.connect() as connection:
        row = runs.load_run(connection, run_id)
    engine.dispose()
    return runs.Receipt(row.id, row.created_at, row.tool_version, row.rulebook_digest,
                        row.data_digest, row.period_start, row.period_end, row.as_of, {}, row.hash)  # fmt: skip


def _check_once(db_url: str, year: int = 2025) -> None:
    rulebook, _ = require_rules()
    engine = create_engine(db_url)
    with engine.begin() as connection:
        run_check(connection, rulebook, Period.year(year), Options(), None)
    engine.dispose()


def test_a_kept_head_detects_the_deleted_last_run_even_after_a_new_run(
    db_url: str, tmp_path: Path
) -> None:
    _checked(db_url, tmp_path)
    kept = runs.KeptHead(_receipt(db_url, 2).hash, "--tete")
    assert _problems(db_url, [kept]) == []
    engine = create_engine(db_url)
    with engine.begin() as connection:
        # The last run deleted and the stored head moved back: the database alone is coherent.
        connection.execute(delete(models.Run).where(models.Run.id == 2))
        first = connection.execute(select(models.Run.hash).where(models.Run.id == 1)).scalar()
        connection.execute(
            update(models.Meta).where(models.Meta.cle == runs._HEAD).values(valeur=first)
        )
    engine.dispose()
    assert _problems(db_url) == []
    assert any(
        "conservée dans --tete n'est plus dans la chaîne" in p for p in _problems(db_url, [kept])
    )
    # A new run n° 2 takes the deleted one's place. Another year: the same check in the same
    # second would write the very receipt that was deleted (receipts are dated to the second),
    # which hides nothing.
    _check_once(db_url, 2024)
    assert _problems(db_url) == []
    assert any("n'est plus dans la chaîne" in p for p in _problems(db_url, [kept]))


def test_the_heads_file_detects_every_run_deleted(db_url: str, tmp_path: Path) -> None:
    _checked(db_url, tmp_path)
    heads = tmp_path / "mixite.tetes"
    label = runs.database_label(db_url)
    for run_id in (1, 2):
        runs.append_head(heads, _receipt(db_url, run_id), label)
    runs.append_head(heads, _receipt(db_url, 1), "sqlite:une-autre-base.db")  # ignored
    assert _problems(db_url, runs.read_heads(heads, label)) == []
    engine = create_engine(db_url)
    with engine.begin() as connection:
        connection.execute(delete(models.Run))
        connection.execute(delete(models.Meta).where(models.Meta.cle == runs._HEAD))
    engine.dispose()
    assert _problems(db_url) == []  # nothing left in the database to contradict
    found = _problems(db_url, runs.read_heads(heads, label))
    assert len(found) == 2 and f"{heads}:1" in found[0] and f"{heads}:2" in found[1]


def test_a_heads_file_line_that_cannot_be_read_is_located(tmp_path: Path) -> None:
    heads = tmp_path / "mixite.tetes"
    heads.write_text("1\t" + "a" * 64 + "\n2\tpas-une-empreinte\n", encoding="utf-8")
    with pytest.raises(MixiteError) as refused:
        runs.read_heads(heads, "sqlite:mixite.db")
    assert refused.value.message == f"{heads}:2:1 : ligne illisible dans le fichier des têtes."


def test_data_edited_after_a_run_is_told_apart_from_a_new_import(
    db_url: str, tmp_path: Path
) -> None:
    _checked(db_url, tmp_path)
    assert _problems(db_url) == []
    engine = create_engine(db_url)
    with engine.begin() as connection:
        connection.execute(
            update(models.Attribution).values(nb_titulaires=models.Attribution.nb_titulaires + 1)
        )
    engine.dispose()
    assert _problems(db_url) == [
        "données modifiées depuis l'exécution n° 2 sans nouvel import (les tables ont été "
        "changées directement dans la base)"
    ]
    _check_once(db_url)  # a run over the edited data: the edit stays visible between runs
    assert _problems(db_url) == [
        "données modifiées entre les exécutions n° 2 et n° 3 sans nouvel import (les tables ont "
        "été changées directement dans la base)"
    ]


def test_the_rules_digest_does_not_depend_on_the_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from checker.paths import rules_dir

    copy = tmp_path / "ailleurs" / "regles"
    shutil.copytree(rules_dir(), copy)
    digests = set()
    for folder in (ROOT, tmp_path, copy):
        monkeypatch.chdir(folder)
        digests.add(require_rules([copy])[0].digest)
        digests.add(require_rules([rules_dir()])[0].digest)
    assert len(digests) == 1
    (copy / "national" / "tests").mkdir(exist_ok=True)
    first = next(copy.rglob("*.regles"))
    first.write_text(first.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    assert require_rules([copy])[0].digest not in digests


def test_the_content_digest_covers_every_data_table_and_no_other() -> None:
    tables = set(runs.data_tables())
    assert {"attribution", "logement", "caleol_examen", "bail", "residence", "relogement",
            "occupation", "import_batch"} <= tables  # fmt: skip
    assert not tables & {"run", "mixite_meta", "utilisateur", "journal_acces", "publication"}
    assert tables | runs.NOT_DATA == set(models.Base.metadata.tables)


def test_the_content_digest_sees_one_value_changed_in_any_data_table(
    db_url: str, tmp_path: Path
) -> None:
    """Computed in the server (PostgreSQL) or from the raw bytes (SQLite): one value changed
    anywhere changes it, a NULL is told apart from an empty text, and putting the value back
    gives the same digest again."""
    import_bundle([bundles.write_bundle(tmp_path / "lot", DWELLINGS, ATTRIBUTIONS)], db_url)
    engine = create_engine(db_url)
    edits = [
        ("UPDATE attribution SET nb_titulaires = nb_titulaires + 1",
         "UPDATE attribution SET nb_titulaires = nb_titulaires - 1"),
        ("UPDATE logement SET nb_pieces = 7", None),
        ("UPDATE bailleur SET nom = nom || 'x'",
         "UPDATE bailleur SET nom = substr(nom, 1, length(nom) - 1)"),
        # The test dwellings name no residence: NULL becomes an empty text.
        ("UPDATE logement SET residence_id = ''",
         "UPDATE logement SET residence_id = NULL"),
    ]  # fmt: skip
    with engine.connect() as connection:
        seen = {runs.content_digest(connection)}
        for edit, undo in edits:
            connection.execute(text(edit))
            digest = runs.content_digest(connection)
            assert digest not in seen, edit
            seen.add(digest)
            if undo is not None:
                connection.execute(text(undo))
                assert runs.content_digest(connection) in seen - {digest}, undo
        connection.rollback()
    engine.dispose()


def test_a_content_digest_thread_that_fails_gives_way_to_the_check_s_own_connection(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The digest read beside the evaluation on a second connection is an optimisation: when
    that connection cannot be had, the receipt gets the same digest, read on the check's own."""
    import sqlite3

    from checker import content_digest

    def refused(*_: object) -> str:
        raise sqlite3.OperationalError("unable to open database file")

    monkeypatch.setattr(content_digest, "_sqlite_file_digest", refused)
    monkeypatch.setattr(content_digest, "_server_process_digest", refused)
    _checked(db_url, tmp_path, years=(2024,))
    engine = create_engine(db_url)
    with engine.connect() as connection:
        stored = connection.execute(select(models.Run.content_digest)).scalar_one()
        assert stored == runs.content_digest(connection)
    engine.dispose()
    assert _problems(db_url) == []


def test_the_digest_read_by_a_process_of_its_own_is_the_in_place_digest(
    db_url: str, tmp_path: Path
) -> None:
    """Both databases' digests are read beside the evaluation by a script of their own (no
    shared Python lock): the same bytes as the digest read on the check's connection; a base
    that cannot be read is refused with the driver's own words, so that the check reads it in
    place."""
    from checker import content_digest

    def by_process(url: str) -> str:
        if url.startswith("sqlite"):
            return content_digest._sqlite_file_digest(Path(make_url(url).database or ""))
        return content_digest._server_process_digest(create_engine(url))

    import_bundle([bundles.write_bundle(tmp_path / "lot", DWELLINGS, ATTRIBUTIONS)], db_url)
    engine = create_engine(db_url)
    with engine.connect() as connection:
        in_place = runs.content_digest(connection)
        assert by_process(db_url) == in_place
        assert content_digest.start(connection)() == in_place
        connection.execute(text("UPDATE attribution SET nb_titulaires = nb_titulaires + 1"))
        connection.commit()
        assert by_process(db_url) == runs.content_digest(connection)
        assert by_process(db_url) != in_place
    engine.dispose()
    if db_url.startswith("sqlite"):
        absent, refusal = f"sqlite:///{tmp_path / 'absente.db'}", "unable to open database file"
    else:
        absent = make_url(db_url).set(database="mixite_base_absente").render_as_string(False)
        refusal = "mixite_base_absente"
    with pytest.raises(RuntimeError, match=refusal):
        by_process(absent)


@pytest.mark.postgres
def test_the_postgresql_digest_does_not_depend_on_the_session_s_output_settings(
    pg_url: str, tmp_path: Path
) -> None:
    """COPY writes dates, times and numbers as the session's settings say: the digest pins
    them while it reads, so that a client with other settings (a DBA's psql, a French
    DateStyle, another time zone) reads the same digest, and gets its own settings back."""
    import_bundle([bundles.write_bundle(tmp_path / "lot", DWELLINGS, ATTRIBUTIONS)], pg_url)
    engine = create_engine(pg_url)
    with engine.connect() as connection:
        usual = runs.content_digest(connection)
        connection.execute(text("SET DateStyle = 'SQL, DMY'"))
        connection.execute(text("SET TimeZone = 'Pacific/Kiritimati'"))
        connection.execute(text("SET extra_float_digits = -3"))
        assert runs.content_digest(connection) == usual
        assert connection.execute(text("SHOW DateStyle")).scalar_one() == "SQL, DMY"
        assert connection.execute(text("SHOW TimeZone")).scalar_one() == "Pacific/Kiritimati"
        # The settings matter: without the pinning, the text of a date differs.
        assert connection.execute(text("SELECT DATE '2024-03-01'::text")).scalar_one() == (
            "01/03/2024"
        )
    engine.dispose()


@pytest.mark.postgres
def test_the_digest_process_reads_copy_from_libpq_and_reports_a_failure(pg_url: str) -> None:
    """The digest's own process reads COPY's rows from libpq directly: the same rows as
    psycopg's `Copy`, and a COPY that fails before its first row or in the middle of its rows
    raises the server's words, with the connection left usable."""
    import psycopg

    from checker import postgresql_digest

    statement = "COPY (SELECT g, 'x' || g, NULL FROM generate_series(1, 5) g) TO STDOUT"
    conninfo = make_url(pg_url).set(drivername="postgresql").render_as_string(False)
    with psycopg.connect(conninfo) as raw:
        through_copy: list[bytes] = []
        from_libpq: list[bytes] = []
        postgresql_digest._feed_from_copy(raw, statement, through_copy.append)
        postgresql_digest._feed_from_libpq(
            raw, statement, lambda row: from_libpq.append(bytes(row))
        )
        assert from_libpq == through_copy and len(from_libpq) == 5
        failing = [
            ("COPY (SELECT * FROM table_absente) TO STDOUT", "table_absente"),
            ("COPY (SELECT 1 / (g - 3) FROM generate_series(1, 5) g) TO STDOUT", "division"),
        ]
        for failing_statement, words in failing:
            rows: list[bytes] = []
            with pytest.raises(psycopg.OperationalError, match=words):
                postgresql_digest._feed_from_libpq(raw, failing_statement, rows.append)
            raw.rollback()
            assert raw.execute("SELECT 41 + 1").fetchone() == (42,)


def test_an_import_committed_while_a_check_reads_is_never_half_seen(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An import commits while a check evaluates, before its content digest is read. On
    PostgreSQL the check reads one snapshot, which the digest's own process joins: the run is
    recorded with the results, digest and imports of the data from before the import. On
    SQLite every statement reads the latest data: the check refuses to record the run."""
    from checker import checking, content_digest
    from checker.checking import ImportDuringCheck, check_transaction
    from tests.bundles import household
    from tests.test_evaluate import BAILLEUR_A

    import_bundle([bundles.write_bundle(tmp_path / "lot", DWELLINGS, ATTRIBUTIONS)], db_url)
    rulebook, _ = require_rules()
    engine = create_engine(db_url)
    with engine.connect() as connection:
        before = runs.canonical(results_block(
            evaluate(connection, rulebook, Period.year(2024), Options(), None)))  # fmt: skip
        content_before = runs.content_digest(connection)
        imports_before = runs.data_digest(connection)
    later = bundles.write_bundle(tmp_path / "lot2", DWELLINGS, [
        *ATTRIBUTIONS, household(9, BAILLEUR_A, "L1", "20/03/2024", "100")])  # fmt: skip
    name = "_sqlite_file_digest" if db_url.startswith("sqlite") else "_server_process_digest"
    digest_alone = getattr(content_digest, name)

    def import_then_digest(*arguments: object) -> str:
        import_bundle([later], db_url)  # committed before the digest's process reads
        return str(digest_alone(*arguments))

    monkeypatch.setattr(content_digest, name, import_then_digest)
    if db_url.startswith("sqlite"):
        with (
            pytest.raises(ImportDuringCheck, match="pendant le contrôle"),
            check_transaction(engine) as connection,
        ):
            checking.run_check(connection, rulebook, Period.year(2024), Options(), None)
    else:
        with check_transaction(engine) as connection:
            checking.run_check(connection, rulebook, Period.year(2024), Options(), None)
    with engine.connect() as connection:
        stored = runs.load_run(connection, 1)
        assert runs.data_digest(connection) != imports_before  # the import did land
        assert runs.content_digest(connection) != content_before
    engine.dispose()
    if db_url.startswith("sqlite"):
        assert stored is None  # nothing recorded
    else:
        assert stored is not None
        assert stored.results == before
        assert stored.content_digest == content_before
        assert stored.data_digest == imports_before


def test_two_checks_at_once_both_record_their_run_one_after_the_other(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two whole checks started together (two users): neither fails; the second waits for
    the first's receipt and links to it, and the chain verifies."""
    from concurrent.futures import ThreadPoolExecutor

    from checker.checking import check_transaction

    import_bundle([bundles.write_bundle(tmp_path / "lot", DWELLINGS, ATTRIBUTIONS)], db_url)
    rulebook, _ = require_rules()
    sqlite = db_url.startswith("sqlite")
    engine = create_engine(db_url, connect_args={"timeout": 60} if sqlite else {})
    # Both reach their receipt together (SQLite). On PostgreSQL the second check waits for the
    # run chain's lock from its start: the first goes on alone after a moment.
    together = threading.Barrier(2)
    record_run = runs.record_run

    def record_together(*arguments: Any, **named: Any) -> runs.Receipt:
        with contextlib.suppress(threading.BrokenBarrierError):
            together.wait(timeout=2)
        return record_run(*arguments, **named)

    monkeypatch.setattr(runs, "record_run", record_together)

    def check(year: int) -> int:
        with check_transaction(engine) as connection:
            outcome = run_check(connection, rulebook, Period.year(year), Options(), None)
        return outcome.receipt.run_id

    with ThreadPoolExecutor(2) as pool:
        numbers = sorted(pool.map(check, (2024, 2025)))
    with engine.connect() as connection:
        checked, problems = runs.verify_chain(connection)
    engine.dispose()
    assert numbers == [1, 2]
    assert (checked, problems) == (2, [])
