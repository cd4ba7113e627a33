"""Pseudonymising household identifiers with a keyed hash (HMAC-SHA-256).

The key never enters the database: it comes from `MIXITE_CLE` (the key itself),
`MIXITE_CLE_FICHIER` (a file holding it), or a key file beside the SQLite database
(`mixite.db.cle`) — for other databases, `mixite.cle` in the working directory. Whoever holds the
key (the bailleur) can compute the pseudonym of a numéro unique and so find a household from an
`explain` list; the database alone cannot. The database stores a fingerprint of the key so that
an import with another key, which would split households in two, is refused.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from checker.db.engine import sqlite_file
from checker.errors import MixiteError

KEY_ENV = "MIXITE_CLE"
KEY_FILE_ENV = "MIXITE_CLE_FICHIER"
_FINGERPRINT_LABEL = b"mixite:empreinte-de-cle"


@dataclass(frozen=True)
class PseudonymKey:
    secret: bytes
    origin: str
    created: bool = False
    warning: str | None = None  # told to the user: a key file others can read

    @cached_property
    def _pads(self) -> tuple[Any, Any]:
        # HMAC (RFC 2104) = H((K ^ opad) || H((K ^ ipad) || m)). Hashing the two padded keys
        # once and copying the states per row is much cheaper than hmac.new per row on
        # files of hundreds of thousands of rows; `test_pseudonym_is_hmac_sha256` pins the
        # equivalence with the standard library.
        block = hashlib.sha256().block_size
        key = self.secret if len(self.secret) <= block else hashlib.sha256(self.secret).digest()
        key = key.ljust(block, b"\0")
        inner = hashlib.sha256(bytes(byte ^ 0x36 for byte in key))
        outer = hashlib.sha256(bytes(byte ^ 0x5C for byte in key))
        return inner, outer

    def pseudonym(self, numero_unique: str) -> str:
        inner_state, outer_state = self._pads
        inner = inner_state.copy()
        inner.update(numero_unique.strip().upper().encode("utf-8"))
        outer = outer_state.copy()
        outer.update(inner.digest())
        return str(outer.hexdigest())

    def fingerprint(self) -> str:
        return hmac.new(self.secret, _FINGERPRINT_LABEL, hashlib.sha256).hexdigest()[:16]


def default_key_file(db_url: str) -> Path:
    database = sqlite_file(db_url)
    if database is not None:
        return database.with_name(database.name + ".cle")
    return Path("mixite.cle")


def load_key(db_url: str, create: bool) -> PseudonymKey:
    """The pseudonymisation key for this database; created (mode 0600) on first import."""
    from_env = os.environ.get(KEY_ENV)
    if from_env:
        if len(from_env) < 16:
            raise MixiteError(f"La clé {KEY_ENV} est trop courte (16 caractères au moins).")
        return PseudonymKey(from_env.encode("utf-8"), f"variable {KEY_ENV}")
    path = Path(os.environ.get(KEY_FILE_ENV) or default_key_file(db_url))
    if path.exists():
        return _read_key_file(path)
    if not create:
        raise MixiteError(
            f"Clé de pseudonymisation introuvable ({path}).",
            f"Indiquez-la avec {KEY_ENV} ou {KEY_FILE_ENV}.",
        )
    secret = secrets.token_hex(32)
    path.parent.mkdir(parents=True, exist_ok=True)
    # Written whole under a temporary name, then linked to its name, which fails if the name
    # exists: a key file is never seen half-written, and of two processes creating it at once,
    # the second reads the first one's key instead of failing.
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(secret + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(temporary, path)
        except FileExistsError:
            return _read_key_file(path)
    finally:
        temporary.unlink(missing_ok=True)
    return PseudonymKey(secret.encode("utf-8"), str(path), created=True)


def _read_key_file(path: Path) -> PseudonymKey:
    if path.is_dir():
        raise MixiteError(
            f"Le fichier de clé {path} est un dossier.",
            f"Indiquez dans {KEY_FILE_ENV} le chemin du fichier de clé lui-même.",
        )
    try:
        secret = path.read_bytes().decode("utf-8").strip()
    except UnicodeDecodeError:
        raise MixiteError(
            f"Le fichier de clé {path} n'est pas un texte UTF-8 : ce n'est pas une clé mixite.",
            "Une clé mixite est une ligne de texte (64 caractères hexadécimaux).",
        ) from None
    except OSError as exc:
        raise MixiteError(f"Lecture impossible du fichier de clé {path} ({exc.strerror}).") from exc
    if len(secret) < 16:
        raise MixiteError(f"Le fichier de clé {path} est vide ou trop court.")
    return PseudonymKey(secret.encode("utf-8"), str(path), warning=_exposure(path))


def _exposure(path: Path) -> str | None:
    """A warning when the key file is readable by others than its owner.

    A warning, not a refusal: on disks that do not keep Unix permissions (Windows shares,
    /mnt/c under WSL) every file shows as readable by all, and refusing would make mixite
    unusable there; where permissions are kept, the user is told how to fix them.
    """
    if os.name != "posix":
        return None
    mode = path.stat().st_mode & 0o777
    if not mode & 0o077:
        return None
    return (
        f"Le fichier de clé {path} est lisible par d'autres comptes que le vôtre "
        f"(droits {mode:04o}) : qui lit la clé peut retrouver les ménages. "
        f"Restreignez-le : chmod 600 {path}"
    )


@contextmanager
def key_setting(variable: str, value: str) -> Iterator[None]:
    """Set MIXITE_CLE or MIXITE_CLE_FICHIER for a throwaway database (demo, rule tests), and
    restore what the user had, so that their own key is never touched."""
    previous = os.environ.get(variable)
    os.environ[variable] = value
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop(variable, None)
        else:
            os.environ[variable] = previous
