"""`mixite explain` on the terminal, readable at 80 columns: a column whose value is the same
for every listed record is said once above the listing; the rest is a table when its headers
fit the width whole-word, else one block per record (its identity, then « titre : valeur »),
because a table squeezed to the width breaks its headers and values letter by letter."""

from __future__ import annotations

import textwrap
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import RenderableType
    from rich.text import Text

GAP = 2  # spaces between two columns of the table
INDENT = "   "  # a record's details, under its identity line


def _natural_width(header: str, cells: list[str]) -> int:
    """The narrowest the column can be without breaking a header word or a value."""
    words = [len(word) for word in header.split()] or [0]
    return max([max(words), *(len(cell) for cell in cells)])


def listing(
    headers: list[str], rows: list[list[str]], identity: list[bool], width: int
) -> list[RenderableType]:
    """What to print for a listing: headers and rows as text, `identity` marking the columns
    that say which record it is (kept in the table or on the record's first line)."""
    from rich import box
    from rich.table import Table

    shown = list(range(len(headers)))
    common: list[str] = []
    if len(rows) > 1:
        for index in list(shown):
            values = {row[index] for row in rows}
            if not identity[index] and len(values) == 1:
                common.append(f"{headers[index]} : {values.pop()}")
                shown.remove(index)
    out: list[RenderableType] = []
    if common:
        out.append(
            wrapped("Commun à tous les enregistrements listés — " + " ; ".join(common) + ".", width)
        )
    widths = [_natural_width(headers[i], [row[i] for row in rows]) for i in shown]
    if sum(widths) + (GAP + 1) * (len(widths) - 1) <= width:  # + the box's divider
        table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False,
                      padding=(0, GAP, 0, 0), collapse_padding=True)  # fmt: skip
        for index, natural in zip(shown, widths, strict=True):
            table.add_column(headers[index], min_width=natural, no_wrap=False)
        for row in rows:
            table.add_row(*(row[i] for i in shown))
        out.append(table)
        return out
    first = [i for i in shown if identity[i]]
    rest = [i for i in shown if not identity[i]]
    out.append(wrapped("Un enregistrement par bloc : " + " · ".join(headers[i] for i in first)
                       + ", puis ses raisons et ses valeurs.", width))  # fmt: skip
    for row in rows:
        identity_line = wrapped(" · ".join(row[i] for i in first) or "—", width, INDENT * 2)
        identity_line.stylize("bold")
        out.append(identity_line)
        for index in rest:
            out.append(wrapped(f"{INDENT}{headers[index]} : {row[index]}", width, INDENT * 2))
    return out


def wrapped(text: str, width: int, indent: str = "") -> Text:
    """A line of text cut at word boundaries to the width (the console does not wrap it)."""
    from rich.text import Text as RichText

    return RichText("\n".join(textwrap.wrap(text, width, subsequent_indent=indent)))
