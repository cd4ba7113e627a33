"""The checked rulebook: rules with their dated versions, parameters with their dated and
sourced values, definitions, local commitments, and the types of every expression."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import PurePosixPath

from dsl import ast
from dsl.typecheck import Annotations
from dsl.types import Type

Value = Fraction | str | bool | dt.date


@dataclass(frozen=True)
class ParameterValue:
    start: dt.date
    end: dt.date | None  # inclusive; None: until a later value
    key: tuple[str, ...]  # the key values, in the parameter's key order ("" for no key)
    value: Value
    sources: tuple[ast.Source, ...]
    origin: str  # where it was written: "fichier:ligne"
    derived_from: tuple[str, ...] | None = None  # the key it was derived from, if any
    # How a person names the key in this period (a table's `libelle` column): the EPCI's name
    # in that year's arrêté when the key is its SIREN. Display only, never matched by a rule.
    label: str | None = None
    # Supplied by a user's local parameters file (dsl/local_parameters.py), not by the national
    # rules: shown as « valeur fournie localement ».
    local: bool = False

    def covers(self, day: dt.date) -> bool:
        return self.start <= day and (self.end is None or day <= self.end)


@dataclass
class CheckedParameter:
    decl: ast.Parameter
    type: Type
    keys: tuple[tuple[str, Type], ...]
    values: list[ParameterValue] = field(default_factory=list)
    # key -> values sorted by start date, for lookups
    _index: dict[tuple[str, ...], list[ParameterValue]] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.decl.name

    def index(self) -> None:
        self._index = {}
        for value in sorted(self.values, key=lambda v: (v.key, v.start)):
            self._index.setdefault(value.key, []).append(value)

    def key_of(self, key_values: Mapping[str, object]) -> tuple[str, ...]:
        return tuple(_key_text(key_values[name]) for name, _ in self.keys)

    def value_at(
        self, day: dt.date, key_values: Mapping[str, object] | None = None
    ) -> ParameterValue | None:
        """The value in force on `day` for these keys: the latest start on or before `day`
        whose period covers it."""
        key = self.key_of(key_values or {}) if self.keys else ()
        found = None
        for value in self._index.get(key, ()):
            if value.start > day:
                break
            found = value
        if found is not None and found.covers(day):
            return found
        return None

    def series(self, key_values: Mapping[str, object] | None = None) -> list[ParameterValue]:
        key = self.key_of(key_values or {}) if self.keys else ()
        return list(self._index.get(key, ()))

    def all_keys(self) -> list[tuple[str, ...]]:
        return sorted(self._index)

    def labels(self) -> dict[tuple[str, ...], list[ParameterValue]]:
        """Key -> its values that carry a label (a table's `libelle` column), oldest first."""
        return {key: [v for v in values if v.label] for key, values in self._index.items()
                if any(v.label for v in values)}  # fmt: skip


def _key_text(value: object) -> str:
    if isinstance(value, Fraction) and value.denominator == 1:
        return str(value.numerator)
    return str(value)


@dataclass
class Rulebook:
    parameters: dict[str, CheckedParameter]
    definitions: dict[str, dict[str, ast.Definition]]  # entity -> name -> definition
    rules: dict[str, ast.Rule]
    commitments: dict[str, ast.Commitment]
    annotations: Annotations
    sources: dict[str, str]  # file name -> text (rule files and data tables)
    rule_files: dict[str, str] = field(default_factory=dict)  # rule id -> file

    def text_of(self, span: ast.Span) -> str | None:
        """The rule text `span` covers, on one line with its spaces collapsed; None when the
        span is not in a file of the rulebook."""
        lines = self.sources.get(span.file, "").splitlines()[span.line - 1 : span.end_line]
        if span.line < 1 or len(lines) != span.end_line - span.line + 1:
            return None
        lines[-1] = lines[-1][: span.end_column - 1]
        lines[0] = lines[0][span.column - 1 :]
        return " ".join(" ".join(lines).split())

    @property
    def digest(self) -> str:
        """SHA-256 of every file the rulebook was built from: each file's own name (its logical
        name, which tables are known by) and content, never its folder, so that the same rules
        give the same digest whichever folder they are read from or the command is run in."""
        entries = sorted(
            (PurePosixPath(name).name, hashlib.sha256(text.encode()).hexdigest())
            for name, text in self.sources.items()
        )
        sha = hashlib.sha256()
        for name, content in entries:
            sha.update(name.encode() + b"\0" + content.encode() + b"\0")
        return sha.hexdigest()

    def version_at(self, rule_id: str, day: dt.date) -> ast.Version | None:
        for version in self.rules[rule_id].versions:
            if version.start <= day and (version.end is None or day <= version.end):
                return version
        return None

    def versions_during(self, rule_id: str, start: dt.date, end: dt.date) -> list[ast.Version]:
        return [
            version
            for version in self.rules[rule_id].versions
            if version.start <= end and (version.end is None or version.end >= start)
        ]
