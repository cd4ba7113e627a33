"""The JSON report: `schema_version`, a `receipt` and the `results` list (docs: reference)."""

from __future__ import annotations

import json
from typing import Any

from checker.evaluate.results import Result

SCHEMA_VERSION = "1.0"


def results_block(results: list[Result]) -> list[dict[str, Any]]:
    return [result.as_json() for result in sorted(results, key=Result.sort_key)]


def document(results: list[Result], receipt: dict[str, Any]) -> dict[str, Any]:
    return {"schema_version": SCHEMA_VERSION, "receipt": receipt, "results": results_block(results)}


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, indent=2) + "\n"
