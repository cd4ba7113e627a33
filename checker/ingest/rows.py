"""The rows of each bundle file, validated with pydantic.

Cells arrive as text; French-format parsing happens in `BeforeValidator`s so that every error,
whether it comes from a parser or from a constraint, is reported the same way with its column.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from functools import lru_cache
from typing import Annotated, TypeVar

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
)

from checker.db.codes import (
    AGE_DEMANDEUR_MAX,
    AGE_DEMANDEUR_MIN,
    CONTINGENTS,
    DECISIONS_CALEOL,
    FINANCEMENTS,
    MODES_RESERVATION,
    MOTIFS_STOCK,
    RELOGEMENTS,
    SITUATIONS_OCCUPATION,
    SNE_LOGEMENTS_ACTUELS,
    SNE_SITUATIONS_PROFESSIONNELLES,
    STATUTS_RELOGEMENT,
)
from checker.ingest import columns, values

T = TypeVar("T")
PRIORITY_LETTERS = tuple("abcdefghijklm")


# Exports repeat the same cell texts over and over (dates, SIREN, counts, flags): caching the
# parse of a text makes validation several times faster on large files. Failures are not
# cached (an exception leaves the cache untouched), so every bad cell is still reported.
_CACHE_SIZE = 1 << 16


# Cells always reach the models as text (the readers turn Excel values into text first), so
# the cached parser is the validator itself, with no wrapper call in between.


def _required(parser: Callable[[str], T]) -> Callable[[str], T]:
    @lru_cache(maxsize=_CACHE_SIZE)
    def parse_text(raw: str) -> T:
        if not raw.strip():
            raise ValueError("valeur obligatoire manquante")
        return parser(raw)

    return parse_text


def _optional(parser: Callable[[str], T]) -> Callable[[str], T | None]:
    @lru_cache(maxsize=_CACHE_SIZE)
    def parse_text(raw: str) -> T | None:
        return parser(raw) if raw.strip() else None

    return parse_text


def _choice(
    choices: tuple[str, ...], aliases: dict[str, str] | None = None
) -> Callable[[str], str]:
    return lambda raw: values.parse_choice(raw, choices, aliases)


def _text(raw: str) -> str:
    return raw.strip()


def _priority_letters(raw: str) -> str:
    letters = {part.strip().lower().rstrip(")") for part in raw.replace(",", "|").split("|")}
    letters.discard("")
    unknown = sorted(letters - set(PRIORITY_LETTERS))
    if unknown:
        raise ValueError(
            f"critère(s) de priorité inconnu(s) : {', '.join(unknown)} "
            "(lettres a à m de l'article L441-1 du CCH, séparées par |)"
        )
    return "|".join(sorted(letters))


_SITUATION_ALIASES = {
    "suroccupation": "sur_occupation",
    "sur_occupe": "sur_occupation",
    "sousoccupation": "sous_occupation",
    "sous_occupe": "sous_occupation",
    "logement_adapte": "logement_adapte_non_requis",
    "adapte_non_requis": "logement_adapte_non_requis",
    "depassement_de_plafond": "depassement_plafond",
    "depassement_du_plafond": "depassement_plafond",
    "depassement_des_plafonds": "depassement_plafond",
    "depassement_plafonds": "depassement_plafond",
}


def _situations(raw: str) -> str:
    """Codes of the occupation review separated by | (or ,), sorted, deduplicated; "" if none."""
    found = set()
    for part in raw.replace(",", "|").split("|"):
        if part.strip():
            try:
                found.add(values.parse_choice(part, SITUATIONS_OCCUPATION, _SITUATION_ALIASES))
            except ValueError:
                raise ValueError(
                    f"situation « {part.strip()} » inconnue (valeurs admises, séparées par | : "
                    f"{', '.join(SITUATIONS_OCCUPATION)})"
                ) from None
    return "|".join(sorted(found))


def _age(raw: str) -> int:
    """The applicant's age at the decision, in full years."""
    age = values.parse_int(raw)
    if not AGE_DEMANDEUR_MIN <= age <= AGE_DEMANDEUR_MAX:
        raise ValueError(
            f"« {raw.strip()} » : âge impossible pour un demandeur (de {AGE_DEMANDEUR_MIN} à "
            f"{AGE_DEMANDEUR_MAX} ans ; un mineur ne peut être titulaire du bail qu'émancipé, "
            f"à partir de 16 ans)"
        )
    return age


