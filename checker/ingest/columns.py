"""The columns of each bundle file, required and optional, in their canonical order.

Apart from their validation (`checker.ingest.rows`, which builds pydantic models when
imported): writing a bundle or checking the keys of a rule test file needs the names only.
"""

from __future__ import annotations

from checker.db.codes import OPS_COUNTS

LOGEMENTS_REQUIRED: tuple[str, ...] = (
    "rpls_id",
    "bailleur_siren",
    "commune_insee",
    "qpv_code",
    "financement",
)
LOGEMENTS_OPTIONAL: tuple[str, ...] = (
    "nb_pieces", "surface", "annee_construction", "residence_id", "subvention_etat",
)  # fmt: skip
ATTRIBUTIONS_REQUIRED: tuple[str, ...] = (
    "numero_unique",
    "bailleur_siren",
    "rpls_id",
    "date_decision",
    "date_bail",
    "contingent",
    "mutation",
    "dalo",
    "criteres_prioritaires",
    "relogement",
    "travailleur_essentiel",
    "nb_titulaires",
    "nb_personnes_14_plus",
    "nb_moins_14",
    "revenus_mensuels",
    "rfr_n2",
)
ATTRIBUTIONS_OPTIONAL: tuple[str, ...] = (
    "reservataire_id",
    "rfr_n1",
    "categorie_menage",
    "derogation_plafonds",
    "age_demandeur",
    "situation_professionnelle",
    "logement_actuel",
)
CALEOL_REQUIRED: tuple[str, ...] = (
    "date_commission",
    "bailleur_siren",
    "rpls_id",
    "numero_unique",
    "decision",
)
CALEOL_OPTIONAL: tuple[str, ...] = ("rang", "designation_dalo", "motif_moins_de_trois")
RESERVATIONS_REQUIRED: tuple[str, ...] = (
    "bailleur_siren",
    "reservataire_id",
    "mode",
    "date_signature",
)
RESERVATIONS_OPTIONAL: tuple[str, ...] = ("motif_stock", "part_flux")
BAUX_REQUIRED: tuple[str, ...] = ("rpls_id", "date_signature", "date_dernier_examen")
BAUX_OPTIONAL: tuple[str, ...] = ("situations", "date_transmission_caleol", "date_fin")
RESIDENCES_REQUIRED: tuple[str, ...] = (
    "residence_id",
    "bailleur_siren",
    "nom",
    "commune_insee",
    "date_mise_en_service",
)
RESIDENCES_OPTIONAL: tuple[str, ...] = ("qpv_code", "classe_enjeu", "operation_npnru")
OCCUPATION_REQUIRED: tuple[str, ...] = (
    "annee_enquete",
    "bailleur_siren",
    "residence_id",
    *OPS_COUNTS,
)
OCCUPATION_OPTIONAL: tuple[str, ...] = ()
RELOGEMENTS_REQUIRED: tuple[str, ...] = (
    "operation_npnru",
    "menage_id",
    "bailleur_siren",
    "rpls_id_origine",
    "date_entree_operation",
    "statut",
    "date_relogement",
    "rpls_id_destination",
)
RELOGEMENTS_OPTIONAL: tuple[str, ...] = (
    "numero_unique",
    "loyer_charges_avant",
    "loyer_charges_apres",
    "aide_logement_avant",
    "aide_logement_apres",
    "surface_avant",
    "surface_apres",
)
