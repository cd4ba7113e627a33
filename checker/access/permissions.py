"""Permissions: one (actor, action, resource) check, made here and nowhere else.

Pages, the JSON API and the downloads all ask these functions; templates never decide.

- admin: everything; epci: its territory, including imports and the CIA; etat: reads
  everything of its territories; bailleur: its own results and records, the territory-wide
  figures for context (as `mixite check --bailleur`), its CALEOL dockets and its own imports;
  reservataire: its own flow's results and records; lecteur: the published reports only
  (their territorial results), never a record.
"""

from __future__ import annotations

from collections.abc import Mapping

from checker.access.roles import Actor

# Scope keys that only divide the territory: a result on them concerns no single partner.
_TERRITORIAL = frozenset({"epci", "commune", "qpv", "financement"})
_READ_ALL = ("admin", "epci", "etat")

ACTIONS = {
    "lire_resultats": ("admin", "epci", "etat", "bailleur", "reservataire"),
    "lire_publications": ("admin", "epci", "etat", "bailleur", "reservataire", "lecteur"),
    "publier": ("admin", "epci"),
    "lire_enregistrements": ("admin", "epci", "etat", "bailleur", "reservataire"),
    "importer": ("admin", "epci", "bailleur"),
    "lire_cia": ("admin", "epci", "etat", "bailleur", "reservataire"),
    "deposer_cia": ("admin", "epci"),
    "verifier_caleol": ("admin", "epci", "bailleur"),
    "lire_executions": ("admin", "epci", "etat"),
    "enregistrer_execution": ("admin", "epci"),
    "gerer_utilisateurs": ("admin", "epci"),
    "lire_diagnostic": (
        "admin",
        "epci",
        "etat",
        "bailleur",
    ),  # which accounts: checker.access.management
}


def _own_flow(actor: Actor, scope: Mapping[str, str]) -> bool:
    """A bailleur's own flow: the attributions it made on its non-reserved dwellings."""
    return scope.get("contingent") == "non_reserve" and scope.get("reservataire") == actor.bailleur


def can(actor: Actor, action: str, epci: str | None = None) -> bool:
    """May the actor do this, on this territory (None: no territory in particular)?"""
    if actor.role not in ACTIONS[action]:
        return False
    if epci is None:
        return True
    return actor.covers_epci(epci)


def can_see_result(actor: Actor, scope: Mapping[str, str]) -> bool:
    if not actor.covers_epci(scope.get("epci")):
        return False
    if actor.role in _READ_ALL:
        return True
    if actor.role == "bailleur":
        if "bailleur" in scope:
            return scope["bailleur"] == actor.bailleur
        if "reservataire" in scope or "contingent" in scope:
            return _own_flow(actor, scope)
        return set(scope) <= _TERRITORIAL
    if actor.role == "reservataire":
        return (
            scope.get("reservataire") == actor.reservataire
            and scope.get("contingent") != "non_reserve"
        )
    return set(scope) <= _TERRITORIAL  # lecteur


def can_see_records(actor: Actor, scope: Mapping[str, str]) -> bool:
    """May the actor list the records behind the result of this scope?"""
    if actor.role == "lecteur" or not can_see_result(actor, scope):
        return False
    if actor.role in _READ_ALL:
        return True
    if actor.role == "bailleur":
        return scope.get("bailleur") == actor.bailleur or _own_flow(actor, scope)
    return scope.get("reservataire") == actor.reservataire  # reservataire