def _identifier(raw: str) -> str:
    """A label as an identifier: « CDD, Stage, intérim » -> cdd_stage_interim."""
    return re.sub(r"[^a-z0-9]+", "_", values.strip_accents(raw).lower()).strip("_")


def _sne_choice(table: dict[str, tuple[str, str]], extra: dict[str, str]) -> Callable[[str], str]:
    """One of an SNE list: our code, the SNE code (« CDD ») or the SNE label as the demand
    shows it (« CDD, Stage, intérim »), in any case, with or without accents."""
    aliases = {**extra}
    for code, (sne_code, sne_label) in table.items():
        aliases[_identifier(sne_code)] = code
        aliases[_identifier(sne_label)] = code
        aliases[code] = code
    choices = tuple(table)

    def parse(raw: str) -> str:
        found = aliases.get(_identifier(raw))
        if found is None:
            raise ValueError(
                f"« {raw.strip()} » n'est pas une valeur admise (valeurs admises : "
                f"{', '.join(choices)} ; ou le code ou le libellé du SNE)"
            )
        return found

    return parse


def _qpv_codes(raw: str) -> tuple[str, ...]:
    return tuple(sorted({part.strip().upper() for part in raw.split("|") if part.strip()}))


# The largest values the database columns hold, the same on SQLite and PostgreSQL: SQLite
# would store a bigger number that PostgreSQL refuses (int4, int8, numeric(8,2)), so an import
# must refuse it on both, naming the limit, rather than fail on one of them.
INT4_MAX = 2**31 - 1
INT8_MAX = 2**63 - 1
SURFACE_MAX = 999_999.99  # Numeric(8, 2)
DATABASE_LIMITS = frozenset({INT4_MAX, INT8_MAX, SURFACE_MAX})

Siren = Annotated[str, BeforeValidator(_required(values.parse_siren))]
Date = Annotated[dt.date, BeforeValidator(_required(values.parse_date))]
OptDate = Annotated[dt.date | None, BeforeValidator(_optional(values.parse_date))]
# Yes/no cells: an empty cell means "non" (the data contract's `x`/empty convention), so a
# yes/no column is required in the header but never in a cell.
Bool = Annotated[bool, BeforeValidator(lru_cache(_CACHE_SIZE)(values.parse_bool))]
NonNegative = Annotated[int, Field(ge=0, le=INT4_MAX)]
Count = Annotated[NonNegative, BeforeValidator(_required(values.parse_int))]
OptCents = Annotated[
    Annotated[int, Field(ge=0, le=INT8_MAX)] | None, BeforeValidator(_optional(values.parse_cents))
]
# Plain text is checked by pydantic's own (compiled) string constraints.
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
OptText = Annotated[str | None, BeforeValidator(_optional(_text))]
RplsId = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=10)]
OptRplsId = Annotated[
    Annotated[str, StringConstraints(max_length=10)] | None, BeforeValidator(_optional(_text))
]
ResidenceId = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)]
OptCode = Annotated[
    Annotated[str, StringConstraints(max_length=40)] | None, BeforeValidator(_optional(_text))
]
OptSurface = Annotated[
    Annotated[float, Field(gt=0, le=SURFACE_MAX)] | None,
    BeforeValidator(_optional(values.parse_decimal)),
]


