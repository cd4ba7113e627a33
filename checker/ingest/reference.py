"""What an import can refer to: the territory in the database, overlaid with the bundle's, and
the dwellings and residences the rows being checked name (staging.py keeps the others)."""

from __future__ import annotations

from collections.abc import Collection, Hashable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from sqlalchemy import Connection, select

from checker.db import models
from checker.ingest.line_runs import LineRuns

DwellingKind = tuple[str, str, str]  # bailleur SIREN, commune INSEE, financement


@dataclass
class KnownWorld:
    communes: dict[str, str] = field(default_factory=dict)  # insee -> EPCI SIREN
    qpv_communes: dict[str, set[str]] = field(default_factory=dict)  # QPV code -> insee codes
    bailleurs: set[str] = field(default_factory=set)
    reservataires: dict[tuple[str, str], str] = field(default_factory=dict)  # (epci, id) -> type
    # rpls_id -> (bailleur SIREN, commune INSEE, financement), and (bailleur SIREN,
    # residence_id): not every dwelling and residence known, which the database keeps
    # (staging.py), but those the rows of the current chunk name, and those the file being
    # read accepted since the chunk began.
    logements: dict[str, DwellingKind] = field(default_factory=dict)
    residences: set[tuple[str, str]] = field(default_factory=set)
    # Each distinct (bailleur, commune, financement) of those dwellings once: a tuple per
    # dwelling was 27 MiB of the 433 333 dwellings of a 1 000 000-attribution bundle when they
    # were all kept (docs/dev/performance.md, « Memory »). Forgotten with them
    # (`forget_dwellings`): the bundle has 142 000 distinct triples.
    _dwelling_kinds: dict[DwellingKind, DwellingKind] = field(default_factory=dict, repr=False)

    def add_logement(
        self, rpls_id: str, bailleur: str, commune: str, financement: str
    ) -> DwellingKind:
        kind = (bailleur, commune, financement)
        kind = self.logements[rpls_id] = self._dwelling_kinds.setdefault(kind, kind)
        return kind

    def forget_dwellings(self) -> None:
        """Before the dwellings of another chunk are looked up (staging.py)."""
        self.logements.clear()
        self._dwelling_kinds.clear()

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
        return world


K = TypeVar("K", bound=Hashable)


class Described(Generic[K]):
    """The line of each row of a file that describes dwellings or residences when none was
    known before it (a first import), without a dict of the keys met.

    The importer reports a row describing the same dwelling (or residence) as an earlier row,
    with that row's line. A dict of every key met and its line was, for the 433 333 dwellings
    of a 1 000 000-attribution bundle, 33 MiB of dict and line numbers (docs/dev/performance.md,
    « Memory »). But when no dwelling was known before the file, the dwellings the import has
    accepted (`staging.BundleDwellings`, kept by the database in the order they were accepted)
    are exactly the accepted rows of the file, in order: their lines are kept in that same order
    (as runs of consecutive lines, line_runs.py), and the few rows refused by their own checks in a dict. A
    key met again is either there or in the known collection; from that first repetition on (a
    refused import), `lines_by_key` gives the importer the dict of lines it keeps using for the
    rest of the file.
    """

    def __init__(self) -> None:
        self.lines = LineRuns()  # the line of each accepted row, in the known keys' order
        self.refused: dict[K, int] = {}  # the line of each row refused by its own checks

    def met(self, key: K, known: Collection[K]) -> bool:
        """Whether an earlier row of the file had this key (`known`: the keys accepted)."""
        return key in known or key in self.refused

    def lines_by_key(self, known: Collection[K]) -> dict[K, int]:
        """Every key met so far with the line of its first row, as a dict."""
        if len(known) != len(self.lines):  # an entry not added by the file: never expected
            raise RuntimeError("des clés connues ne viennent pas du fichier")
        seen = dict(zip(known, self.lines, strict=True))
        seen.update(self.refused)
        return seen
