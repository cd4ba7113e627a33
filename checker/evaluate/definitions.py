"""Long definitions computed once per record, as columns of stacked subqueries; short ones
written in where they are used.

Compiling a definition inline wherever it is named repeats its SQL: a parameter lookup keyed
by a definition repeats the key in every branch of the parameter's CASE, and definitions
built on definitions multiply the repetition. R441-1's income ceiling compiled that way to
200 KB of SQL, which PostgreSQL took minutes to evaluate on 500 000 attributions. Here each
definition whose SQL is long (see INLINE_LIMIT) becomes a column, computed in a subquery layer
as soon as the long definitions it uses are columns of the layer below.

`OFFSET 0` keeps each layer a subquery of its own: both SQLite (its flattener leaves alone a
subquery with an OFFSET) and PostgreSQL (it does not pull up a subquery with an OFFSET)
would otherwise merge it into the query above and put the expression back at every use.
Fences are not free: PostgreSQL runs everything above one in a single process, where it would
otherwise scan, join and pre-aggregate in parallel workers (R441-5-2 on 500 000 attributions:
0.32 s fenced, 0.19 s without). Short definitions are therefore written in, and a rule made
of short definitions only has no fence at all.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Subquery, literal_column, select

from checker.db.codes import LINK_PREFIX, MONEY_COLUMNS
from checker.evaluate.sqlcompile import CompileContext, Num, SqlCompiler, SqlExpr
from dsl import ast
from dsl.rulebook import Rulebook
from dsl.schema import Entity

_PREFIX = "definition__"


@dataclass(frozen=True)
class _Stored:
    """Where a computed definition lives: its column, and its denominator when numeric."""

    column: str
    numeric: bool
    denominator: int | str | None = None  # an int, or the name of a column of denominators


@dataclass
class Layered:
    """The population with the definitions as columns, and how to name them in a compiler."""

    row: Subquery
    columns: dict[str, Num | SqlExpr] = field(default_factory=dict)


def definitions_named(
    nodes: Iterable[object], rulebook: Rulebook, entity: str, columns: set[str] | None = None
) -> dict[str, set[str]]:
    """Every definition of `entity` reachable from `nodes`, with the definitions each one names.

    `columns`, when given, receives the population columns those nodes and definitions read.
    """
    resolutions = rulebook.annotations.resolutions
    found: dict[str, set[str]] = {}
    read = columns if columns is not None else set()

    def named_in(node: object, into: set[str]) -> None:
        resolution = resolutions.get(id(node))
        if resolution is not None and resolution.kind == "definition":
            into.add(resolution.name)
        elif resolution is not None and resolution.kind == "field":
            read.add(MONEY_COLUMNS.get(resolution.name, resolution.name))
        if isinstance(node, ast.Attribute):
            read.add(LINK_PREFIX + node.name)
        for child in ast.children(node):
            named_in(child, into)

    pending: set[str] = set()
    for node in nodes:
        named_in(node, pending)
    while pending:
        name = pending.pop()
        if name in found:
            continue
        uses: set[str] = set()
        named_in(rulebook.definitions[entity][name].expr, uses)
        found[name] = uses
        pending |= uses - found.keys()
    return found


def requires_field(expr: ast.Expr, field_name: str, rulebook: Rulebook, entity: str) -> bool:
    """Whether `expr` can hold only where the boolean field `field_name` is true: the field is
    one of the terms joined by « et », directly or through the definitions it names.

    A population that requires `en_qpv` keeps only leases of a dwelling in a QPV, so the
    QPV look-up can be an inner join that starts from those dwellings (see
    `checker.evaluate.base.attributions`): SQLite then reads a third of the leases instead of
    every one (L441-1-5.QPV-HORS-Q1: 0.07 s of CPU instead of 0.25 s at 100 000 leases)."""
    if isinstance(expr, ast.And):
        return requires_field(expr.left, field_name, rulebook, entity) or requires_field(
            expr.right, field_name, rulebook, entity
        )
    if isinstance(expr, ast.Name):
        resolution = rulebook.annotations.resolutions.get(id(expr))
        if resolution is None:
            return False
        if resolution.kind == "field":
            return resolution.name == field_name
        if resolution.kind == "definition":
            definition = rulebook.definitions[entity][resolution.name]
            return requires_field(definition.expr, field_name, rulebook, entity)
    return False


def _levels(uses: Mapping[str, set[str]]) -> list[list[str]]:
    """Definitions by layer: a definition sits one layer above the highest it uses."""
    level: dict[str, int] = {}

    def level_of(name: str) -> int:
        if name not in level:  # the type checker refuses cycles among definitions
            level[name] = 1 + max((level_of(used) for used in uses[name]), default=0)
        return level[name]

    layers: dict[int, list[str]] = {}
    for name in sorted(uses):
        layers.setdefault(level_of(name), []).append(name)
    return [layers[index] for index in sorted(layers)]


def _place(name: str, value: Num | SqlExpr) -> tuple[_Stored, list[SqlExpr]]:
    """Where a definition's compiled value is stored, and the labelled columns that store it."""
    column = _PREFIX + name
    if not isinstance(value, Num):
        return _Stored(column, numeric=False), [value.label(column)]
    if isinstance(value.d, int):
        return _Stored(column, numeric=True, denominator=value.d), [value.n.label(column)]
    place = _Stored(column, numeric=True, denominator=column + "__d")
    return place, [value.n.label(column), value.d.label(column + "__d")]


