"""Small bundles written by tests, with hand-chosen households."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping
from pathlib import Path

ATTRIBUTION_COLUMNS = (
    "numero_unique", "bailleur_siren", "rpls_id", "date_decision", "date_bail", "contingent",
    "reservataire_id", "mutation", "dalo", "criteres_prioritaires", "relogement",
    "travailleur_essentiel", "nb_titulaires", "nb_personnes_14_plus", "nb_moins_14",
    "revenus_mensuels", "rfr_n2", "rfr_n1", "categorie_menage", "derogation_plafonds",
    "age_demandeur", "situation_professionnelle", "logement_actuel",
)  # fmt: skip
LOGEMENT_COLUMNS = ("rpls_id", "bailleur_siren", "commune_insee", "qpv_code", "financement")

EPCI = "910000009"
BAILLEUR_A, BAILLEUR_B, BAILLEUR_C = "910000017", "910000025", "910000033"

TERRITORY = f"""
epci:
  siren: "{EPCI}"
  nom: "Communauté de test"
  siren_arrete: "248000531"
  departement: "80"
  region: "Hauts-de-France"
  tenu_plh: true
  competent_habitat: true
communes:
  - {{insee: "80901", nom: "Aval", zone_plafonds: autres_regions}}
  - {{insee: "80902", nom: "Amont", zone_plafonds: autres_regions}}
qpv:
  - {{code: "QN08001M", nom: "Les Tilleuls", communes: ["80901"], valide_du: 2024-01-01, valide_au: null}}
  - {{code: "QP080099", nom: "Le Moulin", communes: ["80902"], valide_du: 2015-01-01, valide_au: 2023-12-31}}
bailleurs:
  - {{siren: "{BAILLEUR_A}", nom: "Bailleur A"}}
  - {{siren: "{BAILLEUR_B}", nom: "Bailleur B"}}
  - {{siren: "{BAILLEUR_C}", nom: "Bailleur C"}}
reservataires:
  - {{id: "ETAT", type: etat, nom: "Préfet"}}
  - {{id: "AL", type: action_logement, nom: "Action Logement Services"}}
"""


def household(number: int, bailleur: str, rpls: str, date_bail: str, revenus: str, *,
              titulaires: int = 1, plus_14: int = 0, moins_14: int = 0, relogement: str = "",
              dalo: str = "non", criteres: str = "", contingent: str = "non_reserve",
              mutation: str = "non", age: str = "", situation: str = "",
              logement: str = "") -> dict[str, str]:  # fmt: skip
    decision = date_bail or "01/01/2024"
    return {
        "numero_unique": f"080012400{number:06d}TST01",
        "bailleur_siren": bailleur,
        "rpls_id": rpls,
        "date_decision": decision,
        "date_bail": date_bail,
        "contingent": contingent,
        "reservataire_id": "",
        "mutation": mutation,
        "dalo": dalo,
        "criteres_prioritaires": criteres,
        "relogement": relogement,
        "travailleur_essentiel": "non",
        "nb_titulaires": str(titulaires),
        "nb_personnes_14_plus": str(plus_14),
        "nb_moins_14": str(moins_14),
        "revenus_mensuels": revenus,
        "rfr_n2": "10000",
        "rfr_n1": "",
        "categorie_menage": "",
        "derogation_plafonds": "",
        "age_demandeur": age,
        "situation_professionnelle": situation,
        "logement_actuel": logement,
    }


def write_bundle(target: Path, logements: Iterable[Mapping[str, str]],
                 attributions: Iterable[Mapping[str, str]], territory: str = TERRITORY) -> Path:  # fmt: skip
    target.mkdir(parents=True, exist_ok=True)
    (target / "territoire.yaml").write_text(territory, encoding="utf-8")
    for name, columns, rows in (
        ("logements.csv", LOGEMENT_COLUMNS, logements),
        ("attributions.csv", ATTRIBUTION_COLUMNS, attributions),
    ):
        with (target / name).open("w", encoding="utf-8", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=columns, delimiter=";")
            writer.writeheader()
            writer.writerows(rows)
    return target


def dwelling(rpls: str, bailleur: str, commune: str = "80901", qpv: str = "") -> dict[str, str]:
    return {"rpls_id": rpls, "bailleur_siren": bailleur, "commune_insee": commune,
            "qpv_code": qpv, "financement": "PLUS"}  # fmt: skip
