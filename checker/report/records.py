"""Listings of records (`mixite explain`, the failing records of a report) as a person reads
them: names first, codes in the next column, values typed for a spreadsheet and shown in
French for text."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from checker.evaluate.explain import EN_DEFAUT, Explanation, show
from checker.report.names import Names
from checker.vocabulary import field_label
from dsl.types import Type

# Identity columns holding a code that has a name: the name takes the column, the code goes to
# the column after it, titled here.
CODE_TITLES = {
    "epci": "SIREN de l'EPCI",
    "bailleur": "SIREN du bailleur",
    "commune": "code INSEE",
    "reservataire": "identifiant du réservataire",
    "contingent": "code du contingent",
}
# Identity columns whose coded value is shown by its label, without a code column.
LABELLED = {"financement": "financement", "mode": "mode"}
# How many failing records the HTML report lists for one result; all are in the workbook and in
# the CSV. A record-level rule's failures are each a breach to act on: more of them are shown.
HTML_LIMIT_EACH = 40
HTML_LIMIT_SHARE = 5


@dataclass
class RecordTable:
    headers: list[str]
    types: list[Type | None]
    code_columns: set[int]  # indexes of the columns holding codes
    rows: list[list[Any]]  # values (dates, Fractions, names, codes)
    keys: list[str]  # one per column: the identity key, or the explanation's column key

    def text_rows(self) -> list[list[str]]:
        return [[show(v, t) for v, t in zip(row, self.types, strict=True)] for row in self.rows]


def record_table(
    explanation: Explanation, names: Names, rows: list[int] | None = None
) -> RecordTable:
    """The explanation's rows (all, or those at `rows`) with names and code columns."""
    headers: list[str] = []
    types: list[Type | None] = []
    keys: list[str] = []
    codes: set[int] = set()
    plan: list[tuple[int, str]] = []  # (source column, "name" | "code" | "label" | "value")
    for index, column in enumerate(explanation.columns):
        if column.role == "identity" and column.key in CODE_TITLES:
            plan += [(index, "name"), (index, "code")]
            headers += [column.title[:1].upper() + column.title[1:], CODE_TITLES[column.key]]
            types += [None, None]
            keys += [column.key, column.key + ":code"]
            codes.add(len(headers) - 1)
        else:
            plan.append((index, "label" if column.key in LABELLED else "value"))
            headers.append(column.title[:1].upper() + column.title[1:])
            types.append(column.type)
            keys.append(column.key)
    selected = range(len(explanation.rows)) if rows is None else rows
    out: list[list[Any]] = []
    for row_index in selected:
        row = explanation.rows[row_index]
        cells: list[Any] = []
        for source, how in plan:
            value = row[source]
            key = explanation.columns[source].key
            if how == "name":
                cells.append(names.of(key, None if value is None else str(value)))
            elif how == "label":
                cells.append(names.of(LABELLED[key], None if value is None else str(value)))
            else:
                cells.append(value)
        out.append(cells)
    return RecordTable(headers, types, codes, out, keys)


def html_limit(kind: str) -> int:
    return HTML_LIMIT_EACH if kind == "each" else HTML_LIMIT_SHARE


def record_key(explanation: Explanation, row: int) -> str:
    """What identifies a listed record, the same in every output: its identity values (codes,
    not names) as text, joined by « | »."""
    return "|".join(
        show(value, column.type)
        for value, column in zip(explanation.rows[row], explanation.columns, strict=True)
        if column.role == "identity"
    )


def explain_csv(table: RecordTable) -> str:
    """A listing as a CSV for French Excel (`;`, BOM, values in the French way)."""
    return "\ufeff" + csv_lines([table.headers, *table.text_rows()])


def explain_csv_pieces(slices: Iterable[Explanation], names: Names) -> Iterator[str]:
    """`explain_csv` of a listing read a slice at a time (`Explainer.slices`, the first slice
    titling the file): the same text, made as it is written, whatever the number of records."""
    first = True
    for piece in slices:
        table = record_table(piece, names)
        if first:
            yield "\ufeff" + csv_lines([table.headers])
            first = False
        yield csv_lines(table.text_rows())


def csv_lines(rows: Iterable[list[str]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerows(rows)
    return buffer.getvalue()


__all__ = [
    "EN_DEFAUT",
    "RecordTable",
    "explain_csv",
    "explain_csv_pieces",
    "field_label",
    "record_table",
]
