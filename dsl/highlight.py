"""Syntax highlighting of rule files (`*.regles`) for Pygments, hence for the mkdocs site.

Registered under the `pygments.lexers` entry point as `mixite`; a code block written
```regles (or ```mixite) is then highlighted. Like the grammar: keywords case-insensitive,
accents and apostrophe optional (`règle`, `regle`, `REGLE`, `s’applique`).
"""

from __future__ import annotations

import re
from typing import ClassVar

from pygments.lexer import RegexLexer, default  # type: ignore[import-untyped, unused-ignore]
from pygments.token import (  # type: ignore[import-untyped, unused-ignore]
    Comment,
    Error,
    Keyword,
    Literal,
    Name,
    Number,
    Operator,
    Punctuation,
    String,
    Whitespace,
)

_APOSTROPHE = "['’]"
# Each keyword as a regular expression (accents optional), in the grammar's spelling.
_DECLARATIONS = (r"param[eè]tre", r"d[eé]finition", r"r[eè]gle", r"engagement")
_KEYWORDS = (
    r"version", r"titre", r"source", r"article", r"url", r"incertain", r"note", r"cl[eé]s",
    r"table", r"valeur", r"d[eé]riv[eé]", r"depuis", r"fois", r"sur", r"objectif", r"local",
    r"du", r"au", rf"s{_APOSTROPHE}applique", r"si", r"alors", r"sinon", r"parmi", r"les",
    r"par", r"exiger", r"une", r"un", r"part", r"nombre", rf"d{_APOSTROPHE}au", r"moins",
    r"plus", r"v[eé]rifiant", r"pour", r"chacune?", r"sauf", rf"l{_APOSTROPHE}objectif",
    r"aussi", r"territoire", r"signataires", r"o[uù]", r"et", r"non", r"est",
    rf"n{_APOSTROPHE}est", r"pas", r"renseign[eé]e?", r"dans", r"contient", r"reprend", r"la",
    r"pr[eé]c[eé]dente", r"soit", r"retirer", rf"l{_APOSTROPHE}un", r"de", r"à",
    r"qualitatif", r"[eé]ch[eé]ance", r"fait", rf"l{_APOSTROPHE}ensemble", r"des", r"territoires",
    r"information",
)  # fmt: skip
# Rule identifiers are upper case whatever the lexer's flags: L441-1.Q1-HORS-QPV.
_RULE_ID = r"(?-i:[A-Z][A-Z0-9]*(?:-[A-Z0-9]+)*\.[A-Z0-9]+(?:-[A-Z0-9]+)*)(?![\w.])"
_DOC_ID = r"[^\W\d_]\w*(?:-\w+)+"


def _any(patterns: tuple[str, ...]) -> str:
    # Longest first, so that `sinon` is not read as `si`; a keyword is a whole word.
    ordered = sorted(patterns, key=len, reverse=True)
    return r"(?<![\w'’])(?:" + "|".join(ordered) + r")(?![\w'’])"


class MixiteLexer(RegexLexer):  # type: ignore[misc, unused-ignore]
    """Pygments lexer for the mixite rule language."""

    name = "mixite"
    aliases: ClassVar[list[str]] = ["mixite", "regles"]
    filenames: ClassVar[list[str]] = ["*.regles"]
    mimetypes: ClassVar[list[str]] = ["text/x-mixite"]
    flags = re.IGNORECASE | re.MULTILINE | re.UNICODE

    tokens: ClassVar[dict[str, list[object]]] = {
        "root": [
            (r"\s+", Whitespace),
            (r"#.*?$", Comment.Single),
            (r'"(?:[^"\\\n]|\\.)*"', String.Double),
            (r'"[^\n]*', Error),  # a string left open
            (_any(("engagement",)), Keyword.Declaration, "commitment"),
            (_any(_DECLARATIONS), Keyword.Declaration),
            (_any(("vrai", "faux")), Keyword.Constant),
            (_any(_KEYWORDS), Keyword),
            (_RULE_ID, Name.Label),
            (r"\d{2}/\d{2}/\d{4}|\d{4}-\d{2}-\d{2}", Literal.Date),
            (r"\d+,\d+", Number.Float),
            (r"\d+", Number.Integer),
            (r"[%€]", Number),  # the unit of `25 %`, `8957 €`
            (r"<=|>=|!=|[≠≤≥<>=+\-*×/]", Operator),
            (r"[()\[\],.:]", Punctuation),
            (r"[^\W\d]\w*(?=\s*\()", Name.Function),
            (r"[^\W\d]\w*(?=\s*\[)", Name.Constant),  # a parameter looked up by its keys
            (r"[^\W\d]\w*", Name),
            (r".", Error),
        ],
        # After `engagement`: its identifier, a rule's (L441-1.Q1) or a document's (CIA-2022).
        "commitment": [
            (r"[^\S\n]+", Whitespace),
            (_RULE_ID + "|" + _DOC_ID, Name.Label, "#pop"),
            default("#pop"),
        ],
    }


__all__ = ["MixiteLexer"]
