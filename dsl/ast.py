"""The syntax tree of the rule language: frozen dataclasses, each node with its source span."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from fractions import Fraction


@dataclass(frozen=True)
class Span:
    file: str
    line: int
    column: int
    end_line: int
    end_column: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


NOWHERE = Span("<interne>", 0, 0, 0, 0)


@dataclass(frozen=True)
class Node:
    span: Span = field(compare=False, repr=False, kw_only=True, default=NOWHERE)


def children(node: object) -> Iterator[object]:
    """What a visitor walks into below `node`: the items of a tuple, the fields of a node.
    Sources and metadata hold no expression and are not entered."""
    if isinstance(node, tuple):
        yield from node
    elif isinstance(node, Node) and not isinstance(node, Source | Metadata):
        for name in node.__dataclass_fields__:
            yield getattr(node, name)


# ------------------------------------------------------------------------ metadata


@dataclass(frozen=True)
class Source(Node):
    """A legal or documentary reference: a text, optionally an article and an address."""

    title: str
    article: str | None = None
    url: str | None = None


@dataclass(frozen=True)
class Metadata(Node):
    """What every declaration may carry: a title, sources, notes and points of uncertainty."""

    title: str | None = None
    sources: tuple[Source, ...] = ()
    uncertain: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()


# ------------------------------------------------------------------------ expressions


@dataclass(frozen=True)
class Expr(Node):
    pass


@dataclass(frozen=True)
class Number(Expr):
    value: Fraction
    text: str


@dataclass(frozen=True)
class Percent(Expr):
    value: Fraction  # as a ratio: 25 % is 1/4
    text: str


@dataclass(frozen=True)
class Money(Expr):
    value: Fraction  # euros
    text: str


@dataclass(frozen=True)
class String(Expr):
    value: str


@dataclass(frozen=True)
class DateLiteral(Expr):
    value: dt.date


@dataclass(frozen=True)
class Boolean(Expr):
    value: bool


@dataclass(frozen=True)
class Name(Expr):
    name: str


@dataclass(frozen=True)
class Attribute(Expr):
    owner: str
    name: str


@dataclass(frozen=True)
class Call(Expr):
    function: str
    args: tuple[Expr, ...]


@dataclass(frozen=True)
class LocalObjective(Expr):
    """« l'objectif local » : the target a local commitment (CIA) sets for the scope."""


@dataclass(frozen=True)
class KeyArg(Node):
    name: str
    value: Expr


@dataclass(frozen=True)
class Lookup(Expr):
    parameter: str
    keys: tuple[KeyArg, ...]


@dataclass(frozen=True)
class Negate(Expr):
    operand: Expr


@dataclass(frozen=True)
class Arithmetic(Expr):
    op: str  # + - * /
    left: Expr
    right: Expr


@dataclass(frozen=True)
class Compare(Expr):
    op: str  # < <= > >= = !=
    left: Expr
    right: Expr


@dataclass(frozen=True)
class And(Expr):
    left: Expr
    right: Expr


@dataclass(frozen=True)
class Or(Expr):
    left: Expr
    right: Expr


@dataclass(frozen=True)
class Not(Expr):
    operand: Expr


@dataclass(frozen=True)
class If(Expr):
    condition: Expr
    then: Expr
    otherwise: Expr


@dataclass(frozen=True)
class IsSet(Expr):
    operand: Expr
    negated: bool


@dataclass(frozen=True)
class Member(Expr):
    operand: Expr
    options: tuple[Expr, ...]


@dataclass(frozen=True)
class Contains(Expr):
    operand: Expr
    item: str


@dataclass(frozen=True)
class LetterRange(Node):
    """One letter (`first == last`) or a range of letters, "a" à "m", as written."""

    first: str
    last: str

    @property
    def letters(self) -> tuple[str, ...]:
        if len(self.first) != 1 or len(self.last) != 1:
            return (self.first,) if self.first == self.last else (self.first, self.last)
        return tuple(chr(code) for code in range(ord(self.first), ord(self.last) + 1))


@dataclass(frozen=True)
class ContainsAny(Expr):
    """« liste contient l'un de ("a" à "m", "p") »: the list holds at least one of the letters."""

    operand: Expr
    choices: tuple[LetterRange, ...]

    @property
    def letters(self) -> tuple[str, ...]:
        """Every letter named, each once, in the order written."""
        seen: dict[str, None] = {}
        for choice in self.choices:
            seen.update(dict.fromkeys(choice.letters))
        return tuple(seen)


# ------------------------------------------------------------------------ parameters


@dataclass(frozen=True)
class KeyDecl(Node):
    name: str
    type_name: str


@dataclass(frozen=True)
class ValueStep(Node):
    """From `start` (to `end`, when given) the parameter is `value`, by virtue of `sources`."""

    start: dt.date
    end: dt.date | None
    value: Expr
    sources: tuple[Source, ...]


@dataclass(frozen=True)
class TableRef(Node):
    """Values (with dates and sources) loaded from a data file kept in rules/."""

    path: str
    value_column: str | None


@dataclass(frozen=True)
class Derivation(Node):
    """For key value `target`, the value is that of key value `origin` times `factor`."""

    key: str
    target: Expr
    origin: Expr
    factor: Expr
    sources: tuple[Source, ...]


@dataclass(frozen=True)
class Parameter(Node):
    name: str
    type_name: str
    meta: Metadata
    keys: tuple[KeyDecl, ...] = ()
    steps: tuple[ValueStep, ...] = ()
    tables: tuple[TableRef, ...] = ()
    derivations: tuple[Derivation, ...] = ()


