"""`mixite rules new`: the first files of a local rule or of a CIA engagement, with a tests file,
that check and pass at once; the author then completes them (the condition, the exceptions,
the real sources).

A local rule is a share of attributions meeting a yes/no field of the attributions
(mutation, dalo, travailleur_essentiel), with its rate as a parameter, restricted to one EPCI;
its tests are two cases computed from the rate: just enough attributions meeting it, and one
fewer. An engagement sets a local objective on a national rule that admits one; its test
checks that the objective is the target for the EPCI, and where it comes from.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import yaml

from checker.errors import MixiteError
from checker.rule_tests import DEFAULT_TERRITORY
from dsl.formatter import date_text, quote

CRITERIA = {
    "mutation": "ménages déjà locataires du parc social (mutations)",
    "dalo": "ménages reconnus prioritaires au titre du DALO",
    "travailleur_essentiel": "travailleurs essentiels",
}
CASE_SIZE = 4  # attributions per test case


def slug(identifier: str) -> str:
    """A file name (and a parameter name) from an identifier: EXEMPLE.MUTATIONS → exemple_mutations."""
    plain = unicodedata.normalize("NFKD", identifier)
    plain = "".join(char for char in plain if not unicodedata.combining(char)).lower()
    return re.sub(r"[^a-z0-9]+", "_", plain).strip("_")


def parse_day(text: str) -> dt.date:
    for form in ("%d/%m/%Y", "%Y-%m-%d"):
        try:
            return dt.datetime.strptime(text.strip(), form).date()
        except ValueError:
            continue
    raise MixiteError(f"Date illisible : « {text} ».", "Forme attendue : JJ/MM/AAAA ou AAAA-MM-JJ")


def parse_percent(text: str) -> Fraction:
    cleaned = text.strip().removesuffix("%").strip().replace(",", ".")
    try:
        value = Fraction(cleaned)
    except ValueError:
        raise MixiteError(f"Pourcentage illisible : « {text} ».", "Exemple : 25 ou 25 %") from None
    if not 0 <= value <= 100:
        raise MixiteError(f"Pourcentage hors de 0 à 100 : « {text} ».")
    return value / 100


def _percent_text(ratio: Fraction) -> str:
    value = ratio * 100
    if value.denominator == 1:
        return f"{value.numerator} %"
    text = f"{float(value):.4f}".rstrip("0").rstrip(".")
    return text.replace(".", ",") + " %"


def _source(title: str, url: str, indent: int) -> str:
    pad = " " * indent
    return f"{pad}source {quote(title)}\n{pad}  url {quote(url)}"


def _territory(siren: str) -> dict[str, Any]:
    territory = {**DEFAULT_TERRITORY, "epci": {**DEFAULT_TERRITORY["epci"], "siren": siren}}
    return territory


def _dump(document: dict[str, Any], header: str) -> str:
    body = yaml.safe_dump(document, allow_unicode=True, sort_keys=False, width=100)
    return header + body


@dataclass(frozen=True)
class LocalRule:
    rule_id: str
    title: str
    territory: str  # the EPCI's SIREN
    criterion: str  # a key of CRITERIA
    rate: Fraction
    start: dt.date
    source: str
    url: str

    @property
    def parameter(self) -> str:
        return f"taux_{slug(self.rule_id)}"

    def rules_text(self) -> str:
        day = date_text(self.start)
        return "\n".join([
            f"# Règle locale créée par « mixite rules new » le {date_text(dt.date.today())} :",
            "# complétez-la (condition, exceptions, sources exactes), puis mixite rules lint et test.",
            "",
            f"paramètre {self.parameter} : pourcentage",
            f"  titre {quote('Part minimale : ' + self.title)}",
            f"  du {day} : {_percent_text(self.rate)}",
            _source(self.source, self.url, 4),
            "",
            f"règle {self.rule_id}",
            f"  titre {quote(self.title)}",
            _source(self.source, self.url, 2),
            "",
            f"  version du {day}",
            _source(self.source, self.url, 4),
            f"    s'applique si siren = {quote(self.territory)}",
            "    parmi les attributions où bail_signe",
            "    par epci",
            "    par epci, bailleur",
            f"    exiger une part d'au moins {self.parameter} vérifiant {self.criterion}",
            "",
        ])  # fmt: skip

    def tests_text(self) -> str:
        """Two cases from the rate: just enough attributions meeting it, then one fewer."""
        year = self.start.year
        first_day = max(self.start, dt.date(year, 1, 1))
        needed = math.ceil(self.rate * CASE_SIZE)
        siren = self.territory
        cases = []
        for meeting, status in ((needed, "conforme"), (needed - 1, "non_conforme")):
            if meeting < 0:
                continue
            rows = [
                {
                    "rpls_id": "L1",
                    "bailleur_siren": "910000017",
                    "date_bail": first_day + dt.timedelta(days=number),
                    self.criterion: "oui" if number < meeting else "non",
                }
                for number in range(CASE_SIZE)
            ]
            cases.append({
                "nom": f"{year} : {meeting} sur {CASE_SIZE} ({self.criterion}), {status.replace('_', ' ')}",
                "annee": year,
                "logements": [{"rpls_id": "L1", "bailleur_siren": "910000017"}],
                "attributions": rows,
                "attendu": [{
                    "perimetre": {"epci": siren},
                    "statut": status,
                    "numerateur": meeting,
                    "denominateur": CASE_SIZE,
                    "cible": float(self.rate),
                }],
            })  # fmt: skip
        document = {"regle": self.rule_id, "territoire": _territory(siren), "cas": cases}
        header = (
            f"# Tests de {self.rule_id}, créés par « mixite rules new » : ajoutez les cas limites\n"
            "# (exceptions, dates de début et de fin, données manquantes).\n"
        )
        return _dump(document, header)


@dataclass(frozen=True)
class Engagement:
    commitment_id: str
    title: str
    territory: str
    rule_id: str
    objective: Fraction
    start: dt.date
    end: dt.date | None
    signatories: tuple[str, ...]
    source: str
    url: str

    def rules_text(self) -> str:
        period = f"  du {date_text(self.start)}" + (
            f" au {date_text(self.end)}" if self.end else ""
        )
        return "\n".join([
            f"# Engagement créé par « mixite rules new » le {date_text(dt.date.today())} : reprenez la",
            "# convention article par article (un objectif par ligne, avec sa source).",
            "",
            f"engagement {self.commitment_id}",
            f"  titre {quote(self.title)}",
            _source(self.source, self.url, 2),
            f"  territoire {quote(self.territory)}",
            "  signataires " + ", ".join(quote(name) for name in self.signatories),
            period,
            f"  objectif {self.rule_id} : {_percent_text(self.objective)}",
            _source(self.source, self.url, 4),
            "",
        ])  # fmt: skip

    def tests_text(self) -> str:
        """The objective becomes the target of the rule for the EPCI, from this engagement."""
        year = self.start.year
        day = max(self.start, dt.date(year, 1, 1))
        case = {
            "nom": f"{year} : l'objectif de {self.commitment_id} est la cible pour l'EPCI",
            "annee": year,
            "logements": [{"rpls_id": "L1", "bailleur_siren": "910000017"}],
            "attributions": [{"rpls_id": "L1", "bailleur_siren": "910000017", "date_bail": day}],
            "attendu": [{
                "perimetre": {"epci": self.territory},
                "cible": float(self.objective),
                "source_de_la_cible": self.commitment_id,
            }],
        }  # fmt: skip
        document = {"regle": self.rule_id, "territoire": _territory(self.territory), "cas": [case]}
        header = (
            f"# Tests de l'engagement {self.commitment_id}, créés par « mixite rules new » : ajoutez\n"
            "# un cas par objectif et par périmètre (bailleur…), avec ses attributions.\n"
        )
        return _dump(document, header)


__all__ = ["CRITERIA", "Engagement", "LocalRule", "parse_day", "parse_percent", "slug"]
