"""The VS Code set-up: the TextMate grammar is the one generated from the language's grammar,
and it colours every keyword the parser knows."""

from __future__ import annotations

import json
import re
from pathlib import Path

from dsl import textmate
from dsl.parser import _KEYWORDS

EXTENSION = Path(__file__).resolve().parents[1] / "editors" / "vscode"


def test_the_textmate_grammar_is_up_to_date() -> None:
    written = (EXTENSION / "syntaxes" / "mixite.tmLanguage.json").read_text(encoding="utf-8")
    assert written == textmate.text(), "régénérez-la : python -m dsl.textmate --write"


def _pattern(scope: str) -> re.Pattern[str]:
    for entry in textmate.grammar()["patterns"]:
        if entry["name"] == scope:
            flags = re.IGNORECASE if entry["match"].startswith("(?i)") else 0
            return re.compile(entry["match"].removeprefix("(?i)"), flags)
    raise AssertionError(scope)


def test_every_keyword_is_coloured_and_names_are_not() -> None:
    keyword = _pattern("keyword.other.mixite")
    declaration = _pattern("storage.type.declaration.mixite")
    constant = _pattern("constant.language.boolean.mixite")
    for word in _KEYWORDS:
        for spelling in {word, word.upper(), word.replace("'", "’")}:
            coloured = (pattern.fullmatch(spelling) for pattern in (keyword, declaration, constant))
            assert any(coloured), spelling
    for name in ("bail_signe", "parmis", "sinon_x", "criteres_prioritaires"):
        assert not keyword.search(name), name
    # « l'objectif » is one keyword, not « objectif » after a letter and an apostrophe.
    assert keyword.search("l'objectif").group() == "l'objectif"  # type: ignore[union-attr]


def test_rule_ids_dates_and_comments() -> None:
    assert _pattern("entity.name.tag.rule-id.mixite").fullmatch("L441-1.Q1-HORS-QPV")
    assert _pattern("constant.numeric.date.mixite").fullmatch("31/12/2023")
    assert _pattern("comment.line.number-sign.mixite").fullmatch("# une note")


def test_the_extension_declares_the_language_and_the_server() -> None:
    manifest = json.loads((EXTENSION / "package.json").read_text(encoding="utf-8"))
    contributes = manifest["contributes"]
    assert contributes["languages"][0]["extensions"] == [".regles"]
    grammar = contributes["grammars"][0]
    assert grammar["scopeName"] == textmate.SCOPE
    assert (EXTENSION / grammar["path"]).is_file()
    assert contributes["configuration"]["properties"]["mixite.commande"]["default"] == [
        "mixite",
        "lsp",
    ]
    assert "mixite.commande" in (EXTENSION / "extension.js").read_text(encoding="utf-8")
