"""Every role against every page and API route: what each may see, on SQLite and PostgreSQL.

One database per backend for the module (the small test bundle, 2024, two bailleurs), one
account per role; the application is driven in-process.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from checker.access.models import SessionWeb
from checker.db.engine import make_engine
from checker.web.app import create_app
from checker.web.config import WebConfig
from tests.conftest import DATA, _postgres_database
from tests.web_helpers import Account, csrf_of, populate, sign_in

EPCI = "910000009"
A, B = "910000017", "910000025"  # "Office public de test", "ESH de test"
PEOPLE = [
    Account("admin", "admin"),
    Account("epci", "epci", territories=(EPCI,)),
    Account("etat", "etat", territories=(EPCI,)),
    Account("bailleur-a", "bailleur", bailleur=A),
    Account("bailleur-b", "bailleur", bailleur=B),
    Account("al", "reservataire", reservataire="AL", territories=(EPCI,)),
    Account("lecteur", "lecteur"),
]
LOGINS = [p.login for p in PEOPLE]


class Waits:
    def __init__(self) -> None:
        self.seconds: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.seconds.append(seconds)


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def site(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Any]]:
    folder = tmp_path_factory.mktemp("web")
    if request.param == "sqlite":
        urls: Iterator[str] = iter([f"sqlite:///{folder / 'web.db'}"])
    else:
        urls = _postgres_database()
    url = next(urls)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MIXITE_CLE_FICHIER", str(folder / "cle.cle"))
        tokens = populate(url, DATA / "mini", PEOPLE)
    waits = Waits()
    app = create_app(WebConfig(url, wait=waits))
    clients = {}
    for login in LOGINS:
        client = TestClient(app)
        sign_in(client, login)
        clients[login] = client
    yield {"url": url, "app": app, "tokens": tokens, "clients": clients, "waits": waits}
    for client in clients.values():
        client.close()
    app.state.mixite.engine.dispose()
    for _ in urls:  # drops the PostgreSQL database
        pass


def api(site: dict[str, Any], login: str | None, path: str, **kwargs: Any) -> Any:
    headers = {"Authorization": f"Bearer {site['tokens'][login]}"} if login else {}
    return TestClient(site["app"]).get(path, headers=headers, **kwargs)


def scopes(site: dict[str, Any], login: str) -> list[dict[str, str]]:
    answer = api(site, login, "/api/results?year=2024")
    assert answer.status_code == 200, answer.text
    return [r["scope"] for r in answer.json()["results"]]


# ------------------------------------------------------------------ results, HTML and JSON
def test_each_role_receives_only_its_results_in_json(site: dict[str, Any]) -> None:
    everything = scopes(site, "admin")
    assert {s.get("bailleur") for s in everything} >= {A, B}
    assert {s.get("reservataire") for s in everything} >= {"AL", "80901"}
    assert scopes(site, "epci") == everything == scopes(site, "etat")
    for login, own in (("bailleur-a", A), ("bailleur-b", B)):
        seen = scopes(site, login)
        assert seen, login
        for scope in seen:
            assert scope.get("bailleur", own) == own, (login, scope)
            if "reservataire" in scope and "epci" in scope:  # only its own flow
                assert (scope["contingent"], scope["reservataire"]) == ("non_reserve", own)
            elif "reservataire" in scope:  # a whole flow: figures of any réservataire but
                # another bailleur's own flow (decision of #13.6)
                assert scope["contingent"] != "non_reserve" or scope["reservataire"] == own
        assert any(scope.get("bailleur") == own for scope in seen)
    assert scopes(site, "al") and all(s["reservataire"] == "AL" for s in scopes(site, "al"))
    refused = api(site, "lecteur", "/api/results?year=2024")  # the published reports only
    assert refused.status_code == 403 and "résultats" in refused.json()["detail"]


def test_a_bailleur_asking_for_another_bailleur_gets_403_in_french(site: dict[str, Any]) -> None:
    answer = api(site, "bailleur-a", f"/api/results?year=2024&bailleur={B}")
    assert answer.status_code == 403
    assert "propre organisme" in answer.json()["detail"]
    assert B not in answer.text.replace(f"bailleur={B}", "")


def test_the_results_page_shows_no_other_bailleur(site: dict[str, Any]) -> None:
    page = site["clients"]["bailleur-a"].get("/resultats?annee=2024")
    assert page.status_code == 200
    assert "Office public de test" in page.text and "ESH de test" not in page.text
    page = site["clients"]["al"].get("/resultats?annee=2024")
    assert "Action Logement Services" in page.text
    assert "Ville d'Aval" not in page.text and "Office public de test" not in page.text
    assert site["clients"]["lecteur"].get("/resultats?annee=2024").status_code == 403


def test_results_page_figures_are_those_of_the_check(site: dict[str, Any]) -> None:
    document = api(site, "admin", "/api/results?year=2024").json()
    page = site["clients"]["admin"].get("/resultats?annee=2024").text
    for result in document["results"]:
        if result["denominator"] is not None:
            assert f"{result['numerator']} / {result['denominator']}" in page


# ------------------------------------------------------------------ records (drill-down)
OWN_A = {"bailleur": A, "epci": EPCI}
OWN_B = {"bailleur": B, "epci": EPCI}
WHOLE = {"epci": EPCI}
AL_FLOW = {"contingent": "action_logement", "epci": EPCI, "reservataire": "AL"}
ALLOWED = {  # login -> scopes whose records it may list
    "admin": [OWN_A, OWN_B, WHOLE, AL_FLOW],
    "epci": [OWN_A, OWN_B, WHOLE, AL_FLOW],
    "etat": [OWN_A, OWN_B, WHOLE, AL_FLOW],
    "bailleur-a": [OWN_A],
    "bailleur-b": [OWN_B],
    "al": [AL_FLOW],
    "lecteur": [],
}
RULES = {str(OWN_A): "L441-1.Q1-HORS-QPV", str(OWN_B): "L441-1.Q1-HORS-QPV",
         str(WHOLE): "L441-1.Q1-HORS-QPV", str(AL_FLOW): "L441-1.PRIORITAIRES-25"}  # fmt: skip


@pytest.mark.parametrize("login", LOGINS)
def test_records_only_where_the_role_allows_html_and_json(site: dict[str, Any], login: str) -> None:
    client = site["clients"][login]
    every = api(site, "admin", "/api/explain/L441-1.Q1-HORS-QPV?year=2024").json()["rows"]
    pseudonyms = {row[0] for row in every}
    assert pseudonyms
    for scope in (OWN_A, OWN_B, WHOLE, AL_FLOW):
        rule = RULES[str(scope)]
        query = "&".join(f"scope={k}={v}" for k, v in scope.items())
        answer = api(site, login, f"/api/explain/{rule}?year=2024&{query}")
        page_query = "&".join(f"perimetre={k}={v}" for k, v in scope.items())
        page = client.get(f"/resultats/{rule}/enregistrements?annee=2024&{page_query}")
        csv = client.get(f"/resultats/{rule}/enregistrements.csv?annee=2024&{page_query}")
        if scope in ALLOWED[login]:
            assert answer.status_code == 200, (login, scope, answer.text)
            assert page.status_code == 200 and csv.status_code == 200
            bailleurs = {row[2] for row in answer.json()["rows"]}
            if "bailleur" in scope:
                assert bailleurs <= {scope["bailleur"]}
        else:
            assert answer.status_code == 403, (login, scope)
            assert answer.json()["detail"].startswith("Votre compte ne permet pas")
            assert page.status_code == 403 and csv.status_code == 403
            for body in (answer.text, page.text, csv.text):
                assert not any(p in body or p[:12] in body for p in pseudonyms)


def test_each_access_to_records_and_each_refusal_is_logged(site: dict[str, Any]) -> None:
    from checker.access import journal

    api(site, "bailleur-a", f"/api/explain/L441-1.Q1-HORS-QPV?year=2024&scope=bailleur={A}")
    api(site, "bailleur-a", f"/api/explain/L441-1.Q1-HORS-QPV?year=2024&scope=bailleur={B}")
    engine = make_engine(site["url"])
    with engine.connect() as connection:
        entries = [e for e in journal.entries(connection, login="bailleur-a")
                   if e.action == "consulter_enregistrements"]  # fmt: skip
    engine.dispose()
    assert [e.outcome for e in entries[-2:]] == ["autorise", "refuse"]
    assert entries[-1].channel == "api" and f"bailleur={B}" in entries[-1].resource


# ------------------------------------------------------------------ every page and route
PAGES = {  # path -> roles answered 200 (others: 403)
    "/": LOGINS,
    "/resultats?annee=2024": [login for login in LOGINS if login != "lecteur"],
    "/publications": LOGINS,
    "/import": ["admin", "epci", "bailleur-a", "bailleur-b"],
    "/cia": ["admin", "epci", "etat", "bailleur-a", "bailleur-b", "al"],
    "/caleol": ["admin", "epci", "bailleur-a", "bailleur-b"],
    "/executions": ["admin", "epci", "etat"],
    "/utilisateurs": ["admin", "epci"],
    "/diagnostic?annee=2024": ["admin", "epci", "etat", "bailleur-a", "bailleur-b"],
}


@pytest.mark.parametrize("path", list(PAGES))
def test_every_page_for_every_role(site: dict[str, Any], path: str) -> None:
    for login in LOGINS:
        answer = site["clients"][login].get(path, follow_redirects=False)
        expected = 200 if login in PAGES[path] else 403
        assert answer.status_code == expected, (path, login)
        if expected == 403:
            assert "Accès refusé" in answer.text
    anonymous = TestClient(site["app"]).get(path, follow_redirects=False)
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/connexion")


def test_runs_api_and_imports_api_per_role(site: dict[str, Any]) -> None:
    for login in LOGINS:
        answer = api(site, login, "/api/runs")
        assert answer.status_code == (200 if login in ("admin", "epci", "etat") else 403), login
    for login in ("etat", "al", "lecteur"):
        refused = TestClient(site["app"]).post(
            "/api/imports", headers={"Authorization": f"Bearer {site['tokens'][login]}"},
            files={"bundle": ("lot.zip", b"PK", "application/zip")})  # fmt: skip
        assert refused.status_code == 403 and "importer" in refused.json()["detail"]


def test_report_downloads_are_restricted(site: dict[str, Any]) -> None:
    client = site["clients"]["bailleur-a"]
    document = client.get("/rapports/2024.json").json()
    assert document["results"] and all(
        r["scope"].get("bailleur", A) == A for r in document["results"]
    )
    for fmt in ("html", "md", "csv"):
        body = client.get(f"/rapports/2024.{fmt}").text
        assert B not in body and "ESH de test" not in body, fmt
    assert client.get("/rapports/2024.xlsx").content[:2] == b"PK"


def test_the_failing_records_csv_is_restricted(site: dict[str, Any]) -> None:
    everything = site["clients"]["admin"].get("/rapports/2024-en-defaut.csv")
    assert everything.status_code == 200
    assert "rapport-2024-en-defaut.csv" in everything.headers["content-disposition"]
    assert "Office public de test" in everything.text and "ESH de test" in everything.text
    own = site["clients"]["bailleur-a"].get("/rapports/2024-en-defaut.csv").text
    assert "Office public de test" in own and "ESH de test" not in own and B not in own
    assert len(own.splitlines()) < len(everything.text.splitlines())
    refused = site["clients"]["lecteur"].get("/rapports/2024-en-defaut.csv")
    assert refused.status_code == 403 and "Accès refusé" in refused.text
    other = site["clients"]["bailleur-b"].get("/rapports/2024-en-defaut.csv").text
    assert "Office public de test" not in other and A not in other
    for login in ("epci", "etat"):
        assert site["clients"][login].get("/rapports/2024-en-defaut.csv").text == everything.text
    flow = site["clients"]["al"].get("/rapports/2024-en-defaut.csv")
    assert flow.status_code == 200
    assert "Ville d'Aval" not in flow.text and "Préfet" not in flow.text
    page = site["clients"]["admin"].get("/resultats?annee=2024").text
    assert 'href="/rapports/2024-en-defaut.csv"' in page


def test_without_a_token_the_api_answers_401(site: dict[str, Any]) -> None:
    for path in ("/api/results?year=2024", "/api/explain/L441-1.Q1-HORS-QPV?year=2024",
                 "/api/runs"):  # fmt: skip
        answer = api(site, None, path)
        assert answer.status_code == 401 and "Bearer" in answer.json()["detail"]
    bad = TestClient(site["app"]).get("/api/runs", headers={"Authorization": "Bearer mxt_faux"})
    assert bad.status_code == 401
    # A browser session is not an API credential.
    assert site["clients"]["admin"].get("/api/runs").status_code == 401


def test_openapi_document_describes_the_api(site: dict[str, Any]) -> None:
    document = TestClient(site["app"]).get("/api/openapi.json").json()
    assert {"/api/results", "/api/explain/{rule_id}", "/api/imports", "/api/runs"} <= set(
        document["paths"]
    )
    assert "403" in document["paths"]["/api/results"]["get"]["responses"]


# ------------------------------------------------------------------ CSRF, sessions, sign-in
def test_a_form_without_its_csrf_token_is_refused(site: dict[str, Any]) -> None:
    client = site["clients"]["epci"]
    for path, data in (("/executions", {"annee": "2024"}), ("/executions/verifier", {}),
                       ("/deconnexion", {})):  # fmt: skip
        missing = client.post(path, data=data, follow_redirects=False)
        wrong = client.post(path, data={**data, "csrf_token": "0" * 64}, follow_redirects=False)
        assert missing.status_code == wrong.status_code == 403
        assert "Formulaire refusé" in missing.text
    assert client.get("/executions").status_code == 200  # still signed in
    fresh = TestClient(site["app"])
    page = fresh.get("/connexion")
    assert (
        fresh.post("/connexion", data={"identifiant": "admin", "mot_de_passe": "x"}).status_code
        == 403
    )
    ok = fresh.post("/connexion", data={"identifiant": "admin", "mot_de_passe": "x",
                                         "csrf_token": csrf_of(page.text)})  # fmt: skip
    assert ok.status_code == 401  # wrong password, but the form itself was accepted


def test_the_tenth_wrong_password_in_a_minute_is_slowed_down(site: dict[str, Any]) -> None:
    waits: Waits = site["waits"]
    client = TestClient(site["app"], client=("192.0.2.10", 50000))  # an address of its own
    token = csrf_of(client.get("/connexion").text)
    for attempt in range(1, 12):
        waits.seconds.clear()
        answer = client.post("/connexion", data={"identifiant": "lecteur", "mot_de_passe": "faux",
                                                 "csrf_token": token})  # fmt: skip
        assert answer.status_code == 401
        if attempt < 10:
            assert waits.seconds == [], attempt
        else:
            assert waits.seconds and waits.seconds[0] >= 1, attempt
    assert waits.seconds[0] > 1  # and more so after


def test_an_expired_session_signs_out(site: dict[str, Any]) -> None:
    client = TestClient(site["app"])
    sign_in(client, "etat")
    assert client.get("/", follow_redirects=False).status_code == 200
    engine = make_engine(site["url"])
    with engine.begin() as connection:
        connection.execute(update(SessionWeb).values(
            expire_le=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)))  # fmt: skip
    engine.dispose()
    assert client.get("/", follow_redirects=False).status_code == 303
    for login in LOGINS:  # the module's other sessions expired too: sign them in again
        sign_in(site["clients"][login], login)


def test_the_lecteur_reads_the_published_reports_only(site: dict[str, Any]) -> None:
    epci = site["clients"]["epci"]
    token = csrf_of(epci.get("/executions").text)
    recorded = epci.post("/executions", data={"annee": "2024", "csrf_token": token},
                         follow_redirects=False)  # fmt: skip
    run_id = int(recorded.headers["location"].rsplit("/", 1)[1])
    lecteur = site["clients"]["lecteur"]
    assert lecteur.get(f"/publications/{run_id}.json").status_code == 403  # not yet published
    bailleur = site["clients"]["bailleur-a"]
    refused = bailleur.post(f"/executions/{run_id}/publier",
                            data={"csrf_token": csrf_of(bailleur.get("/").text)})  # fmt: skip
    assert refused.status_code == 403
    page = epci.get(f"/executions/{run_id}").text
    assert "Publier le rapport" in page
    published = epci.post(f"/executions/{run_id}/publier", data={"csrf_token": token},
                          follow_redirects=False)  # fmt: skip
    assert published.status_code == 303
    listing = lecteur.get("/publications").text
    assert f"/publications/{run_id}.json" in listing
    document = lecteur.get(f"/publications/{run_id}.json").json()
    assert document["receipt"]["run_id"] == run_id and document["results"]
    assert all(set(r["scope"]) <= {"epci", "commune", "qpv", "financement"}
               for r in document["results"])  # fmt: skip
    stored = api(site, "admin", "/api/runs").json()
    assert any(run["run_id"] == run_id for run in stored)
    mine = bailleur.get(f"/publications/{run_id}.json").json()["results"]
    assert mine and all(r["scope"].get("bailleur", A) == A for r in mine)
    for fmt in ("csv", "md"):
        body = lecteur.get(f"/publications/{run_id}.{fmt}").text
        assert EPCI in body and A not in body and B not in body  # no bailleur's own result
    html = lecteur.get(f"/publications/{run_id}.html").text
    assert "Contrôle des attributions 2024 (exécution n° " in html
    assert "ESH de test" not in html and "Office public de test" not in html
    assert "<code title=" not in html and "en-defaut" not in html  # no record listed
    mine = bailleur.get(f"/publications/{run_id}.html").text
    assert "Office public de test" in mine and "ESH de test" not in mine
    for fmt, magic in (("xlsx", b"PK"), ("docx", b"PK")):
        answer = lecteur.get(f"/publications/{run_id}.{fmt}")
        assert answer.status_code == 200 and answer.content[:2] == magic, fmt
    assert lecteur.get(f"/publications/{run_id}.exe").status_code == 400
    if shutil.which("chromium") or os.environ.get("MIXITE_CHROMIUM"):  # the PDF's printer
        for client, path in ((lecteur, f"/publications/{run_id}.pdf"),
                             (bailleur, "/rapports/2024.pdf")):  # fmt: skip
            answer = client.get(path)
            assert answer.status_code == 200 and answer.content[:5] == b"%PDF-", path
