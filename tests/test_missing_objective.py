"""A rule whose target the CIA must set (essential workers), judged without one: the convention
failed, not the attributions (issue #13, point 8). Its wording differs from a missed objective."""

from __future__ import annotations

from checker.evaluate.results import MISSING_OBJECTIVE, Result, objective_missing
from checker.report import present

RULE = "L441-1.TRAVAILLEURS-ESSENTIELS"
UNIT = ("attribution", "attributions")


def test_a_convention_without_its_objective_is_worded_as_such() -> None:
    result = Result(RULE, "2022-02-23", {"epci": "910000009"}, "non_conforme", 1, 3, 0.333,
                    None, None, target_source=None, message=MISSING_OBJECTIVE)  # fmt: skip
    assert objective_missing(result.status, result.target, result.target_source, result.denominator)
    assert present.target_text(result, "min") == "à fixer par la CIA"
    assert present.gap_phrase(result, "min", UNIT) == "convention sans l'objectif requis"
    assert "convention incomplète" in result.message
    assert "ce ne sont pas les attributions" in result.message


def test_a_missed_objective_keeps_its_shortfall() -> None:
    result = Result(RULE, "2022-02-23", {"epci": "910000009"}, "non_conforme", 1, 30, 0.033,
                    0.07, 2, target_source="CIA-VAL-DE-LIZE-2022")  # fmt: skip
    assert not objective_missing(
        result.status, result.target, result.target_source, result.denominator
    )
    assert present.gap_phrase(result, "min", UNIT) == "manque 2 attributions"
    assert present.target_text(result, "min") == "≥ 7 % (CIA)"
