"""A bounded fuzz of the rule files: mutated copies of the bundled rules (characters deleted or
inserted, lines copied, dropped or swapped) never end in an internal error, and every message is
located (file:line:column) and in French."""

from __future__ import annotations

import re
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from checker.errors import MixiteError
from checker.paths import rules_dir
from checker.rulebook_loader import load_rules

FILES = sorted(rules_dir().rglob("*.regles"))
TEXTS = {path: path.read_text(encoding="utf-8") for path in FILES}
# Pieces a hand edit or a bad copy introduces: quotes, separators, keywords out of place,
# digits of other scripts, control characters, huge numbers.
PIECES = ['"', "«", "»", ":", "%", "€", "=", "(", ")", "\n", "\t", "  ", ",", "0,5", "1e9",
          "sauf si", "exiger", "version du 31/02/2020", "règle", "parmi les", "par epci",
          "１２３", "\x00", "\ufeff", "\r", "99999999999999999999999999999", "'", "…", "\\", "#",
          ":100:", "[bold]", "au 01/01/1900"]  # fmt: skip
# Words of the messages a parser or Python writes in English (never the rule text itself,
# which is only in the excerpt below each message).
ENGLISH = re.compile(
    r"\b(Unexpected|Expected|expected|token|Token|instead|got|Traceback|Error|error|line|column|"
    r"Invalid|invalid|unknown|Unknown|object|None|not|the|of|at)\b"
)
LOCATED = re.compile(r"^.+:\d+:\d+$")


@st.composite
def mutated(draw: st.DrawFn) -> tuple[Path, str]:
    path = draw(st.sampled_from(FILES))
    text = TEXTS[path]
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["delete", "insert", "copy_line", "drop_line", "swap_lines"]))
        lines = text.split("\n")
        if kind == "delete" and text:
            start = draw(st.integers(0, len(text) - 1))
            text = text[:start] + text[start + draw(st.integers(1, 40)) :]
        elif kind == "insert":
            at = draw(st.integers(0, len(text)))
            text = text[:at] + draw(st.sampled_from(PIECES)) + text[at:]
        elif kind in ("copy_line", "drop_line") and lines:
            at = draw(st.integers(0, len(lines) - 1))
            lines[at : at + 1] = [lines[at]] * (2 if kind == "copy_line" else 0)
            text = "\n".join(lines)
        elif kind == "swap_lines" and len(lines) > 1:
            first, second = (
                draw(st.integers(0, len(lines) - 1)),
                draw(st.integers(0, len(lines) - 1)),
            )
            lines[first], lines[second] = lines[second], lines[first]
            text = "\n".join(lines)
    return path, text


@settings(max_examples=60, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])  # fmt: skip
@given(mutated())
def test_mutated_rule_files_get_located_french_messages(case: tuple[Path, str]) -> None:
    path, text = case
    try:
        loaded = load_rules([path], {path: text})
    except MixiteError as refused:  # an expected refusal: French, and naming the file
        assert path.name in refused.message, refused.message
        assert not ENGLISH.search(refused.message), refused.message
        return
    for diagnostic in loaded.diagnostics:
        assert diagnostic.span is not None, diagnostic
        assert LOCATED.match(diagnostic.location()), diagnostic.location()
        assert diagnostic.span.line >= 1 and diagnostic.span.column >= 1, diagnostic.location()
        for words in (diagnostic.message, diagnostic.hint or "",
                      *(related.message for related in diagnostic.related)):  # fmt: skip
            assert not ENGLISH.search(words), diagnostic.render(loaded.sources)
        diagnostic.render(loaded.sources)  # renders, with its excerpt, without failing
