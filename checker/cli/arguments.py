"""Command-line arguments checked against the database: what names nothing is refused.

A SIREN, a year or a scope value that the database does not know would otherwise give an empty
(and recorded) result that reads like a compliant one. Each refusal is in French and lists the
values the database does know, so that the user can correct the argument.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, select

from checker.db import codes, models
from checker.errors import MixiteError

# How many known values a refusal lists before saying how many more there are.
_SHOWN = 15


def luhn_ok(digits: str) -> bool:
    """The SIREN check digit (Luhn algorithm) of a string of digits."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def _fold(text: str) -> str:
    """A name compared without case, accents or repeated spaces."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(plain.casefold().split())


def _listing(pairs: Iterable[tuple[str, str]]) -> str:
    items = [f"{name} ({code})" if name and name != code else code for code, name in pairs]
    if not items:
        return "aucune dans la base"
    shown = ", ".join(items[:_SHOWN])
    if len(items) > _SHOWN:
        shown += f" et {len(items) - _SHOWN} autre(s)"
    return shown


def _siren_problem(value: str) -> str | None:
    """Why a number cannot be a SIREN, or None (a valid SIREN, or a name)."""
    if not (value.isascii() and value.isdigit()):
        return None  # a name, not a SIREN
    if len(value) != 9:
        return "un SIREN s'écrit avec 9 chiffres"
    if not luhn_ok(value):
        return "ce n'est pas un SIREN valide : sa clé de contrôle, le 9e chiffre, est fausse"
    return None


def _resolve(option: str, label: str, value: str, known: list[tuple[str, str]],
             by_name: bool) -> str:  # fmt: skip
    """The code `value` names among `known` (code, name) pairs, by code or (if allowed) name."""
    text = value.strip()
    codes = {code for code, _ in known}
    if text in codes:
        return text
    if by_name:
        matches = sorted({code for code, name in known if _fold(name) == _fold(text)})
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            raise MixiteError(
                f"{option} « {value} » : plusieurs {label}s portent ce nom ({', '.join(matches)}).",
                "Indiquez le SIREN.",
            )
    problem = _siren_problem(text) if by_name else None
    reason = f" ; {problem}" if problem else ""
    article = "inconnue" if label in ("commune",) else "inconnu"
    where = f"{option}={value}" if option.startswith("--scope") else f"{option} « {value} »"
    raise MixiteError(
        f"{where} : {label} {article} dans la base{reason}.",
        f"Valeurs connues : {_listing(known)}",
    )


def _pairs(connection: Connection, code: object, name: object) -> list[tuple[str, str]]:
    return [
        (str(c), str(n))
        for c, n in connection.execute(select(code, name).order_by(code))  # type: ignore[call-overload]
    ]


def resolve_epci(connection: Connection, value: str | None, option: str = "--epci") -> str | None:
    """The SIREN of the EPCI named by `value` (a SIREN or the EPCI's name)."""
    if value is None:
        return None
    known = _pairs(connection, models.Epci.siren, models.Epci.nom)
    return _resolve(option, "EPCI", value, known, by_name=True)


def resolve_bailleur(connection: Connection, value: str | None,
                     option: str = "--bailleur") -> str | None:  # fmt: skip
    """The SIREN of the bailleur named by `value` (a SIREN or the bailleur's name)."""
    if value is None:
        return None
    known = _pairs(connection, models.Bailleur.siren, models.Bailleur.nom)
    return _resolve(option, "bailleur", value, known, by_name=True)


def _scope_known(connection: Connection, key: str) -> list[tuple[str, str]]:
    if key == "reservataire":
        return sorted(
            {(str(c), str(n)) for c, n in connection.execute(
                select(models.Reservataire.id, models.Reservataire.nom))}
        )  # fmt: skip
    if key == "commune":
        return _pairs(connection, models.Commune.insee, models.Commune.nom)
    if key == "qpv":
        return _pairs(connection, models.Qpv.code, models.Qpv.nom)
    if key == "contingent":
        return [(c, c) for c in codes.CONTINGENTS]
    if key == "financement":
        return [(f, f) for f in codes.FINANCEMENTS]
    raise AssertionError(key)


_SCOPE_LABELS = {
    "reservataire": "réservataire",
    "commune": "commune",
    "qpv": "QPV",
    "contingent": "contingent",
    "financement": "financement",
}


def resolve_scope(connection: Connection, scope: dict[str, str]) -> dict[str, str]:
    """`--scope cle=valeur` pairs with every value checked (EPCI and bailleur by name too).

    Unknown keys are left to the explainer, which lists the possible ones.
    """
    resolved: dict[str, str] = {}
    for key, value in scope.items():
        option = f"--scope {key}"
        if key == "epci":
            resolved[key] = resolve_epci(connection, value, option) or value
        elif key == "bailleur":
            resolved[key] = resolve_bailleur(connection, value, option) or value
        elif key in _SCOPE_LABELS:
            known = _scope_known(connection, key)
            resolved[key] = _resolve(option, _SCOPE_LABELS[key], value, known, by_name=False)
        else:
            resolved[key] = value
    return resolved


# The dates that make a year present in the database.
def _dated_columns() -> tuple[Any, ...]:
    return (
        models.Attribution.date_bail,
        models.Attribution.date_decision,
        models.CaleolExamen.date_commission,
        models.Bail.date_signature,
    )


def years_present(connection: Connection) -> list[int]:
    """The years with any attribution (decision or lease), CALEOL examination or lease."""
    dates: set[dt.date] = set()
    for column in _dated_columns():
        dates.update(d for (d,) in connection.execute(select(column).distinct()) if d is not None)
    return sorted({d.year for d in dates})


def _year_present(connection: Connection, year: int) -> bool:
    """Whether `years_present` would list `year`: one row dated in it is enough (the lease
    date first, which is indexed), where listing every year reads every date of the tables."""
    first, last = dt.date(year, 1, 1), dt.date(year, 12, 31)
    return any(
        connection.execute(select(column).where(column.between(first, last)).limit(1)).first()
        is not None
        for column in _dated_columns()
    )


def require_years(connection: Connection, years: Iterable[int], option: str = "--year") -> None:
    """Refuse years for which the database holds no data at all."""
    years = list(years)
    if all(_year_present(connection, year) for year in years):
        return
    present = years_present(connection)
    missing = [year for year in years if year not in present]
    if not missing:
        return
    listed = ", ".join(str(y) for y in present) if present else "aucune"
    raise MixiteError(
        f"{option} {', '.join(str(y) for y in missing)} : aucune donnée pour "
        + ("cette année" if len(missing) == 1 else "ces années")
        + " dans la base.",
        f"Années présentes : {listed}",
    )


def check_year_form(year: int | None, option: str = "--year") -> None:
    """A year is written with four digits (`--year 25` is not 2025)."""
    if year is not None and not 1000 <= year <= 9999:
        raise MixiteError(
            f"{option} {year} : année illisible.", "Forme attendue : AAAA, par exemple 2025"
        )
