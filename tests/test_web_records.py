"""The records page of a big bundle, a page at a time; the CSV holds every record."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from checker.access import accounts
from checker.db.engine import make_engine
from checker.ingest.importer import import_bundle
from checker.paths import demo_bundle_dir
from checker.web import pages_results
from checker.web.app import create_app
from checker.web.config import WebConfig
from tests.bundles import BAILLEUR_A, EPCI, dwelling, household, write_bundle
from tests.web_helpers import PASSWORD, sign_in

HOUSEHOLDS = 250
RULE = "L441-1.Q1-HORS-QPV"
DEMO_EPCI = "980008015"  # the demo territory


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
    logged = len(_record_accesses(url))
    beyond = client.get(f"{path}&page={pages + 5}")  # past the end: the last page
    assert f"page {pages} sur {pages}" in beyond.text
    assert len(_record_accesses(url)) == logged + 1  # one view, one entry in the access log
    assert client.get(f"{path}&page=0").status_code == 422
    csv = client.get(f"/resultats/{RULE}/enregistrements.csv?annee=2024&perimetre=epci={EPCI}")
    assert csv.status_code == 200
    assert len(csv.text.strip().splitlines()) == len(every) + 1  # a header and every record


def test_a_records_download_refused_midway_is_an_error_not_half_a_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The CSV and the API's document are read whole before they are sent: a listing refused
    after its first records (the two engines disagreeing on a record) is an error answer with
    its French message, not half a file with a success status."""
    from checker.errors import MixiteError
    from checker.evaluate.explain import Explainer

    client, headers = _demo_site(f"sqlite:///{tmp_path / 'demo.db'}")
    csv_path = f"/resultats/{RULE}/enregistrements.csv?annee=2025&perimetre=epci={DEMO_EPCI}"
    api_path = f"/api/explain/{RULE}?year=2025&scope=epci={DEMO_EPCI}"
    whole = client.get(csv_path)
    assert whole.status_code == 200 and whole.headers["content-length"] == str(len(whole.content))
    assert whole.text.startswith("\ufeffPseudonyme du ménage;") and whole.text.count("\r\n") > 100
    real_slices = Explainer.slices

    def refused_after_one(self: Explainer, *args: Any, **kwargs: Any) -> Iterator[Any]:
        pieces = real_slices(self, *args, **kwargs)
        yield next(pieces)
        raise MixiteError("le verdict d'un enregistrement diffère")

    monkeypatch.setattr(Explainer, "slices", refused_after_one)
    for answer in (client.get(csv_path), client.get(api_path, headers=headers)):
        assert answer.status_code == 400, answer.text[:200]
        assert "diffère" in answer.text and "Pseudonyme du ménage;" not in answer.text


def test_the_api_document_of_records_is_the_whole_listing(tmp_path: Path) -> None:
    """`/api/explain`: the same document as the whole listing made at once (columns, every row
    as text, the counts); an unknown rule is refused with its message."""
    from sqlalchemy import create_engine

    from checker.evaluate.explain import explain
    from checker.evaluate.run import Period
    from checker.rulebook_loader import require_rules

    url = f"sqlite:///{tmp_path / 'demo.db'}"
    client, headers = _demo_site(url)
    rulebook, _ = require_rules()
    reading = create_engine(url)
    for rule, scope in (
        (RULE, {"epci": DEMO_EPCI}),
        ("R441-1.PLAFONDS-RESSOURCES", {"epci": DEMO_EPCI, "bailleur": "912000379"}),
    ):
        query = "&".join(f"scope={key}={value}" for key, value in scope.items())
        answer = client.get(f"/api/explain/{rule}?year=2025&{query}", headers=headers)
        assert answer.status_code == 200 and answer.headers["content-type"] == "application/json"
        with reading.connect() as connection:
            full = explain(connection, rulebook, rule, Period.year(2025), scope)
        assert answer.json() == {
            "rule": rule, "year": 2025, "as_of": None, "scope": dict(sorted(scope.items())),
            "columns": full.titles, "rows": full.text_rows(), "counted": full.counted,
            "qualifying": full.qualifying, "unknown": full.unknown,
        }  # fmt: skip
        assert len(full.rows) > 5
    reading.dispose()
    unknown = client.get(
        f"/api/explain/L441-1.INCONNUE?year=2025&scope=epci={DEMO_EPCI}", headers=headers
    )
    assert unknown.status_code == 400 and "Règle inconnue" in unknown.json()["detail"]


def _record_accesses(url: str) -> list[Any]:
    from checker.access import journal

    engine = make_engine(url)
    with engine.connect() as connection:
        entries = [e for e in journal.entries(connection, login="epci")
                   if e.action == "consulter_enregistrements"]  # fmt: skip
    engine.dispose()
    return entries


def test_counts_on_the_pages_are_written_the_french_way() -> None:
    """« 31 377 enregistrement(s) », « 6 480 / 31 377 »: counts as a French reader writes them
    (narrow no-break space between thousands), on the records page and the results."""
    from jinja2 import Environment

    from checker.web import formats

    environment = Environment(autoescape=True)
    formats.install(environment)
    page = environment.from_string("{{ n|entier }} sur {{ m|entier }} ; {{ none|entier }}")
    assert page.render(n=31377, m=1_000_000, none=None) == "31\u202f377 sur 1\u202f000\u202f000 ; —"
    template = Path(formats.__file__).parent / "templates" / "enregistrements.html"
    assert "d.explanation.counted|entier" in template.read_text(encoding="utf-8")


def _demo_site(url: str) -> tuple[TestClient, dict[str, str]]:
    """The demo imported at `url`, an EPCI account signed in on an app over it, and the
    headers of its API token."""
    import_bundle([demo_bundle_dir()], url)
    engine = make_engine(url)
    with engine.begin() as connection:
        accounts.create(connection, "epci", "epci", PASSWORD, territories=[DEMO_EPCI])
        token = accounts.issue_token(connection, "epci", 5)[0]
    engine.dispose()
    client = TestClient(create_app(WebConfig(url)))
    sign_in(client, "epci")
    return client, {"Authorization": f"Bearer {token}"}
