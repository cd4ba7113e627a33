"""Parsing rule text into the AST, with French diagnostics instead of Lark's exceptions."""

from __future__ import annotations

import datetime as dt
import difflib
from fractions import Fraction
from functools import cache
from importlib.resources import files
from typing import Any

from lark import Lark, Token, Transformer, Tree, v_args
from lark.exceptions import (
    UnexpectedCharacters,
    UnexpectedEOF,
    UnexpectedInput,
    UnexpectedToken,
    VisitError,
)

from dsl import ast
from dsl.diagnostics import Diagnostic
from dsl.text import strip_accents

# What a user should read instead of a terminal's name, in "attendu : …".
_EXPECTED_NAMES = {
    "NAME": "un nom",
    "STRING": "un texte entre guillemets",
    "NUMBER": "un nombre",
    "DATE": "une date (JJ/MM/AAAA)",
    "RULE_ID": "un identifiant de règle (ex. L441-1.Q1-HORS-QPV)",
    "COMPARATOR": "une comparaison (<, <=, =…)",
    "ADD_OP": "+ ou -",
    "MUL_OP": "* ou /",
    "LPAR": "« ( »",
    "RPAR": "« ) »",
    "LSQB": "« [ »",
    "RSQB": "« ] »",
    "COLON": "« : »",
    "COMMA": "« , »",
    "EQUAL": "« = »",
    "PERCENT": "« % »",
    "DOT": "« . »",
    "$END": "la fin du fichier",
    "MINUS": "« - »",
    "DOC_ID": "un identifiant (ex. CIA-VAL-DE-LIZE-2022)",
}
# Keywords a misspelt word is compared with, for "vouliez-vous dire".
_KEYWORDS = (
    "paramètre", "définition", "règle", "engagement", "version", "titre", "source", "article",
    "url", "incertain", "note", "clés", "table", "valeur", "dérivé", "depuis", "fois", "sur",
    "objectif", "local", "du", "au", "s'applique", "si", "alors", "sinon", "parmi", "les",
    "par", "exiger", "une", "un", "part", "nombre", "d'au", "moins", "plus", "vérifiant",
    "pour", "chacune", "sauf", "l'objectif", "aussi", "territoire", "signataires", "où", "ou", "et", "non",
    "est", "renseigné", "dans", "contient", "vrai", "faux", "reprend", "précédente",
    "soit", "retirer", "l'un", "qualitatif", "échéance", "fait", "l'ensemble", "des",
    "territoires", "information",
)  # fmt: skip
_KEYWORD_SPELLING = {
    "PARAMETRE": "paramètre",
    "DEFINITION": "définition",
    "REGLE": "règle",
    "DERIVE": "dérivé",
    "CLES": "clés",
    "S_APPLIQUE": "s'applique",
    "D_AU": "d'au",
    "VERIFIANT": "vérifiant",
    "OU": "où / ou",
    "N_EST": "n'est",
    "RENSEIGNE": "renseigné",
    "CHACUN": "chacune",
    "L_OBJECTIF": "l'objectif",
    "L_ENSEMBLE": "l'ensemble",
    "PRECEDENTE": "précédente",
    "L_UN": "l'un",
    "A_TO": "à",
    "ECHEANCE": "échéance",
}
_DECLARATION_KEYWORDS = ("paramètre", "définition", "règle", "engagement")


@cache
def _lark() -> Lark:
    grammar = files("dsl").joinpath("grammar.lark").read_text(encoding="utf-8")
    return Lark(grammar, parser="lalr", lexer="contextual", propagate_positions=True)


def _expected(names: set[str]) -> str:
    readable = set()
    literals = {terminal.name: terminal.pattern.value for terminal in _lark().terminals}
    for name in names:
        if name in _EXPECTED_NAMES:
            readable.add(_EXPECTED_NAMES[name])
        elif name.startswith("__ANON") and isinstance(literals.get(name), str):
            readable.add(f"« {literals[name]} »")
        elif name.isupper():
            readable.add(f"« {_KEYWORD_SPELLING.get(name, name.lower())} »")
    listed = sorted(readable)
    if len(listed) > 8:
        listed = [*listed[:8], "…"]
    return ", ".join(listed)


def _span(file: str, meta: Any) -> ast.Span:
    return ast.Span(file, meta.line, meta.column, meta.end_line, meta.end_column)


