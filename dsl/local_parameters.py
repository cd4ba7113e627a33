"""Local parameters files: values of national parameters that no stored source gives (the PLAI
ceilings of 2026, the quartile thresholds before 2024…), supplied by a user who holds the text.

A file named `*.parametres.csv`, beside the rules (under a rules directory, or given as a path
like a rule file), one value per row:

    parametre,cles,en_vigueur_du,en_vigueur_au,valeur,source_titre,source_article,source_url

`cles` is `nom=valeur` pairs separated by `;` (empty for a parameter without keys);
`en_vigueur_au`, `source_article` and `source_url` may be empty. Every row needs its source
(`source_titre`); a value that contradicts a national value over the same days is refused; a
value equal to the national one adds nothing. Accepted values are marked `local` and shown as
« valeur fournie localement ». Documented in docs/regles/parametres-locaux.md.
"""

from __future__ import annotations

import csv
import datetime as dt
from dataclasses import dataclass, replace
from pathlib import Path

from dsl import ast
from dsl.diagnostics import Diagnostic
from dsl.reading import Unreadable, read_utf8
from dsl.rulebook import CheckedParameter, ParameterValue
from dsl.tables import parse_value

LOCAL_SUFFIX = ".parametres.csv"
COLUMNS = ("parametre", "cles", "en_vigueur_du", "valeur", "source_titre")


@dataclass(frozen=True)
class LocalRow:
    parameter: str
    keys: dict[str, str]
    start: dt.date
    end: dt.date | None
    value: str
    source: ast.Source
    span: ast.Span


def is_local_file(path: Path) -> bool:
    return path.name.endswith(LOCAL_SUFFIX)


def local_files(paths: list[Path]) -> list[Path]:
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(sorted(path.rglob(f"*{LOCAL_SUFFIX}")))
        elif is_local_file(path):
            found.append(path)
    return found


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"date « {text} » illisible (forme attendue : AAAA-MM-JJ)") from None


def read_rows(
    files: list[Path], display: dict[Path, str], diagnostics: list[Diagnostic]
) -> tuple[list[LocalRow], dict[str, str]]:
    """The rows of every local file, and each file's text (for the rulebook's digest)."""
    rows: list[LocalRow] = []
    texts: dict[str, str] = {}
    for path in files:
        name = display.get(path, path.as_posix())
        here = ast.Span(name, 1, 1, 1, 2)
        try:
            text = read_utf8(path)
        except Unreadable as exc:
            diagnostics.append(
                Diagnostic("E407", f"fichier de paramètres locaux illisible : {exc.reason}", here)
            )
            continue
        texts[name] = text
        reader = csv.DictReader(text.splitlines())
        missing = [column for column in COLUMNS if column not in (reader.fieldnames or [])]
        if missing:
            diagnostics.append(Diagnostic(
                "E407", f"paramètres locaux : colonnes manquantes : {', '.join(missing)}", here,
                hint="colonnes : " + ",".join((*COLUMNS[:3], "en_vigueur_au", *COLUMNS[3:], "source_article", "source_url")),
            ))  # fmt: skip
            continue
        for line, row in enumerate(reader, start=2):
            span = ast.Span(name, line, 1, line, 2)
            title = (row.get("source_titre") or "").strip()
            if not title:
                diagnostics.append(Diagnostic(
                    "E401", "valeur fournie localement sans source (colonne source_titre vide)", span,
                    hint="écrivez le texte d'où vient la valeur, ex. « Arrêté du … , annexe II »",
                ))  # fmt: skip
                continue
            try:
                keys: dict[str, str] = {}
                for pair in filter(None, (p.strip() for p in (row.get("cles") or "").split(";"))):
                    key, sep, value = pair.partition("=")
                    if not sep:
                        raise ValueError(f"clé « {pair} » mal écrite (forme attendue : nom=valeur)")
                    keys[key.strip()] = value.strip()
                end_text = (row.get("en_vigueur_au") or "").strip()
                rows.append(LocalRow(
                    (row.get("parametre") or "").strip(), keys, _date(row.get("en_vigueur_du") or ""),
                    _date(end_text) if end_text else None, (row.get("valeur") or "").strip(),
                    ast.Source(title, (row.get("source_article") or "").strip() or None,
                               (row.get("source_url") or "").strip() or None, span=span),
                    span,
                ))  # fmt: skip
            except ValueError as exc:
                diagnostics.append(Diagnostic("E407", f"paramètres locaux : {exc}", span))
    return rows, texts


def _overlaps(a: ParameterValue, start: dt.date, end: dt.date | None) -> bool:
    return a.start <= (end or dt.date.max) and start <= (a.end or dt.date.max)


def apply(checked: CheckedParameter, rows: list[LocalRow], diagnostics: list[Diagnostic]) -> None:
    """Add this parameter's local values to `checked` (before it is indexed)."""
    names = [name for name, _ in checked.keys]
    for row in rows:
        if sorted(row.keys) != sorted(names):
            wanted = ";".join(f"{name}=…" for name in names) or "(aucune clé : colonne vide)"
            diagnostics.append(Diagnostic(
                "E205", f"« {row.parameter} » se donne avec les clés : {wanted}", row.span))  # fmt: skip
            continue
        try:
            key = tuple(str(parse_value(row.keys[name], type_)) for name, type_ in checked.keys)
            value = parse_value(row.value, checked.type)
        except ValueError as exc:
            diagnostics.append(Diagnostic("E407", f"paramètres locaux : {exc}", row.span))
            continue
        if row.end is not None and row.end < row.start:
            diagnostics.append(
                Diagnostic("E405", "période à l'envers (la fin précède le début)", row.span)
            )
            continue
        national = [
            v
            for v in checked.values
            if v.key == key and not v.local and _overlaps(v, row.start, row.end)
        ]
        contradicted = [v for v in national if v.value != value]
        if contradicted:
            first = contradicted[0]
            diagnostics.append(Diagnostic(
                "E410",
                f"« {row.parameter} » ({', '.join(key) or '—'}) : la valeur fournie localement "
                f"({row.value}) contredit la valeur nationale {first.value} en vigueur du "
                f"{first.start:%d/%m/%Y}" + (f" au {first.end:%d/%m/%Y}" if first.end else "")
                + f" ({first.origin})",
                row.span,
                hint="une valeur locale complète le droit national, elle ne le remplace pas : "
                "retirez la ligne, ou limitez sa période aux jours sans valeur nationale",
            ))  # fmt: skip
            continue
        if national and _covers(national, row.start, row.end):
            continue  # the national values already say it: nothing to add
        origin = f"{row.span.file}:{row.span.line}"
        checked.values.append(replace(
            ParameterValue(row.start, row.end, key, value, (row.source,), origin), local=True))  # fmt: skip


def _covers(values: list[ParameterValue], start: dt.date, end: dt.date | None) -> bool:
    """Whether the national values cover every day of [start, end]."""
    day = start
    for value in sorted(values, key=lambda v: v.start):
        if value.start > day:
            return False
        if value.end is None:
            return True
        day = max(day, value.end + dt.timedelta(days=1))
        if end is not None and day > end:
            return True
    return False


def unknown_parameters(
    rows: list[LocalRow], known: set[str], diagnostics: list[Diagnostic]
) -> None:
    import difflib

    for row in rows:
        if row.parameter not in known:
            close = difflib.get_close_matches(row.parameter, sorted(known), n=1)
            diagnostics.append(Diagnostic(
                "E201", f"paramètre local « {row.parameter} » inconnu des règles", row.span,
                hint=f"vouliez-vous dire {close[0]} ?" if close else None,
            ))  # fmt: skip
