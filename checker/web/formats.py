"""Jinja filters: French numbers, percentages, dates and status labels."""

from __future__ import annotations

import datetime as dt
from fractions import Fraction

from jinja2 import Environment

from checker import frenchfmt
from checker.evaluate.results import Result
from checker.report.labels import STATUS_LABELS, shown_status

CONTINGENT_LABELS = {
    "etat_prioritaires": "État (publics prioritaires)",
    "etat_fonctionnaires": "État (agents publics)",
    "action_logement": "Action Logement",
    "collectivite": "collectivité",
    "autre": "autre réservataire",
    "non_reserve": "non réservé (flux propre du bailleur)",
}


def percent(value: float | None) -> str:
    if value is None:
        return "—"
    return frenchfmt.percent(Fraction(value).limit_denominator(10**9))


def french_date(value: dt.date | dt.datetime | str | None) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, str):
        value = dt.date.fromisoformat(value[:10])
    if isinstance(value, dt.datetime):
        return value.strftime("%d/%m/%Y %H:%M")
    return frenchfmt.date(value)


def whole(value: int | None) -> str:
    """A count as French text: « 31 377 » (narrow no-break space), not « 31377 »."""
    return "—" if value is None else frenchfmt.number(value, 0)


def done(result: Result) -> str:
    if result.denominator is None:
        return "—"
    return f"{whole(result.numerator)} / {whole(result.denominator)}"


def install(environment: Environment) -> None:
    environment.filters["pct"] = percent
    environment.filters["entier"] = whole
    environment.filters["date_fr"] = french_date
    environment.filters["statut"] = lambda status: STATUS_LABELS.get(status, status)
    environment.filters["realise"] = done
    environment.filters["statut_affiche"] = shown_status  # « pour information »: no verdict
