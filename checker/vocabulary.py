"""The French words a person reads for mixite's internal names: ONE table for field,
definition, parameter and indicator names, and one per enumeration for coded values.

Every report, `mixite explain` and the terminal go through these functions, so a name is
translated the same way everywhere. A name missing here falls back to itself with spaces for
underscores (rules written by an EPCI may add definitions); the national rulebook's names are
all here, which a test checks.
"""

from __future__ import annotations

import re

# Field names of the populations (checker.schema), the rulebook's definitions and parameters,
# the columns of a listing and the "aussi" indicators of the rules.
FIELD_LABELS: dict[str, str] = {
    # epci
    "siren": "SIREN",
    "nom": "nom",
    "nom_arrete": "nom de l'EPCI dans l'arrêté des seuils",
    "siren_arrete": "SIREN de l'EPCI dans l'arrêté des seuils",
    "departement": "département",
    "region": "région",
    "tenu_plh": "tenu d'avoir un PLH",
    "competent_habitat": "compétent en matière d'habitat",
    "cotation_adoptee_le": "date d'adoption de la cotation",
    "cia_signee_le": "date de signature de la CIA",
    "nb_qpv": "nombre de QPV",
    "date_controle": "date du contrôle",
    "annee": "année",
    "epci": "EPCI",
    # dossiers de CALEOL
    "date_commission": "date de la commission",
    "bailleur": "bailleur",
    "commune": "commune",
    "financement": "financement",
    "nb_candidatures": "candidatures examinées",
    "designation_dalo": "candidat désigné par le préfet (DALO)",
    "motif_insuffisance": "insuffisance de candidats déclarée",
    "attribue": "logement attribué",
    # attributions
    "date_decision": "date de la décision",
    "date_bail": "date du bail",
    "zone_plafonds": "zone de plafonds",
    "en_qpv": "logement en QPV",
    "qpv": "QPV",
    "contingent": "contingent",
    "reservataire": "réservataire",
    "mutation": "mutation",
    "dalo": "ménage reconnu DALO",
    "criteres_prioritaires": "critères de priorité",
    "relogement": "relogement",
    "travailleur_essentiel": "travailleur essentiel",
    "nb_titulaires": "titulaires du bail",
    "nb_personnes_14_plus": "autres personnes de 14 ans ou plus",
    "nb_moins_14": "enfants de moins de 14 ans",
    "revenus_mensuels": "revenus mensuels",
    "rfr_n2": "revenu fiscal de référence N-2",
    "rfr_n1": "revenu fiscal de référence N-1",
    "categorie_menage": "catégorie de ménage déclarée",
    "derogation_plafonds": "dérogation aux plafonds",
    "subvention_etat": "logement d'une opération subventionnée par l'État",
    "age_demandeur": "âge du demandeur à la décision",
    "situation_professionnelle": "situation professionnelle du demandeur",
    "logement_actuel": "logement du demandeur avant l'attribution",
    # conventions de réservation
    "type_reservataire": "type de réservataire",
    "mode": "mode de gestion",
    "date_signature": "date de signature",
    "motif_stock": "motif du maintien en stock",
    "flux_depuis": "en flux depuis le",
    "convention_connue": "convention connue",
    "nb_attributions": "attributions de l'année",
    # baux
    "rpls_id": "logement (RPLS)",
    "zone_abc": "zone A/B/C",
    "date_dernier_examen": "date du dernier examen",
    "situations": "situations constatées",
    "date_transmission_caleol": "date de transmission à la CALEOL",
    "echeance_examen": "échéance de l'examen",
    "debut_cycle": "début du cycle de trois ans",
    # definitions of the national rulebook
    "bail_signe": "bail signé",
    "unites_consommation": "unités de consommation",
    "revenu_annuel_par_uc": "revenu annuel par unité de consommation",
    "premier_quartile": "ménage du premier quartile",
    "relogement_urbain": "ménage relogé (ANRU, ORCOD)",
    "relogement_renouvellement_urbain": "ménage relogé par une opération de renouvellement urbain (ANRU)",
    "depassement_plus_permis": "dépassement du plafond PLUS permis (R331-12)",
    "critere_prioritaire": "critère de priorité (a à m)",
    "critere_prioritaire_a_l": "critère de priorité (a à l)",
    "contingent_etat": "contingent de l'État",
    "zone_tendue_examen_occupation": "zone tendue (A bis, A, B1)",
    "personnes_au_foyer": "personnes au foyer",
    "personnes_plafonds": "personnes comptées pour le plafond",
    "categorie_plafonds": "catégorie retenue pour le plafond",
    "personnes_supplementaires_plafonds": "personnes au-delà de la catégorie 6",
    "plafond_categorie": "plafond de la catégorie",
    "plafond_par_personne_supplementaire": "plafond par personne supplémentaire",
    "plafond_applicable": "plafond applicable",
    "ressources_retenues": "ressources retenues",
    # parameters of the national rulebook
    "seuil_q1": "seuil du premier quartile",
    "seuil_q2": "seuil du deuxième quartile",
    "seuil_q3": "seuil du troisième quartile",
    "plafond_ressources": "plafond de ressources",
    "uc_premier_adulte": "unités de consommation du demandeur",
    "uc_autre_personne_14_plus": "unités de consommation par autre personne de 14 ans ou plus",
    "uc_enfant_moins_14": "unités de consommation par enfant de moins de 14 ans",
    "baisse_minimale_revenus_n1": "baisse minimale des revenus N-1",
    "taux_q1_hors_qpv": "part minimale hors QPV au premier quartile",
    "taux_qpv_hors_q1": "part minimale en QPV hors premier quartile",
    "plancher_objectif_q1_hors_qpv": "plancher de l'objectif du territoire hors QPV (premier quartile)",
    "depassement_plafond_plus": "dépassement du plafond PLUS permis dans une opération subventionnée",
    "plancher_objectif_qpv_hors_q1": "plancher de l'objectif du territoire en QPV (hors premier quartile)",
    "taux_prioritaires_reservataire": "part minimale de publics prioritaires par réservataire",
    "taux_max_contingent_etat": "part maximale réservée au préfet",
    "taux_max_agents_etat": "part maximale réservée aux agents de l'État",
    "nb_min_candidatures_caleol": "nombre minimal de candidatures",
    # residences, OPS surveys (occupations) and NPNRU rehousing (relogements)
    "residence": "résidence",
    "classe_residence": "classe de la résidence",
    "classe_declaree": "classe déclarée par la CIA ou la CIL",
    "operation": "opération NPNRU",
    "date_mise_en_service": "date de mise en service",
    "nb_logements": "nombre de logements",
    "annee_enquete": "année de l'enquête OPS",
    "date_enquete": "date de l'enquête OPS",
    "menages_repondants": "ménages ayant répondu",
    "ressources_inf_20": "ménages sous 20 % des plafonds",
    "ressources_20_40": "ménages entre 20 et 40 % des plafonds",
    "ressources_40_60": "ménages entre 40 et 60 % des plafonds",
    "ressources_60_100": "ménages entre 60 et 100 % des plafonds",
    "ressources_sup_100": "ménages au-dessus des plafonds",
    "familles_monoparentales": "familles monoparentales",
    "personnes_seules": "personnes seules",
    "familles_nombreuses": "familles nombreuses",
    "titulaires_moins_30": "titulaires de moins de 30 ans",
    "titulaires_plus_65": "titulaires de plus de 65 ans",
    "beneficiaires_aide_logement": "bénéficiaires d'une aide au logement",
    "titulaires_emploi_stable": "titulaires en emploi stable",
    "emmenages_recents": "emménagés récents",
    "statut": "situation du ménage",
    "date_entree_operation": "entrée dans l'opération",
    "reloge": "relogé",
    "reloge_definitif": "relogé définitivement",
    "date_relogement": "date du relogement",
    "logement_destination": "logement de destination (RPLS)",
    "bailleur_destination": "bailleur de destination",
    "commune_destination": "commune de destination",
    "autre_commune": "relogé dans une autre commune",
    "destination_en_qpv": "relogé en QPV",
    "anciennete_destination": "ancienneté du logement de destination (ans)",
    "par_attribution": "relogé par une attribution",
    "reste_a_charge_avant": "reste à charge avant",
    "reste_a_charge_apres": "reste à charge après",
    # columns of a listing (mixite explain, reports)
    "pseudonyme": "pseudonyme du ménage",
    "logement": "logement (RPLS)",
    "signee_le": "convention signée le",
    "signe_le": "bail signé le",
    "attributions": "attributions de l'année",
    "dernier_examen": "dernier examen",
    "echeance": "échéance",
    "candidatures": "candidatures",
    "verdict": "remplit la condition",
    # indicators ("aussi" in the rules)
    "without_relogement": "hors relogés",
    "state_agents": "agents de l'État",
    "derived_category": "catégorie déduite de la composition du foyer",
    "depassement_r331_12": "au-dessus du plafond PLUS, dans la limite de R331-12 (jusqu'à 120 %)",
    "examen_a_jour": "examen à jour",
    "situation_constatee": "situation constatée",
    "needed_by_year_end": "à trouver d'ici le 31 décembre",
}
# The OPS counts summed over the EPCI (populations residences and occupations).
FIELD_LABELS.update(
    {
        f"{name}_epci": f"{FIELD_LABELS[name]} (total de l'EPCI)"
        for name in (
            "menages_repondants", "ressources_inf_20", "ressources_20_40", "ressources_40_60",
            "ressources_60_100", "ressources_sup_100", "familles_monoparentales",
            "personnes_seules", "familles_nombreuses", "titulaires_moins_30",
            "titulaires_plus_65", "beneficiaires_aide_logement", "titulaires_emploi_stable",
            "emmenages_recents",
        )
    }
)  # fmt: skip
# Indicators whose name is also a field's, and that read differently as an indicator.
INDICATOR_LABELS: dict[str, str] = {"dalo": "ménages DALO"}

