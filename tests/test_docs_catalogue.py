"""The rule catalogue says where a rule lives in the repository, also when the site is built
with mixite installed as a package (its rules read from site-packages)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "docs" / "hooks"))

import catalogue  # noqa: E402  # a documentation hook, importable from its folder


def test_a_rule_read_from_site_packages_is_named_by_its_path_in_the_repository(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    bundled = tmp_path / ".venv/lib/python3.11/site-packages/checker/_bundled/rules"
    monkeypatch.setattr("checker.paths.rules_dir", lambda: bundled)
    file = bundled / "national" / "q1_hors_qpv.regles"
    assert catalogue.in_repository(str(file)) == "rules/national/q1_hors_qpv.regles"
    table = bundled / "national" / "donnees" / "plafonds.csv"
    assert catalogue.in_repository(str(table)) == "rules/national/donnees/plafonds.csv"


def test_a_rule_of_the_checkout_keeps_its_path() -> None:
    assert catalogue.in_repository("rules/national/q1_hors_qpv.regles") == (
        "rules/national/q1_hors_qpv.regles"
    )
