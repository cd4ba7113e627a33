"""Shared by the documentation hooks: where the repository is, and a logger.

The hooks import `checker` and `dsl` from the repository the site is built from (an editable
install points there too); generated pages are built in memory and never written to docs/.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

log = logging.getLogger("mkdocs.hooks.mixite")


def md_escape(text: str) -> str:
    """Text safe inside a Markdown table cell."""
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def fence(text: str, language: str = "mixite", title: str | None = None) -> str:
    """A fenced code block; the fence is made longer than any backtick run in the text."""
    longest = max((len(run) for run in text.split("\n") if set(run) == {"`"}), default=0)
    ticks = "`" * max(3, longest + 1)
    attributes = f' title="{title}"' if title else ""
    return f"{ticks}{language}{attributes}\n{text.rstrip()}\n{ticks}\n"
