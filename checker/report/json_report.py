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
    """`dumps(document(results, receipt))`, the same text."""
    return "".join(document_pieces(results, receipt))


def document_pieces(results: list[Result], receipt: dict[str, Any]) -> Iterator[str]:
    """The text of `document_text`, a result at a time: written to a file as it comes, a
    report is never held whole (9 MB at 1 000 000 attributions)."""
    yield _open("schema_version", 0, first=True) + _value(SCHEMA_VERSION, 1)
    yield _open("receipt", 0) + _value(receipt, 1)
    yield _open("results", 0)
    yield from _array(result_documents(results), 1)
    yield "\n}\n"


def years_document_text(runs: list[Any]) -> str:
    """`dumps(years_document(runs))`, the same text."""
    return "".join(years_document_pieces(runs))


def years_document_pieces(runs: list[Any]) -> Iterator[str]:
    """The text of `years_document_text`, a result at a time."""
    yield _open("schema_version", 0, first=True) + _value(SCHEMA_VERSION, 1)
    yield _open("years", 0) + ("[" if runs else "[]")
    for index, run in enumerate(runs):
        yield ("" if index == 0 else ",") + "\n    "
        yield _open("year", 2, first=True) + _value(run.year, 3)
        yield _open("receipt", 2) + _value(run.receipt, 3)
        yield _open("results", 2)
        yield from _array(result_documents(run.results), 3)
        yield "\n    }"
    yield "\n  ]\n}\n" if runs else "\n}\n"


# The pieces of what `json.dumps(indent=2)` writes, one result at a time. A value nested `level`
# deep is written alone, every new line indented by two spaces per level: a JSON text has no
# raw line break inside a string.
def _value(value: Any, level: int) -> str:
    return json.dumps(value, ensure_ascii=False, indent=2).replace("\n", "\n" + "  " * level)


def _open(key: str, level: int, first: bool = False) -> str:
    """A member of an object nested `level` deep, up to its value."""
    indent = "\n" + "  " * (level + 1)
    return ("{" if first else ",") + indent + json.dumps(key, ensure_ascii=False) + ": "


def _array(items: Iterable[Any], level: int) -> Iterator[str]:
    inside = "\n" + "  " * (level + 1)
    empty = True
    for item in items:
        yield ("[" if empty else ",") + inside + _value(item, level + 1)
        empty = False
    yield "[]" if empty else "\n" + "  " * level + "]"
