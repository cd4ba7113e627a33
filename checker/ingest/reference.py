"""What an import can refer to: the territory and dwellings already in the database, overlaid
with those of the bundle being imported."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Connection, select

from checker.db import models


@dataclass
class KnownWorld:
    communes: dict[str, str] = field(default_factory=dict)  # insee -> EPCI SIREN
    qpv_communes: dict[str, set[str]] = field(default_factory=dict)  # QPV code -> insee codes
    bailleurs: set[str] = field(default_factory=set)
    reservataires: dict[tuple[str, str], str] = field(default_factory=dict)  # (epci, id) -> type
    logements: dict[str, tuple[str, str, str]] = field(default_factory=dict)
    # rpls_id -> (bailleur SIREN, commune INSEE, financement)
    residences: dict[tuple[str, str], str] = field(default_factory=dict)
    # (bailleur SIREN, residence_id) -> commune INSEE
    # Each distinct (bailleur, commune, financement) once: a national bundle has hundreds of
    # thousands of dwellings but a few thousand such triples, and a tuple per dwelling, kept
    # until the import ends, was 27 MiB of the 433 333 dwellings of a 1 000 000-attribution
    # bundle (docs/dev/performance.md, « Memory »).
    _dwelling_kinds: dict[tuple[str, str, str], tuple[str, str, str]] = field(
        default_factory=dict, repr=False
    )

    def add_logement(self, rpls_id: str, bailleur: str, commune: str, financement: str) -> None:
        kind = (bailleur, commune, financement)
        self.logements[rpls_id] = self._dwelling_kinds.setdefault(kind, kind)

    @classmethod
    def from_database(cls, connection: Connection) -> KnownWorld:
        world = cls()
        for insee, epci in connection.execute(
            select(models.Commune.insee, models.Commune.epci_siren)
        ):
            world.communes[insee] = epci
        for (code,) in connection.execute(select(models.Qpv.code)):
            world.qpv_communes.setdefault(code, set())
        for code, insee in connection.execute(
            select(models.QpvCommune.qpv_code, models.QpvCommune.commune_insee)
        ):
            world.qpv_communes.setdefault(code, set()).add(insee)
        world.bailleurs.update(connection.scalars(select(models.Bailleur.siren)))
        for epci, ident, kind in connection.execute(
            select(models.Reservataire.epci_siren, models.Reservataire.id, models.Reservataire.type)
        ):
            world.reservataires[(epci, ident)] = kind
        for rpls, bailleur, commune, financement in connection.execute(
            select(
                models.Logement.rpls_id,
                models.Logement.bailleur_siren,
                models.Logement.commune_insee,
                models.Logement.financement,
            )
        ):
            world.add_logement(rpls, bailleur, commune, financement)
        for bailleur, ident, commune in connection.execute(
            select(
                models.Residence.bailleur_siren,
                models.Residence.residence_id,
                models.Residence.commune_insee,
            )
        ):
            world.residences[(bailleur, ident)] = commune
        return world
