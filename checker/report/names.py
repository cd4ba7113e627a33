"""The names of the territory's places and organisations, read from the database, so that a
report says « Commune de Saint-Aubin-sur-Lize » where the data say `80902`."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Connection, select

from checker.db import models
from checker.vocabulary import SCOPE_ORDER, field_label, value_label


@dataclass
class Names:
    epcis: dict[str, str] = field(default_factory=dict)  # SIREN -> name
    communes: dict[str, str] = field(default_factory=dict)  # INSEE code -> name
    qpv: dict[str, str] = field(default_factory=dict)  # code -> name
    bailleurs: dict[str, str] = field(default_factory=dict)  # SIREN -> name
    reservataires: dict[str, str] = field(default_factory=dict)  # id -> name

    @classmethod
    def load(cls, connection: Connection) -> Names:
        def pairs(key: object, name: object) -> dict[str, str]:
            return {str(k): str(v) for k, v in connection.execute(select(key, name))}  # type: ignore[call-overload]

        return cls(
            epcis=pairs(models.Epci.siren, models.Epci.nom),
            communes=pairs(models.Commune.insee, models.Commune.nom),
            qpv=pairs(models.Qpv.code, models.Qpv.nom),
            bailleurs=pairs(models.Bailleur.siren, models.Bailleur.nom),
            reservataires=pairs(models.Reservataire.id, models.Reservataire.nom),
        )

    def of(self, dimension: str, code: str | None) -> str:
        """The name of a scope value (a bailleur, a commune…); the code when none is known."""
        if code is None or code == "":
            return ""
        if dimension == "reservataire":
            # A bailleur's own flow (non réservé) is judged as a réservataire: its SIREN. Looked
            # up in one table then the other, not in their union made again at each call (a
            # copy of every bailleur's name per row: a sixth of a national bilan's time).
            found = self.reservataires.get(code)
            return found if found is not None else self.bailleurs.get(code, code)
        table = {
            "epci": self.epcis,
            "commune": self.communes,
            "qpv": self.qpv,
            "bailleur": self.bailleurs,
        }.get(dimension)
        if table is not None:
            return table.get(code, code)
        if dimension == "operation":  # an NPNRU operation has no name in the data: its code
            return f"opération {code}"
        return value_label(dimension, code)

    def scope(self, scope: dict[str, str], whole_flow: bool = True) -> str:
        """A result's scope by its names: the EPCI alone, or what narrows it; a scope without
        EPCI is a whole flow (« tous territoires ») unless `whole_flow` is False (a filter a
        user gave, as `mixite explain --scope`)."""
        keys = [key for key in SCOPE_ORDER if key in scope]
        narrower = [key for key in keys if key != "epci"]
        if not narrower:
            return self.of("epci", scope.get("epci"))
        parts = [self.of(key, scope[key]) for key in narrower if key != "contingent"]
        if "contingent" in scope:
            contingent = self.of("contingent", scope["contingent"])
            parts = [f"{part} ({contingent})" for part in parts] if parts else [contingent]
        if whole_flow and "epci" not in scope:  # a level counted on every EPCI together
            return f"{', '.join(parts)}, tous territoires"
        return ", ".join(parts)

    @staticmethod
    def codes(scope: dict[str, str]) -> str:
        """The same scope by its codes, for the second column."""
        return ", ".join(f"{field_label(key)} {scope[key]}" for key in SCOPE_ORDER if key in scope)
