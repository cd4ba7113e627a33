"""What an import can refer to: the territory and dwellings already in the database, overlaid
with those of the bundle being imported."""

from __future__ import annotations

from array import array
from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

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


K = TypeVar("K", bound=Hashable)


class Described(Generic[K]):
    """The line of each row of a file that describes dwellings or residences when none was
    known before it (a first import), without a dict of the keys met.

    The importer reports a row describing the same dwelling (or residence) as an earlier row,
    with that row's line. A dict of every key met and its line was, for the 433 333 dwellings
    of a 1 000 000-attribution bundle, 33 MiB of dict and line numbers on top of the dwellings
    the import keeps anyway (docs/dev/performance.md, « Memory »). But when no dwelling was known
    before the file, the dwellings the import keeps (`KnownWorld.logements`, a dict, so in the
    order they were added) are exactly the accepted rows of the file, in order: their lines are
    kept in an array in that same order (4 bytes a row), and the few rows refused by their own
    checks in a dict. A key met again is either there or in the known dict; from that first
    repetition on (a refused import), `lines_by_key` gives the importer the dict of lines it
    keeps using for the rest of the file.
    """

    def __init__(self) -> None:
        self.lines = array("I")  # the line of each accepted row, in the known dict's order
        self.refused: dict[K, int] = {}  # the line of each row refused by its own checks

    def met(self, key: K, known: dict[K, Any]) -> bool:
        """Whether an earlier row of the file had this key (`known`: the keys accepted)."""
        return key in known or key in self.refused

    def lines_by_key(self, known: dict[K, Any]) -> dict[K, int]:
        """Every key met so far with the line of its first row, as a dict."""
        if len(known) != len(self.lines):  # an entry not added by the file: never expected
            raise RuntimeError("des clés connues ne viennent pas du fichier")
        seen = dict(zip(known, self.lines, strict=True))
        seen.update(self.refused)
        return seen
