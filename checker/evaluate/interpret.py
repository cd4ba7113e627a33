"""The reference interpreter: the same rule expressions, evaluated in Python, record by record.

It is the definition of what the SQL compiler must compute (property tests check that they
agree). Numbers are exact fractions; None is "unknown", with SQL's three-valued logic.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from fractions import Fraction
from typing import Any

from checker.db.codes import LINK_PREFIX, MONEY_COLUMNS
from dsl import ast
from dsl.rulebook import Rulebook
from dsl.schema import Entity
from dsl.types import BOOL, ENUM, NUMERIC, TEXT

Value = Fraction | str | bool | dt.date | None
Record = Mapping[str, Any]


def _and(a: Value, b: Value) -> Value:
    if a is False or b is False:
        return False
    if a is None or b is None:
        return None
    return True


def _or(a: Value, b: Value) -> Value:
    if a is True or b is True:
        return True
    if a is None or b is None:
        return None
    return False


def _number(raw: Any) -> Fraction | None:
    return None if raw is None else Fraction(raw)


class Interpreter:
    def __init__(self, rulebook: Rulebook, entity: Entity | None,
                 period: tuple[dt.date, dt.date] | None = None, *,
                 remember_definitions: bool = False) -> None:  # fmt: skip
        """`remember_definitions`: a definition's value is computed once per record, for a
        caller that evaluates several expressions of each record and never changes a record
        once evaluated (a listing: the verdict, each reason, each value shown)."""
        self.rulebook = rulebook
        self.entity = entity
        self.period = period
        self.types = rulebook.annotations.types
        self.resolutions = rulebook.annotations.resolutions
        self._remembered: dict[str, Value] | None = {} if remember_definitions else None
        self._remembered_for: Record | None = None  # held: its identity is never reused

    def field(self, record: Record, name: str) -> Value:
        if name in MONEY_COLUMNS:
            cents = record[MONEY_COLUMNS[name]]
            return None if cents is None else Fraction(cents, 100)
        assert self.entity is not None
        return self._typed(record[name], self.entity.fields[name].kind)

    @staticmethod
    def _typed(raw: Any, kind: str) -> Value:
        if raw is None:
            return None
        if kind == BOOL:
            return bool(raw)
        if kind in NUMERIC:
            return Fraction(raw)
        if isinstance(raw, dt.datetime):
            return raw.date()
        if isinstance(raw, str) and kind == "date":
            return dt.date.fromisoformat(raw)
        return raw  # type: ignore[no-any-return]

    def fact_date(self, record: Record) -> dt.date | None:
        raw = record.get("fact_date")
        if isinstance(raw, str):
            return dt.date.fromisoformat(raw)
        day: dt.date | None = raw
        return day

    def eval(self, expr: ast.Expr, record: Record) -> Value:
        match expr:
            case ast.Number(value=value) | ast.Percent(value=value) | ast.Money(value=value):
                return value
            case ast.String(value=text):
                return text
            case ast.DateLiteral(value=day):
                return day
            case ast.Boolean(value=flag):
                return flag
            case ast.Name():
                return self._name(expr, record)
            case ast.Attribute(name=name):
                return self._typed(record[LINK_PREFIX + name], self.types[id(expr)].kind)
            case ast.Lookup():
                keys: dict[str, str] = {}
                for key in expr.keys:
                    key_value = self._key(key.value, record)
                    if key_value is None:
                        return None
                    keys[key.name] = key_value
                return self._parameter(expr.parameter, record, keys)
            case ast.Call():
                return self._call(expr, record)
            case ast.Negate(operand=operand):
                inner = self.eval(operand, record)
                return -inner if isinstance(inner, Fraction) else None
            case ast.Arithmetic(op=op, left=left, right=right):
                return self._arithmetic(op, self.eval(left, record), self.eval(right, record))
            case ast.Compare(op=op, left=left, right=right):
                return self._compare(op, left, right, record)
            case ast.And(left=left, right=right):
                return _and(self.eval(left, record), self.eval(right, record))
            case ast.Or(left=left, right=right):
                return _or(self.eval(left, record), self.eval(right, record))
            case ast.Not(operand=operand):
                inner = self.eval(operand, record)
                return None if inner is None else not inner
            case ast.If(condition=condition, then=then, otherwise=otherwise):
                test = self.eval(condition, record)
                if test is None:
                    return None
                return self.eval(then if test else otherwise, record)
            case ast.IsSet(operand=operand, negated=negated):
                return (self.eval(operand, record) is None) == negated
            case ast.Member(operand=operand, options=options):
                # An absent text or enumeration value is in no list: absence is a known fact
                # there (no rehousing, no derogation), unlike a missing amount.
                subject = self.eval(operand, record)
                return subject is not None and subject in [self._option(o, record) for o in options]
            case ast.Contains(operand=operand, item=item):
                subject = self.eval(operand, record)
                return subject is not None and item in str(subject).split("|")
            case ast.ContainsAny(operand=operand):
                subject = self.eval(operand, record)
                held = set(str(subject).split("|")) if subject is not None else set()
                return any(letter in held for letter in expr.letters)
            case ast.LocalObjective():
                return None  # set by a local commitment, never by the rule itself
        raise NotImplementedError(type(expr).__name__)  # the type checker rejects the rest

    def _name(self, expr: ast.Name, record: Record) -> Value:
        resolution = self.resolutions[id(expr)]
        if resolution.kind == "field":
            return self.field(record, resolution.name)
        if resolution.kind == "definition":
            assert self.entity is not None
            definition = self.rulebook.definitions[self.entity.name][resolution.name]
            if self._remembered is None:
                return self.eval(definition.expr, record)
            # Definitions name one another (the ceiling's category from the household's size,
            # twice…): each is computed once per record instead of at every mention.
            if self._remembered_for is not record:
                self._remembered.clear()
                self._remembered_for = record
            if resolution.name not in self._remembered:
                self._remembered[resolution.name] = self.eval(definition.expr, record)
            return self._remembered[resolution.name]
        if resolution.kind == "parameter":
            return self._parameter(resolution.name, record, {})
        if resolution.kind == "enum":
            return resolution.name
        if resolution.kind == "extra":
            return self._typed(record[resolution.name], self.types[id(expr)].kind)
        if resolution.kind == "local":
            return self.eval(self.rulebook.annotations.locals[id(expr)], record)
        raise NotImplementedError(resolution.kind)

    def _key(self, expr: ast.Expr, record: Record) -> str | None:
        resolution = self.resolutions.get(id(expr))
        if resolution is not None and resolution.kind == "enum":
            return resolution.name
        value = self.eval(expr, record)
        return None if value is None else str(value)

    def _option(self, option: ast.Expr, record: Record) -> Value:
        resolution = self.resolutions.get(id(option))
        if resolution is not None and resolution.kind == "enum":
            return resolution.name
        return self.eval(option, record)

    def _parameter(self, name: str, record: Record, keys: Mapping[str, str]) -> Value:
        day = self.fact_date(record)
        if day is None:
            return None
        found = self.rulebook.parameters[name].value_at(day, keys)
        if found is None:
            return None
        if self.period is not None:
            start, end = self.period
            if found.start > end or (found.end is not None and found.end < start):
                return None
        return found.value

    def _call(self, expr: ast.Call, record: Record) -> Value:
        if expr.function == "annee":
            day = self.eval(expr.args[0], record)
            return None if day is None else Fraction(day.year)  # type: ignore[union-attr]
        if expr.function in ("min", "max"):
            values = [self.eval(arg, record) for arg in expr.args]
            if any(value is None for value in values):
                return None
            numbers: list[Any] = values
            chosen: Value = min(numbers) if expr.function == "min" else max(numbers)
            return chosen
        if expr.function == "publie":
            return self.eval(expr.args[0], record) is not None
        if expr.function == "inscrit":
            lookup = expr.args[0]
            assert isinstance(lookup, ast.Lookup)  # the type checker's guarantee
            return self._listed(lookup, record)
        raise NotImplementedError(expr.function)

    def _listed(self, lookup: ast.Lookup, record: Record) -> Value:
        """Whether these keys are among those the parameter has a value for on the record's
        date: true if so; false if the national rules hold values for other keys that day (the
        year's list is known, these keys are not on it); unknown if they hold none (no list
        for that day). A value supplied locally lists its own keys but never makes a list
        known: the other keys of a year the national rules lack stay unknown."""
        day = self.fact_date(record)
        if day is None:
            return None
        if self.eval(lookup, record) is not None:
            return True
        parameter = self.rulebook.parameters[lookup.parameter]
        known = any(not v.local and v.covers(day) for v in parameter.values)
        return False if known else None

    @staticmethod
    def _arithmetic(op: str, a: Value, b: Value) -> Value:
        if a is None or b is None:
            return None
        assert isinstance(a, Fraction) and isinstance(b, Fraction)
        if op == "+":
            return a + b
        if op == "-":
            return a - b
        if op == "*":
            return a * b
        return a / b if b > 0 else None

    def _compare(self, op: str, left: ast.Expr, right: ast.Expr, record: Record) -> Value:
        a = self.eval(left, record)
        b = self._option(right, record)
        if op in ("=", "!=") and self.types[id(left)].kind in (ENUM, TEXT):
            equal = a is not None and b is not None and a == b
            return equal if op == "=" else not equal
        if a is None or b is None:
            return None
        left_value: Any = a
        right_value: Any = b
        if op == "<":
            return bool(left_value < right_value)
        if op == "<=":
            return bool(left_value <= right_value)
        if op == ">":
            return bool(left_value > right_value)
        if op == ">=":
            return bool(left_value >= right_value)
        return (a == b) if op == "=" else (a != b)


__all__ = ["Interpreter", "_number"]
