"""The CIA and local rules of a territory: versions kept in the database, a new version checked
with the rules in force before it is stored."""

from __future__ import annotations

import datetime as dt
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, select

from checker.access.models import VersionCia
from checker.errors import MixiteError
from checker.evaluate.commitments import database_diagnostics
from checker.evaluate.run import Period
from checker.rulebook_loader import load_rules
from checker.territory_cia import cia_file_name, store_version
from checker.web.state import AppState, latest_cia_versions
from dsl.diagnostics import Diagnostic

_TABLE = VersionCia.__table__
MAX_BYTES = 2 * 1024 * 1024


@dataclass
class Checked:
    name: str  # the file name diagnostics point at
    text: str
    diagnostics: list[Diagnostic]
    sources: dict[str, str]

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.is_error]


def decode(raw: bytes, name: str) -> str:
    if len(raw) > MAX_BYTES:
        raise MixiteError(f"{name} : fichier trop volumineux pour un fichier de règles.")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        raise MixiteError(f"{name}:{line} : le fichier n'est pas en UTF-8.",
                          "Enregistrez-le en UTF-8 depuis votre éditeur.") from None  # fmt: skip


# Every engagement of an uploaded CIA is checked against the database, whatever its period:
# the version is stored for every year the territory will be checked.
_ALL_TIME = Period(dt.date.min, dt.date.max)


def check(state: AppState, connection: Connection, epci: str, name: str, text: str) -> Checked:
    """Load the rules as they would be with this version: the base rules, the other territories'
    latest CIA, and this text in place of the territory's current one. Then, as `mixite check`
    does, confront its engagements with the database (a territory it does not know: W505; a
    bailleur, commune… it does not know: E507): every lint warning is shown on upload."""
    shown = cia_file_name(epci, name)
    with tempfile.TemporaryDirectory(prefix="mixite-cia-") as scratch:
        paths = state.base_paths()
        for other, _, other_name, other_text in latest_cia_versions(connection):
            if other != epci:
                path = Path(scratch) / cia_file_name(other, other_name)
                path.write_text(other_text, encoding="utf-8")
                paths.append(path)
        target = Path(scratch) / shown
        target.write_text(text, encoding="utf-8")
        paths.append(target)
        loaded = load_rules(paths)
        found = list(loaded.diagnostics)
        if loaded.rulebook is not None:
            # Only this file's: another territory's CIA meeting the database badly is that
            # territory's business, not a reason to refuse this one.
            found += [d for d in database_diagnostics(connection, loaded.rulebook, _ALL_TIME)
                      if d.span is not None and Path(d.span.file).name == shown]  # fmt: skip
    mine = [d for d in found if d.span is None or Path(d.span.file).name == shown]
    others = [d for d in loaded.diagnostics if d not in mine and d.is_error]
    return Checked(shown, text, mine + others, dict(loaded.sources))


def store(connection: Connection, epci: str, name: str, text: str, login: str) -> int:
    return store_version(connection, epci, name, text, login)


def versions(connection: Connection, epci: str) -> list[Any]:
    return list(connection.execute(
        select(_TABLE.c.numero, _TABLE.c.nom_fichier, _TABLE.c.sha256, _TABLE.c.deposee_le,
               _TABLE.c.deposee_par)
        .where(_TABLE.c.epci_siren == epci).order_by(_TABLE.c.numero.desc())))  # fmt: skip


def version(connection: Connection, epci: str, number: int) -> Any:
    return connection.execute(
        select(_TABLE).where(_TABLE.c.epci_siren == epci, _TABLE.c.numero == number)
    ).first()


def listing(text: str, diagnostics: list[Diagnostic], name: str) -> list[dict[str, Any]]:
    """The text line by line, each with the diagnostics that point at it."""
    at: dict[int, list[Diagnostic]] = {}
    for diagnostic in diagnostics:
        if diagnostic.span is not None and Path(diagnostic.span.file).name == name:
            at.setdefault(diagnostic.span.line, []).append(diagnostic)
    return [{"numero": number, "texte": line, "diagnostics": at.get(number, [])}
            for number, line in enumerate(text.splitlines(), start=1)]  # fmt: skip
