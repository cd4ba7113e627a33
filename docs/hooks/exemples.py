"""Real outputs in the pages, computed at build time so that they never drift from the code.

Two directives, written as HTML comments in a page's Markdown:

`<!-- lint E301 [nationales] [cp1252] [produit=E201] -->`
    Lints the example files given just above it: every fenced block with a `title="…"` ending
    in .regles, .csv or .yaml, since the previous heading or directive, is written to a scratch
    folder under its title. `nationales` lints them together with the bundled rules/;
    `cp1252` writes them in Windows-1252 instead of UTF-8. The directive is replaced by the
    diagnostics of that code, as `mixite rules lint` prints them. The build fails (warning
    under --strict) if the example does not produce the code; with `produit=E201`, the example
    must produce E201 and must NOT produce E301 (a code kept in the list but never emitted).

`<!-- lint ok [nationales] -->`
    Checks that the example files above it load without error; the directive disappears.

`<!-- tests-exemple -->`
    Runs the tests of the tutorial's example rule (docs/regles/exemple/) with the bundled rules,
    on both engines, and shows the outcome; a failing test fails the build.

The diagnostics page must also have a section (a heading starting with the code) for every
code of `dsl.diagnostics.CODES`.
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path
from typing import Any

import _commun
from _commun import REPO, fence, log

# A directive stands alone on its line, outside any fenced block (so pages can quote one).
DIRECTIVE = re.compile(r"^[ \t]*<!--\s*lint\s+(?P<args>[^>]*?)\s*-->[ \t]*$", re.M)
TESTS_DIRECTIVE = re.compile(r"^[ \t]*<!--\s*tests-exemple\s*-->[ \t]*$", re.M)
ANY_FENCE = re.compile(
    r"^[ \t]*(?P<fence>`{3,}|~{3,})[^\n]*\n.*?^[ \t]*(?P=fence)[ \t]*$", re.M | re.S
)
FENCE = re.compile(
    r'^(?P<ticks>`{3,})[\w-]*\s+title="(?P<title>[^"]+)"[^\n]*\n(?P<body>.*?)^(?P=ticks)\s*$',
    re.M | re.S,
)
HEADING = re.compile(r"^#{1,6} ", re.M)
FILE_SUFFIXES = (".regles", ".csv", ".yaml")
DIAGNOSTICS_PAGE = "regles/diagnostics.md"


def _lint(files: dict[str, str], national: bool, encoding: str) -> tuple[list[Any], dict[str, str]]:
    from checker.paths import rules_dir
    from checker.rulebook_loader import load_rules

    previous = Path.cwd()
    with tempfile.TemporaryDirectory(prefix="mixite-doc-") as scratch:
        root = Path(scratch)
        for name, text in files.items():
            path = root / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(text.encode(encoding))
        os.chdir(root)  # so that diagnostics name the files as the reader wrote them
        try:
            paths = [root, rules_dir()] if national else [root]
            loaded = load_rules(paths)
        finally:
            os.chdir(previous)
    return loaded.diagnostics, loaded.sources


def _outside_fences(pattern: re.Pattern[str], markdown: str) -> list[re.Match[str]]:
    fenced = [(m.start(), m.end()) for m in ANY_FENCE.finditer(markdown)]
    return [
        match
        for match in pattern.finditer(markdown)
        if not any(start <= match.start() < end for start, end in fenced)
    ]


def _render_lint(markdown: str, page: str) -> str:
    out: list[str] = []
    cursor = 0
    headings = _outside_fences(HEADING, markdown)
    directives = _outside_fences(DIRECTIVE, markdown)
    for match in directives:
        args = match.group("args").split()
        code, options = args[0], set(args[1:])
        shown = next((o.split("=", 1)[1] for o in options if o.startswith("produit=")), code)
        section_start = max(
            [m.end() for m in headings if m.end() <= match.start()]
            + [m.end() for m in directives if m.end() <= match.start()]
            + [0]
        )
        files = {
            m.group("title"): m.group("body")
            for m in FENCE.finditer(markdown, section_start, match.start())
            if m.group("title").endswith(FILE_SUFFIXES)
        }
        out.append(markdown[cursor : match.start()])
        cursor = match.end()
        if not files:
            log.warning(f"{page}: <!-- lint {code} --> without an example file above it")
            continue
        diagnostics, sources = _lint(
            files, "nationales" in options, "cp1252" if "cp1252" in options else "utf-8"
        )
        codes = {d.code for d in diagnostics}
        if code == "ok":  # the example must load without error (warnings are fine)
            errors = [d.render(sources) for d in diagnostics if d.is_error]
            if errors:
                log.warning(f"{page}: an example marked valid has errors:\n" + "\n".join(errors))
            continue
        if shown not in codes:
            log.warning(
                f"{page}: the example for {code} produces {sorted(codes) or 'nothing'}, not {shown}"
            )
            continue
        if shown != code and code in codes:
            log.warning(f"{page}: {code} is now emitted: document its real message")
        rendered = "\n\n".join(d.render(sources) for d in diagnostics if d.code == shown)
        rendered = rendered.replace(f"{REPO}/", "")  # national rules named as in the repository
        out.append(fence(rendered, "text", "mixite rules lint"))
    out.append(markdown[cursor:])
    return "".join(out)


def _render_tests() -> str:
    from checker.paths import rules_dir
    from checker.rule_tests import run_rule_tests
    from checker.rulebook_loader import require_rules

    example = REPO / "docs" / "regles" / "exemple"
    previous = Path.cwd()
    os.chdir(REPO)
    try:
        rulebook, _ = require_rules([rules_dir(), example])
        outcomes = run_rule_tests(rulebook, [example])
    finally:
        os.chdir(previous)
    lines = []
    for outcome in outcomes:
        lines.append(f"{'réussi' if outcome.ok else 'ÉCHEC '} {outcome.rule} — {outcome.name}")
        lines.extend(f"         {failure}" for failure in outcome.failures)
        if not outcome.ok:
            log.warning(f"docs/regles/exemple: test failed: {outcome.name}: {outcome.failures}")
    failed = sum(not outcome.ok for outcome in outcomes)
    lines.append(f"{len(outcomes) - failed} réussi(s), {failed} en échec.")
    return fence("\n".join(lines), "text", "mixite rules test rules docs/regles/exemple (extrait)")


def _check_every_code(markdown: str) -> None:
    from dsl.diagnostics import CODES

    for code in CODES:
        if not re.search(rf"^#{{2,4}} {code}\b", markdown, re.M):
            log.warning(f"{DIAGNOSTICS_PAGE}: no section for diagnostic {code} ({CODES[code]})")


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    source = page.file.src_uri
    if source == DIAGNOSTICS_PAGE:
        _check_every_code(markdown)
    for match in reversed(_outside_fences(TESTS_DIRECTIVE, markdown)):
        markdown = markdown[: match.start()] + _render_tests() + markdown[match.end() :]
    if _outside_fences(DIRECTIVE, markdown):
        markdown = _render_lint(markdown, source)
    return markdown


__all__ = ["_commun", "on_page_markdown"]
