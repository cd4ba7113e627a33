"""A territory's CIA (and local rules): the files `territoire.yaml` declares, stored with the
territory in `version_cia` (every version kept, with its SHA-256), the same table the web
application writes when a CIA is uploaded. `mixite check` without `--rules` applies the national
rules plus the newest stored version of each territory's CIA, and records those versions in the
receipt."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import Connection, func, insert, select

from checker.access.models import VersionCia
from checker.errors import MixiteError
from dsl.rulebook import Rulebook

_TABLE = VersionCia.__table__
IMPORT_LOGIN = "import"  # who stored a version read from territoire.yaml
# libyaml's loader when PyYAML has it: the same documents, read ten times faster (every import
# reads territoire.yaml here twice; its located errors are reported by the territory's import).
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True)
class CiaVersion:
    epci: str
    number: int
    name: str
    text: str
    sha256: str

    def document(self) -> dict[str, Any]:
        """What a receipt records of it."""
        return {
            "epci": self.epci,
            "version": self.number,
            "fichier": self.name,
            "sha256": self.sha256,
        }


def latest_versions(connection: Connection) -> list[CiaVersion]:
    """The newest stored version of each territory's CIA, by EPCI."""
    rows = connection.execute(select(_TABLE).order_by(_TABLE.c.epci_siren, _TABLE.c.numero)).all()
    latest: dict[str, CiaVersion] = {}
    for row in rows:
        latest[row.epci_siren] = CiaVersion(row.epci_siren, row.numero, row.nom_fichier, row.texte,
                                            row.sha256)  # fmt: skip
    return list(latest.values())


def cia_file_name(epci: str, name: str) -> str:
    # A version of several files is named after them all ("cia.regles + peuplement.regles").
    stem = re.sub(r"[^\w.-]+", "-", Path(name).stem) or "cia"
    return f"cia-{epci}-{stem}.regles"


def store_version(connection: Connection, epci: str, name: str, text: str, login: str) -> int:
    """A new version of the territory's CIA; its number."""
    number = (connection.scalar(select(func.max(_TABLE.c.numero)).where(_TABLE.c.epci_siren == epci))
              or 0) + 1  # fmt: skip
    connection.execute(insert(VersionCia).values(
        epci_siren=epci, numero=number, nom_fichier=Path(name).name[:200], texte=text,
        sha256=hashlib.sha256(text.encode()).hexdigest(), deposee_le=dt.datetime.now(dt.UTC),
        deposee_par=login,
    ))  # fmt: skip
    return number


def load_with_cia(base_paths: Sequence[Path], versions: Sequence[CiaVersion]) -> Rulebook:
    """The rules under `base_paths` and the given CIA versions, or a clear refusal."""
    from checker.rulebook_loader import require_rules

    with tempfile.TemporaryDirectory(prefix="mixite-cia-") as scratch:
        paths = list(base_paths)
        for version in versions:
            path = Path(scratch) / cia_file_name(version.epci, version.name)
            path.write_text(version.text, encoding="utf-8")
            paths.append(path)
        rulebook, _ = require_rules(paths)
    return rulebook


def declared_files(territory_file: Path, required: bool = True) -> list[Path]:
    """The CIA files `territoire.yaml` declares (`cia:`, names relative to its folder). A file
    absent is refused, unless not `required` (the web, where a CIA has its own upload page):
    then only the files present are returned."""
    try:
        document = yaml.load(territory_file.read_text(encoding="utf-8-sig"), Loader=_LOADER)
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return []  # the territory's own import reports why it cannot be read
    names = document.get("cia") if isinstance(document, dict) else None
    if names is None:
        return []
    if isinstance(names, str):
        names = [names]
    files = []
    for name in names:
        path = territory_file.parent / str(name)
        if not path.is_file():
            if not required:
                continue
            raise MixiteError(f"{territory_file.name} : cia : fichier « {name} » introuvable "
                              f"(cherché dans {territory_file.parent}).")  # fmt: skip
        files.append(path)
    return files


def check_declared(files: Sequence[Path], base_paths: Sequence[Path]) -> None:
    """Refuse, with the located errors, declared CIA files that do not load with the rules."""
    from checker.rulebook_loader import require_rules

    if files:
        require_rules([*base_paths, *files])


def store_declared(connection: Connection, epci: str, files: Sequence[Path],
                   base_paths: Sequence[Path]) -> CiaVersion | None:  # fmt: skip
    """Store the declared CIA of `epci` as a new version when its text differs from the newest
    stored one, after checking it with the rules and the other territories' CIA. Several files
    (the CIA, the CIL's orientations, the rehousing charter) are stored as one text, in the
    order declared: the rules of the later files then belong to the territory of the first
    file's engagement, as local rules. Returns the version stored, or None when
    the newest stored version is already this text."""
    if not files:
        return None
    parts = []
    for path in files:
        try:
            parts.append(path.read_text(encoding="utf-8-sig"))
        except UnicodeDecodeError:
            raise MixiteError(f"{path.name} : le fichier n'est pas en UTF-8.",
                              "Enregistrez-le en UTF-8 depuis votre éditeur.") from None  # fmt: skip
    text = "\n".join(parts)
    # The receipt names the version by its files: all of them, so that a reader knows the
    # CIL's rules (or a rehousing charter) were applied with the CIA.
    name = " + ".join(path.name for path in files)
    sha = hashlib.sha256(text.encode()).hexdigest()
    versions = latest_versions(connection)
    current = next((v for v in versions if v.epci == epci), None)
    if current is not None and current.sha256 == sha:
        return None
    others = [v for v in versions if v.epci != epci]
    load_with_cia([*base_paths, *files], others)  # refuses with the located errors
    number = store_version(connection, epci, name, text, IMPORT_LOGIN)
    return CiaVersion(epci, number, name, text, sha)


def territory_siren(territory_file: Path) -> str | None:
    try:
        document = yaml.load(territory_file.read_text(encoding="utf-8-sig"), Loader=_LOADER)
        return str(document["epci"]["siren"])
    except (OSError, UnicodeDecodeError, yaml.YAMLError, KeyError, TypeError):
        return None
