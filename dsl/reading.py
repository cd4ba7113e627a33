"""Reading the files of a rulebook, with French reasons when a file cannot be read."""

from __future__ import annotations

import errno
from dataclasses import dataclass
from pathlib import Path

_OS_REASONS = {
    errno.ENOENT: "fichier introuvable",
    errno.EACCES: "accès refusé (droits du fichier)",
    errno.EPERM: "accès refusé (droits du fichier)",
    errno.EISDIR: "c'est un dossier, pas un fichier",
    errno.ENOTDIR: "un élément du chemin n'est pas un dossier",
}


@dataclass(frozen=True)
class Unreadable(Exception):
    """Why a file could not be read, in French, and where (line and column, from 1)."""

    reason: str
    line: int = 1
    column: int = 1


def os_reason(exc: OSError) -> str:
    known = _OS_REASONS.get(exc.errno or 0)
    if known is not None:
        return known
    return f"erreur du système ({exc.strerror or type(exc).__name__})"


def read_utf8(path: Path) -> str:
    """The file's text; `Unreadable` when it is missing, not accessible or not UTF-8 (then
    pointing at the first byte that is not, by line and column in bytes)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise Unreadable(os_reason(exc)) from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise Unreadable(
            f"le fichier n'est pas encodé en UTF-8 (octet 0x{data[exc.start]:02X} en ligne "
            f"{line}, colonne {column} ; un fichier enregistré en Windows-1252 ou « ANSI » ?)",
            line,
            column,
        ) from None
