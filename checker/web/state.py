"""What the application keeps between requests: the engine, the rulebook (national rules plus
the latest CIA version of each territory), evaluated results, and the CSRF secret."""

from __future__ import annotations

import datetime as dt
import secrets
import threading
from collections import OrderedDict
from pathlib import Path

from sqlalchemy import Connection, Engine, insert, select

from checker import runs
from checker.checking import CheckOutcome, evaluate, run_check
from checker.db import models
from checker.db.engine import make_engine, require_schema
from checker.evaluate.explain import Explanation, explainer
from checker.evaluate.results import Result
from checker.evaluate.run import Options, Period
from checker.paths import rules_dir
from checker.territory_cia import latest_versions, load_with_cia
from checker.web.config import WebConfig
from dsl.rulebook import Rulebook

_SECRET_KEY = "secret_formulaires_web"
_CACHED_PERIODS = 32
_CACHED_EXPLANATIONS = 64


def latest_cia_versions(connection: Connection) -> list[tuple[str, int, str, str]]:
    """(EPCI, number, file name, text) of the newest version of each territory's CIA."""
    return [(v.epci, v.number, v.name, v.text) for v in latest_versions(connection)]


class AppState:
    def __init__(self, config: WebConfig) -> None:
        self.config = config
        self.engine: Engine = make_engine(config.db_url)
        require_schema(self.engine)
        self._lock = threading.Lock()
        self._rulebook: tuple[tuple[tuple[str, int], ...], Rulebook] | None = None
        self._results: dict[tuple[object, ...], list[Result]] = {}
        self._period_locks: dict[tuple[object, ...], threading.Lock] = {}
        self._explanations: OrderedDict[tuple[object, ...], Explanation] = OrderedDict()
        with self.engine.begin() as connection:
            self.secret = self._secret(connection)
            self.rulebook(connection)  # refuse to start on rules that do not load

    def _secret(self, connection: Connection) -> bytes:
        found = connection.scalar(select(models.Meta.valeur).where(models.Meta.cle == _SECRET_KEY))
        if found is None:
            found = secrets.token_hex(32)
            connection.execute(insert(models.Meta).values(cle=_SECRET_KEY, valeur=found))
        return found.encode()

    def base_paths(self) -> list[Path]:
        return list(self.config.rule_paths) or [rules_dir()]

    def rulebook(self, connection: Connection) -> Rulebook:
        """The rules in force for the web: reloaded when a new CIA version is stored."""
        versions = latest_cia_versions(connection)
        key = tuple((epci, number) for epci, number, _, _ in versions)
        with self._lock:
            if self._rulebook is not None and self._rulebook[0] == key:
                return self._rulebook[1]
            rulebook = load_with_cia(self.base_paths(), latest_versions(connection))
            self._rulebook = (key, rulebook)
            self._results.clear()
            return rulebook

    def results(self, connection: Connection, year: int, to_date: dt.date | None) -> list[Result]:
        """Every result of the period (all territories), as `mixite check` computes them; kept
        until the rules or the data change."""
        rulebook = self.rulebook(connection)
        key = (rulebook.digest, runs.data_digest(connection), year, to_date)
        with self._lock:
            found = self._results.get(key)
            lock = self._period_locks.setdefault(key, threading.Lock())
        if found is not None:
            return found
        with lock:  # one evaluation per period at a time; the others wait for its results
            with self._lock:
                found = self._results.get(key)
            if found is not None:
                return found
            computed = evaluate(
                connection, rulebook, Period.year(year, to_date), Options(), to_date
            )
            with self._lock:
                if len(self._results) >= _CACHED_PERIODS:
                    self._results.clear()
                    self._period_locks = {key: lock}
                self._results[key] = computed
            return computed

    def recorded_check(self, connection: Connection, year: int,
                       to_date: dt.date | None) -> CheckOutcome:  # fmt: skip
        """The period checked and recorded with its receipt, as `mixite check` does: the rules
        evaluated again beside the content digest, never results from the cache. The cache is
        kept by imports (`data_digest`), not by content: after a value changed in the database
        without an import, cached results would go into a receipt that attests the changed
        content. The fresh results then replace the cached ones."""
        rulebook = self.rulebook(connection)
        outcome = run_check(connection, rulebook, Period.year(year, to_date), Options(), to_date,
                            latest_versions(connection))  # fmt: skip
        key = (rulebook.digest, runs.data_digest(connection), year, to_date)
        with self._lock:
            if len(self._results) >= _CACHED_PERIODS:
                self._results.clear()
                self._period_locks = {}
            self._results[key] = outcome.results
        return outcome

    def records_page(self, connection: Connection, rule_id: str, year: int,
                     to_date: dt.date | None, scope: dict[str, str],
                     territories: tuple[str, ...] | None, first: int, size: int) -> Explanation:  # fmt: skip
        """A page of the records behind a result (`Explainer.page`), with the whole scope's
        counts; the most recent pages are kept until the rules or the data change. Only a
        page is kept, never the whole listing: at 100 000 attributions in one EPCI the whole
        listing of a rule held 60 MiB and took 4 s to compute, and every page turn showed
        all of it as text again (docs/dev/performance.md, « The web's records pages »)."""
        rulebook = self.rulebook(connection)
        key = (rulebook.digest, runs.data_digest(connection), rule_id, year, to_date,
               tuple(sorted(scope.items())), territories, first, size)  # fmt: skip
        with self._lock:
            found = self._explanations.get(key)
            if found is not None:
                self._explanations.move_to_end(key)
                return found
        computed = explainer(connection, rulebook, rule_id, Period.year(year, to_date), scope).page(
            rule_id, scope, first, size, territories
        )
        if first and first >= computed.counted:
            return computed  # past the end (the caller shows the last page): not kept
        with self._lock:
            self._explanations[key] = computed
            while len(self._explanations) > _CACHED_EXPLANATIONS:
                self._explanations.popitem(last=False)
        return computed
