"""The cache of checked rulebooks: a command reads it instead of checking the rules again, and
what it reads behaves exactly as a fresh load; any change of what the rules depend on is seen."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sqlalchemy import create_engine, event

from checker import rulebook_cache
from checker.evaluate.run import Evaluator, Period
from checker.ingest.importer import import_bundle
from checker.paths import rules_dir
from checker.rulebook_loader import load_rules

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "fixtures" / "demo"


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("MIXITE_CACHE", raising=False)
    return tmp_path / "cache" / "mixite" / "regles"


def _entries(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.pickle")) if folder.exists() else []


def _statements(rulebook: object, url: str, years: tuple[int, ...]) -> list[str]:
    engine = create_engine(url)
    captured: list[str] = []

    def record(
        _conn: object, _cursor: object, statement: str, parameters: object, *_: object
    ) -> None:
        captured.append(f"{statement} -- {parameters!r}")

    event.listen(engine, "before_cursor_execute", record)
    try:
        for year in years:
            with engine.connect() as connection:
                evaluator = Evaluator(connection, rulebook, Period.year(year))  # type: ignore[arg-type]
                for rule_id in sorted(rulebook.rules):  # type: ignore[attr-defined]
                    captured.append(
                        repr(
                            [(r.status, r.scope) for r in evaluator.evaluate_rule_results(rule_id)]
                        )
                    )
    finally:
        engine.dispose()
    return captured


def test_a_cached_rulebook_sends_the_same_sql_and_finds_the_same_results(
    cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    paths = [rules_dir(), DEMO / "cia.regles"]
    monkeypatch.setenv("MIXITE_CACHE", "0")
    fresh = load_rules(paths)
    assert _entries(cache) == []
    monkeypatch.delenv("MIXITE_CACHE")
    load_rules(paths)  # checks the rules and writes the entry
    assert len(_entries(cache)) == 1
    cached = load_rules(paths)
    assert cached.rulebook is not fresh.rulebook and cached.paths == paths
    assert cached.diagnostics == fresh.diagnostics
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    import_bundle([DEMO], url)
    years = (2018, 2025)  # a version before ELAN and the current ones
    assert _statements(cached.rulebook, url, years) == _statements(fresh.rulebook, url, years)


def test_an_edited_rule_file_is_checked_again(cache: Path, tmp_path: Path) -> None:
    rules = tmp_path / "regles"
    shutil.copytree(rules_dir(), rules)
    first = load_rules([rules])
    assert first.rulebook is not None
    target = next(rules.rglob("*.regles"))
    target.write_text(
        target.read_text(encoding="utf-8") + "\nceci n'est pas une règle\n", encoding="utf-8"
    )
    again = load_rules([rules])
    assert again.rulebook is None
    assert any(d.is_error for d in again.diagnostics)


def test_a_changed_data_table_outside_the_rule_folder_is_seen(cache: Path, tmp_path: Path) -> None:
    table = tmp_path / "donnees" / "taux.csv"
    table.parent.mkdir()
    table.write_text(
        "en_vigueur_du,en_vigueur_au,valeur,source_titre,source_url\n2024-01-01,,250,Convention,https://example.org\n",
        encoding="utf-8",
    )
    rules = tmp_path / "regles"
    rules.mkdir()
    (rules / "local.regles").write_text(
        "paramètre taux_local : montant\n"
        '  titre "Taux local"\n'
        '  source "Convention intercommunale d\'attribution" article "1"\n'
        '  table "../donnees/taux.csv" valeur valeur\n',
        encoding="utf-8",
    )
    first = load_rules([rules])
    assert first.rulebook is not None, [d.message for d in first.diagnostics]
    value = first.rulebook.parameters["taux_local"].values[0].value
    table.write_text(
        "en_vigueur_du,en_vigueur_au,valeur,source_titre,source_url\n2024-01-01,,300,Convention,https://example.org\n",
        encoding="utf-8",
    )
    second = load_rules([rules])
    assert second.rulebook is not None
    assert second.rulebook.parameters["taux_local"].values[0].value != value


def test_an_unreadable_entry_is_ignored_and_rebuilt(cache: Path) -> None:
    load_rules()
    (entry,) = _entries(cache)
    entry.write_bytes(b"not a pickle")
    loaded = load_rules()
    assert loaded.rulebook is not None
    assert entry.read_bytes() != b"not a pickle"


def test_the_national_rulebook_is_cacheable_whole() -> None:
    loaded = load_rules()
    assert rulebook_cache._entry(loaded) is not None  # every annotated node is reachable
