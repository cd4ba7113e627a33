"""Compiling rule expressions to SQLAlchemy Core, with exact rational arithmetic.

Every number is carried as a fraction `n / d` of SQL integers (`Num`), so that comparisons
are made by cross-multiplication and give the same answer, to the cent, on SQLite, PostgreSQL
and in the Python reference interpreter. A division by zero or by a negative amount yields
NULL (unknown), as in the interpreter. Booleans follow SQL's three-valued logic, which the
interpreter reproduces (Kleene logic). Parameter values are inlined as CASE expressions,
restricted to the evaluated period and to the key values present in the data.
"""

from __future__ import annotations

import datetime as dt
import math
import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, NamedTuple

from sqlalchemy import (
    Date,
    Integer,
    String,
    and_,
    case,
    cast,
    extract,
    false,
    func,
    literal,
    not_,
    null,
    or_,
    true,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import BindParameter, ColumnElement
from sqlalchemy.sql.visitors import InternalTraversal, _TraverseInternalsType
from sqlalchemy.types import Boolean, Text

from checker.db.codes import LINK_PREFIX, MONEY_COLUMNS
from dsl import ast
from dsl.rulebook import CheckedParameter, Rulebook
from dsl.schema import Entity
from dsl.types import ENUM, LETTERS, NUMERIC, TEXT, Type

SqlExpr = ColumnElement[Any]
Denominator = int | SqlExpr


@dataclass(frozen=True)
class Num:
    """The rational n / d; d is a positive int, or a SQL integer positive whenever n is not NULL."""

    n: SqlExpr
    d: Denominator


# One instance of each type for the literals the compiler writes: SQLAlchemy adapts a type to
# the dialect once per instance (`literal(v, Integer)` made a new one for each of the thousands
# of values a parameter's CASE holds, each adapted again when compiled).
_INTEGER = Integer()
_STRING = String()
_DATE = Date()


def _int(value: int) -> SqlExpr:
    return literal(value, _INTEGER)


_INT4 = 2**31 - 1  # PostgreSQL's integer: a larger folded constant is left to the database


def _constant(expr: SqlExpr) -> int | None:
    """The value of an integer written in the statement (`_int`), else None."""
    if isinstance(expr, BindParameter) and type(expr.value) is int:
        return expr.value
    return None


def _folded(left: SqlExpr, right: SqlExpr, op: Callable[[Any, Any], Any]) -> SqlExpr:
    """`op` of two integers written in the statement computed here (`1 * 10 - 1` is `9`): a
    statement is then shorter and the database computes nothing per record for it."""
    a, b = _constant(left), _constant(right)
    if a is not None and b is not None and -_INT4 <= op(a, b) <= _INT4:
        return _int(op(a, b))
    result: SqlExpr = op(left, right)
    return result


def _times(expr: SqlExpr, factor: Denominator) -> SqlExpr:
    if isinstance(factor, int):
        return expr if factor == 1 else _folded(expr, _int(factor), operator.mul)
    return expr * factor


def _mul_den(a: Denominator, b: Denominator) -> Denominator:
    if isinstance(a, int) and isinstance(b, int):
        return a * b
    if isinstance(a, int):
        return b if a == 1 else _int(a) * b
    if isinstance(b, int):
        return a if b == 1 else a * _int(b)
    return a * b


def _common(a: Num, b: Num) -> tuple[SqlExpr, SqlExpr, Denominator]:
    """Both numerators over a common denominator."""
    if isinstance(a.d, int) and isinstance(b.d, int):
        common = math.lcm(a.d, b.d)
        return _times(a.n, common // a.d), _times(b.n, common // b.d), common
    return _times(a.n, b.d), _times(b.n, a.d), _mul_den(a.d, b.d)


@dataclass(frozen=True)
class _Entry:
    """One value of a parameter in force during the period: its key, the test of the date
    when it is not in force for the whole period, and its value (then its SQL result)."""

    key: tuple[str, ...]
    dated: SqlExpr | None
    value: Any  # a number for numeric parameters, else a text
    result: SqlExpr | None = None

    def with_result(self, result: SqlExpr) -> _Entry:
        return _Entry(self.key, self.dated, self.value, result)


class _Key(NamedTuple):
    """A key of a parameter lookup: its value per record, the values it takes in the data when
    known, and whether it is an integer (a household category) compared with the keys that
    are integers written in decimal (`CASE categorie WHEN 1 …`) rather than as text."""

    expression: SqlExpr
    domain: set[str] | None
    integer: bool = False


def _keyed_case(keys: list[_Key], entries: list[_Entry]) -> SqlExpr:
    """A parameter lookup as CASE expressions nested key by key: `CASE financement WHEN 'PLUS'
    THEN CASE zone WHEN … END END`. Each key is computed once per record and compared with a
    few values, where one flat CASE would test every branch's keys in turn (84 branches for
    the income ceilings, a third of R441-1's time). A key whose only value is known (an enum
    written in the rule) is not tested: the entries were already restricted to it."""

    def level(index: int, items: list[_Entry]) -> SqlExpr:
        if index == len(keys):
            if len(items) == 1 and items[0].dated is None:
                result = items[0].result
                assert result is not None
                return result
            return case(
                *(
                    (item.dated if item.dated is not None else true(), item.result)
                    for item in items
                ),
                else_=null(),
            )
        groups: dict[str, list[_Entry]] = {}
        for item in items:
            groups.setdefault(item.key[index], []).append(item)
        expression, domain, integer = keys[index]
        if domain is not None and len(domain) == 1 and len(groups) == 1:
            return level(index + 1, items)
        if integer:
            # An integer equals a key written « 3 », never « 03 » nor « personne_supplementaire ».
            numbered = [(value, group) for value, group in groups.items() if _decimal(value)]
            if not numbered:
                return null()
            return case(
                *((_int(int(value)), level(index + 1, group)) for value, group in numbered),
                value=expression,
                else_=null(),
            )
        return case(
            *(
                (literal(value, _STRING), level(index + 1, group))
                for value, group in groups.items()
            ),
            value=expression,
            else_=null(),
        )

    return level(0, entries)


def _decimal(text: str) -> bool:
    """Whether `text` is how SQL writes an integer as text (CAST(3 AS VARCHAR) is « 3 »)."""
    try:
        return str(int(text)) == text
    except ValueError:
        return False


class HoldsAnyLetter(ColumnElement[bool]):
    """« liste contient l'un de (…) »: whether a list of letters (stored « a|c|f ») holds one
    of `letters`, as one test per record where the database has one.

    Written as one `LIKE` per letter, the test cost PostgreSQL more than the rest of the rule
    (L441-1.PRIORITAIRES-25, thirteen letters: twice its hand-written query); PostgreSQL
    compares the split list with an array of the letters (`&&`), SQLite matches one `GLOB`
    with a class of the letters. Both give the reference interpreter's answer: letters are
    single alphabetic characters (the type checker refuses any other), so none is special to
    GLOB, and an absent list holds none (`coalesce` to false).
    """

    type = Boolean()
    inherit_cache = True
    _traverse_internals: _TraverseInternalsType = [  # noqa: RUF012 (SQLAlchemy's protocol)
        ("subject", InternalTraversal.dp_clauseelement),
        ("letters", InternalTraversal.dp_string_list),
    ]

    def __init__(self, subject: SqlExpr, letters: tuple[str, ...]) -> None:
        assert letters  # the grammar asks for one letter at least
        self.subject = subject
        self.letters = list(letters)


@compiles(HoldsAnyLetter)
def _holds_any_letter(element: HoldsAnyLetter, compiler: SQLCompiler, **kw: Any) -> str:
    """SQLite's form, also the one sized by `checker.evaluate.definitions` (a short test)."""
    letters = "".join(element.letters)
    pattern = f"*|{letters}|*" if len(letters) == 1 else f"*|[{letters}]|*"
    wrapped = literal("|") + element.subject + literal("|")
    return compiler.process(
        func.coalesce(wrapped.self_group().op("GLOB")(literal(pattern)), false()), **kw
    )


@compiles(HoldsAnyLetter, "postgresql")
def _holds_any_letter_postgresql(element: HoldsAnyLetter, compiler: SQLCompiler, **kw: Any) -> str:
    # Imported here: only PostgreSQL's compiler gets here, with its dialect already loaded; the
    # dialect's package costs SQLite users (the rule tests) a fiftieth of a second to import.
    from sqlalchemy.dialects.postgresql import ARRAY, array

    held = func.string_to_array(element.subject, literal("|"), type_=ARRAY(Text)).op("&&")(
        cast(array([literal(letter, Text) for letter in element.letters]), ARRAY(Text))
    )
    return compiler.process(func.coalesce(held, false()), **kw)


class Pick(ColumnElement[Any]):
    """min(a, b) or max(a, b) of two numerators over the same denominator; unknown when
    either is (as in the reference interpreter).

    SQLite's functions `min(a, b)` and `max(a, b)` are exactly that, each argument computed
    once. Elsewhere (PostgreSQL's LEAST and GREATEST ignore NULLs) it is a CASE, where each
    argument is written three times: R441-1's `min(personnes_plafonds, 6)`.
    """

    inherit_cache = True
    _traverse_internals: _TraverseInternalsType = [  # noqa: RUF012 (SQLAlchemy's protocol)
        ("function", InternalTraversal.dp_string),
        ("left", InternalTraversal.dp_clauseelement),
        ("right", InternalTraversal.dp_clauseelement),
    ]

    def __init__(self, function: str, left: SqlExpr, right: SqlExpr) -> None:
        assert function in ("min", "max")
        self.function = function
        self.left = left
        self.right = right
        self.type = left.type

    def as_case(self) -> SqlExpr:
        left, right = self.left, self.right
        pick_left = left <= right if self.function == "min" else left >= right
        # Unknown when either is: without the first branch, a NULL on the left would fail the
        # comparison and pick the right-hand value.
        either_unknown = or_(left.is_(None), right.is_(None))
        return case((either_unknown, null()), (pick_left, left), else_=right)


@compiles(Pick)
def _pick(element: Pick, compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(element.as_case(), **kw)


@compiles(Pick, "sqlite")
def _pick_sqlite(element: Pick, compiler: SQLCompiler, **kw: Any) -> str:
    function = func.min if element.function == "min" else func.max
    return compiler.process(function(element.left, element.right), **kw)


class UnsupportedConstruct(Exception):
    """A construct the SQL compiler cannot translate; reported as E601 when the rules load."""

    def __init__(self, reason: str, node: ast.Node | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.node = node


@dataclass
class CompileContext:
    rulebook: Rulebook
    entity: Entity
    row: Any  # the FROM clause whose columns are the entity's fields
    period: tuple[dt.date, dt.date]
    key_domain: Callable[[ast.Expr], set[str] | None]  # distinct values of a key in the data
    # Definitions already computed as columns of `row` (see checker.evaluate.definitions);
    # any other definition is compiled inline.
    definitions: Mapping[str, Num | SqlExpr] = field(default_factory=dict)


class SqlCompiler:
    def __init__(self, context: CompileContext) -> None:
        self.context = context
        self.rulebook = context.rulebook
        self.types = context.rulebook.annotations.types
        self.resolutions = context.rulebook.annotations.resolutions

    @property
    def fact_date(self) -> SqlExpr:
        column: SqlExpr = self.context.row.c.fact_date
        return column

    def type_of(self, expr: ast.Expr) -> Type:
        return self.types[id(expr)]

    # ------------------------------------------------------------------ entry points
    def condition(self, expr: ast.Expr) -> SqlExpr:
        value = self.compile(expr)
        assert not isinstance(value, Num)
        return value

    def compile(self, expr: ast.Expr) -> Num | SqlExpr:
        match expr:
            case ast.Number(value=value) | ast.Percent(value=value) | ast.Money(value=value):
                return Num(_int(value.numerator), value.denominator)
            case ast.String(value=text):
                return literal(text, _STRING)
            case ast.DateLiteral(value=day):
                return literal(day, _DATE)
            case ast.Boolean(value=flag):
                return literal(flag)
            case ast.Name():
                return self._name(expr)
            case ast.Attribute(name=name):
                column: SqlExpr = self.context.row.c[LINK_PREFIX + name]
                return self._wrap_column(column, self.type_of(expr))
            case ast.Lookup():
                return self._lookup(expr)
            case ast.Call():
                return self._call(expr)
            case ast.Negate(operand=operand):
                inner = self.compile(operand)
                assert isinstance(inner, Num)
                constant = _constant(inner.n)
                return Num(-inner.n if constant is None else _int(-constant), inner.d)
            case ast.Arithmetic(op=op, left=left, right=right):
                return self._arithmetic(op, self._num(left), self._num(right))
            case ast.Compare(op=op, left=left, right=right):
                return self._compare(op, left, right)
            case ast.And(left=left, right=right):
                return and_(self.condition(left), self.condition(right))
            case ast.Or(left=left, right=right):
                return or_(self.condition(left), self.condition(right))
            case ast.Not(operand=operand):
                return not_(self.condition(operand))
            case ast.If(condition=condition, then=then, otherwise=otherwise):
                return self._if(condition, then, otherwise)
            case ast.IsSet(operand=operand, negated=negated):
                compiled = self.compile(operand)
                target = compiled.n if isinstance(compiled, Num) else compiled
                return target.is_(None) if negated else target.is_not(None)
            case ast.Member(operand=operand, options=options):
                subject = self.compile(operand)
                if isinstance(subject, Num):  # numbers: equal to one of the options
                    equalities = []
                    for option in options:
                        lhs, rhs, _ = _common(subject, self._num(option))
                        equalities.append(lhs == rhs)
                    return func.coalesce(or_(*equalities), false())
                values = [self._option(option) for option in options]
                # An absent text or enumeration value is in no list (see the interpreter).
                return func.coalesce(subject.in_(values), false())
            case ast.Contains(operand=operand, item=item):
                subject = self.compile(operand)
                assert not isinstance(subject, Num)
                wrapped = literal("|") + subject + literal("|")
                # An absent list of letters contains none (as in the interpreter).
                return func.coalesce(wrapped.like(f"%|{item}|%"), false())
            case ast.ContainsAny(operand=operand):
                subject = self.compile(operand)
                assert not isinstance(subject, Num)
                return HoldsAnyLetter(subject, expr.letters)
        raise UnsupportedConstruct(f"expression {type(expr).__name__}", expr)

    # ------------------------------------------------------------------ pieces
    def _num(self, expr: ast.Expr) -> Num:
        value = self.compile(expr)
        if not isinstance(value, Num):
            raise UnsupportedConstruct("une valeur numérique est attendue ici", expr)
        return value

    def _wrap_column(self, column: SqlExpr, type_: Type) -> Num | SqlExpr:
        if type_.kind in NUMERIC:
            return Num(column, 1)
        return column

    def _name(self, expr: ast.Name) -> Num | SqlExpr:
        resolution = self.resolutions[id(expr)]
        if resolution.kind == "field":
            if resolution.name in MONEY_COLUMNS:
                return Num(self.context.row.c[MONEY_COLUMNS[resolution.name]], 100)
            return self._wrap_column(self.context.row.c[resolution.name], self.type_of(expr))
        if resolution.kind == "definition":
            if resolution.name in self.context.definitions:
                return self.context.definitions[resolution.name]
            definition = self.rulebook.definitions[self.context.entity.name][resolution.name]
            return self.compile(definition.expr)
        if resolution.kind == "parameter":
            return self._parameter(self.rulebook.parameters[resolution.name], {})
        if resolution.kind == "enum":
            return literal(resolution.name, _STRING)
        if resolution.kind == "local":  # a version's « soit »: computed where it is named
            return self.compile(self.rulebook.annotations.locals[id(expr)])
        raise UnsupportedConstruct(f"ce nom ({resolution.kind}) ne se calcule pas en SQL", expr)

    def _option(self, option: ast.Expr) -> SqlExpr:
        resolution = self.resolutions.get(id(option))
        if resolution is not None and resolution.kind == "enum":
            return literal(resolution.name, _STRING)
        value = self.compile(option)
        assert not isinstance(value, Num)
        return value

    def _lookup(self, expr: ast.Lookup) -> Num | SqlExpr:
        parameter = self.rulebook.parameters[expr.parameter]
        keys: dict[str, _Key] = {}
        for key in expr.keys:
            resolution = self.resolutions.get(id(key.value))
            if resolution is not None and resolution.kind == "enum":
                keys[key.name] = _Key(literal(resolution.name, _STRING), {resolution.name})
                continue
            value = self.compile(key.value)
            if isinstance(value, Num):  # an integer naming a numbered value (household category)
                if value.d != 1:
                    raise UnsupportedConstruct("une clé numérique doit être un entier", key.value)
                keys[key.name] = _Key(value.n, self.context.key_domain(key.value), integer=True)
                continue
            keys[key.name] = _Key(value, self.context.key_domain(key.value))
        return self._parameter(parameter, keys)

    def _parameter(self, parameter: CheckedParameter, keys: Mapping[str, _Key]) -> Num | SqlExpr:
        start, end = self.context.period
        names = [name for name, _ in parameter.keys]
        domains = [keys[name][1] for name in names]
        entries: list[_Entry] = []
        for key in parameter.all_keys():
            if any(
                domain is not None and part not in domain
                for domain, part in zip(domains, key, strict=True)
            ):
                continue  # a key value absent from the data: no branch for it
            for value in parameter.series(dict(zip(names, key, strict=True))):
                if value.start > end or (value.end is not None and value.end < start):
                    continue
                # Every record judged has its fact date within the period: a value in force
                # over the whole period needs no test of the date.
                dated: list[SqlExpr] = []
                if value.start > start:
                    dated.append(self.fact_date >= literal(value.start, _DATE))
                if value.end is not None and value.end < end:
                    dated.append(self.fact_date <= literal(value.end, _DATE))
                entries.append(
                    _Entry(tuple(value.key), and_(*dated) if dated else None, value.value)
                )
        if parameter.type.kind in NUMERIC:
            if not entries:  # no value in force during the period: unknown
                return Num(literal(None, _INTEGER), 1)
            denominator = math.lcm(1, *(Fraction(e.value).denominator for e in entries))
            scaled = [e.with_result(_int(int(Fraction(e.value) * denominator))) for e in entries]
            return Num(_keyed_case([keys[name] for name in names], scaled), denominator)
        if not entries:
            return literal(None, _STRING)
        return _keyed_case(
            [keys[name] for name in names], [e.with_result(literal(e.value)) for e in entries]
        )

    def _call(self, expr: ast.Call) -> Num | SqlExpr:
        if expr.function == "annee":
            day = self.compile(expr.args[0])
            assert not isinstance(day, Num)
            return Num(extract("year", day), 1)
        if expr.function in ("min", "max"):
            values = [self._num(arg) for arg in expr.args]
            result = values[0]
            for other in values[1:]:
                left, right, common = _common(result, other)
                result = Num(Pick(expr.function, left, right), common)
            return result
        if expr.function == "publie":
            value = self.compile(expr.args[0])
            target = value.n if isinstance(value, Num) else value
            return target.is_not(None)
        if expr.function == "inscrit":
            raise UnsupportedConstruct(
                "inscrit(…) ne se lit que dans « s'applique si » (une fois par EPCI), pas dans "
                "une condition sur les enregistrements",
                expr,
            )
        raise UnsupportedConstruct(f"fonction {expr.function} sans traduction SQL", expr)

    def _arithmetic(self, op: str, a: Num, b: Num) -> Num:
        if op in "+-":
            left, right, common = _common(a, b)
            return Num(_folded(left, right, operator.add if op == "+" else operator.sub), common)
        if op == "*":
            return Num(_folded(a.n, b.n, operator.mul), _mul_den(a.d, b.d))
        # a / b = (a.n * b.d) / (a.d * b.n); unknown unless b > 0 (b.d is positive)
        numerator = case((b.n > 0, _times(a.n, b.d)), else_=null())
        return Num(numerator, _mul_den(a.d, b.n))

    def _compare(self, op: str, left: ast.Expr, right: ast.Expr) -> SqlExpr:
        left_type = self.type_of(left)
        if left_type.kind in NUMERIC:
            lhs, rhs, _ = _common(self._num(left), self._num(right))
        else:
            lhs_value = self.compile(left)
            rhs_value = self._option(right) if left_type.kind == ENUM else self.compile(right)
            assert not isinstance(lhs_value, Num) and not isinstance(rhs_value, Num)
            lhs, rhs = lhs_value, rhs_value
            if left_type.kind in (ENUM, TEXT) and op in ("=", "!="):
                # An absent text or enumeration value equals nothing: a known "no", not an
                # unknown (as in the interpreter).
                equal = func.coalesce(lhs == rhs, false())
                return equal if op == "=" else not_(equal)
        if op == "<":
            return lhs < rhs
        if op == "<=":
            return lhs <= rhs
        if op == ">":
            return lhs > rhs
        if op == ">=":
            return lhs >= rhs
        return lhs == rhs if op == "=" else lhs != rhs

    def _if(self, condition: ast.Expr, then: ast.Expr, otherwise: ast.Expr) -> Num | SqlExpr:
        test = self.condition(condition)
        a, b = self.compile(then), self.compile(otherwise)
        if isinstance(a, Num) and isinstance(b, Num):
            left, right, common = _common(a, b)
            return Num(_choose(test, left, right), common)
        assert not isinstance(a, Num) and not isinstance(b, Num)
        return _choose(test, a, b)


def _choose(test: SqlExpr, then: SqlExpr, otherwise: SqlExpr) -> SqlExpr:
    """`then` where `test` is true, `otherwise` where it is false, NULL where it is unknown.

    `CASE test WHEN true … WHEN false …`: the test is computed once per record, where
    `CASE WHEN test … WHEN NOT test …` computed it again for every record that fails it (a
    definition's test written in three times in R441-1's statement: six times).
    """
    return case((true(), then), (false(), otherwise), value=test, else_=null())


__all__ = [
    "LETTERS",
    "TEXT",
    "CompileContext",
    "HoldsAnyLetter",
    "Num",
    "SqlCompiler",
    "UnsupportedConstruct",
]
