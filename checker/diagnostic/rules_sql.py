"""Definitions of the rules as SQL columns of a population, for the diagnostic's aggregates.

The diagnostic's computed classes and the entrants' resources are definitions of the rules
(the CIL's classification, R441-1's resources and ceilings). Evaluating them record by record
in the reference interpreter took most of the diagnostic's time at national scale; here they
go through the SQL compiler that `mixite check` uses (long definitions as columns of stacked
subqueries, see checker.evaluate.definitions), so the database computes and aggregates them.
The property test (tests/test_engines_agree.py) keeps both engines in agreement, and
tests/test_diagnostic_sql.py checks this path against the record-by-record one.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Subquery

from checker.evaluate import base, peuplement
from checker.evaluate.definitions import definitions_named, with_definitions
from checker.evaluate.sqlcompile import CompileContext, Num, SqlCompiler, SqlExpr
from checker.schema import schema
from dsl import ast
from dsl.rulebook import Rulebook


@dataclass
class Compiled:
    """The population's rows with the definitions needed, and each named definition's SQL."""

    row: Subquery
    values: dict[str, Num | SqlExpr]


def compile_definitions(
    connection: Connection,
    rulebook: Rulebook,
    entity_name: str,
    names: list[str],
    keep: list[str],
    epcis: list[str],
    period: tuple[dt.date, dt.date],
) -> Compiled:
    """The definitions `names` of `entity_name` as SQL over its population, which keeps the
    columns `keep` (to group or join on)."""
    entity = schema().entities[entity_name]
    definitions = rulebook.definitions[entity_name]
    epci_rows = [
        dict(row)
        for row in connection.execute(base.epci_rows(period[0], period[1])).mappings()
        if row["siren"] in epcis
    ]

    def key_domain(expr: ast.Expr) -> set[str] | None:
        # Distinct values of a lookup key, to keep parameter CASEs small (as `mixite check`).
        if isinstance(expr, ast.Attribute):
            return {str(epci[expr.name]) for epci in epci_rows}
        return None

    read = {"fact_date", *keep}
    uses = definitions_named([definitions[name].expr for name in names], rulebook, entity_name,
                             read)  # fmt: skip
    if entity_name == "residences":
        # Only the look-ups the definitions read (see peuplement.residences).
        rows = peuplement.residences(epcis, period, with_qpv=bool(read & {"qpv", "en_qpv"}),
                                     with_dwellings="nb_logements" in read)  # fmt: skip
    else:
        rows = base.population(entity_name, epcis, period)
    layered = with_definitions(rows, rulebook, entity, period, key_domain, uses, read)
    compiler = SqlCompiler(
        CompileContext(rulebook, entity, layered.row, period, key_domain, layered.columns)
    )
    values: dict[str, Any] = {}
    for name in names:
        stored = layered.columns.get(name)
        values[name] = stored if stored is not None else compiler.compile(definitions[name].expr)
    return Compiled(layered.row, values)
