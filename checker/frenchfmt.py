"""French presentation of numbers, amounts, percentages and dates (reports, terminal)."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_EVEN, Decimal
from fractions import Fraction

from dsl.types import DATE, MONEY, PERCENT, Type

NARROW_NBSP = "\u202f"


def _decimal(value: Fraction, places: int) -> str:
    quantum = Decimal(1).scaleb(-places)
    number = (Decimal(value.numerator) / Decimal(value.denominator)).quantize(
        quantum, rounding=ROUND_HALF_EVEN
    )
    text = f"{number:,.{places}f}".replace(",", NARROW_NBSP).replace(".", ",")
    if "," in text:
        text = text.rstrip("0").rstrip(",")
    return text


def number(value: Fraction | int | float, places: int = 2) -> str:
    return _decimal(Fraction(value), places)


def percent(ratio: Fraction | float | None, places: int = 1) -> str:
    if ratio is None:
        return "—"
    return f"{_decimal(Fraction(ratio) * 100, places)} %"


def euros(amount: Fraction | int | float) -> str:
    return f"{_decimal(Fraction(amount), 2)} €"


def date(value: dt.date | None) -> str:
    return value.strftime("%d/%m/%Y") if value else "—"


def value(value: object, type_: Type) -> str:
    if isinstance(value, Fraction):
        if type_.kind == PERCENT:
            return percent(value, places=2)
        if type_.kind == MONEY:
            return euros(value)
        return number(value, places=4)
    if type_.kind == DATE and isinstance(value, dt.date):
        return date(value)
    if isinstance(value, bool):
        return "oui" if value else "non"
    return str(value)
