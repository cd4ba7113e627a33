"""`--out`: what a report may be written over, and writing it with French errors.

A report written by mistake over the database or the pseudonymisation key destroys them, and
one written over an unrelated file (a spreadsheet of the same name) loses it: both are refused
unless `--force`. Writing over an earlier report of the same format is the ordinary case.
"""

from __future__ import annotations

import errno
import os
import secrets
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from checker.errors import MixiteError

if TYPE_CHECKING:
    from checker.report.outputs import Streamed, Written

# The system's own texts are English: the common causes, said in French.
_REASONS = {
    errno.ENOSPC: "disque plein",
    errno.EDQUOT: "quota de disque dépassé",
    errno.EACCES: "droits insuffisants",
    errno.EPERM: "opération non permise",
    errno.EISDIR: "c'est un dossier",
    errno.ENOTDIR: "un élément du chemin n'est pas un dossier",
    errno.EROFS: "disque en lecture seule",
    errno.ENOENT: "dossier introuvable",
    errno.ENAMETOOLONG: "nom de fichier trop long",
}

FORCE_HELP = "Écrit même par-dessus un fichier existant qui n'est pas un rapport de ce format."
_SNIFF = 8192


def _same_file(first: Path, second: Path) -> bool:
    try:
        return first.exists() and second.exists() and first.samefile(second)
    except OSError:
        return False


def _protected(db_url: str) -> list[tuple[Path, str]]:
    """The files a report must never replace: the database and its key."""
    from checker.db.engine import sqlite_file

    found: list[tuple[Path, str]] = []
    database = sqlite_file(db_url)
    if database is not None:
        found.append((database, "la base de données"))
        for suffix in ("-wal", "-shm", "-journal"):
            found.append((database.with_name(database.name + suffix), "un fichier de la base"))
    from checker.ingest.pseudonym import KEY_FILE_ENV, default_key_file

    found.append((Path(os.environ.get(KEY_FILE_ENV) or default_key_file(db_url)),
                  "la clé de pseudonymisation"))  # fmt: skip
    return found


def _text_head(path: Path) -> str | None:
    try:
        with path.open("rb") as handle:
            head = handle.read(_SNIFF)
    except OSError:
        return None
    return head.decode("utf-8", errors="strict") if _utf8(head) else None


def _utf8(head: bytes) -> bool:
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as error:
        # A multi-byte character cut by the sniff window is still UTF-8.
        return error.start >= len(head) - 3
    return b"\0" not in head


def looks_like(path: Path, output_format: str) -> bool:
    """Whether the file at `path` is plausibly a report of `output_format` (by its content)."""
    if path.stat().st_size == 0:
        return True
    if output_format in ("xlsx", "docx", "pdf"):
        with path.open("rb") as handle:
            head = handle.read(_SNIFF)
        if output_format == "pdf":
            return head.startswith(b"%PDF-")
        return head.startswith(b"PK\x03\x04")
    text = _text_head(path)
    if text is None:
        return False
    stripped = text.lstrip("\ufeff \r\n\t")
    if output_format == "json":
        return stripped.startswith(("{", "["))
    if output_format == "html":
        return stripped[:15].lower().startswith(("<!doctype html", "<html"))
    if output_format == "csv":
        first = stripped.split("\n", 1)[0]
        return ";" in first or "," in first
    if output_format == "md":
        return stripped.startswith("#")
    return False


def guard(paths: Iterable[Path], output_format: str, db_url: str, force: bool) -> None:
    """Refuse, before any work, to write a report over what it must not replace."""
    protected = _protected(db_url)
    for path in paths:
        if path.is_dir():
            raise MixiteError(f"--out {path} : c'est un dossier, pas un fichier.",
                              "Indiquez un nom de fichier, par exemple rapport.html")  # fmt: skip
        for kept, what in protected:
            if _same_file(path, kept) or path.resolve() == kept.resolve():
                raise MixiteError(
                    f"--out {path} : ce fichier est {what} ; mixite n'écrit jamais un rapport "
                    "par-dessus.",
                    "Choisissez un autre nom de fichier.",
                )
        if path.suffix == ".cle":
            raise MixiteError(
                f"--out {path} : un fichier .cle est une clé de pseudonymisation ; mixite "
                "n'écrit jamais un rapport par-dessus.",
                "Choisissez un autre nom de fichier.",
            )
        if force or not path.exists():
            continue
        if not path.is_file() or not looks_like(path, output_format):
            raise MixiteError(
                f"--out {path} : ce fichier existe et n'est pas un rapport {output_format.upper()}"
                " ; il n'est pas remplacé.",
                "Choisissez un autre nom, ou ajoutez --force pour le remplacer.",
            )


