"""The cache of the rule tests' imported cases: a case run again reads its imported database (or
its refusal) instead of importing its bundle, with the same outcome; other data, other code or
`MIXITE_CACHE=0` import again."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from checker import rule_test_cache
from checker.paths import rules_dir
from checker.rule_tests import load_documents, run_case
from checker.rulebook_loader import require_rules

RULE = "R441-3.CALEOL-TROIS-CANDIDATS"


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("MIXITE_CACHE", raising=False)
    return tmp_path / "cache" / "mixite" / "cas"


def _case() -> tuple[str, dict[str, Any], dict[str, Any]]:
    file, document = next((f, d) for f, d in load_documents([rules_dir()]) if d["regle"] == RULE)
    return file, document, document["cas"][0]


def _imports(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Records the bundles the rule tests import."""
    from checker.ingest import importer

    seen: list[Path] = []
    real = importer.import_bundle

    def counted(paths: list[Path], url: str) -> object:
        seen.extend(paths)
        return real(paths, url)

    monkeypatch.setattr(importer, "import_bundle", counted)
    return seen


def test_a_case_run_again_reads_its_import_from_the_cache(
    cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rulebook = require_rules()[0]
    file, document, case = _case()
    imported = _imports(monkeypatch)
    first = run_case(rulebook, document, case, file)
    assert first.ok, first.failures
    assert len(imported) == 1 and len(list(cache.glob("*.db.z"))) == 1
    again = run_case(rulebook, document, case, file)
    assert len(imported) == 1  # not imported again
    assert (again.name, again.failures) == (first.name, first.failures)
    # Other data: another entry.
    changed = copy.deepcopy(case)
    changed["caleol"] = changed["caleol"][:-1]
    run_case(rulebook, document, changed, file)
    assert len(imported) == 2 and len(list(cache.glob("*.db.z"))) == 2


def test_a_refused_case_is_refused_again_with_the_same_messages(
    cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rulebook = require_rules()[0]
    file, document, case = _case()
    broken = copy.deepcopy(case)
    broken["logements"][0]["financement"] = "PLUSS"
    imported = _imports(monkeypatch)
    first = run_case(rulebook, document, broken, file)
    assert first.failures and first.failures[0].startswith("données du cas refusées : ")
    again = run_case(rulebook, document, broken, file)
    assert len(imported) == 1 and again.failures == first.failures


def test_changed_code_or_no_cache_imports_again(
    cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rulebook = require_rules()[0]
    file, document, case = _case()
    imported = _imports(monkeypatch)
    run_case(rulebook, document, case, file)
    # mixite's code is part of the key (here: as if a source file had changed).
    monkeypatch.setattr(rule_test_cache, "_code_and_libraries", lambda: b"other code")
    run_case(rulebook, document, case, file)
    assert len(imported) == 2
    monkeypatch.setenv("MIXITE_CACHE", "0")
    run_case(rulebook, document, case, file)
    run_case(rulebook, document, case, file)
    assert len(imported) == 4


def test_an_unreadable_entry_is_imported_again(
    cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rulebook = require_rules()[0]
    file, document, case = _case()
    imported = _imports(monkeypatch)
    run_case(rulebook, document, case, file)
    (entry,) = cache.glob("*.db.z")
    entry.write_bytes(b"truncated")
    outcome = run_case(rulebook, document, case, file)
    assert outcome.ok, outcome.failures
    assert len(imported) == 2


def _revealing(case: dict[str, Any]) -> dict[str, Any]:
    """The case with expectations no result meets, so that its failures say what each scope
    obtained (« numerateur attendu -1, obtenu 3 »)."""
    revealing = copy.deepcopy(case)
    revealing["attendu"] = [{**expected, "numerateur": -1, "denominateur": -1}
                            for expected in case["attendu"]]  # fmt: skip
    return revealing


def test_cases_read_from_the_cache_run_on_one_in_memory_database_with_their_own_data(
    cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A case read from the cache runs on the process's in-memory database, replaced case after
    case: each case, in any order, obtains what it obtains on a database file of its own."""
    from checker import rule_tests

    rulebook = require_rules()[0]
    file, document, _ = _case()
    cases = [_revealing(case) for case in document["cas"]]

    def failures(order: list[dict[str, Any]]) -> dict[str, list[str]]:
        return {case["nom"]: run_case(rulebook, document, case, file).failures for case in order}

    on_files = failures(cases)  # fills the cache (imported on the scratch file)
    used: list[bool] = []
    real = rule_tests._memory_engine

    def counted(content: bytes) -> object:
        engine = real(content)
        used.append(engine is not None)
        return engine

    monkeypatch.setattr(rule_tests, "_memory_engine", counted)
    in_memory = failures(cases)
    backwards = failures(cases[::-1])
    assert used == [True] * 2 * len(cases)
    assert all(on_files.values())  # each says what its scopes obtained
    assert in_memory == on_files
    assert backwards == on_files
    # Without `deserialize` (SQLite built without it), the cases run on the scratch file.
    monkeypatch.setattr(rule_tests, "_memory_engine", lambda content: None)
    assert failures(cases) == on_files