def _reference(place: _Stored, column_of: Callable[[str], SqlExpr]) -> Num | SqlExpr:
    """A stored definition as the compiler names it, its columns given by `column_of`."""
    column = column_of(place.column)
    if not place.numeric:
        return column
    if isinstance(place.denominator, str):
        return Num(column, column_of(place.denominator))
    assert isinstance(place.denominator, int)
    return Num(column, place.denominator)


def _resolve(row: Subquery, stored: Mapping[str, _Stored]) -> dict[str, Num | SqlExpr]:
    return {name: _reference(place, lambda column: row.c[column]) for name, place in stored.items()}


# A definition whose SQL, with the short definitions it names written in, is longer than this
# (in characters) is computed once per record as a column behind a fence; a shorter one is
# written in at each use. Fences cost something too: PostgreSQL runs a fenced query in one
# process, where it would otherwise scan, join and pre-aggregate in parallel workers.
INLINE_LIMIT = 600


def _sql_length(value: Num | SqlExpr) -> int:
    parts = [value.n, value.d] if isinstance(value, Num) else [value]
    return sum(len(str(part)) for part in parts if not isinstance(part, int))


def _costly(
    uses: Mapping[str, set[str]], compiler_for: Callable[[Mapping[str, Num | SqlExpr]], SqlCompiler],
    rulebook: Rulebook, entity: str,
) -> set[str]:  # fmt: skip
    """The definitions to compute as columns: those whose SQL, with the short definitions
    they name written in, exceeds INLINE_LIMIT. Decided in dependency order, so that a long
    definition counts as one column name in those that use it."""
    # A long definition is named by its future column (a bare column name) while sizing the
    # definitions that use it.
    as_columns: dict[str, Num | SqlExpr] = {}
    for names in _levels(uses):
        for name in names:
            value = compiler_for(as_columns).compile(rulebook.definitions[entity][name].expr)
            if _sql_length(value) > INLINE_LIMIT:
                as_columns[name] = _reference(_place(name, value)[0], literal_column)
    return set(as_columns)


def _stored_uses(uses: Mapping[str, set[str]], costly: set[str]) -> dict[str, set[str]]:
    """For each costly definition, the costly ones it reaches through written-in ones."""

    def reached(name: str, seen: set[str]) -> set[str]:
        found: set[str] = set()
        for used in uses[name]:
            if used in seen:
                continue
            seen.add(used)
            found |= {used} if used in costly else reached(used, seen)
        return found

    return {name: reached(name, set()) for name in costly}


def with_definitions(
    row: Subquery,
    rulebook: Rulebook,
    entity: Entity,
    period: Any,
    key_domain: Callable[[ast.Expr], set[str] | None],
    uses: Mapping[str, set[str]],
    read: set[str],
) -> Layered:
    """`row` with a layer of columns per level of the costly definitions among `uses` (as
    `definitions_named` gives them); the others are written in where they are used (see
    INLINE_LIMIT).

    The layers carry only the columns of `row` in `read`: a layer computes every column it
    selects, and some are costly (the QPV look-ups).
    """
    stored: dict[str, _Stored] = {}
    if not uses:
        return Layered(row)
    row = select(*(column for column in row.c if column.name in read)).subquery("lues")
    base_row = row

    def compiler_for(definitions: Mapping[str, Num | SqlExpr]) -> SqlCompiler:
        return SqlCompiler(
            CompileContext(rulebook, entity, base_row, period, key_domain, definitions)
        )

    costly = _costly(uses, compiler_for, rulebook, entity.name)
    for index, names in enumerate(_levels(_stored_uses(uses, costly)), 1):
        compiler = SqlCompiler(
            CompileContext(rulebook, entity, row, period, key_domain, _resolve(row, stored))
        )
        computed: list[SqlExpr] = []
        for name in names:
            value = compiler.compile(rulebook.definitions[entity.name][name].expr)
            stored[name], columns = _place(name, value)
            computed.extend(columns)
        row = select(row, *computed).offset(0).subquery(f"definitions_{index}")
    return Layered(row, _resolve(row, stored))