class _Row(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")


class LogementRow(_Row):
    rpls_id: RplsId
    bailleur_siren: Siren
    commune_insee: Annotated[str, BeforeValidator(_required(values.parse_insee))]
    qpv_code: Annotated[tuple[str, ...], BeforeValidator(lru_cache(_CACHE_SIZE)(_qpv_codes))] = ()
    financement: Annotated[
        str,
        BeforeValidator(
            _required(
                _choice(
                    FINANCEMENTS,
                    {
                        "pla_integration": "PLAI",
                        "pla_i": "PLAI",
                        "plai_adapte": "PLAI_ADAPTE",
                        "pla_i_adapte": "PLAI_ADAPTE",
                    },
                )
            )
        ),
    ]
    nb_pieces: Annotated[
        Annotated[int, Field(ge=1, le=INT4_MAX)] | None,
        BeforeValidator(_optional(values.parse_int)),
    ] = None
    surface: Annotated[
        Annotated[float, Field(gt=0, le=SURFACE_MAX)] | None,
        BeforeValidator(_optional(values.parse_decimal)),
    ] = None
    annee_construction: Annotated[
        Annotated[int, Field(ge=1800, le=2100)] | None,
        BeforeValidator(_optional(values.parse_int)),
    ] = None
    residence_id: Annotated[
        Annotated[str, StringConstraints(max_length=40)] | None,
        BeforeValidator(_optional(_text)),
    ] = None
    # An operation with a State subsidy (CCH R331-15, 2° and 3°): R331-12's PLUS overshoot.
    subvention_etat: Annotated[bool | None, BeforeValidator(_optional(values.parse_bool))] = None


def _class_code(raw: str) -> str:
    """A class of residence as an identifier: « Très fragile » → tres_fragile."""
    code = re.sub(r"[^a-z0-9]+", "_", values.strip_accents(raw).lower()).strip("_")
    if not code:
        raise ValueError(f"« {raw.strip()} » : une classe s'écrit avec des lettres ou des chiffres")
    if len(code) > 40:
        raise ValueError("classe trop longue (40 caractères au plus)")
    return code


class ResidenceRow(_Row):
    residence_id: ResidenceId
    bailleur_siren: Siren
    nom: Text
    commune_insee: Annotated[str, BeforeValidator(_required(values.parse_insee))]
    qpv_code: Annotated[tuple[str, ...], BeforeValidator(lru_cache(_CACHE_SIZE)(_qpv_codes))] = ()
    date_mise_en_service: Date
    classe_enjeu: Annotated[str | None, BeforeValidator(_optional(_class_code))] = None
    operation_npnru: OptCode = None


class OccupationRow(_Row):
    annee_enquete: Annotated[
        Annotated[int, Field(ge=1996, le=2100)], BeforeValidator(_required(values.parse_int))
    ]
    bailleur_siren: Siren
    residence_id: ResidenceId
    menages_repondants: Count
    ressources_inf_20: Count
    ressources_20_40: Count
    ressources_40_60: Count
    ressources_60_100: Count
    ressources_sup_100: Count
    familles_monoparentales: Count
    personnes_seules: Count
    familles_nombreuses: Count
    titulaires_moins_30: Count
    titulaires_plus_65: Count
    beneficiaires_aide_logement: Count
    titulaires_emploi_stable: Count
    emmenages_recents: Count


class RelogementRow(_Row):
    operation_npnru: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)
    ]
    menage_id: Text
    bailleur_siren: Siren
    rpls_id_origine: RplsId
    date_entree_operation: Date
    statut: Annotated[
        str,
        BeforeValidator(
            _required(
                _choice(
                    STATUTS_RELOGEMENT,
                    {
                        "reloge": "reloge_definitif",
                        "relogement_definitif": "reloge_definitif",
                        "relogement_temporaire": "reloge_temporaire",
                        "relogement_provisoire": "reloge_temporaire",
                        "reloge_provisoire": "reloge_temporaire",
                        "sortie_parc_social": "sorti_parc_social",
                        "sorti_du_parc_social": "sorti_parc_social",
                        "en_attente": "a_reloger",
                        "autre": "autre_sortie",
                    },
                )
            )
        ),
    ]
    date_relogement: OptDate = None
    rpls_id_destination: OptRplsId = None
    numero_unique: OptText = None
    loyer_charges_avant: OptCents = None
    loyer_charges_apres: OptCents = None
    aide_logement_avant: OptCents = None
    aide_logement_apres: OptCents = None
    surface_avant: OptSurface = None
    surface_apres: OptSurface = None


