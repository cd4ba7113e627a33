"""Run receipts: every check is stored with what it needs to be reproduced, in a hash chain."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from checker import __version__

# Re-exported: the receipts' callers read the content digest and its tables through runs.
from checker.content_digest import NOT_DATA as NOT_DATA
from checker.content_digest import content_digest as content_digest
from checker.content_digest import data_tables as data_tables
from checker.db import models

GENESIS = "0" * 64
_RUN = models.Run.__table__
_HEAD = "empreinte_derniere_execution"


def canonical(document: Any) -> str:
    """The one JSON text of a document: sorted keys, no spaces, UTF-8 characters kept."""
    return json.dumps(document, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def canonical_list(items: Iterable[Any]) -> str:
    """`canonical(list(items))`, the same text, one item encoded at a time: a run's results are
    then never all held as documents at once."""
    pieces = ["["]
    for item in items:
        pieces += (canonical(item), ",")
    pieces[-1] = "]" if len(pieces) > 1 else "[]"
    return "".join(pieces)


def as_stored(fresh: list[dict[str, Any]], stored: str) -> list[dict[str, Any]]:
    """Recomputed results in the shape the run stored them, for a replay: a run recorded
    before the JSON schema 1.2 has no `bound` (floor or cap), which comes from the rules and
    not from the data, so it is left out of the comparison rather than reported as a change."""
    if '"bound":' in stored:
        return fresh
    return [{key: value for key, value in result.items() if key != "bound"} for result in fresh]


def data_digest(connection: Connection) -> str:
    """Digest of the data: the content digests of every import batch, in import order."""
    sha = hashlib.sha256()
    for (digest,) in connection.execute(
        select(models.ImportBatch.bundle_sha256).order_by(models.ImportBatch.id)
    ):
        sha.update(digest.encode() + b"\n")
    return sha.hexdigest()


def _hash(fields: dict[str, Any]) -> str:
    return hashlib.sha256(canonical(fields).encode()).hexdigest()


_CHUNK = 1 << 16


def _hash_of_new_run(fields: dict[str, Any]) -> str:
    """`_hash(fields)`, without writing the results' text a second time, escaped, and a third,
    encoded (9 MB at 1 000 000 attributions): the canonical text around them is hashed, then
    the results escaped a chunk at a time (JSON escapes each character on its own)."""
    results = fields["results"]
    text = canonical(fields | {"results": ""})
    before, marker, after = text.partition('"results":""')
    if not marker or marker in after:
        return _hash(fields)
    sha = hashlib.sha256((before + '"results":"').encode())
    for start in range(0, len(results), _CHUNK):
        sha.update(json.dumps(results[start : start + _CHUNK], ensure_ascii=False)[1:-1].encode())
    sha.update(('"' + after).encode())
    return sha.hexdigest()


def _fields(row: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "created_at": row.created_at,
        "tool_version": row.tool_version,
        "rulebook_digest": row.rulebook_digest,
        "data_digest": row.data_digest,
        "period_start": row.period_start,
        "period_end": row.period_end,
        "as_of": row.as_of,
        "options": row.options,
        "results": row.results,
        "previous_hash": row.previous_hash,
    } | ({"content_digest": row.content_digest} if row.content_digest is not None else {})


@dataclass(frozen=True)
class Receipt:
    run_id: int
    created_at: str
    tool_version: str
    rulebook_digest: str
    data_digest: str
    period_start: str
    period_end: str
    as_of: str | None
    options: dict[str, Any]
    hash: str

    def as_json(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "created_at": self.created_at,
            "tool_version": self.tool_version,
            "rulebook_digest": self.rulebook_digest,
            "data_digest": self.data_digest,
            "period": {"start": self.period_start, "end": self.period_end},
            "as_of": self.as_of,
            "options": self.options,
            "hash": self.hash,
        }


def record_run(connection: Connection, *, rulebook_digest: str, period: tuple[dt.date, dt.date],
               as_of: dt.date | None, options: dict[str, Any], results: Iterable[dict[str, Any]],
               now: dt.datetime | None = None, content: str | None = None,
               imports: str | None = None) -> Receipt:  # fmt: skip
    """Store a run at the end of the chain (inside the caller's transaction). `content` is
    the content digest when the caller started it beforehand (`content_digest.start`);
    `imports`, the digest of the imports the caller saw its results computed on."""
    # Two checks finishing together must not both link to the same previous run (nor both
    # take the next number): the chain's end is read under a lock the second one waits for.
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql("LOCK TABLE run IN EXCLUSIVE MODE")
    else:  # SQLite: a write that changes nothing takes the file's write lock
        connection.exec_driver_sql("UPDATE run SET id = id WHERE 0")
    previous = connection.execute(
        select(models.Run.hash).order_by(models.Run.id.desc()).limit(1)
    ).scalar()
    next_id = (
        connection.execute(select(models.Run.id).order_by(models.Run.id.desc()).limit(1)).scalar()
        or 0
    ) + 1
    fields: dict[str, Any] = {
        "id": next_id,
        "created_at": (now or dt.datetime.now(dt.UTC)).isoformat(timespec="seconds"),
        "tool_version": __version__,
        "rulebook_digest": rulebook_digest,
        "data_digest": imports if imports is not None else data_digest(connection),
        "period_start": period[0].isoformat(),
        "period_end": period[1].isoformat(),
        "as_of": as_of.isoformat() if as_of else None,
        "options": canonical(options),
        "results": canonical_list(results),
        "previous_hash": previous or GENESIS,
        "content_digest": content if content is not None else content_digest(connection),
    }
    digest = _hash_of_new_run(fields)
    # The values as parameters of the execution, not of the statement (`values(**fields)`):
    # SQLAlchemy caches a statement's compiled form, which keeps the first statement and so
    # its values, the results' text of the first run (6 MB at 1 000 000 attributions, and its
    # UTF-8 copy) for as long as the process lives.
    connection.execute(insert(models.Run), {**fields, "hash": digest})
    _set_head(connection, digest)
    return Receipt(
        next_id, fields["created_at"], __version__, rulebook_digest, fields["data_digest"],
        fields["period_start"], fields["period_end"], fields["as_of"], options, digest,
    )  # fmt: skip


def _set_head(connection: Connection, digest: str) -> None:
    found = connection.execute(select(models.Meta.valeur).where(models.Meta.cle == _HEAD)).scalar()
    if found is None:
        connection.execute(insert(models.Meta).values(cle=_HEAD, valeur=digest))
    else:
        connection.execute(
            update(models.Meta).where(models.Meta.cle == _HEAD).values(valeur=digest)
        )


@dataclass(frozen=True)
class AuditProblem:
    run_id: int | None
    message: str


@dataclass(frozen=True)
class KeptHead:
    """A chain head kept outside the database: given with --tete, or a line of the heads file."""

    hash: str
    origin: str  # where it was kept, for the message
    run_id: int | None = None


def verify_chain(connection: Connection,
                 kept: Sequence[KeptHead] = ()) -> tuple[int, list[AuditProblem]]:  # fmt: skip
    """(runs checked, problems): edited runs, deleted runs (gaps, broken links, lost head, kept
    heads no longer in the chain) and data edited without an import after a run."""
    problems: list[AuditProblem] = []
    previous = GENESIS
    expected_id = 1
    count = 0
    ids_by_hash: dict[str, int] = {}
    last: Any = None
    for row in connection.execute(select(*_RUN.c).order_by(_RUN.c.id)):
        count += 1
        if row.id != expected_id:
            missing = ", ".join(str(i) for i in range(expected_id, row.id))
            problems.append(
                AuditProblem(row.id, f"exécution(s) supprimée(s) avant le n° {row.id} : {missing}")
            )
        if row.previous_hash != previous:
            problems.append(
                AuditProblem(
                    row.id,
                    f"le n° {row.id} n'est plus relié au précédent (suppression ou modification)",
                )
            )
        if _hash(_fields(row)) != row.hash:
            problems.append(
                AuditProblem(
                    row.id, f"le n° {row.id} a été modifié après coup (empreinte différente)"
                )
            )
        if last is not None:
            problems.extend(_edited_between(last, row))
        ids_by_hash[row.hash] = row.id
        previous = row.hash
        expected_id = row.id + 1
        last = row
    head = connection.execute(select(models.Meta.valeur).where(models.Meta.cle == _HEAD)).scalar()
    if head is not None and head != previous:
        problems.append(
            AuditProblem(None, "la dernière exécution enregistrée a disparu ou a été remplacée")
        )
    if head is None and count:
        problems.append(AuditProblem(None, "l'empreinte de la dernière exécution a disparu"))
    for anchor in kept:
        found = ids_by_hash.get(anchor.hash)
        if found is None or (anchor.run_id is not None and found != anchor.run_id):
            number = f"n° {anchor.run_id}, " if anchor.run_id is not None else ""
            problems.append(AuditProblem(anchor.run_id, (
                f"l'exécution ({number}empreinte {anchor.hash[:16]}…) conservée dans "
                f"{anchor.origin} n'est plus dans la chaîne : des exécutions ont été supprimées "
                "ou remplacées")))  # fmt: skip
    if (
        last is not None
        and last.content_digest is not None
        and last.tool_version == __version__  # a new version may change the tables' shape
        and data_digest(connection) == last.data_digest
        and content_digest(connection) != last.content_digest
    ):
        problems.append(AuditProblem(None, (
            f"données modifiées depuis l'exécution n° {last.id} sans nouvel import "
            "(les tables ont été changées directement dans la base)")))  # fmt: skip
    return count, problems


def _edited_between(before: Any, after: Any) -> list[AuditProblem]:
    """Two runs over the same imports must have read the same content."""
    if before.content_digest is None or after.content_digest is None:
        return []
    if before.tool_version != after.tool_version:
        return []  # a new version may have changed the tables' shape (mixite db upgrade)
    if before.data_digest == after.data_digest and before.content_digest != after.content_digest:
        return [AuditProblem(after.id, (
            f"données modifiées entre les exécutions n° {before.id} et n° {after.id} sans "
            "nouvel import (les tables ont été changées directement dans la base)"))]  # fmt: skip
    return []


# The heads file: one line per run, appended after its receipt is committed, beside the key.
HEADS_SUFFIX = ".tetes"


def heads_file(key_file: Path) -> Path:
    """The heads file kept beside the pseudonymisation key file (`mixite.db.cle` gives
    `mixite.db.tetes`)."""
    stem = key_file.name.removesuffix(".cle")
    return key_file.with_name(stem + HEADS_SUFFIX)


def heads_path(db_url: str) -> Path:
    """Where this database's heads file is: beside its key file."""
    import os

    from checker.ingest.pseudonym import KEY_FILE_ENV, default_key_file

    return heads_file(Path(os.environ.get(KEY_FILE_ENV) or default_key_file(db_url)))


def database_label(db_url: str) -> str:
    """Which database a heads-file line belongs to: one key file (hence one heads file) may
    serve several databases. A SQLite file by its name, so that moving it keeps its heads."""
    from sqlalchemy.engine import make_url

    from checker.db.engine import sqlite_file

    path = sqlite_file(db_url)
    if path is not None:
        return f"sqlite:{path.name}"
    parsed = make_url(db_url)
    return (
        f"{parsed.get_backend_name()}://{parsed.host or ''}:{parsed.port or ''}/{parsed.database}"
    )


def append_head(path: Path, receipt: Receipt, database: str) -> None:
    """Append the run's head to the heads file (opened for appending only, never rewritten)."""
    with path.open("a", encoding="utf-8") as handle:
        handle.write(f"{receipt.run_id}\t{receipt.hash}\t{receipt.created_at}\t{database}\n")


def keep_head(db_url: str, receipt: Receipt) -> Path | None:
    """Append a committed run's head to this database's heads file; the file, or None when it
    could not be written (the caller tells the user)."""
    path = heads_path(db_url)
    try:
        append_head(path, receipt, database_label(db_url))
    except OSError:
        return None
    return path


def read_heads(path: Path, database: str) -> list[KeptHead]:
    """The heads the file kept for `database`; a line that cannot be read is an error located
    by line."""
    from checker.errors import MixiteError

    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        raise MixiteError(f"{path} : fichier des têtes illisible.") from None
    heads: list[KeptHead] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        parts = line.split("\t")
        if len(parts) < 2 or not parts[0].isdigit() or not is_hash(parts[1]):
            raise MixiteError(
                f"{path}:{number}:1 : ligne illisible dans le fichier des têtes.",
                "Forme attendue : numéro, tabulation, empreinte de 64 caractères hexadécimaux.",
            )
        if len(parts) >= 4 and parts[3] != database:
            continue  # another database sharing the key file
        heads.append(KeptHead(parts[1], f"{path}:{number}", int(parts[0])))
    return heads


def is_hash(text: str) -> bool:
    return len(text) == 64 and all(c in "0123456789abcdef" for c in text)


def load_run(connection: Connection, run_id: int) -> Any:
    """The stored run (a row with the `run` table's columns as attributes), or None."""
    return connection.execute(select(*_RUN.c).where(_RUN.c.id == run_id)).first()


def list_runs(connection: Connection) -> list[Any]:
    return list(connection.execute(select(*_RUN.c).order_by(_RUN.c.id)))


__all__ = ["delete"]