# Coded values, per enumeration (checker.db.models), and the réservataire types.
VALUE_LABELS: dict[str, dict[str, str]] = {
    "contingent": {
        "etat_prioritaires": "État (publics prioritaires)",
        "etat_fonctionnaires": "État (agents publics)",
        "action_logement": "Action Logement",
        "collectivite": "collectivités territoriales",
        "autre": "autres réservataires",
        "non_reserve": "non réservé",
    },
    "financement": {
        "PLAI": "PLAI",
        "PLAI_ADAPTE": "PLAI adapté",
        "PLUS": "PLUS",
        "PLS": "PLS",
        "PLI": "PLI",
        "AUTRE": "autre financement",
    },
    "zone_plafonds": {
        "paris_limitrophes": "Paris et communes limitrophes",
        "ile_de_france": "Île-de-France hors Paris et communes limitrophes",
        "autres_regions": "autres régions",
    },
    "relogement": {"anru": "ANRU", "orcod": "ORCOD"},
    # Written freely by each CIA or CIL (docs: preparer-un-export); the four classes of the
    # usual classification by fragility have their names, any other class shows its code.
    "classe_residence": {
        "tres_fragile": "résidences très fragiles",
        "fragile": "résidences fragiles",
        "a_surveiller": "résidences à surveiller",
        "equilibree": "résidences équilibrées",
    },
    "mode": {"flux": "flux", "stock": "stock"},
    "motif_stock": {
        "defense_nationale": "défense nationale",
        "securite_interieure": "sécurité intérieure",
        "etablissement_sante": "établissement de santé",
    },
    "type_reservataire": {
        "etat": "État",
        "action_logement": "Action Logement",
        "commune": "commune",
        "epci": "EPCI",
        "departement": "département",
        "region": "région",
        "autre": "autre",
    },
    "categorie_menage": {"personne_supplementaire": "personne supplémentaire"},
    # The SNE's categories (checker.db.codes), as a report reads them.
    "situation_professionnelle": {
        "cdi": "CDI (ou fonctionnaire)",
        "cdd_stage_interim": "CDD, stage, intérim",
        "independant": "artisan, commerçant, profession libérale",
        "chomage": "chômage",
        "apprenti": "apprenti",
        "etudiant": "étudiant",
        "retraite": "retraité",
        "autre": "autre",
    },
    "logement_actuel": {
        "locataire_hlm": "locataire HLM",
        "locataire_prive": "locataire du parc privé",
        "residence_sociale_foyer": "résidence sociale, foyer ou pension de famille",
        "residence_hoteliere_sociale": "résidence hôtelière à vocation sociale",
        "residence_etudiante": "résidence étudiante",
        "sous_locataire_temporaire": "sous-locataire ou hébergé à titre temporaire",
        "structure_hebergement": "structure d'hébergement",
        "centre_enfance_famille": "centre départemental de l'enfance et de la famille ou centre maternel",
        "chez_parents_enfants": "hébergé chez ses parents ou ses enfants",
        "chez_particulier": "hébergé chez un particulier",
        "loge_gratuit": "logé à titre gratuit",
        "logement_fonction": "logement de fonction",
        "proprietaire_occupant": "propriétaire occupant",
        "camping_caravaning": "camping, caravaning",
        "hotel": "logé à l'hôtel",
        "sans_abri": "sans abri ou abri de fortune",
        "squat": "squat",
    },
    "statut": {
        "a_reloger": "à reloger",
        "reloge_definitif": "relogé définitivement",
        "reloge_temporaire": "relogé temporairement",
        "sorti_parc_social": "sorti du parc social",
        "autre_sortie": "autre sortie",
    },
}
_ALL_VALUES = {code: label for table in VALUE_LABELS.values() for code, label in table.items()}
_IDENTIFIER = re.compile(r"([A-Za-z_][A-Za-z0-9_'.]*)")
_QUOTED = re.compile(r'"[^"]*"')
_NAME_OR_LOOKUP = re.compile(r"([A-Za-z_][A-Za-z0-9_'.]*)(?:\[([^\]]*)\])?")
# Words of the rule language that are French already, and stay as written.
_KEYWORDS = frozenset(
    [
        "et",
        "ou",
        "non",
        "si",
        "alors",
        "sinon",
        "dans",
        "contient",
        "est",
        "n'est",
        "pas",
        "renseignée",
        "renseigné",
        "vrai",
        "faux",
        "mois",
        "jour",
    ]
)