class AttributionRow(_Row):
    numero_unique: Text
    bailleur_siren: Siren
    rpls_id: RplsId
    date_decision: Date
    date_bail: OptDate = None
    contingent: Annotated[
        str,
        BeforeValidator(
            _required(
                _choice(
                    CONTINGENTS,
                    {
                        # SNE codes (ListeTypeReservataire) and common labels.
                        "colter": "collectivite",
                        "colact": "action_logement",
                        "pprior": "etat_prioritaires",
                        "pfonct": "etat_fonctionnaires",
                        "autres": "autre",
                        "aucun": "non_reserve",
                        "hors_contingent": "non_reserve",
                        "non_reserve": "non_reserve",
                        "bailleur": "non_reserve",
                    },
                )
            )
        ),
    ]
    reservataire_id: Annotated[
        Annotated[str, Field(max_length=40)] | None, BeforeValidator(_optional(_text))
    ] = None
    mutation: Bool
    dalo: Bool
    criteres_prioritaires: Annotated[
        str, BeforeValidator(lru_cache(_CACHE_SIZE)(_priority_letters))
    ]
    relogement: Annotated[str | None, BeforeValidator(_optional(_choice(RELOGEMENTS)))] = None
    travailleur_essentiel: Bool = False
    nb_titulaires: Annotated[
        Annotated[int, Field(ge=1, le=INT4_MAX)], BeforeValidator(_required(values.parse_int))
    ]
    nb_personnes_14_plus: Count
    nb_moins_14: Count
    revenus_mensuels: OptCents
    rfr_n2: OptCents
    rfr_n1: OptCents = None
    categorie_menage: Annotated[
        Annotated[int, Field(ge=1, le=6)] | None, BeforeValidator(_optional(values.parse_int))
    ] = None
    derogation_plafonds: OptText = None
    # The applicant's age at the decision (never a birth date), professional situation and
    # housing before, in the SNE's categories (checker.db.codes).
    age_demandeur: Annotated[int | None, BeforeValidator(_optional(_age))] = None
    situation_professionnelle: Annotated[
        str | None,
        BeforeValidator(
            _optional(
                _sne_choice(
                    SNE_SITUATIONS_PROFESSIONNELLES,
                    {
                        "fonctionnaire": "cdi",
                        "cdd": "cdd_stage_interim",
                        "interim": "cdd_stage_interim",
                        "stage": "cdd_stage_interim",
                        "artisan": "independant",
                        "commercant": "independant",
                        "profession_liberale": "independant",
                        "chomeur": "chomage",
                        "demandeur_d_emploi": "chomage",
                    },
                )
            )
        ),
    ] = None
    logement_actuel: Annotated[
        str | None,
        BeforeValidator(
            _optional(
                _sne_choice(
                    SNE_LOGEMENTS_ACTUELS,
                    {
                        "parc_social": "locataire_hlm",
                        "hlm": "locataire_hlm",
                        "parc_prive": "locataire_prive",
                        "sans_domicile": "sans_abri",
                        "hebergement": "structure_hebergement",
                    },
                )
            )
        ),
    ] = None


class CaleolRow(_Row):
    date_commission: Date
    bailleur_siren: Siren
    rpls_id: RplsId
    numero_unique: Text
    rang: Annotated[
        Annotated[int, Field(ge=1, le=INT4_MAX)] | None,
        BeforeValidator(_optional(values.parse_int)),
    ] = None
    decision: Annotated[
        str,
        BeforeValidator(
            _required(
                _choice(
                    DECISIONS_CALEOL,
                    {
                        "attribution_classee": "attribution_rang",
                        "attribution_par_rang": "attribution_rang",
                        "attribution_sous_condition_suspensive": "attribution_sous_condition",
                        "rejet_pour_irrecevabilite": "irrecevable",
                        "irrecevabilite": "irrecevable",
                    },
                )
            )
        ),
    ]
    designation_dalo: Bool = False
    motif_moins_de_trois: Annotated[
        str | None, BeforeValidator(_optional(_choice(("insuffisance",))))
    ] = None


