"""A check's rules evaluated on several PostgreSQL connections at once, all in its snapshot.

Rules are independent of one another: each is a few statements whose results only the report
brings together. PostgreSQL serves each connection with a process of its own, so while one
rule's statements run in the server, another connection can run the next rule's. Every extra
connection reads the snapshot of the check's own transaction (`pg_export_snapshot`, then
`SET TRANSACTION SNAPSHOT` first thing in a READ ONLY, REPEATABLE READ transaction): all of
them see exactly the data the check's connection sees, so the results are those of the
sequential evaluation, whatever is committed meanwhile.

Only under a transaction that reads in one snapshot (`checking.check_transaction`); a
connection under READ COMMITTED, or SQLite (whose connections cannot share a read
transaction), evaluates the rules one after the other on the caller's connection.
"""

from __future__ import annotations

import os
import queue
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from typing import TYPE_CHECKING

from sqlalchemy.exc import DBAPIError

from checker.errors import MixiteError

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from checker.evaluate.results import Result
    from checker.evaluate.run import Evaluator

CONNECTIONS_ENV = "MIXITE_CONNEXIONS"
# Above four, a check of the national rulebook gains nothing more: a few rules make most of
# its time (docs/dev/performance.md, « Rules on several connections »).
MAX_CONNECTIONS = 4


def connections_wanted() -> int:
    """How many connections a check may read with: MIXITE_CONNEXIONS, or one per core of this
    machine but one, at most MAX_CONNECTIONS. The content digest read beside the rules takes
    about a core (its process and its server process): on two cores, two connections made the
    whole check slower than one (docs/dev/performance.md, « Rules on several connections »)."""
    setting = os.environ.get(CONNECTIONS_ENV, "").strip()
    if not setting:
        return max(1, min(MAX_CONNECTIONS, len(os.sched_getaffinity(0)) - 1))
    if not setting.isdigit() or int(setting) < 1:
        raise MixiteError(
            f"{CONNECTIONS_ENV} vaut « {setting} » : un nombre entier d'au moins 1 est attendu.",
            f"Par exemple {CONNECTIONS_ENV}=1 pour lire les règles l'une après l'autre sur une "
            "seule connexion.",
        )
    return int(setting)


def evaluate(evaluator: Evaluator) -> list[Result]:
    """The evaluator's results, its rules spread over connections of the check's snapshot when
    its connection is PostgreSQL's in a one-snapshot transaction; otherwise `evaluate()`."""
    wanted = min(connections_wanted(), len(evaluator.rule_ids()))
    snapshot = _exported_snapshot(evaluator.connection) if wanted > 1 else None
    if snapshot is None:
        return evaluator.evaluate()
    with _evaluators_beside(evaluator, snapshot, wanted - 1) as evaluators:
        if len(evaluators) == 1:
            return evaluator.evaluate()
        idle: queue.SimpleQueue[Evaluator] = queue.SimpleQueue()
        for each in evaluators:
            idle.put(each)

        def rule_results(rule_id: str) -> list[Result]:
            # Each evaluator (each connection) serves one thread at a time.
            mine = idle.get()
            try:
                return mine.evaluate_rule(rule_id)
            finally:
                idle.put(mine)

        rule_ids = evaluator.rule_ids()
        with ThreadPoolExecutor(len(evaluators), thread_name_prefix="mixite-regles") as pool:
            started = {rule_id: pool.submit(rule_results, rule_id)
                       for rule_id in _largest_first(evaluator, rule_ids)}  # fmt: skip
            try:  # results, and the first failure, in rule order, as the sequential evaluation's
                per_rule = [started[rule_id].result() for rule_id in rule_ids]
            except BaseException:
                for future in started.values():  # cancel the rules not started yet
                    future.cancel()
                raise
    return evaluator.assemble(per_rule)


# The table each population of the rules' language is read from (checker/evaluate/base.py).
_ENTITY_TABLES = {
    "attributions": "attribution",
    "dossiers_caleol": "caleol_examen",
    "conventions_reservation": "convention_reservation",
    "baux": "bail",
    "residences": "residence",
    "occupations": "occupation",
    "relogements": "relogement",
    "epci": "epci",
}


def _largest_first(evaluator: Evaluator, rule_ids: list[str]) -> list[str]:
    """The rules over the largest tables first (PostgreSQL's estimate of their rows): the
    longest rule started last would finish alone (the CALEOL rule, over three examinations a
    dwelling, is a third of the national rulebook's time)."""
    rows: dict[str, float] = dict(evaluator.connection.exec_driver_sql(
        "SELECT relname, reltuples FROM pg_class WHERE relkind = 'r' AND relname = ANY(%(names)s)",
        {"names": sorted(set(_ENTITY_TABLES.values()))}).all())  # fmt: skip

    def size(rule_id: str) -> float:
        versions = evaluator.rulebook.versions_during(
            rule_id, evaluator.period.start, evaluator.period.end
        )
        population = versions[-1].population if versions else None
        table = _ENTITY_TABLES.get(population.entity) if population is not None else None
        return float(rows.get(table, 0.0)) if table is not None else 0.0

    return sorted(rule_ids, key=size, reverse=True)  # stable: rule order among equals


def _exported_snapshot(connection: Connection) -> str | None:
    if connection.dialect.name != "postgresql":
        return None
    from checker.content_digest import exported_snapshot

    return exported_snapshot(connection)


@contextmanager
def _evaluators_beside(
    evaluator: Evaluator, snapshot: str, extra: int
) -> Iterator[list[Evaluator]]:
    """`evaluator` and up to `extra` evaluators on connections of their own in `snapshot`,
    closed on the way out. A connection the server refuses (too many clients) is done
    without: the rules go to the connections opened."""
    found = [evaluator]
    with ExitStack() as stack:
        for _ in range(extra):
            try:
                connection = stack.enter_context(evaluator.connection.engine.connect())
                connection.execution_options(isolation_level="REPEATABLE READ",
                                             postgresql_readonly=True)  # fmt: skip
                stack.enter_context(connection.begin())
                connection.exec_driver_sql(f"SET TRANSACTION SNAPSHOT '{snapshot}'")
            except DBAPIError:
                break
            found.append(evaluator.beside_in(connection))
        yield found
