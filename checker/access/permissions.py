"""Permissions: one (actor, action, resource) check, made here and nowhere else.

Pages, the JSON API and the downloads all ask these functions; templates never decide.

- admin: everything; epci: its territory, including imports and the CIA; etat: reads
  everything of its territories; bailleur: its own results and records, the territory-wide
  figures for context (as `mixite check --bailleur`), its CALEOL dockets and its own imports;
  reservataire: its own flow's results and records; lecteur: the published reports only
  (their territorial results), never a record. A whole-flow result (no EPCI in its scope,
  « sur l'ensemble des territoires ») is visible to admin, État, EPCI and bailleur accounts as
  figures and to the réservataire itself; its records only for the actor's own territories.
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


def whole_flow(scope: Mapping[str, str]) -> bool:
    """A result counted « sur l'ensemble des territoires »: every EPCI of the database together
    (a réservataire's whole flow), so no single territory's."""
    return bool(scope) and "epci" not in scope


def _can_see_whole_flow(actor: Actor, scope: Mapping[str, str]) -> bool:
    """Admin, État, the réservataire itself, and the territorial accounts (EPCI, bailleur) as
    aggregate figures: the sum covers other territories' attributions, never their records
    (see `can_see_records` and `records_territories`)."""
    if actor.role in ("admin", "etat", "epci"):
        return True
    if actor.role == "bailleur":
        # Another bailleur's own (non-reserved) flow stays its own, as per EPCI.
        return scope.get("contingent") != "non_reserve" or _own_flow(actor, scope)
    if actor.role == "reservataire":
        return (
            scope.get("reservataire") == actor.reservataire
            and scope.get("contingent") != "non_reserve"
        )
    return False  # lecteur: the published territorial results only


def can_see_result(actor: Actor, scope: Mapping[str, str]) -> bool:
    if whole_flow(scope):
        return _can_see_whole_flow(actor, scope)
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


def records_territories(actor: Actor, scope: Mapping[str, str]) -> tuple[str, ...] | None:
    """The EPCI whose records the actor may list behind this result: None for all of them.
    A whole-flow result sums several territories; a territorial account sees the records of
    its own territories only."""
    if not whole_flow(scope) or actor.role == "admin" or not actor.territories:
        return None
    return actor.territories
