"""A check's rules on several PostgreSQL connections (checker/evaluate/parallel.py): the same
results as one connection, read in the check's snapshot; one connection elsewhere."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, create_engine, text

from checker import runs
from checker.checking import check_transaction, run_check
from checker.errors import MixiteError
from checker.evaluate import parallel
from checker.evaluate.run import Evaluator, Options, Period
from checker.ingest.importer import import_bundle
from checker.report.json_report import results_block
from checker.rulebook_loader import require_rules
from tests import bundles
from tests.bundles import household
from tests.test_evaluate import ATTRIBUTIONS, BAILLEUR_A, DWELLINGS

DEMO = Path(__file__).resolve().parent.parent / "fixtures" / "demo"


def _spy_connections(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, int]]:
    """(connection, thread) of every rule evaluated from now on."""
    seen: list[tuple[int, int]] = []
    original = Evaluator.evaluate_rule

    def evaluate_rule(self: Evaluator, rule_id: str) -> list[Any]:
        seen.append((id(self.connection), threading.get_ident()))
        return original(self, rule_id)

    monkeypatch.setattr(Evaluator, "evaluate_rule", evaluate_rule)
    return seen


def _results(connection: Connection, year: int) -> str:
    rulebook, _ = require_rules()
    evaluator = Evaluator(connection, rulebook, Period.year(year), Options())
    return runs.canonical(results_block(parallel.evaluate(evaluator)))


@pytest.mark.postgres
def test_the_demo_gives_the_same_results_on_four_connections_as_on_one(
    pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import_bundle([DEMO], pg_url)
    engine = create_engine(pg_url)
    found: dict[str, str] = {}
    for connections in ("1", "4"):
        monkeypatch.setenv(parallel.CONNECTIONS_ENV, connections)
        seen = _spy_connections(monkeypatch)
        with check_transaction(engine) as connection:
            found[connections] = _results(connection, 2025)
        assert len({connection for connection, _ in seen}) == int(connections)
        monkeypatch.undo()
    engine.dispose()
    assert found["4"] == found["1"]


@pytest.mark.postgres
def test_every_connection_reads_the_checks_snapshot(
    pg_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An import committed after the check's snapshot was taken, before its rules are spread
    over connections: no connection sees it (one opened in a snapshot of its own would)."""
    import_bundle([bundles.write_bundle(tmp_path / "lot", DWELLINGS, ATTRIBUTIONS)], pg_url)
    engine = create_engine(pg_url)
    with engine.connect() as connection:
        before = _results(connection, 2024)
    later = bundles.write_bundle(tmp_path / "lot2", DWELLINGS, [
        *ATTRIBUTIONS, household(9, BAILLEUR_A, "L1", "20/03/2024", "100")])  # fmt: skip
    monkeypatch.setenv(parallel.CONNECTIONS_ENV, "3")
    seen = _spy_connections(monkeypatch)
    with check_transaction(engine) as connection:
        connection.exec_driver_sql("SELECT count(*) FROM attribution")  # the snapshot is taken
        import_bundle([later], pg_url)
        during = _results(connection, 2024)
    assert len({connection for connection, _ in seen}) == 3
    with engine.connect() as connection:
        after = _results(connection, 2024)
    engine.dispose()
    assert after != before  # the import did change the results
    assert during == before


