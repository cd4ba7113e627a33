"""An EPCI as a person names it (the arrêté's name of some year, or its SIREN), turned into the
key of a parameter keyed by SIREN (the quartile thresholds).

Names change between arrêtés (« CA du Bassin d'Aurillac » became « Aurillac Agglomération »); the
SIREN does not. The table's `libelle` column keeps each year's name, so a person may type
either, and any year's name finds the EPCI in every year.
"""

from __future__ import annotations

import datetime as dt
import difflib
from dataclasses import dataclass

from checker.errors import MixiteError
from checker.ingest.values import strip_accents
from dsl.rulebook import CheckedParameter


@dataclass(frozen=True)
class EpciKey:
    siren: str
    name: str | None  # the name in force on the asked day, else the latest known


def _loose(name: str) -> str:
    return " ".join(strip_accents(name).lower().replace("-", " ").replace('"', " ").split())


def name_on(parameter: CheckedParameter, siren: str, day: dt.date) -> str | None:
    """The EPCI's name in the arrêté in force on `day`, else in the latest one before or after."""
    values = parameter.labels().get((siren,), [])
    if not values:
        return None
    in_force = [v for v in values if v.covers(day)]
    return (in_force or [max(values, key=lambda v: v.start)])[0].label


def resolve(parameter: CheckedParameter, text: str, day: dt.date) -> EpciKey:
    """The SIREN key for `text` (a SIREN, or a name from any year's arrêté); a clear French
    error, with the closest names, when nothing matches."""
    text = text.strip()
    known = {key[0] for key in parameter.all_keys()}
    digits = text.replace(" ", "")
    if digits.isdigit() and len(digits) == 9:
        if digits not in known:
            raise MixiteError(
                f"SIREN {digits} absent des arrêtés des seuils de quartiles (2024 à 2026).",
                "Un EPCI que l'arrêté de l'année ne liste pas n'est pas soumis à l'objectif "
                "de 25 % cette année-là ; vérifiez le SIREN (9 chiffres).",
            )
        return EpciKey(digits, name_on(parameter, digits, day))
    by_name: dict[str, set[str]] = {}
    for key, values in parameter.labels().items():
        for value in values:
            by_name.setdefault(_loose(value.label or ""), set()).add(key[0])
    sirens = by_name.get(_loose(text))
    if not sirens:
        names = sorted(
            {v.label for values in parameter.labels().values() for v in values if v.label}
        )
        close = difflib.get_close_matches(text, names, n=3, cutoff=0.5)
        raise MixiteError(
            f"EPCI « {text} » absent des arrêtés des seuils de quartiles.",
            ("Vouliez-vous dire : " + " ; ".join(close) + " ?") if close else
            "Écrivez le SIREN de l'EPCI (9 chiffres) ou son nom tel qu'un arrêté l'écrit "
            "(ex. « CA Amiens Métropole »).",
        )  # fmt: skip
    if len(sirens) > 1:
        raise MixiteError(
            f"Le nom « {text} » désigne plusieurs EPCI selon les années : "
            + ", ".join(sorted(sirens))
            + ".",
            "Donnez le SIREN de l'EPCI.",
        )
    siren = next(iter(sirens))
    return EpciKey(siren, name_on(parameter, siren, day))
