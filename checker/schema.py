"""The populations rules can talk about, as the rule language sees them.

Each field named here is computed in SQL by `checker.evaluate` (and in Python by the reference
interpreter); this module only declares names and types for the language's checker.
"""

from __future__ import annotations

from functools import cache

from checker.db.codes import (
    CONTINGENTS,
    FINANCEMENTS,
    LOGEMENTS_ACTUELS,
    MODES_RESERVATION,
    MOTIFS_STOCK,
    OPS_COUNTS,
    RELOGEMENTS,
    RESERVATAIRE_TYPES,
    SITUATIONS_PROFESSIONNELLES,
    STATUTS_RELOGEMENT,
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
STATUT_RELOGEMENT = enum("statut_relogement", STATUTS_RELOGEMENT)
SITUATION_PROFESSIONNELLE = enum("situation_professionnelle", SITUATIONS_PROFESSIONNELLES)
LOGEMENT_ACTUEL = enum("logement_actuel", LOGEMENTS_ACTUELS)


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
        # Absent when the territory file does not say (the rules then read the arrêté's list)
        "tenu_plh": _t(BOOL, nullable=True),
        "competent_habitat": _t(BOOL, nullable=True),
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
        # The dwelling's operation has a State subsidy (CCH R331-15, 2° and 3°; R331-12).
        "subvention_etat": _t(BOOL, nullable=True),
        # The residence of the dwelling (residences.csv) and the class the CIA or CIL gave it.
        "residence": _t(TEXT, nullable=True),
        "classe_residence": _t(TEXT, nullable=True),
        # The applicant at the decision, optional in the export (SNE categories).
        "age_demandeur": _t(INT, nullable=True),
        "situation_professionnelle": SITUATION_PROFESSIONNELLE.with_nullable(True),
        "logement_actuel": LOGEMENT_ACTUEL.with_nullable(True),
    },
    links={"epci": "epci"},
    dimensions=(
        "epci",
        "bailleur",
        "contingent",
        "reservataire",
        "commune",
        "qpv",
        "financement",
        "residence",
        "classe_residence",
    ),
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


def _residence_fields(surveyed: bool) -> dict[str, Type]:
    """A residence's own fields and its survey's counts (each also summed over the EPCI for the
    same survey, as `<name>_epci`) (unknown when it was never surveyed,
    in the `residences` population)."""
    return {
        "residence": _t(TEXT),
        "nom": _t(TEXT),
        "bailleur": _t(TEXT),
        "commune": _t(TEXT),
        "qpv": _t(TEXT, nullable=True),  # of the list in force at the end of the period
        "en_qpv": _t(BOOL),
        "classe_declaree": _t(TEXT, nullable=True),  # the CIA's or CIL's class, if any
        "operation": _t(TEXT, nullable=True),  # the NPNRU operation concerning it
        "date_mise_en_service": _t(DATE),
        "nb_logements": _t(INT),
        "annee_enquete": _t(INT, nullable=not surveyed),
        **{name: _t(INT, nullable=not surveyed) for name in OPS_COUNTS},
        **{f"{name}_epci": _t(INT, nullable=not surveyed) for name in OPS_COUNTS},
    }


RESIDENCES = Entity(
    name="residences",
    label="résidences",
    fields={**_residence_fields(surveyed=False), "date_controle": _t(DATE)},
    links={"epci": "epci"},
    dimensions=("epci", "bailleur", "commune", "qpv", "residence"),
    fact_date="date_controle",
)

OCCUPATIONS = Entity(
    name="occupations",
    label="enquêtes d'occupation (OPS) par résidence",
    fields={**_residence_fields(surveyed=True), "date_enquete": _t(DATE)},
    links={"epci": "epci"},
    dimensions=("epci", "bailleur", "commune", "qpv", "residence"),
    fact_date="date_enquete",
)

RELOGEMENTS_NPNRU = Entity(
    name="relogements",
    label="ménages à reloger (NPNRU)",
    fields={
        "operation": _t(TEXT),
        "bailleur": _t(TEXT),  # of the dwelling left
        "commune": _t(TEXT),  # of the dwelling left
        "statut": STATUT_RELOGEMENT,  # as of the extract
        "date_entree_operation": _t(DATE),
        # Rehoused (definitively or temporarily) by the control date, and when.
        "reloge": _t(BOOL),
        "reloge_definitif": _t(BOOL),
        "date_relogement": _t(DATE, nullable=True),
        # What is derived from the destination, unknown until rehoused.
        "bailleur_destination": _t(TEXT, nullable=True),
        "commune_destination": _t(TEXT, nullable=True),
        "autre_commune": _t(BOOL, nullable=True),
        "destination_en_qpv": _t(BOOL, nullable=True),  # list in force on the rehousing day
        # Full years from the first letting of the destination's residence to the rehousing.
        "anciennete_destination": _t(INT, nullable=True),
        # The numéro unique links the household to an attribution of the destination dwelling.
        "par_attribution": _t(BOOL),
        # Rent and charges minus housing benefit, € a month.
        "reste_a_charge_avant": _t(MONEY, nullable=True),
        "reste_a_charge_apres": _t(MONEY, nullable=True),
        "date_controle": _t(DATE),
    },
    links={"epci": "epci"},
    dimensions=("epci", "bailleur", "commune", "operation"),
    fact_date="date_controle",
)


@cache
def schema() -> Schema:
    return Schema(
        entities={
            entity.name: entity
            for entity in (
                EPCI,
                ATTRIBUTIONS,
                DOSSIERS_CALEOL,
                CONVENTIONS_RESERVATION,
                BAUX,
                RESIDENCES,
                OCCUPATIONS,
                RELOGEMENTS_NPNRU,
            )
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
            "statut_relogement": STATUT_RELOGEMENT,
            "situation_professionnelle": SITUATION_PROFESSIONNELLE,
            "logement_actuel": LOGEMENT_ACTUEL,
        },
        territory_entity="epci",
        territory_extras={"annee": Type(INT)},
    )