def field_label(name: str) -> str:
    """The French label of a field, definition, parameter, listing column or indicator."""
    return FIELD_LABELS.get(name) or name.replace("_", " ")


def indicator_label(key: str) -> str:
    """A result's indicator (`rate_without_relogement`, `numerator_dalo`…) in French."""
    for prefix, word in (("rate_", "taux"), ("numerator_", "nombre")):
        if key.startswith(prefix):
            name = key[len(prefix) :]
            return f"{word} ({INDICATOR_LABELS.get(name) or field_label(name)})"
    return field_label(key)


def value_label(field: str, code: str | None) -> str:
    """A coded value (a contingent, a financing…) by its name; other values unchanged."""
    if code is None:
        return ""
    return VALUE_LABELS.get(field, {}).get(code, code)


def _word(match: re.Match[str]) -> str:
    word = match.group(1)
    if "." in word:  # a field reached through a link (epci.nom_arrete): the field's label
        word = word.rsplit(".", 1)[1]
    if word in _KEYWORDS:
        return word
    if word in FIELD_LABELS:
        return FIELD_LABELS[word]
    if word in _ALL_VALUES:
        return _ALL_VALUES[word]
    return word.replace("_", " ") if "_" in word else word


def _lookup(match: re.Match[str]) -> str:
    keys = []
    for part in match.group(2).split(","):
        _, _, value = part.partition(":")
        keys.append(_IDENTIFIER.sub(_word, value.strip()))
    return f"{field_label(match.group(1))} ({', '.join(keys)})"


