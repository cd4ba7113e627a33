"""The CALEOL pre-check judges an applicant as the attribution he would receive: its record must
give every field the attributions population has, or a rule reading a field it lacks stops the
command with an internal error (it did, for `subvention_etat`, when that column was added)."""

from __future__ import annotations

import datetime as dt

from checker.caleol_check import _record
from checker.schema import schema

# Fields stored in centimes in the record (the language's money fields are read from them).
MONEY = {"revenus_mensuels": "revenus_mensuels_centimes", "rfr_n1": "rfr_n1_centimes",
         "rfr_n2": "rfr_n2_centimes"}  # fmt: skip


class _Applicant:
    """An applicant with every field empty (the record's keys are the point here)."""

    def __getattr__(self, name: str) -> None:
        return None


DWELLING = {
    "bailleur_siren": "912000007",
    "commune_insee": "80901",
    "zone_plafonds": "autres_regions",
    "financement": "PLUS",
    "subvention_etat": None,
    "epci_siren": "980008015",
    "qpv": None,
    "residence": "R1",
    "classe_residence": "fragile",
}


def test_the_docket_record_has_every_field_of_the_attributions() -> None:
    record = _record(_Applicant(), DWELLING, dt.date(2025, 3, 1))
    fields = set(schema().entities["attributions"].fields)
    missing = {name for name in fields if name not in record and MONEY.get(name) not in record}
    assert missing == set()
    assert record["residence"] == "R1" and record["classe_residence"] == "fragile"
