"""The quartile of one household for an EPCI and a year, computed with the rulebook's own
definitions (consumption units, annual income per UC, first quartile) and thresholds."""

from __future__ import annotations

import datetime as dt
import difflib
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from checker.errors import MixiteError
from checker.evaluate.interpret import Interpreter
from checker.ingest.values import strip_accents
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
    epci: str
    year: int

    def as_json(self) -> dict[str, Any]:
        return {
            "quartile": self.quartile,
            "uc": float(self.uc),
            "revenu_annuel_par_uc": float(round(self.annual_income_per_uc, 2)),
            "epci": self.epci,
            "annee": self.year,
            "seuils": {name: int(value.value) if isinstance(value.value, Fraction) and value.value.denominator == 1
                       else float(value.value) for name, value in self.thresholds.items()},  # type: ignore[arg-type]
            "sources": {name: value.sources[0].title for name, value in self.thresholds.items()},
            "regle": "inférieur strictement au seuil (CCH L441-1 : « inférieur à »)",
        }  # fmt: skip


def _loose(name: str) -> str:
    return " ".join(strip_accents(name).lower().replace("-", " ").split())


def _definition(rulebook: Rulebook, name: str) -> ast.Expr:
    return rulebook.definitions["attributions"][name].expr


def quartile(rulebook: Rulebook, epci: str, year: int, titulaires: int, plus_14: int, moins_14: int,
             monthly_income: Fraction) -> QuartileAnswer:  # fmt: skip
    day = dt.date(year, 1, 1)
    known = {key[0] for key in rulebook.parameters["seuil_q1"].all_keys()}
    loose = {_loose(name): name for name in known}
    epci = loose.get(_loose(epci), epci)  # accents, case and spacing do not matter
    if epci not in known:
        close = difflib.get_close_matches(epci, sorted(known), n=3, cutoff=0.5)
        raise MixiteError(
            f"EPCI « {epci} » absent des arrêtés des seuils de quartiles.",
            ("Vouliez-vous dire : " + " ; ".join(close) + " ?") if close else
            "Écrivez le nom de l'EPCI tel que l'arrêté l'écrit (ex. « CA Amiens Métropole »).",
        )  # fmt: skip
    if titulaires < 1 or plus_14 < 0 or moins_14 < 0 or monthly_income < 0:
        raise MixiteError(
            "Composition ou revenus impossibles (au moins un titulaire, nombres positifs)."
        )
    thresholds = {}
    for name in THRESHOLDS:
        found = rulebook.parameters[name].value_at(day, {"epci": epci})
        if found is None:
            raise MixiteError(f"Pas de seuil {name} publié pour {epci} en {year}.")
        thresholds[name] = found
    record = {
        "fact_date": day, "nb_titulaires": titulaires, "nb_personnes_14_plus": plus_14,
        "nb_moins_14": moins_14, "revenus_mensuels_centimes": int(monthly_income * 100),
        "epci__nom_arrete": epci,
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
    return QuartileAnswer(rank, uc, income, thresholds, epci, year)
