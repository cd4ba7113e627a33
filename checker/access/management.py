"""Who manages which accounts in the web: an administrator every account; an `epci` account
the accounts of its own territory, and the accounts it creates are bound to that territory.

An account belongs to a territory when its territories are all that EPCI's: an account with no
territory (all of them) or reaching another territory is the administrator's, since changing it
would change what is seen elsewhere. An EPCI creates neither administrators nor État accounts
(the État's may span several territories).
"""

from __future__ import annotations

from sqlalchemy import Connection, select

from checker.access.accounts import Account
from checker.access.models import ROLES
from checker.access.roles import Actor
from checker.db import models
from checker.errors import MixiteError

EPCI_CREATES = ("epci", "bailleur", "reservataire", "lecteur")


def manages(actor: Actor, account: Account) -> bool:
    if actor.role == "admin":
        return True
    if actor.role != "epci" or account.role in ("admin", "etat"):
        return False
    return bool(account.territories) and set(account.territories) <= set(actor.territories)


def creatable_roles(actor: Actor) -> tuple[str, ...]:
    if actor.role == "admin":
        return ROLES
    if actor.role == "epci":
        return EPCI_CREATES
    return ()


def territories_for(actor: Actor, role: str, chosen: str | None) -> list[str]:
    """The territories of an account the actor creates: an EPCI's own, always."""
    if actor.role == "epci":
        return list(actor.territories)
    return [chosen] if chosen and role != "admin" else []


def check_creation(connection: Connection, actor: Actor, role: str, bailleur: str | None,
                   territories: list[str]) -> None:  # fmt: skip
    """Refuse what the actor may not create; the account's own fields are checked by
    `accounts.create`."""
    if role not in creatable_roles(actor):
        raise MixiteError(f"Votre compte ne crée pas de compte de rôle « {role} ».",
                          "Rôles possibles : " + ", ".join(creatable_roles(actor)))  # fmt: skip
    if actor.role == "epci" and role == "bailleur" and bailleur:
        # A bailleur of the territory: it holds dwellings in one of its communes.
        held = connection.scalar(
            select(models.Logement.rpls_id)
            .join(models.Commune, models.Commune.insee == models.Logement.commune_insee)
            .where(models.Logement.bailleur_siren == bailleur,
                   models.Commune.epci_siren.in_(territories))
            .limit(1)
        )  # fmt: skip
        if held is None:
            raise MixiteError(f"Le bailleur {bailleur} n'a aucun logement sur votre territoire.")
