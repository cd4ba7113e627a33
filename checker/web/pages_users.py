"""Accounts in the web: an administrator or an `epci` account lists, creates and disables the
accounts it manages (`checker.access.management`), and issues their API tokens."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response
from sqlalchemy import Connection, select

from checker.access import accounts, management, permissions
from checker.access.roles import ROLE_LABELS, Actor
from checker.db import models
from checker.errors import MixiteError
from checker.web.context import log, page_actor, render, require, transaction
from checker.web.names import Names

router = APIRouter(include_in_schema=False)
_REASON = "Votre compte ne permet pas de gérer des comptes."


def _manager(request: Request, connection: Connection) -> Actor:
    actor = page_actor(request, connection)
    require(request, connection, actor, permissions.can(actor, "gerer_utilisateurs"),
            "consulter_utilisateurs", "comptes", _REASON)  # fmt: skip
    return actor


def _managed(request: Request, connection: Connection, actor: Actor,
             login: str, action: str) -> accounts.Account:  # fmt: skip
    """The account named, when the actor manages it; the same refusal whether it exists or
    not, so that a page does not tell which logins exist elsewhere."""
    account = accounts.find(connection, login)
    require(request, connection, actor,
            account is not None and management.manages(actor, account), action,
            f"compte {login}", "Ce compte n'est pas l'un de ceux que vous gérez.")  # fmt: skip
    assert account is not None
    return account


def _page(request: Request, connection: Connection, actor: Actor, status_code: int = 200,
          **extra: Any) -> Response:  # fmt: skip
    names = Names.load(connection)
    listed = [a for a in accounts.all_accounts(connection) if management.manages(actor, a)]
    territories = {s: n for s, n in sorted(names.epci.items(), key=lambda item: item[1])
                   if actor.covers_epci(s)}  # fmt: skip
    reservataires = connection.execute(
        select(models.Reservataire.epci_siren, models.Reservataire.id, models.Reservataire.nom)
        .where(models.Reservataire.epci_siren.in_(list(territories)))
        .order_by(models.Reservataire.nom)
    ).all()  # fmt: skip
    return render(request, "utilisateurs.html", {
        "comptes": listed, "roles": {r: ROLE_LABELS[r] for r in management.creatable_roles(actor)},
        "libelles": ROLE_LABELS, "noms": names, "territoires": territories,
        "bailleurs": _bailleurs(connection, actor, names),
        "reservataires": reservataires, "saisie": {}, "erreur": None, "jeton": None,
        "cree": None, **extra,
    }, status_code=status_code)  # fmt: skip


def _bailleurs(connection: Connection, actor: Actor, names: Names) -> dict[str, str]:
    """The bailleurs an account may be created for: for an EPCI, those of its territory."""
    if actor.role == "admin":
        held = set(names.bailleur)
    else:
        held = set(connection.scalars(
            select(models.Logement.bailleur_siren).distinct()
            .join(models.Commune, models.Commune.insee == models.Logement.commune_insee)
            .where(models.Commune.epci_siren.in_(list(actor.territories)))))  # fmt: skip
    return {s: n for s, n in sorted(names.bailleur.items(), key=lambda item: item[1]) if s in held}


@router.get("/utilisateurs")
def users_page(request: Request) -> Response:
    with transaction(request) as connection:
        actor = _manager(request, connection)
        return _page(request, connection, actor)


@router.post("/utilisateurs")
def add_user(request: Request, identifiant: str = Form(""), role: str = Form(""),
             bailleur: str = Form(""), reservataire: str = Form(""), epci: str = Form(""),
             mot_de_passe: str = Form(""), confirmation: str = Form("")) -> Response:  # fmt: skip
    typed = {"identifiant": identifiant, "role": role, "bailleur": bailleur,
             "reservataire": reservataire, "epci": epci}  # fmt: skip
    with transaction(request) as connection:
        actor = _manager(request, connection)
        try:
            if mot_de_passe != confirmation:
                raise MixiteError("Les deux saisies du mot de passe diffèrent.")
            # Only the fields of the chosen role count: the form shows them all.
            chosen_bailleur = bailleur.strip() if role == "bailleur" else None
            chosen_reservataire = reservataire.strip() if role == "reservataire" else None
            territories = management.territories_for(actor, role, epci.strip() or None)
            management.check_creation(connection, actor, role, chosen_bailleur, territories)
            # Every check comes before the one insert: a refusal writes nothing.
            account = accounts.create(connection, identifiant, role, mot_de_passe,
                                      bailleur=chosen_bailleur, reservataire=chosen_reservataire,
                                      territories=territories)  # fmt: skip
        except MixiteError as error:
            log(request, connection, actor, "creer_utilisateur",
                f"compte {identifiant.strip()[:64]} ({role[:20]}) : {error.message}", "echec")  # fmt: skip
            return _page(request, connection, actor, 422, saisie=typed, erreur=error)
        log(request, connection, actor, "creer_utilisateur",
            f"compte {account.login} ({account.role})")  # fmt: skip
        return _page(request, connection, actor, cree=account.login)


@router.post("/utilisateurs/{login}/desactiver")
def disable_user(request: Request, login: str) -> Response:
    with transaction(request) as connection:
        actor = _manager(request, connection)
        account = _managed(request, connection, actor, login, "desactiver_utilisateur")
        accounts.disable(connection, account.login)
        log(request, connection, actor, "desactiver_utilisateur", f"compte {account.login}")
        return _page(request, connection, actor, desactive=account.login)


@router.post("/utilisateurs/{login}/jeton")
def token_for(request: Request, login: str, jours: int = Form(90)) -> Response:
    with transaction(request) as connection:
        actor = _manager(request, connection)
        account = _managed(request, connection, actor, login, "creer_jeton")
        value, expiry = accounts.issue_token(connection, account.login, jours)
        log(request, connection, actor, "creer_jeton", f"compte {account.login}")
        return _page(request, connection, actor,
                     jeton={"login": account.login, "valeur": value, "expire": expiry})  # fmt: skip
