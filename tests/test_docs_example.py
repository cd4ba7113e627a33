"""The tutorial's example rule (docs/regles/exemple/) checks clean with the bundled rules and
passes its own tests, so the tutorial cannot silently go stale."""

from __future__ import annotations

from pathlib import Path

import pytest

from checker.paths import rules_dir
from checker.rule_tests import load_documents, run_case
from checker.rulebook_loader import load_rules

EXAMPLE = Path(__file__).resolve().parent.parent / "docs" / "regles" / "exemple"
CASES = [
    pytest.param(file, document, case, id=case["nom"])
    for file, document in load_documents([EXAMPLE])
    for case in document["cas"]
]


def test_the_tutorial_rule_checks_clean() -> None:
    loaded = load_rules([rules_dir(), EXAMPLE])
    assert loaded.rulebook is not None
    assert [d.render() for d in loaded.diagnostics] == []
    assert "EXEMPLE.MUTATIONS" in loaded.rulebook.rules


@pytest.mark.parametrize(("file", "document", "case"), CASES)
def test_the_tutorial_rule_passes_its_tests(
    file: str, document: dict[str, object], case: dict[str, object]
) -> None:
    loaded = load_rules([rules_dir(), EXAMPLE])
    assert loaded.rulebook is not None
    assert run_case(loaded.rulebook, document, case, file).failures == []  # type: ignore[arg-type]