# ------------------------------------------------------------------------ definitions


@dataclass(frozen=True)
class Definition(Node):
    name: str
    entity: str
    expr: Expr
    meta: Metadata


# ------------------------------------------------------------------------ rules


@dataclass(frozen=True)
class LocalBounds(Node):
    """Where a local commitment (CIA) may set the rule's target: [lower, upper]."""

    lower: Expr | None
    upper: Expr | None


@dataclass(frozen=True)
class Population(Node):
    entity: str
    where: Expr | None


@dataclass(frozen=True)
class Grouping(Node):
    dimensions: tuple[str, ...]
    # « sur l'ensemble des territoires »: no « epci » added, every EPCI counted together.
    whole: bool = False
    # « pour information »: figures without a verdict (not counted as a failure anywhere).
    information: bool = False

    @property
    def level(self) -> tuple[str, ...]:
        """The dimensions counted: as written for a whole-flow level, else with « epci »."""
        if self.whole or "epci" in self.dimensions:
            return self.dimensions
        return ("epci", *self.dimensions)


@dataclass(frozen=True)
class Requirement(Node):
    kind: str  # "share" | "count" | "each"
    bound: str | None  # "min" | "max" (share and count)
    target: Expr | None  # share and count
    condition: Expr


@dataclass(frozen=True)
class RuleException(Node):
    condition: Expr
    sources: tuple[Source, ...]


@dataclass(frozen=True)
class Also(Node):
    """A further indicator reported with the result, e.g. the rate without rehoused households."""

    label: str
    condition: Expr


@dataclass(frozen=True)
class Let(Node):
    """« soit nom = valeur » : a value named in a version (a deadline, a rate), so that a
    version written by difference can change it alone."""

    name: str
    value: Expr


@dataclass(frozen=True)
class Removal(Node):
    """« retirer … » in a version written by difference: a clause of the previous version that
    this one drops. `kind` says which; the other fields name the clause."""

    kind: str  # "applicability" | "grouping" | "exception" | "also" | "let"
    dimensions: tuple[str, ...] = ()  # grouping
    whole: bool = False  # grouping « sur l'ensemble des territoires »
    condition: Expr | None = None  # exception
    label: str | None = None  # also: its label; let: its name


@dataclass(frozen=True)
class Version(Node):
    start: dt.date
    end: dt.date | None
    meta: Metadata
    applicability: Expr | None
    population: Population | None
    groupings: tuple[Grouping, ...]
    requirement: Requirement | None
    exceptions: tuple[RuleException, ...]
    also: tuple[Also, ...]
    # Versions by difference (dsl.versions resolves them: the Rulebook's versions are whole).
    amends: bool = False  # « reprend la version précédente »
    lets: tuple[Let, ...] = ()
    removals: tuple[Removal, ...] = ()


@dataclass(frozen=True)
class Rule(Node):
    rule_id: str
    meta: Metadata
    local_bounds: LocalBounds | None
    versions: tuple[Version, ...]


# ------------------------------------------------------------------------ commitments


@dataclass(frozen=True)
class ScopeItem(Node):
    name: str
    value: str


@dataclass(frozen=True)
class YearlyValue(Node):
    """One step of a schedule: « en 2024 : 22 % »."""

    year: int
    value: Expr


@dataclass(frozen=True)
class Years(Node):
    """The years a cumulative objective is reached over, both included: « de 2021 à 2026 »."""

    first: int
    last: int


@dataclass(frozen=True)
class Objective(Node):
    """An objective of an engagement. Its value is a share (a percentage) or a number of
    records (an integer, even on a rule that requires a share); one value (`value`), one per
    year (`schedule`, then `value` is None), or one reached over several years
    (`cumulative`). `bound` is "min" (« au moins »), "max" (« au plus ») or None: the rule's
    own reading."""

    rule_id: str
    scope: tuple[ScopeItem, ...]
    value: Expr | None
    sources: tuple[Source, ...]
    bound: str | None = None
    schedule: tuple[YearlyValue, ...] = ()
    cumulative: Years | None = None

    def values(self) -> tuple[tuple[int | None, Expr], ...]:
        """Each value with its year (None: every year of the engagement)."""
        if self.value is not None:
            return ((None, self.value),)
        return tuple((step.year, step.value) for step in self.schedule)


@dataclass(frozen=True)
class Qualitative(Node):
    """« qualitatif "…" » : a commitment mixite lists in every report and does not check: who
    owes it (« par »), by when (« échéance »), declared done on a day (« fait ») with its
    reference as a source."""

    text: str
    owed_by: str | None
    due: dt.date | None
    done: dt.date | None
    sources: tuple[Source, ...]
    # The commitment's own text, without its sources (for the formatter); not part of its meaning.
    head: Span = field(compare=False, repr=False, default=NOWHERE)


@dataclass(frozen=True)
class Commitment(Node):
    commitment_id: str
    meta: Metadata
    territory: str | None
    signatories: tuple[str, ...]
    start: dt.date | None
    end: dt.date | None
    objectives: tuple[Objective, ...]
    qualitatives: tuple[Qualitative, ...] = ()


Declaration = Parameter | Definition | Rule | Commitment


@dataclass(frozen=True)
class Module(Node):
    """One rule file."""

    file: str
    declarations: tuple[Declaration, ...]
