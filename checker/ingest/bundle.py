"""Finding the files of an import bundle: a folder, or files named one by one."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from checker.errors import MixiteError
from checker.ingest.tabular import normalise_header

# In import order: residences before the dwellings that name them, rehousing after the
# dwellings it leaves and enters.
ROLES = (
    "territoire",
    "residences",
    "logements",
    "attributions",
    "caleol",
    "reservations",
    "baux",
    "occupation",
    "relogements",
)
_TABLE_SUFFIXES = (".csv", ".txt", ".xlsx", ".xlsm")
_YAML_SUFFIXES = (".yaml", ".yml")
# The start of a table file's normalised name, per role. `bail` must be a word of its own:
# "bailleurs.csv" is no lease file.
_TABLE_NAMES = tuple(
    (role, re.compile(pattern))
    for role, pattern in (
        ("logements", r"logement"),
        ("attributions", r"attribution"),
        ("caleol", r"caleol"),
        ("reservations", r"reservation"),
        ("baux", r"baux|bails?(?:_|$)"),
        ("residences", r"residence"),
        ("occupation", r"occupation|ops(?:_|$)"),
        ("relogements", r"relogement"),
    )
)
EXPECTED_NAMES = (
    "territoire.yaml, logements.csv, attributions.csv, caleol.csv, reservations.csv, baux.csv, "
    "residences.csv, occupation.csv, relogements.csv"
)


@dataclass(frozen=True)
class Bundle:
    files: dict[str, Path]  # role -> path
    skipped: tuple[Path, ...]  # files of a folder that are not part of the contract


def _role_of(path: Path) -> str | None:
    stem = normalise_header(path.stem)
    suffix = path.suffix.lower()
    if stem.startswith("territoire") and suffix in _YAML_SUFFIXES:
        return "territoire"
    if suffix not in _TABLE_SUFFIXES:
        return None
    for role, start in _TABLE_NAMES:
        if start.match(stem):
            return role
    return None


def find_bundle(paths: list[Path]) -> Bundle:
    files: dict[str, Path] = {}
    skipped: list[Path] = []

    def take(path: Path, named: bool) -> None:
        role = _role_of(path)
        if role is None:
            if named:
                raise MixiteError(
                    f"{path} : fichier non reconnu.",
                    f"Noms attendus : {EXPECTED_NAMES} (ou .xlsx).",
                )
            skipped.append(path)
            return
        if role in files:
            raise MixiteError(
                f"Deux fichiers pour « {role} » : {files[role]} et {path}.",
                "Un lot contient au plus un fichier de chaque sorte.",
            )
        files[role] = path

    for path in paths:
        if path.is_dir():
            for child in sorted(path.iterdir()):
                if child.is_file() and not child.name.startswith((".", "~$")):
                    take(child, named=False)
        elif path.is_file():
            take(path, named=True)
        else:
            raise MixiteError(f"{path} : fichier ou dossier introuvable.")
    if not files:
        raise MixiteError(
            "Aucun fichier d'import trouvé.",
            f"Un lot contient un ou plusieurs de ces fichiers : {EXPECTED_NAMES}.",
        )
    return Bundle(
        files={role: files[role] for role in ROLES if role in files}, skipped=tuple(skipped)
    )