def _token_span(file: str, token: Token) -> ast.Span:
    line = token.line or 0
    column = token.column or 0
    return ast.Span(file, line, column, token.end_line or line, token.end_column or column + 1)


def _string(token: Token) -> str:
    body = str(token)[1:-1]
    return body.replace('\\"', '"').replace("\\\\", "\\")


def _number(text: str) -> Fraction:
    return Fraction(text.replace(",", "."))


def _is(token: Any, kind: str) -> bool:
    return isinstance(token, Token) and token.type == kind


class _Builder(Transformer[Token, Any]):
    """Lark tree → AST. Never raises: problems become diagnostics (a raise would come out
    wrapped in Lark's VisitError)."""

    def __init__(self, file: str) -> None:
        super().__init__()
        self.file = file
        self.diagnostics: list[Diagnostic] = []

    def _meta_of(self, items: list[Any], meta: Any) -> ast.Metadata:
        title = next((item[1] for item in items if _tagged(item, "title")), None)
        return ast.Metadata(
            title=title,
            sources=tuple(item for item in items if isinstance(item, ast.Source)),
            uncertain=tuple(item[1] for item in items if _tagged(item, "uncertain")),
            notes=tuple(item[1] for item in items if _tagged(item, "note")),
            span=_span(self.file, meta),
        )

    # ---------------------------------------------------------------- metadata
    def title(self, items: list[Any]) -> tuple[str, str]:
        return ("title", _string(items[1]))

    def uncertain(self, items: list[Any]) -> tuple[str, str]:
        return ("uncertain", _string(items[1]))

    def note(self, items: list[Any]) -> tuple[str, str]:
        return ("note", _string(items[1]))

    @v_args(meta=True)
    def source(self, meta: Any, items: list[Any]) -> ast.Source:
        title = _string(items[1])
        article = url = None
        rest = items[2:]
        for keyword, value in zip(rest[::2], rest[1::2], strict=True):
            if _is(keyword, "ARTICLE"):
                article = _string(value)
            else:
                url = _string(value)
        return ast.Source(title, article, url, span=_span(self.file, meta))

    # ---------------------------------------------------------------- literals
    @v_args(meta=True)
    def number(self, meta: Any, items: list[Any]) -> ast.Number:
        return ast.Number(_number(items[0]), str(items[0]), span=_span(self.file, meta))

    @v_args(meta=True)
    def percent(self, meta: Any, items: list[Any]) -> ast.Percent:
        return ast.Percent(_number(items[0]) / 100, str(items[0]), span=_span(self.file, meta))

    @v_args(meta=True)
    def money(self, meta: Any, items: list[Any]) -> ast.Money:
        return ast.Money(_number(items[0]), str(items[0]), span=_span(self.file, meta))

    @v_args(meta=True)
    def string(self, meta: Any, items: list[Any]) -> ast.String:
        return ast.String(_string(items[0]), span=_span(self.file, meta))

    @v_args(meta=True)
    def true(self, meta: Any, items: list[Any]) -> ast.Boolean:
        return ast.Boolean(True, span=_span(self.file, meta))

    @v_args(meta=True)
    def false(self, meta: Any, items: list[Any]) -> ast.Boolean:
        return ast.Boolean(False, span=_span(self.file, meta))

    @v_args(meta=True)
    def date(self, meta: Any, items: list[Any]) -> ast.DateLiteral:
        text = str(items[0])
        span = _span(self.file, meta)
        try:
            if "/" in text:
                day, month, year = (int(part) for part in text.split("/"))
            else:
                year, month, day = (int(part) for part in text.split("-"))
            value = dt.date(year, month, day)
        except ValueError:
            self.diagnostics.append(Diagnostic("E104", f"la date « {text} » n'existe pas", span))
            value = dt.date.min
        return ast.DateLiteral(value, span=span)

    # ---------------------------------------------------------------- expressions
    @v_args(meta=True)
    def name(self, meta: Any, items: list[Any]) -> ast.Name:
        return ast.Name(str(items[0]), span=_span(self.file, meta))

    @v_args(meta=True)
    def attribute(self, meta: Any, items: list[Any]) -> ast.Attribute:
        return ast.Attribute(str(items[0]), str(items[1]), span=_span(self.file, meta))

    @v_args(meta=True)
    def call(self, meta: Any, items: list[Any]) -> ast.Call:
        args = tuple(item for item in items[1:] if item is not None)
        return ast.Call(str(items[0]), args, span=_span(self.file, meta))

    @v_args(meta=True)
    def local_objective(self, meta: Any, items: list[Any]) -> ast.LocalObjective:
        return ast.LocalObjective(span=_span(self.file, meta))

    @v_args(meta=True)
    def key_arg(self, meta: Any, items: list[Any]) -> ast.KeyArg:
        return ast.KeyArg(str(items[0]), items[1], span=_span(self.file, meta))

    @v_args(meta=True)
    def lookup(self, meta: Any, items: list[Any]) -> ast.Lookup:
        return ast.Lookup(str(items[0]), tuple(items[1:]), span=_span(self.file, meta))

    @v_args(meta=True)
    def negate(self, meta: Any, items: list[Any]) -> ast.Negate:
        return ast.Negate(items[-1], span=_span(self.file, meta))

    @v_args(meta=True)
    def arith(self, meta: Any, items: list[Any]) -> ast.Arithmetic:
        op = {"×": "*"}.get(str(items[1]), str(items[1]))
        return ast.Arithmetic(op, items[0], items[2], span=_span(self.file, meta))

    @v_args(meta=True)
    def compare(self, meta: Any, items: list[Any]) -> ast.Compare:
        op = {"≠": "!=", "≤": "<=", "≥": ">="}.get(str(items[1]), str(items[1]))
        return ast.Compare(op, items[0], items[2], span=_span(self.file, meta))

    @v_args(meta=True)
    def and_expr(self, meta: Any, items: list[Any]) -> ast.And:
        return ast.And(items[0], items[2], span=_span(self.file, meta))

    @v_args(meta=True)
    def or_expr(self, meta: Any, items: list[Any]) -> ast.Or:
        return ast.Or(items[0], items[2], span=_span(self.file, meta))

    @v_args(meta=True)
    def not_expr(self, meta: Any, items: list[Any]) -> ast.Not:
        return ast.Not(items[1], span=_span(self.file, meta))

    @v_args(meta=True)
    def if_expr(self, meta: Any, items: list[Any]) -> ast.If:
        return ast.If(items[1], items[3], items[5], span=_span(self.file, meta))

    @v_args(meta=True)
    def is_set(self, meta: Any, items: list[Any]) -> ast.IsSet:
        return ast.IsSet(items[0], False, span=_span(self.file, meta))

    @v_args(meta=True)
    def is_not_set(self, meta: Any, items: list[Any]) -> ast.IsSet:
        return ast.IsSet(items[0], True, span=_span(self.file, meta))

    @v_args(meta=True)
    def member(self, meta: Any, items: list[Any]) -> ast.Member:
        return ast.Member(items[0], tuple(items[2:]), span=_span(self.file, meta))

    @v_args(meta=True)
    def contains(self, meta: Any, items: list[Any]) -> ast.Contains:
        return ast.Contains(items[0], _string(items[2]), span=_span(self.file, meta))

    @v_args(meta=True)
    def letter_choice(self, meta: Any, items: list[Any]) -> ast.LetterRange:
        first = _string(items[0])
        last = _string(items[2]) if len(items) > 2 else first
        return ast.LetterRange(first, last, span=_span(self.file, meta))

    @v_args(meta=True)
    def contains_any(self, meta: Any, items: list[Any]) -> ast.ContainsAny:
        choices = tuple(item for item in items if isinstance(item, ast.LetterRange))
        return ast.ContainsAny(items[0], choices, span=_span(self.file, meta))

    def type_name(self, items: list[Any]) -> str:
        return str(items[0])

    # ---------------------------------------------------------------- parameters
    @v_args(meta=True)
    def key_decl(self, meta: Any, items: list[Any]) -> ast.KeyDecl:
        return ast.KeyDecl(str(items[0]), items[1], span=_span(self.file, meta))

    def keys(self, items: list[Any]) -> tuple[str, tuple[ast.KeyDecl, ...]]:
        return ("keys", tuple(items[1:]))

    @v_args(meta=True)
    def value_step(self, meta: Any, items: list[Any]) -> ast.ValueStep:
        # « du D1 au D2 : valeur » — the end date is there only when « au » is (a date may
        # also be the value itself, for a date-valued parameter).
        rest = list(items[2:])
        end = None
        if _is(rest[0], "AU"):
            end = rest[1].value
            rest = rest[2:]
        return ast.ValueStep(
            items[1].value, end, rest[0], tuple(rest[1:]), span=_span(self.file, meta)
        )

    @v_args(meta=True)
    def table(self, meta: Any, items: list[Any]) -> ast.TableRef:
        column = str(items[3]) if len(items) > 2 else None
        return ast.TableRef(_string(items[1]), column, span=_span(self.file, meta))

    @v_args(meta=True)
    def derivation(self, meta: Any, items: list[Any]) -> ast.Derivation:
        return ast.Derivation(
            str(items[1]), items[2], items[4], items[6], tuple(items[7:]),
            span=_span(self.file, meta),
        )  # fmt: skip

    @v_args(meta=True)
    def parameter(self, meta: Any, items: list[Any]) -> ast.Parameter:
        clauses = items[3:]
        keys: tuple[ast.KeyDecl, ...] = ()
        for clause in clauses:
            if _tagged(clause, "keys"):
                keys += clause[1]
        return ast.Parameter(
            name=str(items[1]),
            type_name=items[2],
            meta=self._meta_of(clauses, meta),
            keys=keys,
            steps=tuple(c for c in clauses if isinstance(c, ast.ValueStep)),
            tables=tuple(c for c in clauses if isinstance(c, ast.TableRef)),
            derivations=tuple(c for c in clauses if isinstance(c, ast.Derivation)),
            span=_span(self.file, meta),
        )

    # ---------------------------------------------------------------- definitions
    @v_args(meta=True)
    def definition(self, meta: Any, items: list[Any]) -> ast.Definition:
        return ast.Definition(
            str(items[1]), str(items[3]), items[4], self._meta_of(items[5:], meta),
            span=_span(self.file, meta),
        )  # fmt: skip

    # ---------------------------------------------------------------- rules
    def bound(self, items: list[Any]) -> str:
        return "min" if _is(items[1], "MOINS") else "max"

    @v_args(meta=True)
    def local_bounds(self, meta: Any, items: list[Any]) -> ast.LocalBounds:
        lower = upper = None
        pairs = [item for item in items[2:] if not _is(item, "ET")]
        for bound, value in zip(pairs[::2], pairs[1::2], strict=True):
            if bound == "min":
                lower = value
            else:
                upper = value
        return ast.LocalBounds(lower, upper, span=_span(self.file, meta))

    def period(self, items: list[Any]) -> tuple[str, dt.date, dt.date | None]:
        end = items[3].value if len(items) > 2 else None
        return ("period", items[1].value, end)

    def applicability(self, items: list[Any]) -> tuple[str, ast.Expr]:
        return ("applicability", items[2])

    @v_args(meta=True)
    def population(self, meta: Any, items: list[Any]) -> ast.Population:
        rest = [item for item in items[1:] if not _is(item, "LES")]
        entity = str(rest[0])
        where = rest[2] if len(rest) > 2 else None
        return ast.Population(entity, where, span=_span(self.file, meta))

    @v_args(meta=True)
    def grouping(self, meta: Any, items: list[Any]) -> ast.Grouping:
        names = tuple(str(item) for item in items[1:] if _is(item, "NAME"))
        return ast.Grouping(names, whole="whole_flow" in items,
                            information="for_information" in items, span=_span(self.file, meta))  # fmt: skip

    def whole_flow(self, items: list[Any]) -> str:
        return "whole_flow"

    def for_information(self, items: list[Any]) -> str:
        return "for_information"

    @v_args(meta=True)
    def share(self, meta: Any, items: list[Any]) -> ast.Requirement:
        return ast.Requirement("share", items[2], items[3], items[5], span=_span(self.file, meta))

    @v_args(meta=True)
    def count(self, meta: Any, items: list[Any]) -> ast.Requirement:
        return ast.Requirement("count", items[2], items[3], items[5], span=_span(self.file, meta))

    @v_args(meta=True)
    def each(self, meta: Any, items: list[Any]) -> ast.Requirement:
        return ast.Requirement("each", None, None, items[2], span=_span(self.file, meta))

    def requirement(self, items: list[Any]) -> ast.Requirement:
        requirement: ast.Requirement = items[1]
        return requirement

    @v_args(meta=True)
    def exception(self, meta: Any, items: list[Any]) -> ast.RuleException:
        return ast.RuleException(items[2], tuple(items[3:]), span=_span(self.file, meta))

    @v_args(meta=True)
    def also(self, meta: Any, items: list[Any]) -> ast.Also:
        return ast.Also(_string(items[1]), items[2], span=_span(self.file, meta))

    def amends(self, items: list[Any]) -> tuple[str, bool]:
        return ("amends", True)

    @v_args(meta=True)
    def let(self, meta: Any, items: list[Any]) -> ast.Let:
        return ast.Let(str(items[1]), items[2], span=_span(self.file, meta))

    @v_args(meta=True)
    def removal(self, meta: Any, items: list[Any]) -> ast.Removal:
        removed: ast.Removal = items[1]
        return ast.Removal(removed.kind, removed.dimensions, removed.whole, removed.condition,
                           removed.label, span=_span(self.file, meta))  # fmt: skip

    def removed_applicability(self, items: list[Any]) -> ast.Removal:
        return ast.Removal("applicability")

    def removed_grouping(self, items: list[Any]) -> ast.Removal:
        names = tuple(str(item) for item in items[1:] if _is(item, "NAME"))
        return ast.Removal("grouping", dimensions=names, whole="whole_flow" in items)

    def removed_exception(self, items: list[Any]) -> ast.Removal:
        return ast.Removal("exception", condition=items[2])

    def removed_also(self, items: list[Any]) -> ast.Removal:
        return ast.Removal("also", label=_string(items[1]))

    def removed_let(self, items: list[Any]) -> ast.Removal:
        return ast.Removal("let", label=str(items[1]))

    @v_args(meta=True)
    def version(self, meta: Any, items: list[Any]) -> ast.Version:
        _, start, end = items[1]
        clauses = items[2:]
        applicability = next((c[1] for c in clauses if _tagged(c, "applicability")), None)
        population = next((c for c in clauses if isinstance(c, ast.Population)), None)
        requirement = next((c for c in clauses if isinstance(c, ast.Requirement)), None)
        return ast.Version(
            start=start,
            end=end,
            meta=self._meta_of(clauses, meta),
            applicability=applicability,
            population=population,
            groupings=tuple(c for c in clauses if isinstance(c, ast.Grouping)),
            requirement=requirement,
            exceptions=tuple(c for c in clauses if isinstance(c, ast.RuleException)),
            also=tuple(c for c in clauses if isinstance(c, ast.Also)),
            amends=any(_tagged(c, "amends") for c in clauses),
            lets=tuple(c for c in clauses if isinstance(c, ast.Let)),
            removals=tuple(c for c in clauses if isinstance(c, ast.Removal)),
            span=_span(self.file, meta),
        )

    @v_args(meta=True)
    def rule(self, meta: Any, items: list[Any]) -> ast.Rule:
        clauses = items[2:]
        return ast.Rule(
            rule_id=str(items[1]),
            meta=self._meta_of(clauses, meta),
            local_bounds=next((c for c in clauses if isinstance(c, ast.LocalBounds)), None),
            versions=tuple(c for c in clauses if isinstance(c, ast.Version)),
            span=_span(self.file, meta),
        )

    # ---------------------------------------------------------------- commitments
    def territory(self, items: list[Any]) -> tuple[str, str]:
        return ("territory", _string(items[1]))

    def signatories(self, items: list[Any]) -> tuple[str, tuple[str, ...]]:
        return ("signatories", tuple(_string(item) for item in items[1:]))

    def commitment_period(self, items: list[Any]) -> tuple[str, dt.date, dt.date | None]:
        end = items[3].value if len(items) > 2 else None
        return ("period", items[1].value, end)

    @v_args(meta=True)
    def scope_item(self, meta: Any, items: list[Any]) -> ast.ScopeItem:
        return ast.ScopeItem(str(items[0]), _string(items[1]), span=_span(self.file, meta))

    def _year(self, token: Token) -> int:
        value = _number(str(token))
        if value.denominator != 1 or not 1000 <= value <= 9999:
            self.diagnostics.append(Diagnostic("E508", f"« {token} » n'est pas une année",
                                               _token_span(self.file, token)))  # fmt: skip
        return int(value)

    def objective_bound(self, items: list[Any]) -> tuple[str, str]:
        return ("bound", "min" if _is(items[1], "MOINS") else "max")

    @v_args(meta=True)
    def yearly_value(self, meta: Any, items: list[Any]) -> ast.YearlyValue:
        return ast.YearlyValue(self._year(items[1]), items[2], span=_span(self.file, meta))

    def schedule(self, items: list[Any]) -> tuple[str, tuple[ast.YearlyValue, ...]]:
        return ("schedule", tuple(items))

    @v_args(meta=True)
    def cumulative(self, meta: Any, items: list[Any]) -> tuple[str, ast.Expr, ast.Years]:
        first, last = items[2], items[4]
        span = _token_span(self.file, first)
        end = _token_span(self.file, last)
        years = ast.Years(self._year(first), self._year(last), span=ast.Span(
            self.file, span.line, span.column, end.end_line, end.end_column))  # fmt: skip
        return ("cumulative", items[0], years)

    @v_args(meta=True)
    def objective(self, meta: Any, items: list[Any]) -> ast.Objective:
        rest = [item for item in items[2:] if not _is(item, "POUR")]
        scope = tuple(item for item in rest if isinstance(item, ast.ScopeItem))
        others = [item for item in rest if not isinstance(item, ast.ScopeItem)]
        bound = next((item[1] for item in others if _tagged(item, "bound")), None)
        others = [item for item in others if not _tagged(item, "bound")]
        value: ast.Expr | None = others[0]
        schedule: tuple[ast.YearlyValue, ...] = ()
        cumulative: ast.Years | None = None
        if _tagged(others[0], "schedule"):
            value, schedule = None, others[0][1]
        elif _tagged(others[0], "cumulative"):
            value, cumulative = others[0][1], others[0][2]
        return ast.Objective(
            str(items[1]),
            scope,
            value,
            tuple(item for item in others[1:] if isinstance(item, ast.Source)),
            bound=bound,
            schedule=schedule,
            cumulative=cumulative,
            span=_span(self.file, meta),
        )

    @v_args(meta=True)
    def owed_by(self, meta: Any, items: list[Any]) -> tuple[str, str, ast.Span]:
        return ("owed_by", _string(items[1]), _span(self.file, meta))

    @v_args(meta=True)
    def due(self, meta: Any, items: list[Any]) -> tuple[str, dt.date, ast.Span]:
        return ("due", items[1].value, _span(self.file, meta))

    @v_args(meta=True)
    def done(self, meta: Any, items: list[Any]) -> tuple[str, dt.date, ast.Span]:
        return ("done", items[1].value, _span(self.file, meta))

    @v_args(meta=True)
    def qualitative(self, meta: Any, items: list[Any]) -> ast.Qualitative:
        clauses = items[2:]
        span = _span(self.file, meta)
        own = [c for c in clauses if isinstance(c, tuple)]
        last = max((c[2] for c in own), key=lambda s: (s.end_line, s.end_column), default=None)
        text_end = _token_span(self.file, items[1])
        end = last or text_end
        head = ast.Span(self.file, span.line, span.column, end.end_line, end.end_column)
        return ast.Qualitative(
            _string(items[1]),
            owed_by=next((c[1] for c in own if c[0] == "owed_by"), None),
            due=next((c[1] for c in own if c[0] == "due"), None),
            done=next((c[1] for c in own if c[0] == "done"), None),
            sources=tuple(c for c in clauses if isinstance(c, ast.Source)),
            head=head,
            span=span,
        )

    @v_args(meta=True)
    def commitment(self, meta: Any, items: list[Any]) -> ast.Commitment:
        clauses = items[2:]
        period = next((c for c in clauses if _tagged(c, "period")), None)
        signatories: tuple[str, ...] = ()
        for clause in clauses:
            if _tagged(clause, "signatories"):
                signatories += clause[1]
        return ast.Commitment(
            commitment_id=str(items[1]),
            meta=self._meta_of(clauses, meta),
            territory=next((c[1] for c in clauses if _tagged(c, "territory")), None),
            signatories=signatories,
            start=period[1] if period else None,
            end=period[2] if period else None,
            objectives=tuple(c for c in clauses if isinstance(c, ast.Objective)),
            qualitatives=tuple(c for c in clauses if isinstance(c, ast.Qualitative)),
            span=_span(self.file, meta),
        )

    def start(self, items: list[Any]) -> tuple[ast.Declaration, ...]:
        return tuple(items)


