"""The reference evaluation: the same results as `Evaluator`, counted in Python record by
record with the interpreter. Slow and simple on purpose: tests compare the two."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Date, literal, select

from checker.evaluate import base
from checker.evaluate.interpret import Interpreter
from checker.evaluate.results import Counts
from checker.evaluate.run import DIMENSION_COLUMNS, Evaluator, statement_memo
from dsl import ast


class ReferenceEvaluator(Evaluator):
    def _count(self, versions: list[ast.Version], latest: ast.Version, epcis: list[str],
               dimension_sets: list[tuple[str, ...]]) -> dict[tuple[str, ...], list[tuple[dict[str, str], Counts]]]:  # fmt: skip
        assert latest.population is not None
        entity = self.schema.entities[latest.population.entity]
        interpreter = Interpreter(self.rulebook, entity, self._bounds())
        memo = statement_memo(self.rulebook)
        key = ("enregistrements", entity.name, tuple(epcis), self._bounds())
        query = memo.get(key)
        if query is None:  # built once per process (see `Evaluator._count`)
            row = base.population(entity.name, epcis, self._bounds())
            query = memo.put(key, select(row).where(
                row.c.fact_date >= literal(self.period.start, Date),
                row.c.fact_date <= literal(self.period.end, Date),
            ))  # fmt: skip
        tallies: dict[tuple[str, ...], dict[tuple[Any, ...], Counts]] = {
            d: {} for d in dimension_sets
        }
        labels = [also.label for also in latest.also]
        for mapping in self.connection.execute(query).mappings():
            record = dict(mapping)
            day = interpreter.fact_date(record)
            version = _in_force(versions, day, self.period.start, self.period.end)
            if version is None or version.requirement is None or version.population is None:
                continue
            if (
                version.population.where is not None
                and interpreter.eval(version.population.where, record) is not True
            ):
                continue
            exempt = any(interpreter.eval(e.condition, record) is True for e in version.exceptions)
            if exempt and version.requirement.kind != "each":
                continue
            verdict = interpreter.eval(version.requirement.condition, record)
            if exempt:
                verdict = True
            extras = {
                also.label: interpreter.eval(also.condition, record) is True
                for also in version.also
            }
            for dimensions in dimension_sets:
                key = tuple(record[DIMENSION_COLUMNS[d]] for d in dimensions)
                counts = tallies[dimensions].setdefault(
                    key, Counts(0, 0, 0, dict.fromkeys(labels, 0))
                )
                counts.denominator += 1
                counts.numerator += verdict is True
                counts.unknown += verdict is None
                for label, holds in extras.items():
                    counts.extra[label] = counts.extra.get(label, 0) + holds
        return {
            dimensions: [
                (dict(zip(dimensions, key, strict=True)), counts)
                for key, counts in sorted(
                    tallies[dimensions].items(), key=lambda item: tuple(map(str, item[0]))
                )
            ]
            for dimensions in dimension_sets
        }


def _in_force(
    versions: list[ast.Version], day: dt.date | None, start: dt.date, end: dt.date
) -> ast.Version | None:
    if day is None or day < start or day > end:
        return None
    for version in versions:
        if version.start <= day and (version.end is None or day <= version.end):
            return version
    return None
