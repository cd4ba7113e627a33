"""The applicant's optional fields (issue #15, item 7): age at the decision, professional
situation and housing before, in the SNE's categories; read under their SNE names, refused
with a located French message when unknown or impossible, on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, select

from checker.db import models
from checker.db.codes import (
    LOGEMENTS_ACTUELS,
    SITUATIONS_PROFESSIONNELLES,
    SNE_LOGEMENTS_ACTUELS,
    SNE_SITUATIONS_PROFESSIONNELLES,
)
from checker.ingest.importer import ImportRefused, import_bundle
from checker.ingest.rows import ATTRIBUTIONS_SPEC, AttributionRow
from checker.vocabulary import VALUE_LABELS


def _add_columns(path: Path, header: list[str], cells: list[list[str]]) -> None:
    """Append columns to attributions.csv: `cells[i]` goes to data line i + 2."""
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle, delimiter=";"))
    rows[0].extend(header)
    for row, extra in zip(rows[1:], cells, strict=True):
        row.extend(extra)
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle, delimiter=";").writerows(rows)


def _stored(url: str) -> list[tuple[int | None, str | None, str | None]]:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            a = models.Attribution
            query = select(a.age_demandeur, a.situation_professionnelle, a.logement_actuel)
            return [tuple(row) for row in connection.execute(query.order_by(a.date_decision))]
    finally:
        engine.dispose()


def test_sne_codes_labels_and_names_are_read(db_url: str, mini_bundle: Path) -> None:
    # The SNE's element names as headers, its codes and its labels as cells, and empty cells.
    _add_columns(
        mini_bundle / "attributions.csv",
        ["Âge du demandeur", "typeContratTravail", "modeleLogement"],
        [
            ["34", "CDI", "SD"],
            ["16", "CDD, Stage, intérim", "Chez vos parents ou vos enfants"],
            ["", "chomage", "structure_hebergement"],
            ["120", "", "parc social"],
        ],
    )
    import_bundle([mini_bundle], db_url)
    assert _stored(db_url) == [
        (34, "cdi", "sans_abri"),
        (16, "cdd_stage_interim", "chez_parents_enfants"),
        (None, "chomage", "structure_hebergement"),
        (120, None, "locataire_hlm"),
    ]


def test_a_bundle_without_the_columns_leaves_them_unknown(db_url: str, mini_bundle: Path) -> None:
    import_bundle([mini_bundle], db_url)
    assert _stored(db_url) == [(None, None, None)] * 4


def test_unknown_values_and_impossible_ages_are_refused_where_they_are(
    db_url: str, mini_bundle: Path
) -> None:
    _add_columns(
        mini_bundle / "attributions.csv",
        ["age_demandeur", "situation_professionnelle", "logement_actuel"],
        [["15", "", ""], ["121", "salarié", ""], ["trente", "", "hébergé"], ["40", "", ""]],
    )
    with pytest.raises(ImportRefused) as refused:
        import_bundle([mini_bundle], db_url)
    rendered = [problem.render() for problem in refused.value.problems]
    assert rendered == [
        "attributions.csv:2:21: age_demandeur : « 15 » : âge impossible pour un demandeur "
        "(de 16 à 120 ans ; un mineur ne peut être titulaire du bail qu'émancipé, à partir de 16 ans)",
        "attributions.csv:3:21: age_demandeur : « 121 » : âge impossible pour un demandeur "
        "(de 16 à 120 ans ; un mineur ne peut être titulaire du bail qu'émancipé, à partir de 16 ans)",
        "attributions.csv:3:22: situation_professionnelle : « salarié » n'est pas une valeur "
        "admise (valeurs admises : "
        + ", ".join(SITUATIONS_PROFESSIONNELLES)
        + " ; ou le code ou le libellé du SNE)",
        "attributions.csv:4:21: age_demandeur : « trente » n'est pas un nombre entier",
        "attributions.csv:4:23: logement_actuel : « hébergé » n'est pas une valeur admise "
        "(valeurs admises : "
        + ", ".join(LOGEMENTS_ACTUELS)
        + " ; ou le code ou le libellé du SNE)",
    ], rendered
    # Nothing is written when the bundle is refused (not even the schema, on a new database).
    engine = create_engine(db_url)
    try:
        with engine.connect() as connection:
            if inspect(connection).has_table("attribution"):
                assert connection.execute(select(models.Attribution.id)).first() is None
    finally:
        engine.dispose()


def test_a_birth_date_column_is_never_stored(db_url: str, mini_bundle: Path) -> None:
    """Personal data: a birth date in the export is reported as ignored, and no column of the
    database can hold it."""
    _add_columns(
        mini_bundle / "attributions.csv",
        ["date_naissance", "age_demandeur"],
        [["01/02/1990", "34"], ["03/04/2000", "24"], ["", ""], ["05/06/1950", "74"]],
    )
    summary = import_bundle([mini_bundle], db_url)
    attributions = next(s for s in summary.files if s.name == "attributions.csv")
    assert attributions.ignored_columns == ["date_naissance"]
    assert not [c for c in models.Attribution.__table__.columns if "naissance" in c.name]
    assert [age for age, _, _ in _stored(db_url)] == [34, 24, None, 74]


@pytest.mark.parametrize(
    ("field", "table"),
    [
        ("situation_professionnelle", SNE_SITUATIONS_PROFESSIONNELLES),
        ("logement_actuel", SNE_LOGEMENTS_ACTUELS),
    ],
)
def test_every_sne_code_and_label_reads_as_its_category(
    field: str, table: dict[str, tuple[str, str]]
) -> None:
    base = {name: "" for name in ATTRIBUTIONS_SPEC["required"]} | {
        "numero_unique": "X",
        "bailleur_siren": "910000017",
        "rpls_id": "L1",
        "date_decision": "01/01/2024",
        "contingent": "non_reserve",
        "nb_titulaires": "1",
        "nb_personnes_14_plus": "0",
        "nb_moins_14": "0",
    }
    for code, (sne_code, sne_label) in table.items():
        for written in (code, sne_code, sne_code.lower(), sne_label, sne_label.upper()):
            row = AttributionRow.model_validate(base | {field: written})
            assert getattr(row, field) == code, written
        assert VALUE_LABELS[field][code]  # a report names every category
