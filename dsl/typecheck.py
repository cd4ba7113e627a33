"""Name resolution and type checking of expressions, in the context of one population."""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from dsl import ast
from dsl.diagnostics import Diagnostic
from dsl.schema import Entity, Schema
from dsl.types import BOOL, DATE, ENUM, INT, LETTERS, PERCENT, TEXT, Type, arithmetic, same_unit

FUNCTIONS = ("annee", "min", "max", "publie", "inscrit")


@dataclass(frozen=True)
class Resolution:
    """What a name in an expression refers to."""

    kind: str  # "field" | "link" | "definition" | "parameter" | "enum" | "extra" | "local"
    name: str
    entity: str | None = None


@dataclass
class Annotations:
    """Types and resolutions of expression nodes, keyed by node identity."""

    types: dict[int, Type] = field(default_factory=dict)
    resolutions: dict[int, Resolution] = field(default_factory=dict)
    # A name resolved to a version's « soit nom = valeur » → that value's expression, which the
    # engines compute in its place.
    locals: dict[int, ast.Expr] = field(default_factory=dict)


@dataclass(frozen=True)
class ParameterSignature:
    type: Type
    keys: tuple[tuple[str, Type], ...]


@dataclass
class Context:
    """Everything a name may refer to where an expression stands."""

    schema: Schema
    entity: Entity | None
    parameters: Mapping[str, ParameterSignature]
    definition_type: Callable[[str, str, ast.Span], Type | None]  # (entity, name, use) → type
    definitions: Mapping[str, Mapping[str, ast.Definition]]  # entity → name → definition
    extras: Mapping[str, Type] = field(default_factory=dict)
    # The version's « soit » values: name → (expression, its type).
    locals: Mapping[str, tuple[ast.Expr, Type | None]] = field(default_factory=dict)