def _tagged(item: Any, tag: str) -> bool:
    return isinstance(item, tuple) and len(item) >= 2 and item[0] == tag


def _declaration_started_on_line(text: str, token: Token) -> tuple[int, int, str] | None:
    """A declaration keyword opening the error's line, read as a name because the previous
    declaration was unfinished: the place to show is that keyword, not the token after it."""
    if not token.line or token.type == "$END":
        return None
    line = text.splitlines()[token.line - 1] if token.line <= len(text.splitlines()) else ""
    stripped = line.lstrip()
    word = stripped.split(" ", 1)[0] if stripped else ""
    column = len(line) - len(stripped) + 1
    keywords = {strip_accents(k) for k in _DECLARATION_KEYWORDS}
    if word and strip_accents(word.lower()) in keywords and (token.column or 0) > column:
        return token.line, column, word
    return None


def _syntax_diagnostic(file: str, error: UnexpectedInput, text: str) -> Diagnostic:
    line = getattr(error, "line", 0) or 0
    column = getattr(error, "column", 0) or 0
    if isinstance(error, UnexpectedEOF) or (
        isinstance(error, UnexpectedToken) and error.token.type == "$END"
    ):
        last_line = max(text.count("\n") + 1, 1)
        span = ast.Span(file, last_line, 1, last_line, 2)
        return Diagnostic(
            "E102",
            "le fichier s'arrête au milieu d'une déclaration",
            span,
            hint="une expression, une parenthèse ou une clause n'est pas terminée",
        )
    if isinstance(error, UnexpectedCharacters):
        span = ast.Span(file, line, column, line, column + 1)
        position = error.pos_in_stream or 0
        char = text[position] if 0 <= position < len(text) else "?"
        return Diagnostic(
            "E103",
            f"caractère « {char} » inattendu ici",
            span,
            hint='les textes s\'écrivent entre guillemets droits "…" ; '
            "les décimales avec une virgule collée (0,5)",
        )
    assert isinstance(error, UnexpectedToken)
    token = error.token
    started = _declaration_started_on_line(text, token)
    if started is not None:
        line_number, column, word = started
        return Diagnostic(
            "E101",
            f"« {word} » commence une nouvelle déclaration alors que la précédente n'est pas finie",
            ast.Span(file, line_number, column, line_number, column + len(word)),
            hint="terminez la clause précédente (une condition, une valeur ou une parenthèse manque)",
        )
    span = _token_span(file, token)
    expected = _expected(set(error.expected))
    hint = f"attendu : {expected}" if expected else None
    if str(token) == ".":
        hint = "les décimales s'écrivent avec une virgule collée : 0,3 (le point n'est pas admis)"
    close = difflib.get_close_matches(str(token).lower(), _KEYWORDS, n=1, cutoff=0.75)
    if token.type == "NAME" and close and close[0] != str(token).lower():
        hint = f"vouliez-vous dire « {close[0]} » ?"
    word = str(token)
    if word.lower() in _DECLARATION_KEYWORDS or token.type in {
        "PARAMETRE",
        "DEFINITION",
        "REGLE",
        "ENGAGEMENT",
    }:
        message = (
            f"« {word} » commence une nouvelle déclaration alors que la précédente n'est pas finie"
        )
    else:
        message = f"« {word} » inattendu ici"
    return Diagnostic("E101", message, span, hint=hint)


def parse(text: str, file: str = "<texte>") -> tuple[ast.Module | None, list[Diagnostic]]:
    """Parse one rule file. Returns the module (None on a syntax error) and diagnostics."""
    try:
        tree = _lark().parse(text)
    except UnexpectedInput as error:
        return None, [_syntax_diagnostic(file, error, text)]
    builder = _Builder(file)
    try:
        declarations = builder.transform(tree)
    except (RecursionError, VisitError) as error:
        if isinstance(error, VisitError) and not isinstance(error.orig_exc, RecursionError):
            raise
        span = ast.Span(file, 1, 1, 1, 2)
        return None, [Diagnostic("E106", "expression trop longue ou trop imbriquée pour être lue",
                                 span, hint="découpez-la en définitions intermédiaires")]  # fmt: skip
    end_line = max(text.count("\n") + 1, 1)
    module = ast.Module(file, declarations, span=ast.Span(file, 1, 1, end_line, 1))
    return module, builder.diagnostics


__all__ = ["Tree", "parse"]
