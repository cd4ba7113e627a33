"""Accounts in the web: an EPCI manages the accounts of its territory, and only those; the
other roles may not reach the page. On SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import insert

from checker.access import accounts, journal
from checker.db import models
from checker.db.engine import make_engine
from checker.web.app import create_app
from checker.web.config import WebConfig
from tests.conftest import DATA, _postgres_database
from tests.web_helpers import PASSWORD, Account, csrf_of, populate, sign_in

EPCI, OTHER = "910000009", "200000172"
A = "910000017"  # "Office public de test", with dwellings on EPCI
PEOPLE = [
    Account("admin", "admin"),
    Account("epci", "epci", territories=(EPCI,)),
    Account("etat", "etat", territories=(EPCI,)),
    Account("bailleur-a", "bailleur", bailleur=A),
    Account("al", "reservataire", reservataire="AL", territories=(EPCI,)),
    Account("lecteur", "lecteur"),
]


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def site(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Any]]:
    folder = tmp_path_factory.mktemp("web-comptes")
    if request.param == "sqlite":
        urls: Iterator[str] = iter([f"sqlite:///{folder / 'web.db'}"])
    else:
        urls = _postgres_database()
    url = next(urls)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MIXITE_CLE_FICHIER", str(folder / "cle.cle"))
        populate(url, DATA / "mini", PEOPLE)
    engine = make_engine(url)
    with engine.begin() as connection:  # a second territory, with an EPCI account of its own
        connection.execute(insert(models.Epci).values(
            siren=OTHER, nom="Autre communauté", nom_arrete="CC Autre", departement="91",
            region="Île-de-France", tenu_plh=True, competent_habitat=True))  # fmt: skip
        accounts.create(connection, "epci-autre", "epci", PASSWORD, territories=[OTHER])
        accounts.create(connection, "lecteur-autre", "lecteur", PASSWORD, territories=[OTHER])
    app = create_app(WebConfig(url))
    clients = {}
    for login in [p.login for p in PEOPLE] + ["epci-autre"]:
        clients[login] = TestClient(app)
        sign_in(clients[login], login)
    yield {"url": url, "app": app, "clients": clients, "engine": engine}
    for client in clients.values():
        client.close()
    engine.dispose()
    app.state.mixite.engine.dispose()
    for _ in urls:  # drops the PostgreSQL database
        pass


def post(client: TestClient, path: str, data: dict[str, Any]) -> Any:
    token = csrf_of(client.get("/").text)
    return client.post(path, data={**data, "csrf_token": token}, follow_redirects=False)


def new_account(login: str, role: str, **fields: str) -> dict[str, str]:
    return {"identifiant": login, "role": role, "mot_de_passe": PASSWORD,
            "confirmation": PASSWORD, **fields}  # fmt: skip


def test_only_admin_and_epci_reach_the_accounts_page(site: dict[str, Any]) -> None:
    for login, client in site["clients"].items():
        answer = client.get("/utilisateurs")
        expected = 200 if login in ("admin", "epci", "epci-autre") else 403
        assert answer.status_code == expected, login
        assert ('href="/utilisateurs"' in client.get("/").text) == (expected == 200), login
    for login in ("bailleur-a", "etat", "lecteur", "al"):
        client = site["clients"][login]
        for path, data in (("/utilisateurs", new_account("x-" + login, "lecteur")),
                           ("/utilisateurs/al/desactiver", {}), ("/utilisateurs/al/jeton", {})):  # fmt: skip
            assert post(client, path, data).status_code == 403, (login, path)
    anonymous = TestClient(site["app"])
    assert anonymous.get("/utilisateurs", follow_redirects=False).status_code == 303
    with site["engine"].connect() as connection:
        assert accounts.find(connection, "x-lecteur") is None
        assert accounts.find(connection, "al").active  # type: ignore[union-attr]


def test_an_epci_lists_the_accounts_of_its_territory_only(site: dict[str, Any]) -> None:
    page = site["clients"]["epci"].get("/utilisateurs").text
    for login in ("epci", "al"):
        assert f'<th scope="row">{login}</th>' in page
    # Not its territory (epci-autre), every territory (bailleur-a, lecteur, admin), the État.
    for login in ("epci-autre", "lecteur-autre", "bailleur-a", "lecteur", "admin", "etat"):
        assert f'<th scope="row">{login}</th>' not in page, login
    other = site["clients"]["epci-autre"].get("/utilisateurs").text
    assert '<th scope="row">lecteur-autre</th>' in other and '<th scope="row">al</th>' not in other


def test_an_epci_creates_accounts_bound_to_its_territory(site: dict[str, Any]) -> None:
    client = site["clients"]["epci"]
    made = post(client, "/utilisateurs", new_account("gestion-a", "bailleur", bailleur=A,
                                                     epci=OTHER))  # fmt: skip
    assert made.status_code == 200 and "Compte « gestion-a » créé" in made.text
    with site["engine"].connect() as connection:
        account = accounts.find(connection, "gestion-a")
    assert account is not None and account.role == "bailleur" and account.bailleur == A
    assert account.territories == (EPCI,)  # its own, whatever the form said
    fresh = TestClient(site["app"])
    sign_in(fresh, "gestion-a")
    assert "Office public de test" in fresh.get("/resultats?annee=2024").text
    made = post(client, "/utilisateurs", new_account("flux-al", "reservataire", reservataire="AL"))
    assert made.status_code == 200
    for refused, why in (
        (new_account("chef", "admin"), "rôle « admin »"),
        (new_account("prefecture", "etat"), "rôle « etat »"),
        (new_account("inconnu", "bailleur", bailleur="999999999"), "aucun logement"),
        (new_account("court", "lecteur", mot_de_passe="court", confirmation="court"), "trop court"),
        (new_account("gestion-a", "lecteur"), "existe déjà"),
        ({**new_account("faute", "lecteur"), "confirmation": "autre-mot-de-passe"}, "diffèrent"),
    ):
        answer = post(client, "/utilisateurs", refused)
        assert answer.status_code == 422, refused
        assert "Compte non créé" in answer.text and why in answer.text, (refused, answer.text)
    with site["engine"].connect() as connection:
        for login in ("chef", "prefecture", "inconnu", "court", "faute"):
            assert accounts.find(connection, login) is None, login
        logged = [e for e in journal.entries(connection, login="epci")
                  if e.action == "creer_utilisateur"]  # fmt: skip
    assert [e.outcome for e in logged].count("autorise") == 2
    assert [e.outcome for e in logged].count("echec") == 6


def test_an_epci_issues_tokens_and_disables_within_its_territory(site: dict[str, Any]) -> None:
    client = site["clients"]["epci"]
    post(client, "/utilisateurs", new_account("script-epci", "lecteur"))
    issued = post(client, "/utilisateurs/script-epci/jeton", {"jours": "30"})
    assert issued.status_code == 200 and "Il ne sera plus affiché" in issued.text
    token = issued.text.split('<code id="jeton-valeur">')[1].split("</code>")[0]
    assert token.startswith(accounts.TOKEN_PREFIX)
    api = TestClient(site["app"])
    headers = {"Authorization": f"Bearer {token}"}
    assert api.get("/api/results?year=2024", headers=headers).status_code == 403  # a lecteur
    # Outside its territory: refused, whether the account exists or not; nothing changes.
    for login in ("epci-autre", "lecteur-autre", "bailleur-a", "admin", "etat", "personne"):
        for action in ("desactiver", "jeton"):
            answer = post(client, f"/utilisateurs/{login}/{action}", {})
            assert answer.status_code == 403, (login, action)
            assert "de ceux que vous gérez" in answer.text
    with site["engine"].connect() as connection:
        assert all(accounts.find(connection, login).active  # type: ignore[union-attr]
                   for login in ("epci-autre", "lecteur-autre", "bailleur-a"))  # fmt: skip
    disabled = post(client, "/utilisateurs/script-epci/desactiver", {})
    assert disabled.status_code == 200 and "désactivé" in disabled.text
    assert api.get("/api/runs", headers=headers).status_code == 401  # its token died with it
    with site["engine"].connect() as connection:
        actions = [(e.action, e.outcome) for e in journal.entries(connection, login="epci")]
    assert ("creer_jeton", "autorise") in actions
    assert ("desactiver_utilisateur", "refuse") in actions


def test_the_admin_manages_every_account(site: dict[str, Any]) -> None:
    client = site["clients"]["admin"]
    page = client.get("/utilisateurs").text
    for login in ("epci-autre", "bailleur-a", "lecteur", "etat"):
        assert f'<th scope="row">{login}</th>' in page
    made = post(client, "/utilisateurs", new_account("ddets-autre", "etat", epci=OTHER))
    assert made.status_code == 200, made.text
    with site["engine"].connect() as connection:
        assert accounts.find(connection, "ddets-autre").territories == (OTHER,)  # type: ignore[union-attr]