class ExpressionChecker:
    def __init__(self, annotations: Annotations, diagnostics: list[Diagnostic]) -> None:
        self.annotations = annotations
        self.diagnostics = diagnostics

    def error(self, code: str, message: str, span: ast.Span, hint: str | None = None) -> None:
        self.diagnostics.append(Diagnostic(code, message, span, hint=hint))

    def _record(self, node: ast.Expr, type_: Type | None) -> Type | None:
        if type_ is not None:
            self.annotations.types[id(node)] = type_
        return type_

    def condition(self, expr: ast.Expr, context: Context, what: str) -> None:
        type_ = self.infer(expr, context)
        if type_ is not None and type_.kind != BOOL:
            self.error(
                "E303",
                f"{what} doit être une condition (vraie ou fausse), pas un(e) {type_}",
                expr.span,
            )

    def infer(self, expr: ast.Expr, context: Context) -> Type | None:
        return self._record(expr, self._infer(expr, context))

    # ------------------------------------------------------------------ the cases
    def _infer(self, expr: ast.Expr, context: Context) -> Type | None:
        match expr:
            case ast.Number(value=value):
                return (
                    Type(INT)
                    if value.denominator == 1 and "," not in expr.text
                    else Type("décimal")
                )
            case ast.Percent() | ast.LocalObjective():
                return Type(PERCENT)
            case ast.Money():
                return Type("montant")
            case ast.String():
                return Type(TEXT)
            case ast.DateLiteral():
                return Type(DATE)
            case ast.Boolean():
                return Type(BOOL)
            case ast.Name():
                return self._name(expr, context)
            case ast.Attribute():
                return self._attribute(expr, context)
            case ast.Lookup():
                return self._lookup(expr, context)
            case ast.Call():
                return self._call(expr, context)
            case ast.Negate(operand=operand):
                type_ = self.infer(operand, context)
                if type_ is not None and not type_.is_numeric:
                    self.error(
                        "E301", f"on ne peut pas prendre l'opposé d'un(e) {type_}", expr.span
                    )
                    return None
                return type_
            case ast.Arithmetic(op=op, left=left, right=right):
                lt, rt = self.infer(left, context), self.infer(right, context)
                if lt is None or rt is None:
                    return None
                result = arithmetic(op, lt, rt)
                if result is None:
                    code = "E302" if lt.is_numeric and rt.is_numeric else "E301"
                    self.error(
                        code,
                        f"opération « {op} » impossible entre un(e) {lt} et un(e) {rt}",
                        expr.span,
                        hint="les unités doivent se correspondre (un pourcentage n'est pas "
                        "un montant en euros)",
                    )
                return result
            case ast.Compare():
                return self._compare(expr, context)
            case ast.And(left=left, right=right) | ast.Or(left=left, right=right):
                self.condition(left, context, "chaque membre de « et » / « ou »")
                self.condition(right, context, "chaque membre de « et » / « ou »")
                return Type(BOOL)
            case ast.Not(operand=operand):
                self.condition(operand, context, "ce qui suit « non »")
                return Type(BOOL)
            case ast.If(condition=condition, then=then, otherwise=otherwise):
                self.condition(condition, context, "la condition de « si »")
                tt, ot = self.infer(then, context), self.infer(otherwise, context)
                if tt is None or ot is None:
                    return None
                if not same_unit(tt, ot):
                    self.error(
                        "E301",
                        f"les deux branches de « si » n'ont pas le même type ({tt} et {ot})",
                        expr.span,
                    )
                    return None
                return tt.with_nullable(tt.nullable or ot.nullable)
            case ast.IsSet(operand=operand):
                self.infer(operand, context)
                return Type(BOOL)
            case ast.Member(operand=operand, options=options):
                type_ = self.infer(operand, context)
                for option in options:
                    self._literal_against(option, type_, context)
                return Type(BOOL)
            case ast.ContainsAny(operand=operand, choices=choices):
                type_ = self.infer(operand, context)
                if type_ is not None and type_.kind != LETTERS:
                    self.error(
                        "E301",
                        f"« contient l'un de » s'applique à une liste de lettres, pas à un(e) {type_}",
                        expr.span,
                    )
                for choice in choices:
                    self._letter_range(choice)
                return Type(BOOL)
            case ast.Contains(operand=operand, item=item):
                type_ = self.infer(operand, context)
                if type_ is not None and type_.kind != LETTERS:
                    self.error(
                        "E301",
                        f"« contient » s'applique à une liste de lettres, pas à un(e) {type_}",
                        expr.span,
                    )
                elif len(item) != 1 or not item.isalpha():
                    self.error("E304", f"« {item} » n'est pas une lettre", expr.span)
                return Type(BOOL)
        self.error("E301", "expression non prise en charge", expr.span)
        return None

    def _letter_range(self, choice: ast.LetterRange) -> None:
        for letter in {choice.first, choice.last}:
            if len(letter) != 1 or not letter.isalpha():
                self.error("E304", f"« {letter} » n'est pas une lettre", choice.span)
                return
        if choice.last < choice.first:
            self.error("E304", f"plage de lettres à l'envers : « {choice.first} » à « {choice.last} »",
                       choice.span, hint=f'écrivez "{choice.last}" à "{choice.first}"')  # fmt: skip

    def _candidates(self, context: Context) -> list[str]:
        names = list(context.extras) + list(context.locals)
        if context.entity is not None:
            names += list(context.entity.fields)
            names += list(context.definitions.get(context.entity.name, {}))
            names += list(context.entity.links)
        names += [name for name, sig in context.parameters.items() if not sig.keys]
        return names

    def _unknown(self, name: str, span: ast.Span, candidates: list[str], what: str) -> None:
        close = difflib.get_close_matches(name, candidates, n=1, cutoff=0.6)
        hint = f"vouliez-vous dire « {close[0]} » ?" if close else None
        self.error("E201", f"« {name} » : {what} inconnu(e)", span, hint=hint)

    def _name(self, expr: ast.Name, context: Context) -> Type | None:
        name = expr.name
        entity = context.entity
        if name in context.locals:
            value, type_ = context.locals[name]
            self.annotations.resolutions[id(expr)] = Resolution("local", name)
            self.annotations.locals[id(expr)] = value
            return type_
        if name in context.extras:
            self.annotations.resolutions[id(expr)] = Resolution("extra", name)
            return context.extras[name]
        if entity is not None and name in entity.fields:
            self.annotations.resolutions[id(expr)] = Resolution("field", name, entity.name)
            return entity.fields[name]
        if entity is not None and name in context.definitions.get(entity.name, {}):
            self.annotations.resolutions[id(expr)] = Resolution("definition", name, entity.name)
            return context.definition_type(entity.name, name, expr.span)
        if name in context.parameters:
            signature = context.parameters[name]
            if signature.keys:
                keys = ", ".join(f"{key}: …" for key, _ in signature.keys)
                self.error(
                    "E205",
                    f"le paramètre « {name} » dépend de clés : écrivez {name}[{keys}]",
                    expr.span,
                )
                return None
            self.annotations.resolutions[id(expr)] = Resolution("parameter", name)
            return signature.type.with_nullable(True)
        where = f" des {entity.label}" if entity else ""
        self._unknown(name, expr.span, self._candidates(context), f"nom{where}")
        return None

    def _attribute(self, expr: ast.Attribute, context: Context) -> Type | None:
        entity = context.entity
        if entity is None or expr.owner not in entity.links:
            links = list(entity.links) if entity else []
            self._unknown(expr.owner, expr.span, links, "objet lié")
            return None
        linked = context.schema.entities[entity.links[expr.owner]]
        if expr.name in linked.population_only:
            self.error("E203", f"« {expr.owner}.{expr.name} » ne se lit pas depuis les {entity.label} : "
                       f"seulement dans une règle « parmi les {linked.name} »", expr.span)  # fmt: skip
            return None
        if expr.name not in linked.fields:
            self._unknown(expr.name, expr.span, list(linked.fields), f"champ de {expr.owner}")
            return None
        self.annotations.resolutions[id(expr)] = Resolution("link", expr.name, linked.name)
        return linked.fields[expr.name]

    def _lookup(self, expr: ast.Lookup, context: Context) -> Type | None:
        signature = context.parameters.get(expr.parameter)
        if signature is None:
            keyed = [name for name, sig in context.parameters.items() if sig.keys]
            self._unknown(expr.parameter, expr.span, keyed, "paramètre")
            return None
        expected = dict(signature.keys)
        given = [key.name for key in expr.keys]
        if set(given) != set(expected) or len(given) != len(set(given)):
            listed = ", ".join(expected) or "aucune"
            self.error(
                "E205",
                f"le paramètre « {expr.parameter} » se consulte avec les clés : {listed}",
                expr.span,
            )
            return None
        for key in expr.keys:
            self._literal_against(key.value, expected[key.name], context)
        self.annotations.resolutions[id(expr)] = Resolution("parameter", expr.parameter)
        return signature.type.with_nullable(True)

    def _call(self, expr: ast.Call, context: Context) -> Type | None:
        name, args = expr.function, expr.args
        if name == "annee":
            if len(args) != 1:
                self.error("E204", "annee(…) prend une date", expr.span)
                return None
            type_ = self.infer(args[0], context)
            if type_ is not None and type_.kind != DATE:
                self.error("E301", f"annee(…) prend une date, pas un(e) {type_}", expr.span)
                return None
            return Type(INT, nullable=bool(type_ and type_.nullable))
        if name in ("min", "max"):
            if len(args) < 2:
                self.error("E204", f"{name}(…) prend au moins deux valeurs", expr.span)
                return None
            types = [self.infer(arg, context) for arg in args]
            if any(t is None for t in types):
                return None
            first = types[0]
            assert first is not None
            for other in types[1:]:
                assert other is not None
                if not (first.is_numeric and same_unit(first, other)):
                    self.error("E302", f"{name}(…) compare des valeurs de même unité", expr.span)
                    return None
            return first
        if name == "inscrit":
            # The lists a yearly arrêté publishes (the EPCI with a quartile threshold): read by
            # the applicability of a rule, per EPCI, never compiled to SQL (E601 elsewhere).
            if len(args) != 1 or not isinstance(args[0], ast.Lookup):
                self.error(
                    "E204",
                    "inscrit(…) prend un paramètre à clés, ex. inscrit(seuil_q1[epci: siren_arrete])",
                    expr.span,
                )
                return None
            self.infer(args[0], context)
            return Type(BOOL, nullable=True)
        if name == "publie":
            if len(args) != 1 or not isinstance(args[0], ast.Lookup | ast.Name):
                self.error(
                    "E204",
                    "publie(…) prend un paramètre, ex. publie(seuil_q1[epci: nom_arrete])",
                    expr.span,
                )
                return None
            self.infer(args[0], context)
            return Type(BOOL)
        self._unknown(name, expr.span, list(FUNCTIONS), "fonction")
        return None

    def _literal_against(self, expr: ast.Expr, expected: Type | None, context: Context) -> None:
        """Check a value written against the type it must have (enum values as bare names)."""
        if expected is not None and expected.kind == ENUM:
            value = None
            if isinstance(expr, ast.String):
                value = expr.value
            elif isinstance(expr, ast.Name) and not self._resolvable(expr.name, context):
                value = expr.name
            if value is not None:
                if value not in expected.values:
                    close = difflib.get_close_matches(value, expected.values, n=1, cutoff=0.5)
                    hint = (
                        f"vouliez-vous dire « {close[0]} » ?"
                        if close
                        else ("valeurs admises : " + ", ".join(expected.values))
                    )
                    self.error(
                        "E304",
                        f"« {value} » n'est pas une valeur de {expected}",
                        expr.span,
                        hint=hint,
                    )
                else:
                    self.annotations.resolutions[id(expr)] = Resolution("enum", value)
                    self._record(expr, expected.with_nullable(False))
                return
        type_ = self.infer(expr, context)
        if (
            expected is not None and expected.kind == ENUM and type_ is not None
            and type_.kind == INT and any(value.isdigit() for value in expected.values)
        ):  # fmt: skip
            return  # an integer names a numbered value (e.g. household category 3)
        mismatch = type_ is not None and expected is not None and not same_unit(type_, expected)
        text_against_enum = (
            expected is not None
            and expected.kind == TEXT
            and type_ is not None
            and type_.kind == ENUM
        )
        if mismatch and not text_against_enum:
            self.error("E301", f"attendu : un(e) {expected} ; trouvé : un(e) {type_}", expr.span)

    def _resolvable(self, name: str, context: Context) -> bool:
        entity = context.entity
        return (
            name in context.extras
            or name in context.locals
            or (
                entity is not None
                and (name in entity.fields or name in context.definitions.get(entity.name, {}))
            )
            or name in context.parameters
        )

    def _compare(self, expr: ast.Compare, context: Context) -> Type | None:
        left_type = self.infer(expr.left, context)
        if left_type is not None and left_type.kind == ENUM:
            if expr.op not in ("=", "!="):
                self.error("E301", f"une valeur de {left_type} se compare avec = ou !=", expr.span)
            self._literal_against(expr.right, left_type, context)
            return Type(BOOL)
        right_type = self.infer(expr.right, context)
        if left_type is None or right_type is None:
            return Type(BOOL)
        if not same_unit(left_type, right_type):
            code = "E302" if left_type.is_numeric and right_type.is_numeric else "E301"
            self.error(
                code,
                f"comparaison impossible entre un(e) {left_type} et un(e) {right_type}",
                expr.span,
                hint="un pourcentage se compare à un pourcentage, un montant à un montant",
            )
        elif expr.op not in ("=", "!=") and left_type.kind in (BOOL, TEXT, LETTERS):
            self.error("E301", f"« {expr.op} » ne s'applique pas à un(e) {left_type}", expr.span)
        return Type(BOOL)
