"""Import of the data issue #13 added (points 7 and 10), on SQLite and PostgreSQL:
`logements.csv`'s optional `subvention_etat` (CCH R331-12) and a `territoire.yaml` without the
law's criteria (`tenu_plh`, `competent_habitat`), stored as unknown."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select

from checker.db import models
from checker.ingest.importer import ImportRefused, import_bundle


def _add_column(path: Path, name: str, cells: list[str]) -> None:
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle, delimiter=";"))
    rows[0].append(name)
    for row, cell in zip(rows[1:], cells, strict=True):
        row.append(cell)
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle, delimiter=";").writerows(rows)


def _select(url: str, *columns: object) -> list[tuple[object, ...]]:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return [tuple(row) for row in connection.execute(select(*columns))]  # type: ignore[call-overload]
    finally:
        engine.dispose()


def test_subvention_etat_is_read_and_an_empty_cell_is_unknown(
    db_url: str, mini_bundle: Path
) -> None:
    _add_column(mini_bundle / "logements.csv", "subvention_etat", ["oui", "non", "", "OUI"])
    import_bundle([mini_bundle], db_url)
    stored = sorted(_select(db_url, models.Logement.rpls_id, models.Logement.subvention_etat))
    assert stored == [
        ("L000000001", True),
        ("L000000002", False),
        ("L000000003", None),
        ("L000000004", True),
    ]


def test_a_bad_subvention_etat_is_refused_where_it_is(db_url: str, mini_bundle: Path) -> None:
    _add_column(mini_bundle / "logements.csv", "subvention_etat", ["oui", "peut-être", "", ""])
    with pytest.raises(ImportRefused) as refused:
        import_bundle([mini_bundle], db_url)
    rendered = [problem.render() for problem in refused.value.problems]
    assert len(rendered) == 1 and rendered[0].startswith("logements.csv:3:9: subvention_etat"), (
        rendered
    )


def test_a_territory_without_the_laws_criteria_is_stored_as_unknown(
    db_url: str, mini_bundle: Path
) -> None:
    path = mini_bundle / "territoire.yaml"
    text = path.read_text(encoding="utf-8")
    kept = [
        line
        for line in text.splitlines()
        if "tenu_plh" not in line and "competent_habitat" not in line
    ]
    assert len(kept) == len(text.splitlines()) - 2  # both keys were there, one line each
    path.write_text("\n".join(kept) + "\n", encoding="utf-8")
    import_bundle([mini_bundle], db_url)
    assert _select(db_url, models.Epci.tenu_plh, models.Epci.competent_habitat) == [(None, None)]
