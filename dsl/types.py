"""Types of the rule language, with units: a percentage is not a sum of euros."""

from __future__ import annotations

from dataclasses import dataclass

BOOL = "booléen"
INT = "entier"
DECIMAL = "décimal"
MONEY = "montant"
PERCENT = "pourcentage"
DATE = "date"
TEXT = "texte"
ENUM = "énumération"
LETTERS = "lettres"  # a set of letters, e.g. the L441-1 priority criteria met

NUMERIC = frozenset({INT, DECIMAL, MONEY, PERCENT})


@dataclass(frozen=True)
class Type:
    kind: str
    enum: str | None = None  # the enumeration's name, for ENUM
    values: tuple[str, ...] = ()  # the enumeration's values, for ENUM
    nullable: bool = False

    def __str__(self) -> str:
        if self.kind == ENUM and self.enum:
            return self.enum
        return self.kind

    def with_nullable(self, nullable: bool) -> Type:
        return Type(self.kind, self.enum, self.values, nullable)

    @property
    def is_numeric(self) -> bool:
        return self.kind in NUMERIC


def enum(name: str, values: tuple[str, ...], nullable: bool = False) -> Type:
    return Type(ENUM, name, values, nullable)


# Names a rule author writes for types (accents optional).
SCALAR_TYPES = {
    "booleen": Type(BOOL),
    "booléen": Type(BOOL),
    "entier": Type(INT),
    "decimal": Type(DECIMAL),
    "décimal": Type(DECIMAL),
    "montant": Type(MONEY),
    "pourcentage": Type(PERCENT),
    "date": Type(DATE),
    "texte": Type(TEXT),
}


def same_unit(left: Type, right: Type) -> bool:
    """Whether two values can be compared, added or subtracted."""
    if left.kind in (INT, DECIMAL) and right.kind in (INT, DECIMAL):
        return True
    if left.kind == ENUM and right.kind == ENUM:
        return left.enum == right.enum
    return left.kind == right.kind


def arithmetic(op: str, left: Type, right: Type) -> Type | None:
    """The type of `left op right`, or None when the units do not allow it."""
    nullable = left.nullable or right.nullable
    a, b = left.kind, right.kind
    plain = (INT, DECIMAL)
    result: str | None = None
    if op in "+-":
        if a in plain and b in plain:
            result = INT if a == b == INT else DECIMAL
        elif a == b and a in (MONEY, PERCENT):
            result = a
    elif op == "*":
        if a in plain and b in plain:
            result = INT if a == b == INT else DECIMAL
        elif {a, b} <= {MONEY, INT, DECIMAL, PERCENT} and (MONEY in (a, b)):
            result = MONEY if (a == MONEY) != (b == MONEY) else None
        elif (a == PERCENT and b in (*plain, PERCENT)) or (b == PERCENT and a in plain):
            result = PERCENT
    elif op == "/":
        if a in plain and b in plain:
            result = DECIMAL
        elif a == MONEY and b in (*plain, PERCENT):
            result = MONEY
        elif a == MONEY and b == MONEY:
            result = DECIMAL
        elif a == PERCENT and b in plain:
            result = PERCENT
        elif a == PERCENT and b == PERCENT:
            result = DECIMAL
    return Type(result, nullable=nullable) if result else None
