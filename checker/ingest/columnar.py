"""Validating a file column by column: each distinct cell text goes through pydantic once.

An export repeats the same texts endlessly (a handful of SIREN, a few hundred dates, small
counts, oui/non). Validating every distinct text of a column once with that column's pydantic
type, then assembling rows from the results, gives exactly the row-by-row verdict of the
model (the fields of our row models do not depend on each other) at a fraction of the cost.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from itertools import islice
from typing import Annotated, Any

from pydantic import BaseModel, TypeAdapter, ValidationError

from checker.ingest.rows import french_errors

# The texts remembered per column, beyond which the column's cache starts again: the columns
# that repeat their texts (SIREN, dates, codes, small counts) have far fewer; those of
# identifiers and amounts have more and gain nothing from it. 65 536 held ≈ 24 MiB of the
# reading process's 106 MiB (attributions and CALEOL of the 100 000 bundle), for no measurable
# CPU (docs/dev/performance.md, « Memory »).
_MAX_CACHED = 1 << 12


@dataclass(frozen=True)
class Invalid:
    message: str


@dataclass(frozen=True)
class CellError:
    row: int  # index of the row in the chunk
    field: str
    message: str


class ColumnValidator:
    """Validates chunks of rows given as {field: [cell text, …]}; yields records (namedtuples)."""

    def __init__(self, model: type[BaseModel]) -> None:
        self.fields = list(model.model_fields)
        # A record with the model's field names; built at run time from the model.
        self.record_type: Any = namedtuple(f"{model.__name__}Record", self.fields)  # type: ignore[misc]
        self._adapters: dict[str, TypeAdapter[Any]] = {}
        self._list_adapters: dict[str, TypeAdapter[list[Any]]] = {}
        self._defaults: dict[str, Any] = {}
        for name, info in model.model_fields.items():
            field_type: Any = Annotated[(info.annotation, *info.metadata)]
            self._adapters[name] = TypeAdapter(field_type)
            self._list_adapters[name] = TypeAdapter(list[field_type])
            if not info.is_required():
                self._defaults[name] = info.default
        self._caches: dict[str, dict[str, Any]] = {name: {} for name in self.fields}
        self._invalid: dict[str, set[str]] = {name: set() for name in self.fields}

    def _parse(self, name: str, raw: str) -> Any:
        try:
            return self._adapters[name].validate_python(raw)
        except ValidationError as error:
            return Invalid(french_errors(error, {"": raw})[0][1])

    def _column(self, name: str, cells: Sequence[str]) -> tuple[list[Any], bool]:
        cache = self._caches[name]
        invalid = self._invalid[name]
        try:  # most chunks of most columns hold only texts seen before
            parsed = list(map(cache.__getitem__, cells))
        except KeyError:
            parsed = self._parse_new(name, cells, cache, invalid)
        return parsed, bool(invalid) and not invalid.isdisjoint(cells)

    def _parse_new(
        self, name: str, cells: Sequence[str], cache: dict[str, Any], invalid: set[str]
    ) -> list[Any]:
        if len(cache) > _MAX_CACHED:  # a column of distinct values (identifiers): stop caching
            cache.clear()
        missing = list(set(cells).difference(cache))
        if missing:
            try:  # one pydantic call for all the new texts of this column
                cache.update(
                    zip(missing, self._list_adapters[name].validate_python(missing), strict=True)
                )
            except ValidationError:  # rare: find the culprits one by one
                for raw in missing:
                    value = cache[raw] = self._parse(name, raw)
                    if type(value) is Invalid:
                        invalid.add(raw)
        return list(map(cache.__getitem__, cells))

    def validate(
        self, columns: Mapping[str, Sequence[str]], size: int
    ) -> tuple[list[tuple[Any, ...] | None], list[CellError]]:
        """Rows of the chunk as tuples in field order (None for an invalid row), and errors.

        Plain tuples, not records: they cross process boundaries cheaply; `record_type._make`
        turns one into a record with named fields.
        """
        parsed_columns: list[list[Any]] = []
        suspicious: list[int] = []
        for position, name in enumerate(self.fields):
            if name in columns:
                parsed, has_invalid = self._column(name, columns[name])
                if has_invalid:
                    suspicious.append(position)
            elif name in self._defaults:
                parsed = [self._defaults[name]] * size
            else:  # a required field without a column is refused before validation
                raise KeyError(name)
            parsed_columns.append(parsed)
        records: list[tuple[Any, ...] | None] = list(zip(*parsed_columns, strict=True))
        errors: list[CellError] = []
        for position in suspicious:
            name = self.fields[position]
            for index, value in enumerate(parsed_columns[position]):
                if type(value) is Invalid:
                    errors.append(CellError(index, name, value.message))
                    records[index] = None
        errors.sort(key=lambda error: (error.row, self.fields.index(error.field)))
        return records, errors


def chunks(
    rows: Iterator[tuple[int, list[str]]], size: int
) -> Iterator[list[tuple[int, list[str]]]]:
    while chunk := list(islice(rows, size)):  # taken in C, not row by row
        yield chunk