class ReservationRow(_Row):
    bailleur_siren: Siren
    reservataire_id: Annotated[Text, Field(max_length=40)]
    mode: Annotated[
        str,
        BeforeValidator(
            _required(
                _choice(
                    MODES_RESERVATION,
                    {
                        "gestion_en_flux": "flux",
                        "en_flux": "flux",
                        "gestion_en_stock": "stock",
                        "en_stock": "stock",
                    },
                )
            )
        ),
    ]
    date_signature: Date
    motif_stock: Annotated[
        str | None,
        BeforeValidator(
            _optional(
                _choice(
                    MOTIFS_STOCK,
                    {
                        "defense": "defense_nationale",
                        "securite": "securite_interieure",
                        "etablissement_de_sante": "etablissement_sante",
                        "etablissements_de_sante": "etablissement_sante",
                    },
                )
            )
        ),
    ] = None
    # Hundredths of a percent of the bailleur's yearly flow (30,5 % → 3050).
    part_flux: Annotated[int | None, BeforeValidator(_optional(values.parse_percent))] = None


class BailRow(_Row):
    rpls_id: RplsId
    date_signature: Date
    date_dernier_examen: OptDate = None
    situations: Annotated[str, BeforeValidator(lru_cache(_CACHE_SIZE)(_situations))] = ""
    date_transmission_caleol: OptDate = None
    date_fin: OptDate = None


_DATE_EXPECTED = "une date est attendue (JJ/MM/AAAA ou AAAA-MM-JJ)"
_MAPPING_EXPECTED = "des clés « nom: valeur » sont attendues ici"
# French wording of the pydantic error types our models can meet (pydantic's own messages are
# English); a type missing here still gets a French message, only a vaguer one.
_PYDANTIC_MESSAGES = {
    "greater_than_equal": "doit être supérieur ou égal à {ge}",
    "greater_than": "doit être supérieur à {gt}",
    "less_than_equal": "doit être inférieur ou égal à {le}",
    "less_than": "doit être inférieur à {lt}",
    "missing": "valeur obligatoire manquante",
    "string_too_short": "valeur obligatoire manquante",
    "string_too_long": "trop long ({max_length} caractères au plus)",
    "string_type": "un texte est attendu",
    "string_pattern_mismatch": "forme inattendue",
    "extra_forbidden": "clé inconnue",
    "too_short": "au moins {min_length} élément(s) attendu(s)",
    "too_long": "au plus {max_length} élément(s) admis",
    "list_type": "une liste est attendue (une ligne « - … » par élément, ou [ … ])",
    "tuple_type": "une liste est attendue",
    "dict_type": _MAPPING_EXPECTED,
    "model_type": _MAPPING_EXPECTED,
    "model_attributes_type": _MAPPING_EXPECTED,
    "bool_type": "une valeur oui/non est attendue",
    "bool_parsing": "une valeur oui/non est attendue",
    "int_type": "un nombre entier est attendu",
    "int_parsing": "un nombre entier est attendu",
    "int_from_float": "un nombre entier est attendu",
    "float_type": "un nombre est attendu",
    "float_parsing": "un nombre est attendu",
    "date_type": _DATE_EXPECTED,
    "date_parsing": _DATE_EXPECTED,
    "date_from_datetime_parsing": _DATE_EXPECTED,
    "date_from_datetime_inexact": _DATE_EXPECTED,
    "literal_error": "valeur non admise (valeurs admises : {expected})",
    "enum": "valeur non admise (valeurs admises : {expected})",
}


def french_errors(
    error: ValidationError, cells: dict[str, str] | None = None
) -> list[tuple[str, str]]:
    """(field, French message) for each error of a row; `cells` gives the text as typed."""
    found: list[tuple[str, str]] = []
    for item in error.errors(include_url=False):
        field_name = str(item["loc"][0]) if item["loc"] else ""
        context = item.get("ctx") or {}
        if item["type"] == "value_error":
            message = str(context.get("error", item["msg"]))
        else:
            template = _PYDANTIC_MESSAGES.get(item["type"], "valeur refusée")
            try:
                message = template.format(**context)
            except (KeyError, IndexError):
                message = template.split(" (")[0]
            raw = (cells or {}).get(field_name, item.get("input"))
            if isinstance(raw, str):
                raw = raw.strip()
            quoted = item["type"] not in ("missing", "extra_forbidden")
            if quoted and isinstance(raw, str | int | float) and raw != "":
                message = f"« {raw} » : {message}"
        if item["type"] in ("less_than_equal", "greater_than_equal") and _is_database_limit(
            context
        ):
            limit = context.get("le", context.get("ge"))
            message = f"{message.split(' : ')[0]} : dépasse la limite de la base ({_grouped(limit)} au plus)"
        found.append((field_name, message))
    return found


