"""Diagnostics: a stable code, a French message, a place in the rule text, a hint.

Rendered like Catala's or rustc's: `fichier:ligne:colonne: erreur E101: …`, then the source
line with the span underlined, then the hint. Codes are documented in `CODES` and never reused.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache

from dsl.ast import Span

ERROR = "erreur"
WARNING = "avertissement"

# Every code, with its one-line meaning (the documentation lists them from here).
CODES: dict[str, str] = {
    "E101": "syntaxe : un élément inattendu",
    "E102": "syntaxe : le fichier s'arrête trop tôt",
    "E103": "syntaxe : caractère non reconnu",
    "E104": "date impossible",
    "E105": "fichier de règles illisible",
    "E106": "expression trop longue ou trop imbriquée",
    "E201": "nom inconnu",
    "E202": "nom déclaré deux fois",
    "E203": "population ou dimension inconnue",
    "E204": "fonction inconnue ou mal appelée",
    "E205": "paramètre appelé avec des clés qui ne sont pas les siennes",
    "E301": "types incompatibles",
    "E302": "unités incompatibles",
    "E303": "une condition doit être vraie ou fausse",
    "E304": "valeur hors de l'énumération",
    "E401": "valeur sans source",
    "E402": "règle sans version",
    "E403": "versions qui se chevauchent",
    "E404": "version sans population ou sans exigence",
    "E405": "période vide ou à l'envers",
    "E406": "paramètre sans valeur",
    "E407": "table de paramètre illisible ou incomplète",
    "E408": "valeurs d'un paramètre datées deux fois du même jour",
    "E409": "version par différence : un retrait ou une reprise qui ne désigne rien",
    "E410": "valeur fournie localement qui contredit une valeur nationale",
    "E501": "engagement local hors des bornes fixées par la loi",
    "E502": "engagement sur une règle inconnue ou qui n'admet pas d'objectif local",
    "E503": "engagement incomplet",
    "E504": "deux objectifs pour le même périmètre",
    "E505": "objectif impossible : part au-delà de 100 % ou nombre négatif",
    "E506": "périmètre d'objectif que les données ne permettent pas de compter",
    "E507": "objectif dont le périmètre nomme un bailleur, une commune… inconnus de la base",
    "E508": "échéancier d'objectifs à l'envers, avec une année répétée ou qui n'en est pas une",
    "E509": "année d'objectif hors de la période de l'engagement",
    "E510": "niveau « sur l'ensemble des territoires » mal formé ou visé par un objectif de CIA",
    "E601": "construction qui ne se traduit pas en SQL",
    "W101": "trou entre deux versions d'une règle",
    "W102": "règle sans test",
    "W103": "source sans adresse (url)",
    "W104": "version par différence : une clause identique à celle reprise",
    "W105": "exception « sauf si » écrite deux fois dans une version",
    "W501": "objectif local d'une partie du territoire (un bailleur…) hors de la borne du territoire",
    "W502": "engagement sans objectif",
    "W503": "objectif sans source",
    "W504": "engagement qualitatif incomplet : sans « par », ou fait sans référence",
    "W505": "engagement d'un territoire absent de la base",
    "W506": "objectif « au plus » sur une règle que la loi lit comme un minimum (ou l'inverse)",
}


@dataclass(frozen=True)
class Related:
    span: Span
    message: str


@dataclass(frozen=True)
class Diagnostic:
    code: str
    message: str
    span: Span | None
    hint: str | None = None
    related: tuple[Related, ...] = field(default=())

    @property
    def severity(self) -> str:
        return WARNING if self.code.startswith("W") else ERROR

    @property
    def is_error(self) -> bool:
        return self.severity == ERROR

    def location(self) -> str:
        return str(self.span) if self.span else "<règles>"

    def render(self, sources: Mapping[str, str] | None = None) -> str:
        lines = [f"{self.location()}: {self.severity} {self.code}: {self.message}"]
        if self.span is not None and sources is not None:
            lines.extend(_excerpt(self.span, sources))
        for related in self.related:
            lines.append(f"{related.span}: note : {related.message}")
            if sources is not None:
                lines.extend(_excerpt(related.span, sources))
        if self.hint:
            lines.append(f"  conseil : {self.hint}")
        return "\n".join(lines)


@lru_cache(maxsize=16)
def _lines(text: str) -> tuple[str, ...]:
    """A file's lines, split once however many diagnostics it has (a string's hash is cached,
    so looking a 40 000-line file up again costs nothing)."""
    return tuple(text.split("\n"))  # as Lark counts lines: \n only


def _excerpt(span: Span, sources: Mapping[str, str]) -> list[str]:
    text = sources.get(span.file)
    if text is None or span.line < 1:
        return []
    source_lines = _lines(text)
    if span.line > len(source_lines):
        return []
    line_text = source_lines[span.line - 1].expandtabs(1)
    gutter = f"{span.line:>5} | "
    start = max(span.column, 1)
    if span.end_line == span.line and span.end_column > start:
        width = span.end_column - start
    else:
        width = max(len(line_text) - start + 1, 1)
    underline = " " * (len(gutter) - 2) + "| " + " " * (start - 1) + "^" * width
    return [gutter + line_text, underline]


def sort_key(diagnostic: Diagnostic) -> tuple[str, int, int, str]:
    span = diagnostic.span
    if span is None:
        return ("", 0, 0, diagnostic.code)
    return (span.file, span.line, span.column, diagnostic.code)


def has_errors(diagnostics: Iterable[Diagnostic]) -> bool:
    return any(diagnostic.is_error for diagnostic in diagnostics)
