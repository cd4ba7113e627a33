"""Names instead of codes wherever a person reads: territories, bailleurs, réservataires,
communes, QPV and contingents."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from sqlalchemy import Connection, select

from checker.db import models
from checker.web.formats import CONTINGENT_LABELS

_KEY_LABELS = {
    "epci": "Territoire",
    "bailleur": "Bailleur",
    "contingent": "Contingent",
    "reservataire": "Réservataire",
    "commune": "Commune",
    "qpv": "QPV",
    "financement": "Financement",
    "classe_residence": "Classe de résidence",
    "residence": "Résidence",
}
_ORDER = ("epci", "bailleur", "contingent", "reservataire", "commune", "qpv", "financement",
          "classe_residence", "residence")  # fmt: skip


@dataclass
class Names:
    epci: dict[str, str] = field(default_factory=dict)
    bailleur: dict[str, str] = field(default_factory=dict)
    reservataire: dict[tuple[str, str], str] = field(default_factory=dict)
    commune: dict[str, str] = field(default_factory=dict)
    qpv: dict[str, str] = field(default_factory=dict)

    @classmethod
    def load(cls, connection: Connection) -> Names:
        names = cls()
        names.epci = dict(connection.execute(select(models.Epci.siren, models.Epci.nom)).all())
        names.bailleur = dict(
            connection.execute(select(models.Bailleur.siren, models.Bailleur.nom)).all()
        )
        names.reservataire = {
            (epci, ident): nom
            for epci, ident, nom in connection.execute(
                select(
                    models.Reservataire.epci_siren, models.Reservataire.id, models.Reservataire.nom
                )
            ).all()
        }
        names.commune = dict(
            connection.execute(select(models.Commune.insee, models.Commune.nom)).all()
        )
        names.qpv = dict(connection.execute(select(models.Qpv.code, models.Qpv.nom)).all())
        return names

    def value(self, key: str, value: str, scope: Mapping[str, str]) -> str:
        if key == "epci":
            return self.epci.get(value, value)
        if key == "bailleur":
            return self.bailleur.get(value, value)
        if key == "reservataire":
            if scope.get("contingent") == "non_reserve":
                return self.bailleur.get(value, value)
            return self.reservataire.get((scope.get("epci", ""), value), value)
        if key == "commune":
            return self.commune.get(value, value)
        if key == "qpv":
            return self.qpv.get(value, value)
        if key == "contingent":
            return CONTINGENT_LABELS.get(value, value)
        return value

    def scope(self, scope: Mapping[str, str], skip_epci: bool = False) -> str:
        """« Bailleur : Lize Habitat · Contingent : … », the territory last or left out."""
        parts = [
            f"{_KEY_LABELS[key]} : {self.value(key, scope[key], scope)}"
            for key in (*_ORDER[1:], "epci")
            if key in scope and not (skip_epci and key == "epci")
        ]
        if scope and "epci" not in scope:  # a whole flow: every EPCI of the database together
            parts.append("Territoire : tous territoires")
        return " · ".join(parts) or "ensemble"