@pytest.mark.postgres
def test_a_rule_that_fails_on_another_connection_fails_the_check_and_leaves_nothing_open(
    pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import_bundle([DEMO], pg_url)
    engine = create_engine(pg_url)
    monkeypatch.setenv(parallel.CONNECTIONS_ENV, "3")
    rulebook, _ = require_rules()
    failing = sorted(rulebook.rules)[-1]
    original = Evaluator.evaluate_rule

    def evaluate_rule(self: Evaluator, rule_id: str) -> list[Any]:
        if rule_id == failing:
            raise MixiteError("règle en échec pour le test", "")
        return original(self, rule_id)

    monkeypatch.setattr(Evaluator, "evaluate_rule", evaluate_rule)
    servers: set[int] = set()  # the server processes of the rules' extra connections
    original_beside = Evaluator.beside_in

    def beside_in(self: Evaluator, connection: Connection) -> Evaluator:
        servers.add(connection.exec_driver_sql("SELECT pg_backend_pid()").scalar_one())
        return original_beside(self, connection)

    monkeypatch.setattr(Evaluator, "beside_in", beside_in)
    with (
        pytest.raises(MixiteError, match="règle en échec"),
        check_transaction(engine) as connection,
    ):
        run_check(connection, rulebook, Period.year(2025), Options(), None)
    with engine.connect() as connection:
        assert runs.load_run(connection, 1) is None
        # Each back in the engine's pool with its transaction rolled back, or closed.
        states = connection.execute(text(
            "SELECT state FROM pg_stat_activity WHERE pid = ANY(:pids) "
            "AND pid <> pg_backend_pid()"),  # this one may be one of them, from the pool
            {"pids": sorted(servers)}).scalars().all()  # fmt: skip
    engine.dispose()
    assert len(servers) == 2
    assert set(states) <= {"idle"}


def test_sqlite_and_read_committed_read_on_the_callers_connection_alone(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import_bundle([DEMO], db_url)
    monkeypatch.setenv(parallel.CONNECTIONS_ENV, "4")
    seen = _spy_connections(monkeypatch)
    engine = create_engine(db_url)
    with engine.connect() as connection:  # READ COMMITTED on PostgreSQL: no common snapshot
        _results(connection, 2025)
        assert {connection for connection, _ in seen} == {id(connection)}
        assert {thread for _, thread in seen} == {threading.get_ident()}
    engine.dispose()


@pytest.mark.parametrize("setting", ["0", "deux", "-1", "1.5"])
def test_a_setting_that_is_not_a_number_of_connections_is_refused(
    setting: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(parallel.CONNECTIONS_ENV, setting)
    with pytest.raises(MixiteError, match="MIXITE_CONNEXIONS vaut"):
        parallel.connections_wanted()


def test_without_a_setting_a_check_reads_with_one_connection_per_core_but_one_up_to_four(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(parallel.CONNECTIONS_ENV, raising=False)
    for cores, connections in ((16, parallel.MAX_CONNECTIONS), (4, 3), (2, 1), (1, 1)):
        monkeypatch.setattr(parallel.os, "sched_getaffinity", lambda _, n=cores: set(range(n)))
        assert parallel.connections_wanted() == connections
    monkeypatch.setenv(parallel.CONNECTIONS_ENV, "7")
    assert parallel.connections_wanted() == 7


def test_every_population_of_the_language_names_the_table_it_is_read_from() -> None:
    """The largest tables' rules start first: a population added to the language must say
    which table it reads, or its rules would always start last."""
    from checker.db import models
    from checker.schema import schema

    assert set(parallel._ENTITY_TABLES) == set(schema().entities)
    assert set(parallel._ENTITY_TABLES.values()) <= set(models.Base.metadata.tables)


@pytest.mark.postgres
def test_connections_the_server_refuses_are_done_without(
    pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A server at its limit of clients refuses the extra connections: the check reads the
    rules on those it has (here its own), with the same results."""
    from sqlalchemy.engine import Engine
    from sqlalchemy.exc import OperationalError

    import_bundle([DEMO], pg_url)
    engine = create_engine(pg_url)
    with engine.connect() as connection:
        expected = _results(connection, 2025)
    monkeypatch.setenv(parallel.CONNECTIONS_ENV, "3")
    with check_transaction(engine) as connection:

        def refused(self: Engine) -> Connection:
            raise OperationalError("connect", {}, Exception("sorry, too many clients already"))

        monkeypatch.setattr(Engine, "connect", refused)
        seen = _spy_connections(monkeypatch)
        found = _results(connection, 2025)
        monkeypatch.undo()
    engine.dispose()
    assert {connection for connection, _ in seen} == {id(connection)}
    assert found == expected
