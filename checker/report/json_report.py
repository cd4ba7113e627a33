"""The JSON report: `schema_version`, a `receipt` and the `results` list (docs: reference)."""

from __future__ import annotations

import json
from typing import Any

from checker.evaluate.results import Result

# 1.1: a document may hold several years side by side (`years`);
# 1.2: each result says whether its target is a floor or a cap (`bound`).
# 1.3: the status `en_cours` and `cumulative` (multi-year objectives); `bound` and `kind` follow
# the CIA's objective when one judges the result.
# 1.4: `information` on the results of a level « pour information » (figures without verdict);
# a scope without `epci` for a level counted « sur l'ensemble des territoires ».
SCHEMA_VERSION = "1.4"


def results_block(results: list[Result]) -> list[dict[str, Any]]:
    return [result.as_json() for result in sorted(results, key=Result.sort_key)]


def document(results: list[Result], receipt: dict[str, Any]) -> dict[str, Any]:
    return {"schema_version": SCHEMA_VERSION, "receipt": receipt, "results": results_block(results)}


def years_document(runs: list[Any]) -> dict[str, Any]:
    """Several years side by side (`mixite check --year 2023 --year 2024 …`): one entry per
    year, oldest first, each with its own receipt and results."""
    return {
        "schema_version": SCHEMA_VERSION,
        "years": [
            {"year": run.year, "receipt": run.receipt, "results": results_block(run.results)}
            for run in runs
        ],
    }


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, indent=2) + "\n"
