"""Who is acting: the actor of every permission check, from a session, a token or the CLI."""

from __future__ import annotations

from dataclasses import dataclass, field

from checker.access.models import ROLES

ROLE_LABELS = {
    "admin": "administrateur",
    "epci": "EPCI",
    "etat": "État (DDETS)",
    "bailleur": "bailleur",
    "reservataire": "réservataire",
    "lecteur": "lecteur",
}
assert set(ROLE_LABELS) == set(ROLES)


@dataclass(frozen=True)
class Actor:
    login: str
    role: str
    bailleur: str | None = None
    reservataire: str | None = None
    territories: tuple[str, ...] = field(default_factory=tuple)  # EPCI SIRENs; empty: all

    @property
    def label(self) -> str:
        return ROLE_LABELS[self.role]

    def covers_epci(self, siren: str | None) -> bool:
        """Whether the EPCI is one of the actor's territories (all of them when none given)."""
        if self.role == "admin" or not self.territories:
            return True
        return siren in self.territories
