"""Run receipts: every check is stored with what it needs to be reproduced, in a hash chain."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from checker import __version__
from checker.db import models

GENESIS = "0" * 64
_RUN = models.Run.__table__
_HEAD = "empreinte_derniere_execution"


def canonical(document: Any) -> str:
    """The one JSON text of a document: sorted keys, no spaces, UTF-8 characters kept."""
    return json.dumps(document, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


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
    }


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
               as_of: dt.date | None, options: dict[str, Any], results: list[dict[str, Any]],
               now: dt.datetime | None = None) -> Receipt:  # fmt: skip
    """Store a run at the end of the chain (inside the caller's transaction)."""
    if connection.dialect.name == "postgresql":
        # Two checks finishing together must not both link to the same previous run.
        connection.exec_driver_sql("LOCK TABLE run IN EXCLUSIVE MODE")
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
        "data_digest": data_digest(connection),
        "period_start": period[0].isoformat(),
        "period_end": period[1].isoformat(),
        "as_of": as_of.isoformat() if as_of else None,
        "options": canonical(options),
        "results": canonical(results),
        "previous_hash": previous or GENESIS,
    }
    digest = _hash(fields)
    connection.execute(insert(models.Run).values(**fields, hash=digest))
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


def verify_chain(connection: Connection) -> tuple[int, list[AuditProblem]]:
    """(runs checked, problems): edited runs, deleted runs (gaps, broken links, lost head)."""
    problems: list[AuditProblem] = []
    previous = GENESIS
    expected_id = 1
    count = 0
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
        previous = row.hash
        expected_id = row.id + 1
    head = connection.execute(select(models.Meta.valeur).where(models.Meta.cle == _HEAD)).scalar()
    if head is not None and head != previous:
        problems.append(
            AuditProblem(None, "la dernière exécution enregistrée a disparu ou a été remplacée")
        )
    if head is None and count:
        problems.append(AuditProblem(None, "l'empreinte de la dernière exécution a disparu"))
    return count, problems


def load_run(connection: Connection, run_id: int) -> Any:
    """The stored run (a row with the `run` table's columns as attributes), or None."""
    return connection.execute(select(*_RUN.c).where(_RUN.c.id == run_id)).first()


def list_runs(connection: Connection) -> list[Any]:
    return list(connection.execute(select(*_RUN.c).order_by(_RUN.c.id)))


__all__ = ["delete"]
