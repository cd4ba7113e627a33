"""What the rules can talk about: populations (entities), their fields, links and dimensions.

The concrete schema comes from whoever evaluates the rules (the checker maps each field to SQL);
this module only describes it, so that the language can be checked without a database.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from dsl.types import Type


@dataclass(frozen=True)
class Entity:
    name: str  # as written after "parmi les …"
    label: str  # French, for messages
    fields: Mapping[str, Type]
    links: Mapping[str, str] = field(default_factory=dict)  # `epci.nom` → entity "epci"
    dimensions: tuple[str, ...] = ()  # what "par …" may group by
    fact_date: str | None = None  # the field whose date chooses versions and values
    # Fields computed for this population only, not reachable through a link (`epci.nb_qpv`).
    population_only: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Schema:
    entities: Mapping[str, Entity]
    enums: Mapping[str, Type]  # named enumerations, usable as parameter key types
    # The entity an applicability condition ("s'applique si …") is judged on, and the extra
    # names available there (e.g. the evaluated year).
    territory_entity: str = "epci"
    territory_extras: Mapping[str, Type] = field(default_factory=dict)