def expression_label(text: str) -> str:
    """Rule text (a condition, a value) with every name in French; quoted text untouched."""
    pieces: list[str] = []
    cursor = 0
    for quoted in _QUOTED.finditer(text):
        pieces.append(_translate(text[cursor : quoted.start()]))
        pieces.append(quoted.group(0))
        cursor = quoted.end()
    pieces.append(_translate(text[cursor:]))
    return "".join(pieces)


def _translate(text: str) -> str:
    """One pass: each lookup or name is translated once (a label is never translated again)."""

    def piece(match: re.Match[str]) -> str:
        return _lookup(match) if match.group(2) is not None else _word(match)

    return _NAME_OR_LOOKUP.sub(piece, text)


# The order in which a scope's parts are named.
SCOPE_ORDER = ("epci", "bailleur", "reservataire", "contingent", "commune", "qpv", "financement",
               "classe_residence", "residence", "operation")  # fmt: skip


def capitalized(label: str) -> str:
    """A label at the start of a title: first letter up, the rest as written (« EPCI »)."""
    return label[:1].upper() + label[1:]


_SNAKE = re.compile(r"(?<![\w/.-])[a-z][a-z0-9]*(?:_[a-z0-9]+)+(?![\w/-])")
_URL = re.compile(r"https?://\S+")


def plain_text(text: str) -> str:
    """Free text written by a rule author (a note, a point of uncertainty) with the internal
    names it quotes (`taux_max_contingent_etat`, « state_agents ») in French; addresses kept."""
    pieces: list[str] = []
    cursor = 0
    for url in _URL.finditer(text):
        pieces.append(_SNAKE.sub(lambda m: field_label(m.group(0)), text[cursor : url.start()]))
        pieces.append(url.group(0))
        cursor = url.end()
    pieces.append(_SNAKE.sub(lambda m: field_label(m.group(0)), text[cursor:]))
    return "".join(pieces)
