"""Lint at scale: rendering many diagnostics does not re-read the file for each one, and a
clause copied thousands of times is reported once, with its count."""

from __future__ import annotations

import time
from pathlib import Path

from checker.schema import schema
from dsl.analysis import load_rulebook
from dsl.ast import Span
from dsl.diagnostics import Diagnostic

ROOT = Path(__file__).resolve().parents[1]

RULE = """règle ESSAI.DOUBLONS
  titre "Essai"
  source "Texte" url "https://exemple.invalid"
  version du 01/01/2020
    source "Texte 1" url "https://exemple.invalid/1"
    parmi les attributions où date_bail est renseignée
    par epci
    exiger une part d'au moins 25 % vérifiant dalo
"""


def test_a_copied_exception_is_one_warning_with_its_count(tmp_path: Path) -> None:
    copies = 2000
    text = RULE + "    sauf si mutation\n" * copies + "    sauf si dalo\n"
    (tmp_path / "essai.regles").write_text(text, encoding="utf-8")
    _, diagnostics = load_rulebook([ROOT / "rules", tmp_path], schema())
    found = [d for d in diagnostics if d.code == "W105"]
    assert len(found) == 1
    assert found[0].message == (
        f"cette exception « sauf si » est écrite {copies} fois dans cette version : les copies "
        "ne changent rien"
    )
    assert (found[0].span.line, found[0].span.column) == (10, 5)
    assert found[0].related[0].span.line == 9


def test_many_diagnostics_on_a_long_file_render_quickly() -> None:
    lines = 40_000
    source = "\n".join(f"ligne {i}" for i in range(1, lines + 1))
    sources = {"long.regles": source}
    diagnostics = [
        Diagnostic("E103", "essai", Span("long.regles", line, 1, line, 6))
        for line in range(1, lines + 1, 2)
    ]
    start = time.perf_counter()
    rendered = [diagnostic.render(sources) for diagnostic in diagnostics]
    elapsed = time.perf_counter() - start
    assert rendered[-1].splitlines()[1] == "39999 | ligne 39999"
    # Splitting the 40 000 lines again for each of the 20 000 diagnostics took tens of seconds.
    assert elapsed < 5, elapsed
