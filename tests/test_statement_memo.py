"""A count statement is kept per process under what it is built from (checker/evaluate/run.py,
`Evaluator._statement_key`): of the EPCI's fields, only those the rule names. Cases whose
territories differ elsewhere share it, with the outcomes they have on a statement of their own;
a field the rule names gives another statement."""

from __future__ import annotations

import copy
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine

from checker import runs
from checker.checking import evaluate
from checker.evaluate.run import Evaluator, Options, Period, statement_memo
from checker.ingest.importer import import_bundle
from checker.paths import rules_dir
from checker.report.json_report import results_block
from checker.rule_tests import DEFAULT_TERRITORY, load_documents, run_case
from checker.rulebook_loader import require_rules
from tests import bundles
from tests.test_evaluate import ATTRIBUTIONS, DWELLINGS

RULE = "L441-1.Q1-HORS-QPV"  # its threshold is read by the EPCI's arrêté (epci.siren_arrete)


def _first_case() -> tuple[str, dict[str, Any], dict[str, Any]]:
    file, document = next((f, d) for f, d in load_documents([rules_dir()]) if d["regle"] == RULE)
    case = next(c for c in document["cas"] if "territoire" not in c and "au" not in c)
    return file, document, case


def _in_territory(case: dict[str, Any], **epci: object) -> dict[str, Any]:
    territory = copy.deepcopy(DEFAULT_TERRITORY)
    territory["epci"].update(epci)
    return {**copy.deepcopy(case), "territoire": territory}


def _builds(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The EPCI names of the count statements built from now on."""
    built: list[str] = []
    real = Evaluator._count_statement

    def counted(self: Evaluator, *arguments: Any, **options: Any) -> Any:
        built.append(self.epcis[0]["nom"])
        return real(self, *arguments, **options)

    monkeypatch.setattr(Evaluator, "_count_statement", counted)
    return built


def test_territories_differing_in_a_field_the_rule_does_not_name_share_its_statement(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rulebook = require_rules()[0]  # its own statements: none built yet
    file, document, case = _first_case()
    built = _builds(monkeypatch)
    first = run_case(rulebook, document, _in_territory(case), file)
    renamed = run_case(rulebook, document, _in_territory(case, nom="Autre nom"), file)
    assert first.ok and renamed.ok, (first.failures, renamed.failures)
    assert built == ["Communauté de test"]  # the renamed territory's case built nothing
    # Its outcome on a statement of its own (another rulebook: nothing kept) is the same.
    alone = run_case(require_rules()[0], document, _in_territory(case, nom="Autre nom"), file)
    assert alone.failures == renamed.failures
    assert built == ["Communauté de test", "Autre nom"]
    # Another arrêté (a field the rule names): another statement.
    run_case(rulebook, document, _in_territory(case, nom="Arrêté", siren_arrete="200040715"), file)
    assert built[-1] == "Arrêté" and len(built) == 3


def test_a_statement_reading_a_field_its_key_does_not_name_is_not_kept(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Were the fields found by `_epci_fields_named` to miss one the statement reads, the
    statement would not be kept (a territory with another value must not get it)."""
    rulebook = require_rules()[0]
    file, document, case = _first_case()
    monkeypatch.setattr(Evaluator, "_epci_fields_named", lambda self, versions, latest: frozenset())
    built = _builds(monkeypatch)
    for _ in range(2):
        outcome = run_case(rulebook, document, _in_territory(case), file)
        assert outcome.ok, outcome.failures
    assert len(built) == 2


def test_threads_sharing_one_rulebook_get_the_results_of_an_evaluation_alone(
    db_url: str, tmp_path: Path
) -> None:
    """The web application evaluates in several threads with one rulebook, so its statements
    are built and reused by threads at once (`StatementMemo` takes a lock): each thread's
    results are those of an evaluation alone, with a rulebook of its own."""
    import_bundle([bundles.write_bundle(tmp_path / "lot", DWELLINGS, ATTRIBUTIONS)], db_url)
    engine = create_engine(db_url)
    years = [2024, 2025, 2024, 2025]
    alone: dict[int, str] = {}
    with engine.connect() as connection:
        for year in set(years):
            found = evaluate(connection, require_rules()[0], Period.year(year), Options(), None)
            alone[year] = runs.canonical(results_block(found))
    shared = require_rules()[0]  # no statement built from it yet: the threads build them
    start = threading.Barrier(len(years))

    def evaluated(year: int) -> str:
        with engine.connect() as connection:
            start.wait()
            found = evaluate(connection, shared, Period.year(year), Options(), None)
            return runs.canonical(results_block(found))

    with ThreadPoolExecutor(len(years)) as pool:
        together = list(pool.map(evaluated, years))
    engine.dispose()
    assert together == [alone[year] for year in years]
    assert len(statement_memo(shared)._items) > 0