def _is_database_limit(context: dict[str, object]) -> bool:
    return context.get("le") in DATABASE_LIMITS


def _grouped(number: object) -> str:
    """A limit as people read it: 2 147 483 647, 999 999,99."""
    if isinstance(number, float):
        whole, _, fraction = f"{number:.2f}".partition(".")
        return f"{int(whole):,}".replace(",", "\u202f") + "," + fraction
    return f"{number:,}".replace(",", "\u202f")


# Aliases of the columns several files share (the same export tools name them the same way).
_SHARED_ALIASES = {
    "numero_unique_de_la_demande": "numero_unique",
    "num_unique": "numero_unique",
    "nud": "numero_unique",
    "siren_bailleur": "bailleur_siren",
    "siren_du_bailleur": "bailleur_siren",
    "identifiant_rpls": "rpls_id",
    "id_rpls": "rpls_id",
    "rpls": "rpls_id",
}


def _aliases(
    required: tuple[str, ...], optional: tuple[str, ...], own: dict[str, str]
) -> dict[str, str]:
    """The shared aliases of the columns a file has, then the file's own."""
    columns = set(required) | set(optional)
    shared = {alias: name for alias, name in _SHARED_ALIASES.items() if name in columns}
    return {**shared, **own}


_LOGEMENTS_REQUIRED = columns.LOGEMENTS_REQUIRED
_LOGEMENTS_OPTIONAL = columns.LOGEMENTS_OPTIONAL
LOGEMENTS_SPEC = {
    "required": _LOGEMENTS_REQUIRED,
    "optional": _LOGEMENTS_OPTIONAL,
    "aliases": _aliases(
        _LOGEMENTS_REQUIRED,
        _LOGEMENTS_OPTIONAL,
        {
            "code_insee": "commune_insee",
            "insee": "commune_insee",
            "depcom": "commune_insee",
            "code_commune": "commune_insee",
            "qpv": "qpv_code",
            "code_qpv": "qpv_code",
            "code_qp": "qpv_code",
            "finan": "financement",
            "financement_initial": "financement",
            "nombre_de_pieces": "nb_pieces",
            "surface_habitable": "surface",
            "surfhab": "surface",
            "annee_de_construction": "annee_construction",
            "residence": "residence_id",
            "code_residence": "residence_id",
            "programme": "residence_id",
            "code_programme": "residence_id",
            "subventionne": "subvention_etat",
            "subvention": "subvention_etat",
        },
    ),
}

_ATTRIBUTIONS_REQUIRED = columns.ATTRIBUTIONS_REQUIRED
_ATTRIBUTIONS_OPTIONAL = columns.ATTRIBUTIONS_OPTIONAL
ATTRIBUTIONS_SPEC = {
    "required": _ATTRIBUTIONS_REQUIRED,
    "optional": _ATTRIBUTIONS_OPTIONAL,
    "aliases": _aliases(
        _ATTRIBUTIONS_REQUIRED,
        _ATTRIBUTIONS_OPTIONAL,
        {
            "date_de_decision": "date_decision",
            "date_decision_caleol": "date_decision",
            "date_de_signature_du_bail": "date_bail",
            "date_signature_bail": "date_bail",
            "date_du_bail": "date_bail",
            "reservataire": "reservataire_id",
            "mutation_interne": "mutation",
            "deja_locataire": "mutation",
            "prioritaire_dalo": "dalo",
            "criteres": "criteres_prioritaires",
            "criteres_de_priorite": "criteres_prioritaires",
            "nombre_de_titulaires": "nb_titulaires",
            "nb_personnes_14_ans_et_plus": "nb_personnes_14_plus",
            "nb_moins_de_14_ans": "nb_moins_14",
            "nb_enfants_moins_14_ans": "nb_moins_14",
            "revenus_mensuels_du_menage": "revenus_mensuels",
            "ressources_mensuelles": "revenus_mensuels",
            "rfr_n_2": "rfr_n2",
            "revenu_fiscal_de_reference_n_2": "rfr_n2",
            "rfr_n_1": "rfr_n1",
            "revenu_fiscal_de_reference_n_1": "rfr_n1",
            "categorie_de_menage": "categorie_menage",
            "derogation": "derogation_plafonds",
            "age": "age_demandeur",
            "age_du_demandeur": "age_demandeur",
            "age_a_la_decision": "age_demandeur",
            "age_demandeur_a_la_decision": "age_demandeur",
            # The SNE's element names (typeContratTravail, logementActuel/modeleLogement).
            "typecontrattravail": "situation_professionnelle",
            "type_contrat_travail": "situation_professionnelle",
            "type_de_contrat_de_travail": "situation_professionnelle",
            "situation_professionnelle_du_demandeur": "situation_professionnelle",
            "logementactuel": "logement_actuel",
            "modelelogement": "logement_actuel",
            "modele_logement": "logement_actuel",
            "situation_actuelle_de_logement": "logement_actuel",
            "logement_avant": "logement_actuel",
        },
    ),
}

