"""The populations rules can talk about, as the rule language sees them.

Each field named here is computed in SQL by `checker.evaluate` (and in Python by the reference
interpreter); this module only declares names and types for the language's checker.
"""

from __future__ import annotations

from functools import cache

from checker.db.models import CONTINGENTS, FINANCEMENTS, RELOGEMENTS, ZONES_PLAFONDS
from dsl.schema import Entity, Schema
from dsl.types import BOOL, DATE, INT, LETTERS, MONEY, TEXT, Type, enum

CONTINGENT = enum("contingent", CONTINGENTS)
FINANCEMENT = enum("financement", FINANCEMENTS)
ZONE = enum("zone_plafonds", ZONES_PLAFONDS)
RELOGEMENT = enum("relogement", RELOGEMENTS)
CATEGORIE = enum("categorie_menage", ("1", "2", "3", "4", "5", "6", "personne_supplementaire"))


def _t(kind: str, nullable: bool = False) -> Type:
    return Type(kind, nullable=nullable)


EPCI = Entity(
    name="epci",
    label="EPCI",
    fields={
        "siren": _t(TEXT),
        "nom": _t(TEXT),
        "nom_arrete": _t(TEXT),
        "departement": _t(TEXT),
        "region": _t(TEXT),
        "tenu_plh": _t(BOOL),
        "competent_habitat": _t(BOOL),
        "cotation_adoptee_le": _t(DATE, nullable=True),
        "cia_signee_le": _t(DATE, nullable=True),
        "nb_qpv": _t(INT),  # QPV of the list in force at some point of the evaluated year
        "date_controle": _t(DATE),  # the last day of the evaluated period
    },
    links={"epci": "epci"},
    dimensions=("epci",),
    fact_date="date_controle",
    population_only=frozenset({"nb_qpv", "date_controle"}),
)

DOSSIERS_CALEOL = Entity(
    name="dossiers_caleol",
    label="dossiers de CALEOL",
    fields={
        "date_commission": _t(DATE),
        "bailleur": _t(TEXT),
        "commune": _t(TEXT),
        "financement": FINANCEMENT,
        "nb_candidatures": _t(INT),
        "designation_dalo": _t(BOOL),  # a candidate designated by the préfet under DALO
        "motif_insuffisance": _t(BOOL),  # a recorded shortage of candidates
        "attribue": _t(BOOL),  # the commission attributed the dwelling
    },
    links={"epci": "epci"},
    dimensions=("epci", "bailleur", "commune", "financement"),
    fact_date="date_commission",
)

ATTRIBUTIONS = Entity(
    name="attributions",
    label="attributions",
    fields={
        "date_decision": _t(DATE),
        "date_bail": _t(DATE, nullable=True),
        "bailleur": _t(TEXT),
        "commune": _t(TEXT),
        "zone_plafonds": ZONE,
        "financement": FINANCEMENT,
        "en_qpv": _t(BOOL),  # the dwelling lies in a QPV of the list in force at the lease date
        "qpv": _t(TEXT, nullable=True),
        "contingent": CONTINGENT,
        "reservataire": _t(TEXT, nullable=True),
        "mutation": _t(BOOL),
        "dalo": _t(BOOL),
        "criteres_prioritaires": _t(LETTERS),
        "relogement": RELOGEMENT.with_nullable(True),
        "travailleur_essentiel": _t(BOOL),
        "nb_titulaires": _t(INT),
        "nb_personnes_14_plus": _t(INT),
        "nb_moins_14": _t(INT),
        "revenus_mensuels": _t(MONEY, nullable=True),
        "rfr_n2": _t(MONEY, nullable=True),
        "rfr_n1": _t(MONEY, nullable=True),
        "categorie_menage": _t(INT, nullable=True),
        "derogation_plafonds": _t(TEXT, nullable=True),
    },
    links={"epci": "epci"},
    dimensions=("epci", "bailleur", "contingent", "reservataire", "commune", "qpv", "financement"),
    fact_date="date_bail",
)


@cache
def schema() -> Schema:
    return Schema(
        entities={entity.name: entity for entity in (EPCI, ATTRIBUTIONS, DOSSIERS_CALEOL)},
        enums={
            "contingent": CONTINGENT,
            "financement": FINANCEMENT,
            "zone_plafonds": ZONE,
            "relogement": RELOGEMENT,
            "categorie_menage": CATEGORIE,
        },
        territory_entity="epci",
        territory_extras={"annee": Type(INT)},
    )
