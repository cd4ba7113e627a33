"""The populations rules can talk about, as the rule language sees them.

Each field named here is computed in SQL by `checker.evaluate` (and in Python by the reference
interpreter); this module only declares names and types for the language's checker.
"""

from __future__ import annotations

from functools import cache

from checker.db.codes import (
    CONTINGENTS,
    FINANCEMENTS,
    MODES_RESERVATION,
    MOTIFS_STOCK,
    RELOGEMENTS,
    RESERVATAIRE_TYPES,
    ZONES_ABC,
    ZONES_PLAFONDS,
)
from dsl.schema import Entity, Schema
from dsl.types import BOOL, DATE, INT, LETTERS, MONEY, TEXT, Type, enum

CONTINGENT = enum("contingent", CONTINGENTS)
FINANCEMENT = enum("financement", FINANCEMENTS)
ZONE = enum("zone_plafonds", ZONES_PLAFONDS)
RELOGEMENT = enum("relogement", RELOGEMENTS)
CATEGORIE = enum("categorie_menage", ("1", "2", "3", "4", "5", "6", "personne_supplementaire"))
MODE_RESERVATION = enum("mode_reservation", MODES_RESERVATION)
MOTIF_STOCK = enum("motif_stock", MOTIFS_STOCK)
TYPE_RESERVATAIRE = enum("type_reservataire", RESERVATAIRE_TYPES)
ZONE_ABC = enum("zone_abc", ZONES_ABC)


def _t(kind: str, nullable: bool = False) -> Type:
    return Type(kind, nullable=nullable)


EPCI = Entity(
    name="epci",
    label="EPCI",
    fields={
        "siren": _t(TEXT),
        "nom": _t(TEXT),
        "nom_arrete": _t(TEXT),
        "siren_arrete": _t(TEXT),  # key of the quartile thresholds (see territory.EpciSpec)
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


CONVENTIONS_RESERVATION = Entity(
    name="conventions_reservation",
    label="couples bailleur × réservataire",
    fields={
        "bailleur": _t(TEXT),
        "reservataire": _t(TEXT),
        "type_reservataire": TYPE_RESERVATAIRE,
        # The convention in force at the control date: the latest signed on or before it.
        "mode": MODE_RESERVATION.with_nullable(True),
        "date_signature": _t(DATE, nullable=True),
        "motif_stock": MOTIF_STOCK.with_nullable(True),
        # The first flux convention of the pair signed on or before the control date.
        "flux_depuis": _t(DATE, nullable=True),
        # A convention is on record for the pair; false when the bailleur has conventions on
        # record with others but none with this réservataire; unknown when the bailleur has
        # none on record at all (the export may simply lack them).
        "convention_connue": _t(BOOL, nullable=True),
        "nb_attributions": _t(INT),  # leases signed in the period on this réservataire's flow
        "date_controle": _t(DATE),  # the last day of the evaluated period
    },
    links={"epci": "epci"},
    dimensions=("epci", "bailleur", "reservataire"),
    fact_date="date_controle",
)

BAUX = Entity(
    name="baux",
    label="baux en cours",
    fields={
        "rpls_id": _t(TEXT),
        "bailleur": _t(TEXT),
        "commune": _t(TEXT),
        "financement": FINANCEMENT,
        "zone_abc": ZONE_ABC.with_nullable(True),
        "date_signature": _t(DATE),
        "date_dernier_examen": _t(DATE, nullable=True),
        "situations": _t(LETTERS, nullable=True),  # codes found at the last review, or absent
        "date_transmission_caleol": _t(DATE, nullable=True),
        # The last third anniversary of the signature (3, 6, 9… years) on or before the control
        # date, and the one before it (the signature date for the first cycle): the review of
        # the last completed cycle falls after `debut_cycle`.
        "echeance_examen": _t(DATE, nullable=True),
        "debut_cycle": _t(DATE, nullable=True),
        "date_controle": _t(DATE),
    },
    links={"epci": "epci"},
    dimensions=("epci", "bailleur", "commune", "financement"),
    fact_date="date_controle",
)


@cache
def schema() -> Schema:
    return Schema(
        entities={
            entity.name: entity
            for entity in (EPCI, ATTRIBUTIONS, DOSSIERS_CALEOL, CONVENTIONS_RESERVATION, BAUX)
        },
        enums={
            "contingent": CONTINGENT,
            "financement": FINANCEMENT,
            "zone_plafonds": ZONE,
            "relogement": RELOGEMENT,
            "categorie_menage": CATEGORIE,
            "mode_reservation": MODE_RESERVATION,
            "motif_stock": MOTIF_STOCK,
            "type_reservataire": TYPE_RESERVATAIRE,
            "zone_abc": ZONE_ABC,
        },
        territory_entity="epci",
        territory_extras={"annee": Type(INT)},
    )
