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

# The applicant's situation as the demande de logement social records it (CCH R441-2-2: the
# demand has the rubriques « d) Situation professionnelle du demandeur » and « f) Situation
# actuelle de logement »). The categories are those of the SNE's exchange format
# (interfaceNuu 02.00: `situationProfessionnelle/typeContratTravail`, list
# ListeTypeContratTravail, and `logementActuel/listeModeleLogement/modeleLogement`, list
# ListeModeleLogement), as transcribed in a public listing of the SNE code lists; the element
# names are confirmed by the example of betagouv/openfisca-demande-logement-social
# (JDD_OPENFISCA.XML: typeContratTravail code="CDI", modeleLogement code="LP").
# Uncertain: the lists were not read on the CERFA n° 14069*05 form itself nor in the arrêté
# fixing its model (arrêté du 24 juillet 2013 modifié); a later SNE version may have added or
# renamed categories. Each entry: our code -> (SNE code, SNE label).
SNE_SITUATIONS_PROFESSIONNELLES: dict[str, tuple[str, str]] = {
    "cdi": ("CDI", "CDI (ou fonctionnaire)"),
    "cdd_stage_interim": ("CDD", "CDD, Stage, intérim"),
    "independant": ("ART", "Artisan, commerçant, profession libérale"),
    "chomage": ("CHO", "Chômage"),
    "apprenti": ("APP", "Apprenti"),
    "etudiant": ("ETU", "Etudiant"),
    "retraite": ("RET", "Retraité"),
    "autre": ("AUT", "Autre"),
}
SITUATIONS_PROFESSIONNELLES = tuple(SNE_SITUATIONS_PROFESSIONNELLES)
SNE_LOGEMENTS_ACTUELS: dict[str, tuple[str, str]] = {
    "locataire_hlm": ("HLM", "Logement HLM"),
    "locataire_prive": ("LP", "Locataire parc privé"),
    "residence_sociale_foyer": ("RS", "Résidence sociale ou foyer ou pension de famille"),
    "residence_hoteliere_sociale": ("RHVS", "Résidence hôtellerie à vocation sociale"),
    "residence_etudiante": ("RE", "Résidence étudiant"),
    "sous_locataire_temporaire": (
        "SLHT",
        "Sous-locataire ou hébergé dans un logement à titre temporaire",
    ),
    "structure_hebergement": ("SH", "Structure d'hébergement"),
    "centre_enfance_famille": (
        "CDEFCM",
        "Centre départemental de l'enfance et de la famille ou centre maternel",
    ),
    "chez_parents_enfants": ("CPE", "Chez vos parents ou vos enfants"),
    "chez_particulier": ("CP", "Chez un particulier"),
    "loge_gratuit": ("LTG", "Logé à titre gratuit"),
    "logement_fonction": ("FONC", "Logement de fonction"),
    "proprietaire_occupant": ("POCC", "Propriétaire occupant"),
    "camping_caravaning": ("CAMCAR", "Camping, Caravaning"),
    "hotel": ("HOT", "Logé dans un hôtel"),
    "sans_abri": ("SD", "Sans abri ou abri de fortune"),
    "squat": ("SQUAT", "Dans un squat"),
}
LOGEMENTS_ACTUELS = tuple(SNE_LOGEMENTS_ACTUELS)
# The applicant's age at the decision, in full years (never a birth date: see the export
# guide). Below 16 nobody can hold a lease alone: a minor can be emancipated only from the age
# of sixteen (Code civil art. 413-2); above 120 the age is a typing error, not a person.
AGE_DEMANDEUR_MIN = 16
AGE_DEMANDEUR_MAX = 120
