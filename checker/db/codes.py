"""The coded values the database stores, as plain tuples.

Kept apart from the SQLAlchemy models so that what only needs the codes (the rule language's
schema, the import's value checks, `mixite quartile`) does not import SQLAlchemy.
"""

from __future__ import annotations

CONTINGENTS = (
    "etat_prioritaires",
    "etat_fonctionnaires",
    "action_logement",
    "collectivite",
    "autre",
    "non_reserve",
)
FINANCEMENTS = ("PLAI", "PLAI_ADAPTE", "PLUS", "PLS", "PLI", "AUTRE")
ZONES_PLAFONDS = ("paris_limitrophes", "ile_de_france", "autres_regions")
RESERVATAIRE_TYPES = (
    "etat",
    "action_logement",
    "commune",
    "epci",
    "departement",
    "region",
    "autre",
)
RELOGEMENTS = ("anru", "orcod")
DECISIONS_CALEOL = (
    "attribution",
    "attribution_rang",
    "attribution_sous_condition",
    "non_attribution",
    "irrecevable",
)
MODES_RESERVATION = ("flux", "stock")
# Reservations the law keeps in stock when every other one is managed in flow.
MOTIFS_STOCK = ("defense_nationale", "securite_interieure", "etablissement_sante")
# What the triennial occupation review may find (CCH L442-5-2).
SITUATIONS_OCCUPATION = (
    "sur_occupation",
    "sous_occupation",
    "logement_adapte_non_requis",
    "handicap",
    "depassement_plafond",
)
# The situation of a household in an NPNRU rehousing, as of the extract (relogements.csv).
STATUTS_RELOGEMENT = (
    "a_reloger",
    "reloge_definitif",
    "reloge_temporaire",
    "sorti_parc_social",
    "autre_sortie",
)
# The OPS survey's counts of a residence (occupation.csv, in file order), each a number of
# households; `menages_repondants`, the households who answered, is the base of every share.
OPS_COUNTS = (
    "menages_repondants",
    "ressources_inf_20",
    "ressources_20_40",
    "ressources_40_60",
    "ressources_60_100",
    "ressources_sup_100",
    "familles_monoparentales",
    "personnes_seules",
    "familles_nombreuses",
    "titulaires_moins_30",
    "titulaires_plus_65",
    "beneficiaires_aide_logement",
    "titulaires_emploi_stable",
    "emmenages_recents",
)
# The households counted by resources (as % of the PLUS ceiling): at most the respondents.
OPS_RESOURCE_BRACKETS = OPS_COUNTS[1:6]
# The statuses that require a destination dwelling and a date of rehousing.
STATUTS_RELOGES = ("reloge_definitif", "reloge_temporaire")
# The zones of the "zonage A/B/C" (CGI art. 31, CCH D304-1), as stored: "A bis" is written Abis.
ZONES_ABC = ("Abis", "A", "B1", "B2", "C")

# Fields stored as integer cents, exposed to rules as euros.
MONEY_COLUMNS = {
    "revenus_mensuels": "revenus_mensuels_centimes",
    "rfr_n2": "rfr_n2_centimes",
    "rfr_n1": "rfr_n1_centimes",
    "reste_a_charge_avant": "reste_a_charge_avant_centimes",
    "reste_a_charge_apres": "reste_a_charge_apres_centimes",
}
# Columns of the EPCI joined to a record, as the evaluator names them.
LINK_PREFIX = "epci__"