def write_files(files: Mapping[Path, str | bytes | Streamed | Written]) -> None:
    """Write the report files, all or none (`replacing`): a report made as it is written (a
    `Streamed` listing) that fails midway, or a full disk, leaves the files that were there
    before untouched, never a plausible half of a listing. A destination that is not a plain
    file (a device such as /dev/stdout, a pipe, a symbolic link) is written in place: a rename
    would replace it. A failure to write is a French error."""
    in_place = {path: content for path, content in files.items() if _written_in_place(path)}
    for path, content in in_place.items():
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            _write(path, content)
        except OSError as error:
            raise _not_written(str(path), error) from None
    renamed = {path: content for path, content in files.items() if path not in in_place}
    if renamed:
        with replacing(list(renamed)) as temporaries:
            for temporary, content in zip(temporaries, renamed.values(), strict=True):
                _write(temporary, content)


def _written_in_place(path: Path) -> bool:
    return path.is_symlink() or (path.exists() and not path.is_file())


def _write(path: Path, content: str | bytes | Streamed | Written) -> None:
    from checker.report.outputs import Streamed

    if isinstance(content, bytes):
        path.write_bytes(content)
    elif isinstance(content, str):
        _write_text(path, content)
    elif isinstance(content, Streamed):
        _write_pieces(path, content.pieces())
    else:  # written by its maker straight into the file (the HTML and XLSX reports)
        with path.open("wb") as handle:
            content.write(handle)


def _not_written(path: str, error: OSError) -> MixiteError:
    reason = _REASONS.get(error.errno or 0, f"erreur système n° {error.errno}")
    return MixiteError(
        f"{path} : le rapport n'a pas pu être écrit ({reason}).",
        "Vérifiez la place disponible et vos droits sur ce dossier ; rien n'a été enregistré.",
    )


@contextmanager
def replacing(paths: Sequence[Path]) -> Iterator[list[Path]]:
    """Files written as they are made, all or none: the block writes each at the temporary path
    given for it, beside it; once the block is done they are renamed over `paths`. On any
    failure (a full disk, an error, an interruption) no file of `paths` is touched and the
    temporary ones are removed: a report made over minutes is never left half-written, nor
    one of two files written without the other. A failure to write is a French error."""
    temporaries: list[Path] = []
    try:
        for path in paths:
            path.parent.mkdir(parents=True, exist_ok=True)
            temporaries.append(_temporary_beside(path))
        yield list(temporaries)
        for temporary, path in zip(temporaries, paths, strict=True):
            temporary.replace(path)
    except OSError as error:
        # The file it names, else (a full disk names none) all of them.
        named = [
            p
            for t, p in zip(temporaries, paths, strict=False)
            if error.filename in (str(t), str(p))
        ]
        raise _not_written(" et ".join(str(p) for p in named or paths), error) from None
    finally:
        for temporary in temporaries:
            temporary.unlink(missing_ok=True)


def _temporary_beside(path: Path) -> Path:
    """A new, empty, hidden file in `path`'s folder (so renamed over it in one step), made
    with the rights an ordinary write gives (the umask's), not tempfile's owner-only ones."""
    while True:
        candidate = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
        try:
            os.close(os.open(candidate, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
        except FileExistsError:
            continue
        return candidate


_SLICE = 1 << 20


def _write_text(path: Path, content: str) -> None:
    """`path.write_text(content, encoding="utf-8", newline="")`, encoded a slice at a time: a
    report of 9 MB is not held a second time as bytes while it is written."""
    with path.open("w", encoding="utf-8", newline="") as handle:
        for start in range(0, len(content), _SLICE):
            handle.write(content[start : start + _SLICE])


def _write_pieces(path: Path, pieces: Iterable[str]) -> None:
    """A text made a piece at a time, written as it comes: the same bytes as its whole text."""
    with path.open("w", encoding="utf-8", newline="") as handle:
        for piece in pieces:
            handle.write(piece)
