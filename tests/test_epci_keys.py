"""Quartile thresholds keyed by SIREN: every EPCI of the 2024-2026 arrêtés answers, by its SIREN
or by any year's name, including those the arrêtés renamed (issue #13, point 10)."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import pytest

from checker.epci_keys import resolve
from checker.errors import MixiteError
from checker.quartile import quartile
from checker.rulebook_loader import require_rules

TABLE = Path(__file__).resolve().parent.parent / "rules/national/donnees/seuils_quartiles.csv"


@pytest.fixture(scope="module")
def rulebook():  # type: ignore[no-untyped-def]
    return require_rules()[0]


def test_every_epci_of_every_year_answers_by_siren_and_by_name(rulebook) -> None:  # type: ignore[no-untyped-def]
    rows = list(csv.DictReader(TABLE.read_text(encoding="utf-8").splitlines()))
    assert len(rows) == 1274 and len({(r["epci"], r["en_vigueur_du"]) for r in rows}) == 1274
    names = {r["epci"]: {x["libelle"] for x in rows if x["epci"] == r["epci"]} for r in rows}
    for row in rows:
        year = int(row["en_vigueur_du"][:4])
        for asked in (row["epci"], *names[row["epci"]]):  # the SIREN, or the name of any year
            answer = quartile(rulebook, asked, year, 1, 0, 0, 0)
            assert answer.siren == row["epci"]
            assert answer.thresholds["seuil_q1"].value == int(row["q1"])
            assert answer.epci == row["libelle"]  # shown with that year's name


def test_a_renamed_epci_keeps_its_threshold(rulebook) -> None:  # type: ignore[no-untyped-def]
    # « CA du Bassin d'Aurillac » in the 2025 arrêté, « Aurillac Agglomération » in 2024 and 2026.
    seuil = rulebook.parameters["seuil_q1"]
    for year, q1 in ((2024, 9095), (2025, 9067), (2026, 9105)):
        key = resolve(seuil, "Aurillac Agglomération", dt.date(year, 6, 1))
        assert seuil.value_at(dt.date(year, 6, 1), {"epci": key.siren}).value == q1  # type: ignore[union-attr]
    assert (
        resolve(seuil, "aurillac agglomeration", dt.date(2025, 6, 1)).name
        == "CA du Bassin d'Aurillac"
    )


def test_unknown_siren_and_name_are_refused_in_french(rulebook) -> None:  # type: ignore[no-untyped-def]
    seuil = rulebook.parameters["seuil_q1"]
    with pytest.raises(MixiteError, match="SIREN 999999999 absent"):
        resolve(seuil, "999999999", dt.date(2025, 1, 1))
    with pytest.raises(MixiteError, match="CA Amien Metropole » absent") as refused:
        resolve(seuil, "CA Amien Metropole", dt.date(2025, 1, 1))
    assert "CA Amiens Métropole" in (refused.value.hint or "")
