"""A cache of the rule tests' imported cases, so that a rule author's next run imports nothing.

A rule author edits rules and runs their tests again; the cases' data do not change, yet each
run imported every case's bundle again (about half of the time of `mixite rules test`). The
outcome of importing a case's bundle into the empty schema depends only on what the bundle is
written from (the case's data, its file's defaults and territory, as the test file gives them),
on mixite's own code (which writes the bundle, the importer, the schema), on the libraries that
write the database, and on the day (the importer refuses dates in the future); a digest of
those is the key, so a case found in the cache is not even written out. The entry
is the imported database file (compressed) or, for data the importer refuses, the messages the
case reports. Rules are not part of the key and need not be: the import does not read them,
except for a CIA declared by the territory, and such cases are never cached.

Entries live in the user's cache directory beside the rulebook cache (`MIXITE_CACHE=0` turns
both off). An entry that cannot be read is ignored and the case imported again: the cache can
make the tests faster, never change their verdicts.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import sqlite3
import tempfile
import zlib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from checker.rulebook_cache import cache_dir, code_fingerprint

# Bumped when the layout of an entry or what its key is made of changes.
_FORMAT = b"mixite-cas-importes-2"
_KEPT_ENTRIES = 2000  # a few national suites; each entry is a few kilobytes


@dataclass(frozen=True)
class ImportedCase:
    """A cached import: the database file's bytes, or the refusal's messages."""

    database: bytes | None
    refusals: list[str]


@cache
def _code_and_libraries() -> bytes:
    """Once per process: a run of the tests does not change mixite's code under itself."""
    import sqlalchemy

    return code_fingerprint() + f"{sqlalchemy.__version__}\0{sqlite3.sqlite_version}\0".encode()


def _directory() -> Path | None:
    rules = cache_dir()
    return None if rules is None else rules.parent / "cas"


def case_key(inputs: str) -> str | None:
    """The digest of everything importing a case into an empty schema depends on: `inputs`,
    what its bundle is written from as the test file gives it (its `repr`: its data, its file's
    defaults and territory), with mixite's code (which writes the bundle and imports it), the
    libraries and the day; None when the cache is off. The caller leaves out the cases that
    must not be cached (a declared CIA)."""
    if _directory() is None:
        return None
    sha = hashlib.sha256(_FORMAT)
    sha.update(_code_and_libraries())
    sha.update(dt.date.today().isoformat().encode())
    sha.update(inputs.encode())
    return sha.hexdigest()


def _schema_file() -> Path | None:
    """The entry of the empty schema's database file (built by running every migration)."""
    directory = _directory()
    if directory is None:
        return None
    key = hashlib.sha256(_FORMAT + b"\0schema\0" + _code_and_libraries()).hexdigest()
    return directory / f"schema-{key}.z"


def read_schema() -> bytes | None:
    entry = _schema_file()
    try:
        return None if entry is None else zlib.decompress(entry.read_bytes())
    except (OSError, zlib.error):
        return None


def write_schema(database: Path) -> None:
    entry = _schema_file()
    if entry is not None:
        _store(entry, zlib.compress(database.read_bytes(), 1))


def read(key: str) -> ImportedCase | None:
    directory = _directory()
    if directory is None:
        return None
    try:
        refused = directory / f"{key}.refus.json"
        if refused.exists():
            messages = json.loads(refused.read_text(encoding="utf-8"))
            if isinstance(messages, list) and all(isinstance(m, str) for m in messages):
                return ImportedCase(None, messages)
            return None
        return ImportedCase(zlib.decompress((directory / f"{key}.db.z").read_bytes()), [])
    except (OSError, ValueError, zlib.error):
        return None


def write(key: str, database: Path | None, refusals: list[str]) -> None:
    """Stores the imported database file (or the refusal); a cache that cannot be written is
    not an error: the next run imports the case again."""
    directory = _directory()
    if directory is None:
        return
    try:
        if database is not None:
            data, name = zlib.compress(database.read_bytes(), 1), f"{key}.db.z"
        else:
            data, name = json.dumps(refusals, ensure_ascii=False).encode(), f"{key}.refus.json"
    except OSError:
        return
    _store(directory / name, data)


def _store(entry: Path, data: bytes) -> None:
    try:
        entry.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        with tempfile.NamedTemporaryFile(dir=entry.parent, suffix=".tmp", delete=False) as handle:
            handle.write(data)
        Path(handle.name).replace(entry)
    except OSError:
        return


def prune() -> None:
    """Keeps the newest entries (called once per run, not per case)."""
    directory = _directory()
    if directory is None or not directory.is_dir():
        return
    try:
        entries = [p for p in directory.iterdir() if p.suffix in {".z", ".json"}]
        if len(entries) <= _KEPT_ENTRIES:
            return  # nothing to drop: the entries' dates are not even read
        entries.sort(key=lambda path: path.stat().st_mtime, reverse=True)
        for stale in entries[_KEPT_ENTRIES:]:
            stale.unlink(missing_ok=True)
    except OSError:
        return
