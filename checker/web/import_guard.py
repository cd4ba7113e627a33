"""What an account may import, checked before the import reads anything into the database.

An epci account imports its own territory only: its territory file, if the bundle has one, and
rows on its own dwellings (a dwelling whose commune is one of its communes); without a territory
file, the bundle is its territory's (`territory_of`). A bailleur imports its own rows only: no
territory file, every row's bailleur SIREN its own, every lease on one of its dwellings. A row
of another bailleur is a located problem, and the whole bundle is refused, as for any other
problem.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Connection, select

from checker.access.roles import Actor
from checker.db import models
from checker.ingest import rows as row_models
from checker.ingest.bundle import Bundle
from checker.ingest.problems import Problem, ProblemLog
from checker.ingest.tabular import Table, UnreadableFile, read_table
from checker.ingest.territory import load_territory
from checker.ingest.values import parse_siren

_SPECS = {
    "logements": row_models.LOGEMENTS_SPEC,
    "attributions": row_models.ATTRIBUTIONS_SPEC,
    "caleol": row_models.CALEOL_SPEC,
    "reservations": row_models.RESERVATIONS_SPEC,
    "baux": row_models.BAUX_SPEC,
    "residences": row_models.RESIDENCES_SPEC,
    "occupation": row_models.OCCUPATION_SPEC,
    "relogements": row_models.RELOGEMENTS_SPEC,
}


def _read(path: Path, role: str) -> Table:
    spec = _SPECS[role]
    return read_table(path, spec["required"], spec["optional"], spec["aliases"],  # type: ignore[arg-type]
                      spec.get("percent", ()))  # type: ignore[arg-type]  # fmt: skip


def problems_for(connection: Connection, actor: Actor, bundle: Bundle) -> list[Problem]:
    found: list[Problem] = []
    if actor.role == "admin":
        return found
    territory = bundle.files.get("territoire")
    if actor.role == "bailleur":
        if territory is not None:
            found.append(Problem(territory.name, 1, 1, "un compte bailleur n'importe pas le "
                                 "territoire : retirez ce fichier, l'EPCI le tient à jour"))  # fmt: skip
        found.extend(_other_bailleurs(connection, actor, bundle))
        return found
    spec = None
    if territory is not None:
        spec, _ = load_territory(territory, ProblemLog())
        if spec is not None and not actor.covers_epci(spec.epci.siren):
            found.append(Problem(territory.name, 1, 1,
                                 f"le territoire {spec.epci.siren} n'est pas le vôtre : votre "
                                 "compte importe seulement les données de son territoire"))  # fmt: skip
            return found
    if actor.territories:
        extra = {commune.insee for commune in spec.communes} if spec is not None else set()
        found.extend(_other_territories(connection, actor, bundle, extra))
    return found


def territory_of(actor: Actor, bundle: Bundle) -> str | None:
    """The territory of a bundle without territoire.yaml: an EPCI account's own."""
    if "territoire" in bundle.files or actor.role != "epci" or len(actor.territories) != 1:
        return None
    return actor.territories[0]


