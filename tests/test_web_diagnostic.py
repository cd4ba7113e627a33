"""The occupation diagnostic in the web, for every role: a bailleur its own residences only,
a réservataire and a lecteur nothing; the page and each download."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

from fastapi.testclient import TestClient

from checker.web.app import create_app
from checker.web.config import WebConfig
from tests.conftest import DATA
from tests.web_helpers import Account, populate, sign_in

EPCI = "910000009"
A, B = "910000017", "910000025"
PEOPLE = [
    Account("admin", "admin"),
    Account("epci", "epci", territories=(EPCI,)),
    Account("etat", "etat", territories=(EPCI,)),
    Account("bailleur-a", "bailleur", bailleur=A),
    Account("bailleur-b", "bailleur", bailleur=B),
    Account("al", "reservataire", reservataire="AL", territories=(EPCI,)),
    Account("lecteur", "lecteur"),
]


def test_the_diagnostic_for_every_role(tmp_path: Path) -> None:
    bundle = tmp_path / "lot"
    shutil.copytree(DATA / "mini", bundle)
    for path in (DATA / "peuplement").iterdir():
        shutil.copy(path, bundle / path.name)
    url = f"sqlite:///{tmp_path / 'diag.db'}"
    populate(url, bundle, PEOPLE)
    app = create_app(WebConfig(url))
    residences = {}
    for person in PEOPLE:
        client = TestClient(app)
        sign_in(client, person.login)
        page = client.get("/diagnostic?annee=2024")
        document = client.get("/diagnostic/2024.json")
        workbook = client.get("/diagnostic/2024.xlsx")
        if person.role in ("reservataire", "lecteur"):
            assert page.status_code == document.status_code == workbook.status_code == 403
            assert "Résidence des Tilleuls" not in page.text + document.text + workbook.text
            continue
        assert workbook.status_code == 200, person.login
        assert workbook.headers["content-type"].startswith(
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        )
        assert 'filename="diagnostic-2024.xlsx"' in workbook.headers["content-disposition"]
        assert page.status_code == 200 and document.status_code == 200, person.login
        shown = json.loads(document.text)["profils"]["residences"]
        residences[person.login] = {item["bailleur"] for item in shown}
        if person.login == "bailleur-b":  # nothing of bailleur A, on the page or in a file
            cells = _cells(workbook.content)
            assert "Le Moulin" in cells  # its own residence
            for body in (page.text, document.text, client.get("/diagnostic/2024.csv").text, cells):
                assert "Office public de test" not in body and "Résidence des Tilleuls" not in body
        if person.login == "bailleur-a":
            assert "Résidence des Tilleuls" in _cells(workbook.content)
        for fmt in ("html", "md", "csv"):
            assert client.get(f"/diagnostic/2024.{fmt}").status_code == 200, (person.login, fmt)
    assert residences["admin"] == residences["epci"] == residences["etat"] == {A, B}
    assert residences["bailleur-a"] == {A} and residences["bailleur-b"] == {B}


def _cells(content: bytes) -> str:
    """Every cell of a workbook, one text."""
    from openpyxl import load_workbook

    workbook = load_workbook(io.BytesIO(content), read_only=True)
    return "\n".join(
        str(value)
        for sheet in workbook.worksheets
        for row in sheet.iter_rows(values_only=True)
        for value in row
        if value is not None
    )
