"""One result per rule × scope, and how its status and shortfall follow from the counts."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

CONFORME = "conforme"
NON_CONFORME = "non_conforme"
NON_APPLICABLE = "non_applicable"
DONNEES_INSUFFISANTES = "donnees_insuffisantes"
# A multi-year objective (« 672 de 2021 à 2026 ») before its last year: judged at its end, shown
# before it as progress, never as a failure.
EN_COURS = "en_cours"
STATUSES = (CONFORME, NON_CONFORME, NON_APPLICABLE, DONNEES_INSUFFISANTES, EN_COURS)
# A rule whose target the CIA must set, and the CIA sets none: the convention failed, not the
# attributions. Same status (non conforme), its own wording everywhere it is shown.
MISSING_OBJECTIVE = (
    "convention incomplète : la convention intercommunale d'attribution ne fixe pas l'objectif "
    "que la loi lui impose ; ce ne sont pas les attributions qui sont en défaut"
)


def objective_missing(
    status: str, target: object, target_source: object, denominator: object
) -> bool:
    """True for the result of a rule whose target the CIA must set and does not."""
    return status == NON_CONFORME and target is None and target_source is None and bool(denominator)


RATE_PLACES = 6  # rates are reported rounded to 6 decimals, identically on every database


def rounded(value: Fraction | None) -> float | None:
    return None if value is None else float(round(value, RATE_PLACES))


@dataclass(frozen=True)
class Noun:
    """What a population counts, for the messages: « 23 relogements », « aucune résidence »."""

    singular: str
    plural: str
    feminine: bool

    def of(self, number: int) -> str:
        """The number and the noun, agreed (French: 0 and 1 take the singular)."""
        return f"{number} {self.singular if number <= 1 else self.plural}"

    def agreed(self, number: int, adjective: str) -> str:
        """An adjective (masculine singular) agreed with `number` of these."""
        feminine = self.feminine and not adjective.endswith("e")
        return adjective + ("e" if feminine else "") + ("" if number <= 1 else "s")

    def none(self) -> str:
        return ("aucune " if self.feminine else "aucun ") + self.singular

    def all(self) -> str:
        return ("toutes les " if self.feminine else "tous les ") + self.plural


# Each population's noun, by its name in the rule language (checker/schema.py).
NOUNS = {
    "attributions": Noun("attribution", "attributions", feminine=True),
    "dossiers_caleol": Noun("dossier de CALEOL", "dossiers de CALEOL", feminine=False),
    "conventions_reservation": Noun(
        "convention de réservation", "conventions de réservation", feminine=True
    ),
    "baux": Noun("bail", "baux", feminine=False),
    "residences": Noun("résidence", "résidences", feminine=True),
    "occupations": Noun("enquête d'occupation", "enquêtes d'occupation", feminine=True),
    "relogements": Noun("relogement", "relogements", feminine=False),
    "epci": Noun("EPCI", "EPCI", feminine=False),
}
ATTRIBUTIONS = NOUNS["attributions"]


@dataclass
class Counts:
    denominator: int
    numerator: int  # records whose condition holds
    unknown: int  # records whose condition could not be decided (missing data)
    extra: dict[str, int] = field(default_factory=dict)  # "aussi" indicators


@dataclass
class Verdict:
    status: str
    shortfall: int | None
    message: str


def judge_share(
    counts: Counts, target: Fraction | None, bound: str, noun: Noun = ATTRIBUTIONS
) -> Verdict:
    """A share "d'au moins" (min) or "d'au plus" (max) `target` of the population.

    Unknown records are counted neither way: the rule is met (or missed) only if it is met
    (or missed) whatever they turn out to be; otherwise the data are insufficient. The
    shortfall is the number of further qualifying attributions the target required, at the
    same total (for "au plus": the number of attributions over the ceiling).
    """
    den, num, unknown = counts.denominator, counts.numerator, counts.unknown
    if den == 0:
        return Verdict(NON_APPLICABLE, None, f"{noun.none()} dans le périmètre")
    if target is None:
        return Verdict(DONNEES_INSUFFISANTES, None, "cible inconnue pour la période")
    if bound == "min":
        needed = math.ceil(target * den)
        shortfall = max(0, needed - num)
        if shortfall == 0:
            return Verdict(CONFORME, 0, f"{num} sur {den}, cible {needed}")
        if num + unknown >= needed:
            return Verdict(DONNEES_INSUFFISANTES, shortfall, _undecided(noun, unknown))
        return Verdict(NON_CONFORME, shortfall, f"il manque {noun.of(shortfall)}")
    allowed = math.floor(target * den)
    excess = max(0, num - allowed)
    if num + unknown <= allowed:
        return Verdict(CONFORME, 0, f"{num} sur {den}, plafond {allowed}")
    if excess == 0:
        return Verdict(DONNEES_INSUFFISANTES, 0, _undecided(noun, unknown))
    return Verdict(NON_CONFORME, excess, f"{noun.of(excess)} au-delà du plafond")


def _undecided(noun: Noun, unknown: int) -> str:
    return f"{noun.of(unknown)} {noun.agreed(unknown, 'non décidable')} faute de données"


def judge_count(counts: Counts, target: Fraction | None, bound: str) -> Verdict:
    num, unknown = counts.numerator, counts.unknown
    if target is None:
        return Verdict(DONNEES_INSUFFISANTES, None, "cible inconnue pour la période")
    if bound == "min":
        shortfall = max(0, math.ceil(target) - num)
        if shortfall == 0:
            return Verdict(CONFORME, 0, f"{num} pour une cible de {target}")
        if num + unknown >= target:
            return Verdict(DONNEES_INSUFFISANTES, shortfall, "données manquantes")
        return Verdict(NON_CONFORME, shortfall, f"il en manque {shortfall}")
    excess = max(0, num - math.floor(target))
    if num + unknown <= target:
        return Verdict(CONFORME, 0, f"{num} pour un plafond de {target}")
    if excess == 0:
        return Verdict(DONNEES_INSUFFISANTES, 0, "données manquantes")
    return Verdict(NON_CONFORME, excess, f"{excess} au-delà du plafond")


def judge_each(counts: Counts, noun: Noun | None = None) -> Verdict:
    """Each record must meet the requirement: numerator = those that do (exempt ones
    included), shortfall = those that do not."""
    noun = noun or Noun("enregistrement", "enregistrements", feminine=False)
    den, num, unknown = counts.denominator, counts.numerator, counts.unknown
    failing = den - num - unknown
    if den == 0:
        return Verdict(NON_APPLICABLE, None, f"{noun.none()} dans le périmètre")
    if failing > 0:
        return Verdict(NON_CONFORME, failing, f"{noun.of(failing)} en défaut")
    if unknown > 0:
        return Verdict(
            DONNEES_INSUFFISANTES, 0, f"{noun.of(unknown)} {noun.agreed(unknown, 'non décidable')}"
        )
    return Verdict(CONFORME, 0, f"{noun.all()} respectent la règle")


@dataclass
class Result:
    rule: str
    version: str  # start date (ISO) of the version in force at the end of the period
    scope: dict[str, str]
    status: str
    numerator: int | None
    denominator: int | None
    rate: float | None
    target: float | None
    shortfall: int | None
    unknown: int = 0
    kind: str = "share"
    target_source: str | None = None
    versions: list[str] = field(default_factory=list)
    indicators: dict[str, Any] = field(default_factory=dict)
    parameters: list[dict[str, Any]] = field(default_factory=list)
    message: str = ""
    # "min" (a floor: « au moins »), "max" (a cap: « au plus »), None for « pour chacune »:
    # without it a reader of the JSON could not tell 22,6 % under a 30 % cap from a shortfall.
    bound: str | None = None
    # A multi-year objective: its years, the years left after the checked one, and how much of
    # the way the counts have come (the counts are then those of the whole period so far).
    cumulative: dict[str, Any] | None = None
    # The convention and article a CIA target comes from (None for the law's targets).
    target_reference: str | None = None
    # A level written « pour information »: figures shown without a verdict (its status is the
    # figure read against the target, never counted as a failure nor as owed).
    information: bool = False

    def as_json(self) -> dict[str, Any]:
        """The documented result object (schema_version 1.4): fixed key order."""
        document: dict[str, Any] = {
            "rule": self.rule,
            "version": self.version,
            "scope": dict(sorted(self.scope.items())),
            "status": self.status,
            "numerator": self.numerator,
            "denominator": self.denominator,
            "rate": self.rate,
            "target": self.target,
            "shortfall": self.shortfall,
            "unknown": self.unknown,
            "kind": self.kind,
            "bound": self.bound,
            "target_source": self.target_source,
            "versions": self.versions,
            "message": self.message,
        }
        if self.cumulative is not None:
            document["cumulative"] = self.cumulative
        if self.target_reference is not None:
            # Only for a target set by a convention: the law's results keep their keys.
            document["target_reference"] = self.target_reference
        if self.information:
            # Only for a level « pour information » (schema 1.4): the other results keep their keys.
            document["information"] = True
        document.update(dict(sorted(self.indicators.items())))
        document["parameters"] = self.parameters
        return document

    def sort_key(self) -> tuple[str, int, tuple[tuple[str, str], ...]]:
        return (self.rule, len(self.scope), tuple(sorted(self.scope.items())))
