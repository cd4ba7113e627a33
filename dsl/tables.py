"""Loading a parameter's values from a data file kept beside the rules (CSV, with provenance).

Columns: the parameter's keys, `en_vigueur_du`, optionally `en_vigueur_au`, the value column
(`valeur` unless the declaration names another), `source_titre`, optionally `source_article`,
`source_url` and `libelle` (how a person names the key in that period, e.g. the EPCI's name in
that year's arrêté when the key is its SIREN: shown, never matched by a rule). Every row needs its source: a value without a source does not load.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path

from dsl import ast
from dsl.diagnostics import Diagnostic
from dsl.reading import Unreadable, read_utf8
from dsl.rulebook import ParameterValue, Value
from dsl.types import BOOL, DATE, DECIMAL, ENUM, INT, MONEY, PERCENT, TEXT, Type


def _iso_date(text: str | None) -> dt.date:
    raw = (text or "").strip()
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        raise ValueError(f"« {raw} » n'est pas une date AAAA-MM-JJ existante") from None


def _column_of(text: str, line_number: int, header: Sequence[str], name: str) -> int:
    """The column (from 1) where field `name` starts on that line of the CSV; 1 when the line
    has quotes, whose fields cannot be located by counting commas."""
    lines = text.splitlines()
    if name not in header or line_number > len(lines) or '"' in lines[line_number - 1]:
        return 1
    fields = lines[line_number - 1].split(",")
    index = header.index(name)
    return 1 + sum(len(field) + 1 for field in fields[:index])


def parse_value(text: str, type_: Type) -> Value:
    """A table cell as a value of the parameter's type; ValueError (French) when it is not."""
    raw = text.strip()
    if type_.kind in (INT, DECIMAL, MONEY, PERCENT):
        cleaned = raw.replace("\u00a0", "").replace(" ", "").replace(",", ".")
        try:
            number = Fraction(cleaned)
        except (ValueError, ZeroDivisionError):
            raise ValueError(f"« {text} » n'est pas un nombre") from None
        if type_.kind == INT and number.denominator != 1:
            raise ValueError(f"« {text} » n'est pas un entier")
        return number / 100 if type_.kind == PERCENT else number
    if type_.kind == BOOL:
        if raw.lower() in ("oui", "vrai", "true", "1"):
            return True
        if raw.lower() in ("non", "faux", "false", "0"):
            return False
        raise ValueError(f"« {text} » n'est pas oui/non")
    if type_.kind == DATE:
        return dt.date.fromisoformat(raw)
    if type_.kind == ENUM and raw not in type_.values:
        raise ValueError(f"« {text} » n'est pas une valeur de {type_}")
    if type_.kind in (TEXT, ENUM):
        return raw
    raise ValueError(f"type {type_} non pris en charge dans une table")


def load_table(
    reference: ast.TableRef,
    rules_file: Path,
    keys: tuple[tuple[str, Type], ...],
    value_type: Type,
    diagnostics: list[Diagnostic],
) -> tuple[list[ParameterValue], str | None, str | None]:
    """Values of the table, and the file's (display name, text) for the rulebook's digest."""
    path = (rules_file.parent / reference.path).resolve()
    display = str(Path(reference.span.file).parent / reference.path)
    try:
        text = read_utf8(path)
    except Unreadable as exc:
        where = reference.span
        if exc.line > 1 or exc.column > 1:  # inside the table: point there
            where = ast.Span(display, exc.line, exc.column, exc.line, exc.column + 1)
        diagnostics.append(
            Diagnostic("E407", f"table « {reference.path} » illisible : {exc.reason}", where)
        )
        return [], None, None
    value_column = reference.value_column or "valeur"
    reader = csv.DictReader(text.splitlines())
    header = reader.fieldnames or []
    required = [name for name, _ in keys] + ["en_vigueur_du", value_column, "source_titre"]
    missing = [name for name in required if name not in header]
    if missing:
        diagnostics.append(
            Diagnostic(
                "E407",
                f"la table « {reference.path} » n'a pas les colonnes : {', '.join(missing)}",
                reference.span,
                hint=f"colonnes présentes : {', '.join(header)}",
            )
        )
        return [], display, text
    values: list[ParameterValue] = []
    for line_number, row in enumerate(reader, start=2):
        origin = f"{display}:{line_number}"
        here = ast.Span(display, line_number, 1, line_number, 2)
        title = (row.get("source_titre") or "").strip()
        if not title:
            diagnostics.append(
                Diagnostic("E401", "valeur sans source (colonne source_titre vide)", here)
            )
            continue
        column_name = "en_vigueur_du"
        try:
            start = _iso_date(row["en_vigueur_du"])
            column_name = "en_vigueur_au"
            end_text = (row.get("en_vigueur_au") or "").strip()
            end = _iso_date(end_text) if end_text else None
            key_parts = []
            for name, type_ in keys:
                column_name = name
                key_parts.append(str(parse_value(row[name] or "", type_)))
            key = tuple(key_parts)
            column_name = value_column
            value = parse_value(row[value_column] or "", value_type)
        except ValueError as exc:
            column = _column_of(text, line_number, header, column_name)
            cell = ast.Span(display, line_number, column, line_number, column + 1)
            diagnostics.append(Diagnostic("E407", f"colonne {column_name} : {exc}", cell))
            continue
        source = ast.Source(
            title,
            (row.get("source_article") or "").strip() or None,
            (row.get("source_url") or "").strip() or None,
            span=here,
        )
        label = (row.get("libelle") or "").strip() or None
        values.append(ParameterValue(start, end, key, value, (source,), origin, label=label))
    return values, display, text
