"""The TextMate grammar of the rule language (syntax colouring in VS Code and other editors),
generated from the language's own grammar (`grammar.lark`): keywords, identifiers, dates,
numbers, strings and operators come from its terminals, so the colouring cannot drift from
the parser.

    python -m dsl.textmate            # print it
    python -m dsl.textmate --write    # write editors/vscode/syntaxes/mixite.tmLanguage.json

A test checks that the file in the repository is what this module generates.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

from dsl.parser import _lark

TARGET = Path(__file__).resolve().parents[1] / "editors/vscode/syntaxes/mixite.tmLanguage.json"
SCOPE = "source.mixite"
_DECLARATIONS = ("PARAMETRE", "DEFINITION", "REGLE", "ENGAGEMENT")
_CONSTANTS = ("VRAI", "FAUX")
# A keyword is a whole word: no letter, digit or apostrophe on either side (`l'objectif`).
_BEFORE, _AFTER = r"(?<![\w'’])", r"(?![\w'’])"


def _terminals() -> dict[str, tuple[str, int, frozenset[str]]]:
    found = {}
    for terminal in _lark().terminals:
        pattern = terminal.pattern
        regex = pattern.value if pattern.type == "re" else re.escape(pattern.value)
        found[terminal.name] = (regex, terminal.priority, frozenset(pattern.flags))
    return found


def _bare(regex: str) -> str:
    """A keyword's pattern without its trailing word boundary (replaced by a look-ahead)."""
    return regex.removesuffix(r"\b")


def _alternatives(names: list[str], terminals: dict[str, tuple[str, int, frozenset[str]]]) -> str:
    # Longest first, so that `sinon` is not read as `si`.
    patterns = sorted((_bare(terminals[name][0]) for name in names), key=len, reverse=True)
    return "(?i)" + _BEFORE + "(?:" + "|".join(patterns) + ")" + _AFTER


def grammar() -> dict[str, Any]:
    terminals = _terminals()
    keywords = sorted(
        name
        for name, (_, priority, _flags) in terminals.items()
        if priority == 3 and name not in _DECLARATIONS and name not in _CONSTANTS
    )
    patterns: list[dict[str, Any]] = [
        {"name": "comment.line.number-sign.mixite", "match": terminals["COMMENT"][0]},
        {"name": "string.quoted.double.mixite", "match": terminals["STRING"][0]},
        {
            "name": "storage.type.declaration.mixite",
            "match": _alternatives(list(_DECLARATIONS), terminals),
        },
        {
            "name": "constant.language.boolean.mixite",
            "match": _alternatives(list(_CONSTANTS), terminals),
        },
        {"name": "keyword.other.mixite", "match": _alternatives(keywords, terminals)},
        {"name": "entity.name.tag.rule-id.mixite", "match": terminals["RULE_ID"][0] + r"(?![\w.])"},
        {"name": "constant.numeric.date.mixite", "match": terminals["DATE"][0]},
        {"name": "constant.numeric.mixite", "match": terminals["NUMBER"][0] + r"\s*[%€]?"},
        {"name": "keyword.operator.mixite", "match": r"<=|>=|!=|[≠≤≥<>=+\-*×/]"},
        {"name": "entity.name.function.mixite", "match": r"[^\W\d]\w*(?=\s*\()"},
        {"name": "variable.other.constant.parameter.mixite", "match": r"[^\W\d]\w*(?=\s*\[)"},
    ]
    return {
        "$schema": "https://raw.githubusercontent.com/martinring/tmlanguage/master/tmlanguage.json",
        "name": "mixite",
        "scopeName": SCOPE,
        "fileTypes": ["regles"],
        "comment": "Généré par python -m dsl.textmate à partir de dsl/grammar.lark : ne pas modifier à la main.",
        "patterns": patterns,
    }


def text() -> str:
    return json.dumps(grammar(), ensure_ascii=False, indent=2) + "\n"


def main(argv: list[str]) -> int:
    if argv == ["--write"]:
        TARGET.parent.mkdir(parents=True, exist_ok=True)
        TARGET.write_text(text(), encoding="utf-8")
        return 0
    sys.stdout.write(text())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