_CALEOL_REQUIRED = columns.CALEOL_REQUIRED
_CALEOL_OPTIONAL = columns.CALEOL_OPTIONAL
CALEOL_SPEC = {
    "required": _CALEOL_REQUIRED,
    "optional": _CALEOL_OPTIONAL,
    "aliases": _aliases(
        _CALEOL_REQUIRED,
        _CALEOL_OPTIONAL,
        {
            "date_de_la_commission": "date_commission",
            "date_caleol": "date_commission",
            "decision_caleol": "decision",
            "designe_dalo": "designation_dalo",
            "motif": "motif_moins_de_trois",
        },
    ),
}

_RESERVATIONS_REQUIRED = columns.RESERVATIONS_REQUIRED
_RESERVATIONS_OPTIONAL = columns.RESERVATIONS_OPTIONAL
RESERVATIONS_SPEC = {
    "required": _RESERVATIONS_REQUIRED,
    "optional": _RESERVATIONS_OPTIONAL,
    "percent": ("part_flux",),
    "aliases": _aliases(
        _RESERVATIONS_REQUIRED,
        _RESERVATIONS_OPTIONAL,
        {
            "reservataire": "reservataire_id",
            "id_reservataire": "reservataire_id",
            "code_reservataire": "reservataire_id",
            "mode_de_gestion": "mode",
            "mode_gestion": "mode",
            "gestion": "mode",
            "date_convention": "date_signature",
            "date_de_la_convention": "date_signature",
            "date_de_signature": "date_signature",
            "date_signature_convention": "date_signature",
            "date_de_signature_de_la_convention": "date_signature",
            "motif": "motif_stock",
            "motif_gestion_en_stock": "motif_stock",
            "motif_de_gestion_en_stock": "motif_stock",
            "part_du_flux": "part_flux",
            "pourcentage_flux": "part_flux",
            "pourcentage_du_flux": "part_flux",
            "taux_flux": "part_flux",
        },
    ),
}

_BAUX_REQUIRED = columns.BAUX_REQUIRED
_BAUX_OPTIONAL = columns.BAUX_OPTIONAL
BAUX_SPEC = {
    "required": _BAUX_REQUIRED,
    "optional": _BAUX_OPTIONAL,
    "aliases": _aliases(
        _BAUX_REQUIRED,
        _BAUX_OPTIONAL,
        {
            "date_de_signature": "date_signature",
            "date_signature_bail": "date_signature",
            "date_de_signature_du_bail": "date_signature",
            "date_bail": "date_signature",
            "date_du_bail": "date_signature",
            "dernier_examen": "date_dernier_examen",
            "date_du_dernier_examen": "date_dernier_examen",
            "date_examen": "date_dernier_examen",
            "date_examen_occupation": "date_dernier_examen",
            "date_du_dernier_examen_d_occupation": "date_dernier_examen",
            "situation": "situations",
            "situations_constatees": "situations",
            "constats": "situations",
            "date_transmission": "date_transmission_caleol",
            "transmission_caleol": "date_transmission_caleol",
            "date_de_transmission": "date_transmission_caleol",
            "date_de_transmission_caleol": "date_transmission_caleol",
            "date_de_transmission_a_la_caleol": "date_transmission_caleol",
            "date_de_fin": "date_fin",
            "date_fin_bail": "date_fin",
            "date_de_fin_du_bail": "date_fin",
            "date_resiliation": "date_fin",
            "date_de_resiliation": "date_fin",
        },
    ),
}

