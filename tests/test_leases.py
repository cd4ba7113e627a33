"""The triennial review's due dates, computed in SQL, agree on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select

from checker.evaluate.base import population
from checker.ingest.importer import import_bundle

D = dt.date
# (signature, control date) -> (echeance_examen, debut_cycle)
CASES = [
    (D(2020, 3, 15), D(2024, 12, 31), D(2023, 3, 15), D(2020, 3, 15)),
    (D(2018, 1, 10), D(2024, 12, 31), D(2024, 1, 10), D(2021, 1, 10)),
    (D(2021, 12, 31), D(2024, 12, 31), D(2024, 12, 31), D(2021, 12, 31)),
    (D(2022, 1, 1), D(2024, 12, 31), None, None),  # first due date 2025-01-01
    (D(2020, 2, 29), D(2023, 12, 31), D(2023, 3, 1), D(2020, 2, 29)),  # common year: 1 March
    (D(2012, 2, 29), D(2024, 12, 31), D(2024, 2, 29), D(2021, 3, 1)),  # leap year: 29 February
    (D(2015, 7, 1), D(2024, 6, 30), D(2021, 7, 1), D(2018, 7, 1)),  # the day before the 9th
]


def _bundle(tmp_path: Path, signatures: list[dt.date]) -> Path:
    source = Path(__file__).parent / "data" / "mini"
    bundle = tmp_path / "lot"
    bundle.mkdir()
    territory = (source / "territoire.yaml").read_text(encoding="utf-8")
    (bundle / "territoire.yaml").write_text(territory.replace("zone_abc: B2", "zone_abc: A"),
                                            encoding="utf-8")  # fmt: skip
    (bundle / "logements.csv").write_text(
        (source / "logements.csv").read_text(encoding="utf-8"), encoding="utf-8"
    )
    rows = [f"L000000001;{day:%d/%m/%Y};;;;" for day in signatures]
    (bundle / "baux.csv").write_text(
        "rpls_id;date_signature;date_dernier_examen;situations;date_transmission_caleol;date_fin\n"
        + "\n".join(rows)
        + "\n",
        encoding="utf-8",
    )
    return bundle


@pytest.mark.parametrize("control", sorted({case[1] for case in CASES}))
def test_due_dates_are_the_same_on_both_databases(
    db_url: str, tmp_path: Path, control: dt.date
) -> None:
    cases = [case for case in CASES if case[1] == control]
    import_bundle([_bundle(tmp_path, [case[0] for case in cases])], db_url)
    engine = create_engine(db_url)
    leases = population("baux", ["910000009"], (D(control.year, 1, 1), control))
    with engine.connect() as connection:
        found = {
            row.date_signature: (row.echeance_examen, row.debut_cycle, row.zone_abc)
            for row in connection.execute(select(leases))
        }
    engine.dispose()
    assert found == {signed: (due, start, "A") for signed, _, due, start in cases}