def _other_territories(connection: Connection, actor: Actor, bundle: Bundle,
                       bundle_communes: set[str]) -> list[Problem]:  # fmt: skip
    """Rows on a commune, a dwelling or a residence of another territory, located. What is
    unknown everywhere is left to the import, which reports it."""
    mine = set(actor.territories)
    own = next(iter(sorted(mine)))
    # dict(result) would take the result's keys() for a mapping's: pairs are read one by one.
    commune_epci = {insee: epci for insee, epci in
                    connection.execute(select(models.Commune.insee, models.Commune.epci_siren))}  # fmt: skip
    for insee in bundle_communes:
        commune_epci[insee] = own
    dwelling_epci = {rpls: epci for rpls, epci in connection.execute(
        select(models.Logement.rpls_id, models.Commune.epci_siren)
        .join(models.Commune, models.Commune.insee == models.Logement.commune_insee))}  # fmt: skip
    residence_epci = {(siren, ident): epci for siren, ident, epci in connection.execute(
        select(models.Residence.bailleur_siren, models.Residence.residence_id,
               models.Commune.epci_siren)
        .join(models.Commune, models.Commune.insee == models.Residence.commune_insee))}  # fmt: skip
    found: list[Problem] = []

    def cell(cells: list[str], position: int) -> str:
        return cells[position].strip() if position < len(cells) else ""

    def refuse(path: Path, line: int, position: int, message: str) -> None:
        found.append(Problem(path.name, line, position + 1, message))

    # Places first (dwellings, residences), so that the rows citing them know where they are.
    for role in ("logements", "residences", "attributions", "caleol", "baux", "relogements",
                 "occupation"):  # fmt: skip
        path = bundle.files.get(role)
        if path is None:
            continue
        try:
            table = _read(path, role)
        except UnreadableFile:
            continue  # the import itself reports it, located
        columns = table.columns
        for line, cells in table.rows:
            if role in ("logements", "residences"):
                where = columns["commune_insee"]
                insee = cell(cells, where)
                place = commune_epci.get(insee)
                if place is not None and place not in mine:
                    refuse(path, line, where, f"la commune {insee} est sur un autre territoire : "
                           "votre compte importe seulement les données du sien")  # fmt: skip
                    continue
                if role == "logements":
                    key_column = columns["rpls_id"]
                    key: Any = cell(cells, key_column)
                    known: dict[Any, str] = dwelling_epci
                else:
                    key_column = columns["residence_id"]
                    key = (parse_siren_or_text(cell(cells, columns["bailleur_siren"])),
                           cell(cells, key_column))  # fmt: skip
                    known = residence_epci
                if known.get(key, own) not in mine:
                    name = "le logement" if role == "logements" else "la résidence"
                    refuse(path, line, key_column, f"{name} {cell(cells, key_column)} est sur un "
                           "autre territoire : votre compte ne le modifie pas")  # fmt: skip
                    continue
                if place is not None:
                    known[key] = place
                continue
            if role == "occupation":
                position = columns["residence_id"]
                key = (parse_siren_or_text(cell(cells, columns["bailleur_siren"])),
                       cell(cells, position))  # fmt: skip
                held = residence_epci.get(key)
                what = f"la résidence {cell(cells, position)}"
            else:
                position = columns["rpls_id_origine" if role == "relogements" else "rpls_id"]
                held = dwelling_epci.get(cell(cells, position))
                what = f"le logement {cell(cells, position)}"
            if held is not None and held not in mine:
                refuse(path, line, position, f"{what} est sur un autre territoire : votre "
                       "compte importe seulement les données du sien")  # fmt: skip
    return found


def parse_siren_or_text(raw: str) -> str:
    """A SIREN as the import stores it (spaces dropped), or the text when it is unreadable
    (the import reports it)."""
    try:
        return parse_siren(raw)
    except ValueError:
        return raw


def _other_bailleurs(connection: Connection, actor: Actor, bundle: Bundle) -> list[Problem]:
    own = actor.bailleur
    found: list[Problem] = []
    dwellings = set(connection.scalars(
        select(models.Logement.rpls_id).where(models.Logement.bailleur_siren == own)))  # fmt: skip
    # Every file but baux names the bailleur of its rows (a rehousing's destination may be
    # another bailleur's dwelling: the row is still the bailleur of the dwelling left).
    for role in _SPECS:
        path = bundle.files.get(role)
        if path is None:
            continue
        try:
            table = _read(path, role)
        except UnreadableFile:
            continue  # the import itself reports it, located
        try:
            found.extend(_rows_of_others(path, role, table, own, dwellings))
        except UnreadableFile:
            continue  # the import itself reports it, located
    return found


def _rows_of_others(
    path: Path, role: str, table: Table, own: str | None, dwellings: set[str]
) -> list[Problem]:
    found: list[Problem] = []
    columns = table.columns
    for line, cells in table.rows:
        if role == "baux":
            position = columns["rpls_id"]
            rpls = cells[position].strip() if position < len(cells) else ""
            if rpls and rpls not in dwellings:
                found.append(Problem(path.name, line, position + 1,
                                     f"le logement {rpls} n'est pas l'un des vôtres : un compte "
                                     "bailleur n'importe que les baux de ses logements"))  # fmt: skip
            continue
        position = columns["bailleur_siren"]
        raw = cells[position] if position < len(cells) else ""
        try:
            siren = parse_siren(raw)
        except ValueError:
            continue  # the import reports the unreadable SIREN itself
        if siren != own:
            found.append(Problem(path.name, line, position + 1,
                                 f"ligne d'un autre bailleur (SIREN {siren}) : un compte "
                                 "bailleur n'importe que ses propres données"))  # fmt: skip
        elif role == "logements":
            rpls_position = columns["rpls_id"]
            if rpls_position < len(cells):
                dwellings.add(cells[rpls_position].strip())
    return found