_RESIDENCES_REQUIRED = columns.RESIDENCES_REQUIRED
_RESIDENCES_OPTIONAL = columns.RESIDENCES_OPTIONAL
RESIDENCES_SPEC = {
    "required": _RESIDENCES_REQUIRED,
    "optional": _RESIDENCES_OPTIONAL,
    "aliases": _aliases(
        _RESIDENCES_REQUIRED,
        _RESIDENCES_OPTIONAL,
        {
            "residence": "residence_id",
            "code_residence": "residence_id",
            "programme": "residence_id",
            "code_programme": "residence_id",
            "nom_residence": "nom",
            "nom_de_la_residence": "nom",
            "nom_programme": "nom",
            "code_insee": "commune_insee",
            "insee": "commune_insee",
            "depcom": "commune_insee",
            "qpv": "qpv_code",
            "code_qpv": "qpv_code",
            "mise_en_service": "date_mise_en_service",
            "date_de_mise_en_service": "date_mise_en_service",
            "date_premiere_location": "date_mise_en_service",
            "classe": "classe_enjeu",
            "classe_de_fragilite": "classe_enjeu",
            "classement": "classe_enjeu",
            "operation": "operation_npnru",
            "code_operation": "operation_npnru",
            "operation_anru": "operation_npnru",
        },
    ),
}

_OCCUPATION_REQUIRED = columns.OCCUPATION_REQUIRED
OCCUPATION_SPEC = {
    "required": _OCCUPATION_REQUIRED,
    "optional": (),
    "aliases": _aliases(
        _OCCUPATION_REQUIRED,
        (),
        {
            "annee": "annee_enquete",
            "annee_de_l_enquete": "annee_enquete",
            "enquete": "annee_enquete",
            "residence": "residence_id",
            "code_residence": "residence_id",
            "programme": "residence_id",
            "code_programme": "residence_id",
            "repondants": "menages_repondants",
            "nb_repondants": "menages_repondants",
            "menages_ayant_repondu": "menages_repondants",
            "monoparentales": "familles_monoparentales",
            "menages_monoparentaux": "familles_monoparentales",
            "isoles": "personnes_seules",
            "personnes_isolees": "personnes_seules",
            "aide_logement": "beneficiaires_aide_logement",
            "beneficiaires_apl": "beneficiaires_aide_logement",
            "emploi_stable": "titulaires_emploi_stable",
            "emmenagements_recents": "emmenages_recents",
        },
    ),
}

_RELOGEMENTS_REQUIRED = columns.RELOGEMENTS_REQUIRED
_RELOGEMENTS_OPTIONAL = columns.RELOGEMENTS_OPTIONAL
RELOGEMENTS_SPEC = {
    "required": _RELOGEMENTS_REQUIRED,
    "optional": _RELOGEMENTS_OPTIONAL,
    "aliases": _aliases(
        _RELOGEMENTS_REQUIRED,
        _RELOGEMENTS_OPTIONAL,
        {
            "operation": "operation_npnru",
            "code_operation": "operation_npnru",
            "operation_anru": "operation_npnru",
            "menage": "menage_id",
            "identifiant_menage": "menage_id",
            "id_menage": "menage_id",
            "logement_origine": "rpls_id_origine",
            "rpls_origine": "rpls_id_origine",
            "date_entree": "date_entree_operation",
            "date_d_entree": "date_entree_operation",
            "statut_relogement": "statut",
            "date_du_relogement": "date_relogement",
            "logement_destination": "rpls_id_destination",
            "rpls_destination": "rpls_id_destination",
            "quittance_avant": "loyer_charges_avant",
            "quittance_apres": "loyer_charges_apres",
            "apl_avant": "aide_logement_avant",
            "apl_apres": "aide_logement_apres",
        },
    ),
}
