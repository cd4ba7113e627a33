"""The JSON report: `schema_version`, a `receipt` and the `results` list (docs: reference)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
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
    return list(result_documents(results))


def result_documents(results: list[Result]) -> Iterator[dict[str, Any]]:
    """Each result's document, in the report's order, built when asked for: a caller that
    writes one at a time never holds them all (6 760 results at 1 000 000 attributions)."""
    for result in sorted(results, key=Result.sort_key):
        yield result.as_json()


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


def document_text(results: list[Result], receipt: dict[str, Any]) -> str:
    """`dumps(document(results, receipt))`, the same text, written one result at a time."""
    out: list[str] = []
    _open(out, "schema_version", 0, first=True)
    out.append(_value(SCHEMA_VERSION, 1))
    _open(out, "receipt", 0)
    out.append(_value(receipt, 1))
    _open(out, "results", 0)
    _array(out, result_documents(results), 1)
    out.append("\n}\n")
    return "".join(out)


def years_document_text(runs: list[Any]) -> str:
    """`dumps(years_document(runs))`, the same text, written one result at a time."""
    out: list[str] = []
    _open(out, "schema_version", 0, first=True)
    out.append(_value(SCHEMA_VERSION, 1))
    _open(out, "years", 0)
    out.append("[" if runs else "[]")
    for index, run in enumerate(runs):
        out.append(("" if index == 0 else ",") + "\n    ")
        _open(out, "year", 2, first=True)
        out.append(_value(run.year, 3))
        _open(out, "receipt", 2)
        out.append(_value(run.receipt, 3))
        _open(out, "results", 2)
        _array(out, result_documents(run.results), 3)
        out.append("\n    }")
    out.append("\n  ]\n}\n" if runs else "\n}\n")
    return "".join(out)


# The pieces of what `json.dumps(indent=2)` writes, appended to one list joined once (a report
# of 9 MB is then held twice at most, not once per level of nesting). A value nested `level`
# deep is written alone, every new line indented by two spaces per level: a JSON text has no
# raw line break inside a string.
def _value(value: Any, level: int) -> str:
    return json.dumps(value, ensure_ascii=False, indent=2).replace("\n", "\n" + "  " * level)


def _open(out: list[str], key: str, level: int, first: bool = False) -> None:
    """A member of an object nested `level` deep, up to its value."""
    out.append(("{" if first else ",") + "\n" + "  " * (level + 1))
    out.append(json.dumps(key, ensure_ascii=False) + ": ")


def _array(out: list[str], items: Iterable[Any], level: int) -> None:
    inside = "\n" + "  " * (level + 1)
    empty = True
    for item in items:
        out.append(("[" if empty else ",") + inside)
        out.append(_value(item, level + 1))
        empty = False
    out.append("[]" if empty else "\n" + "  " * level + "]")
