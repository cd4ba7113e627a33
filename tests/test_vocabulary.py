"""One table of French names for mixite's internal names: every name the national rulebook and
the schema use has its label, so that no report shows `without_relogement` or `seuil_q1[…]`."""

from __future__ import annotations

from checker.db.codes import CONTINGENTS, FINANCEMENTS, MOTIFS_STOCK, RESERVATAIRE_TYPES
from checker.rulebook_loader import require_rules
from checker.schema import schema
from checker.vocabulary import (
    FIELD_LABELS,
    VALUE_LABELS,
    expression_label,
    indicator_label,
    plain_text,
    value_label,
)


def test_every_name_of_the_schema_and_the_national_rulebook_has_a_label() -> None:
    rulebook, _ = require_rules()
    names = {name for entity in schema().entities.values() for name in entity.fields}
    names |= {name for definitions in rulebook.definitions.values() for name in definitions}
    names |= set(rulebook.parameters)
    names |= {
        also.label for rule in rulebook.rules.values() for v in rule.versions for also in v.also
    }
    assert sorted(names - set(FIELD_LABELS)) == []
    assert all("_" not in FIELD_LABELS[name] for name in names)


def test_every_coded_value_has_a_name() -> None:
    for field, codes in (("contingent", CONTINGENTS), ("financement", FINANCEMENTS),
                         ("motif_stock", MOTIFS_STOCK), ("type_reservataire", RESERVATAIRE_TYPES)):  # fmt: skip
        assert set(codes) <= set(VALUE_LABELS[field]), field
    assert value_label("contingent", "non_reserve") == "non réservé"
    assert value_label("commune", "80901") == "80901"  # not a coded value: unchanged


def test_rule_text_reads_in_french() -> None:
    assert expression_label("seuil_q1[epci: epci.siren_arrete]") == (
        "seuil du premier quartile (SIREN de l'EPCI dans l'arrêté des seuils)"
    )
    assert expression_label("date_dernier_examen > debut_cycle") == (
        "date du dernier examen > début du cycle de trois ans"
    )
    assert expression_label('criteres_prioritaires contient "a_b"') == (
        'critères de priorité contient "a_b"'  # quoted text untouched
    )
    assert expression_label("financement = PLAI_ADAPTE") == "financement = PLAI adapté"
    assert indicator_label("rate_without_relogement") == "taux (hors relogés)"
    assert indicator_label("numerator_dalo") == "nombre (ménages DALO)"


def test_free_text_names_in_french_but_keeps_addresses_and_files() -> None:
    text = "Voir taux_max_contingent_etat (https://x.fr/article_lc/A) et donnees/criteres_prioritaires.csv"
    assert plain_text(text) == (
        "Voir part maximale réservée au préfet (https://x.fr/article_lc/A) et "
        "donnees/criteres_prioritaires.csv"
    )
