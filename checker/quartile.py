"""The quartile of one household for an EPCI and a year, computed with the rulebook's own
definitions (consumption units, annual income per UC, first quartile) and thresholds."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from checker.epci_keys import resolve
from checker.errors import MixiteError
from checker.evaluate.interpret import Interpreter
from checker.schema import schema
from dsl import ast
from dsl.rulebook import ParameterValue, Rulebook

THRESHOLDS = ("seuil_q1", "seuil_q2", "seuil_q3")


@dataclass(frozen=True)
class QuartileAnswer:
    quartile: int
    uc: Fraction
    annual_income_per_uc: Fraction
    thresholds: dict[str, ParameterValue]
    epci: str  # the EPCI's name in that year's arrêté (its SIREN when it has no name)
    siren: str
    year: int

    def as_json(self) -> dict[str, Any]:
        return {
            "quartile": self.quartile,
            "uc": float(self.uc),
            "revenu_annuel_par_uc": float(round(self.annual_income_per_uc, 2)),
            "epci": self.epci,
            "siren": self.siren,
            "annee": self.year,
            "seuils": {name: int(value.value) if isinstance(value.value, Fraction) and value.value.denominator == 1
                       else float(value.value) for name, value in self.thresholds.items()},  # type: ignore[arg-type]
            "sources": {name: value.sources[0].title for name, value in self.thresholds.items()},
            "regle": "inférieur strictement au seuil (CCH L441-1 : « inférieur à »)",
        }  # fmt: skip


def _definition(rulebook: Rulebook, name: str) -> ast.Expr:
    return rulebook.definitions["attributions"][name].expr


def quartile(rulebook: Rulebook, epci: str, year: int, titulaires: int, plus_14: int, moins_14: int,
             monthly_income: Fraction) -> QuartileAnswer:  # fmt: skip
    day = dt.date(year, 1, 1)
    # A SIREN or a name from any year's arrêté: accents, case and spacing do not matter.
    key = resolve(rulebook.parameters["seuil_q1"], epci, day)
    display = key.name or key.siren
    if titulaires < 1 or plus_14 < 0 or moins_14 < 0 or monthly_income < 0:
        raise MixiteError(
            "Composition ou revenus impossibles (au moins un titulaire, nombres positifs)."
        )
    thresholds = {}
    for name in THRESHOLDS:
        found = rulebook.parameters[name].value_at(day, {"epci": key.siren})
        if found is None:
            raise MixiteError(
                f"Pas de seuil {name} publié pour {display} (SIREN {key.siren}) en {year}.",
                "Un EPCI que l'arrêté de l'année ne liste pas n'est pas soumis à l'objectif de "
                "25 % cette année-là. Seuils connus : 2024 à 2026.",
            )
        thresholds[name] = found
    record = {
        "fact_date": day, "nb_titulaires": titulaires, "nb_personnes_14_plus": plus_14,
        "nb_moins_14": moins_14, "revenus_mensuels_centimes": int(monthly_income * 100),
        "epci__siren_arrete": key.siren,
    }  # fmt: skip
    interpreter = Interpreter(rulebook, schema().entities["attributions"])
    uc = interpreter.eval(_definition(rulebook, "unites_consommation"), record)
    income = interpreter.eval(_definition(rulebook, "revenu_annuel_par_uc"), record)
    first = interpreter.eval(_definition(rulebook, "premier_quartile"), record)
    assert isinstance(uc, Fraction) and isinstance(income, Fraction)
    if first:
        rank = 1
    elif income < thresholds["seuil_q2"].value:  # type: ignore[operator]
        rank = 2
    elif income < thresholds["seuil_q3"].value:  # type: ignore[operator]
        rank = 3
    else:
        rank = 4
    return QuartileAnswer(rank, uc, income, thresholds, display, key.siren, year)
