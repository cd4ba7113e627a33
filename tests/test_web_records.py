"""The records page of a big bundle, a page at a time; the CSV holds every record."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from checker.access import accounts
from checker.db.engine import make_engine
from checker.ingest.importer import import_bundle
from checker.web import pages_results
from checker.web.app import create_app
from checker.web.config import WebConfig
from tests.bundles import BAILLEUR_A, EPCI, dwelling, household, write_bundle
from tests.web_helpers import PASSWORD, sign_in

HOUSEHOLDS = 250
RULE = "L441-1.Q1-HORS-QPV"


def test_records_page_is_paginated_and_the_csv_holds_them_all(tmp_path: Path) -> None:
    dwellings = [dwelling(f"80{i:08d}", BAILLEUR_A, commune="80902") for i in range(HOUSEHOLDS)]
    households = [household(i, BAILLEUR_A, f"80{i:08d}", f"{1 + i % 28:02d}/03/2024",
                            str(600 + 7 * i)) for i in range(HOUSEHOLDS)]  # fmt: skip
    url = f"sqlite:///{tmp_path / 'gros.db'}"
    import_bundle([write_bundle(tmp_path / "lot", dwellings, households)], url)
    engine = make_engine(url)
    with engine.begin() as connection:
        accounts.create(connection, "epci", "epci", PASSWORD, territories=[EPCI])
        token = accounts.issue_token(connection, "epci", 5)[0]
    engine.dispose()
    client = TestClient(create_app(WebConfig(url)))
    sign_in(client, "epci")
    every = client.get(f"/api/explain/{RULE}?year=2024&scope=epci={EPCI}",
                       headers={"Authorization": f"Bearer {token}"}).json()["rows"]  # fmt: skip
    assert len(every) >= HOUSEHOLDS
    size = pages_results.RECORDS_PER_PAGE
    pages = -(-len(every) // size)
    path = f"/resultats/{RULE}/enregistrements?annee=2024&perimetre=epci={EPCI}"
    seen: list[str] = []
    for number in range(1, pages + 1):
        page = client.get(f"{path}&page={number}")
        assert page.status_code == 200
        shown = page.text.count("<tr><td><code title=")
        assert shown == min(size, len(every) - (number - 1) * size), number
        assert f"page {number} sur {pages}" in page.text
        assert ('rel="next"' in page.text) == (number < pages)
        assert ('rel="prev"' in page.text) == (number > 1)
        seen.extend(part.split('"')[0] for part in page.text.split('<code title="')[1:])
    assert seen == [row[0] for row in every]  # every record once, in the order of explain
    beyond = client.get(f"{path}&page={pages + 5}")  # past the end: the last page
    assert f"page {pages} sur {pages}" in beyond.text
    assert client.get(f"{path}&page=0").status_code == 422
    csv = client.get(f"/resultats/{RULE}/enregistrements.csv?annee=2024&perimetre=epci={EPCI}")
    assert csv.status_code == 200
    assert len(csv.text.strip().splitlines()) == len(every) + 1  # a header and every record
