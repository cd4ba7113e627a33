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
        secret = path.read_text(encoding="utf-8").strip()
        if len(secret) < 16:
            raise MixiteError(f"Le fichier de clé {path} est vide ou trop court.")
        return PseudonymKey(secret.encode("utf-8"), str(path))
    if not create:
        raise MixiteError(
            f"Clé de pseudonymisation introuvable ({path}).",
            f"Indiquez-la avec {KEY_ENV} ou {KEY_FILE_ENV}.",
        )
    secret = secrets.token_hex(32)
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(secret + "\n")
    return PseudonymKey(secret.encode("utf-8"), str(path), created=True)


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
