"""`mixite import`: validate a whole bundle, then write it in one transaction, or nothing.

Every row of every file is validated and cross-checked; all problems are collected (not only
the first), and if there is any, the transaction is rolled back and a database file created for
the occasion is removed, so the database is left exactly as it was. Re-importing a bundle whose
digest is already recorded changes nothing; a later extract adds new records and replaces those
whose content changed (same dwelling, household and decision date).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import chain
from operator import itemgetter
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from pydantic import BaseModel
from sqlalchemy import Connection, Date, Table, delete, exists, insert, select, tuple_, update
from sqlalchemy.exc import IntegrityError

from checker.db import codes, models
from checker.db.engine import (
    IMPORT_CACHE_MIB,
    bound_sqlite_memory,
    connection_errors,
    database_exists,
    ensure_schema,
    make_engine,
    sqlite_file,
)
from checker.errors import MixiteError
from checker.ingest import rows as row_models
from checker.ingest.bulk_load import (
    LARGE_FILE_ROWS,
    DroppedKey,
    drop_foreign_keys,
    restore_foreign_keys,
)
from checker.ingest.bulk_load import DroppedIndex as PgDroppedIndex
from checker.ingest.bulk_load import drop_indexes as pg_drop_indexes
from checker.ingest.bulk_load import restore_indexes as pg_restore_indexes
from checker.ingest.bundle import ROLES, Bundle, find_bundle
from checker.ingest.first_load import LoadedLines, as_date
from checker.ingest.gc_tuning import fewer_collections
from checker.ingest.heap import release_free_memory
from checker.ingest.import_lock import import_lock, reset_sequences
from checker.ingest.packed_keys import AttributionLines, pack_key
from checker.ingest.parsing import ReadingProcesses, parse_table, reading_processes
from checker.ingest.problems import MisshapenRows, Problem, ProblemLog
from checker.ingest.pseudonym import PseudonymKey, load_key
from checker.ingest.reference import Described, KnownWorld
from checker.ingest.rehousing_links import BundleFile, check_links
from checker.ingest.row_checks import bail_findings, reservation_findings
from checker.ingest.sqlite_load import DroppedIndex, drop_indexes, insert_unchecked, rebuild
from checker.ingest.staging import BundleDwellings, BundleResidences, among
from checker.ingest.tabular import Table as InputTable
from checker.ingest.tabular import UnreadableFile, file_sha256, read_table
from checker.ingest.territory import TerritorySpec, decode, load_territory

if TYPE_CHECKING:
    from checker.territory_cia import CiaVersion

_CHUNK = 5000

# Only raw inserts of the importer hand date objects to sqlite3 (SQLAlchemy converts its own
# parameters first); store them as SQLAlchemy's Date type does, "AAAA-MM-JJ".
sqlite3.register_adapter(dt.date, dt.date.isoformat)


class _IsoDates(dict[dt.date | None, str | None]):
    """The ISO text of dates, remembered: an export holds a few hundred distinct dates.

    Rows are batched with dates as text, the form both databases store and parse: handing
    sqlite3 a date object costs an adapter call per value, a measurable share of an import
    of hundreds of thousands of rows (benchmarks/import_benchmark.py).
    """

    def __init__(self) -> None:
        super().__init__({None: None})

    def __missing__(self, day: dt.date | None) -> str | None:
        assert day is not None
        text = self[day] = day.isoformat()
        return text


def _typed(table: Table, columns: Sequence[str], values: Sequence[Any]) -> tuple[Any, ...]:
    """Batched values back to what SQLAlchemy's column types take (dates from ISO text)."""
    return tuple(
        dt.date.fromisoformat(value)
        if isinstance(value, str) and isinstance(table.c[name].type, Date)
        else value
        for name, value in zip(columns, values, strict=True)
    )


def _stored_form(value: Any) -> Any:
    """A value as the batches hold it (dates as ISO text), to compare with a batched row."""
    return value.isoformat() if isinstance(value, dt.date) else value


_KEY_FINGERPRINT = "empreinte_cle_pseudonymisation"


class Progress(Protocol):
    def start(self, label: str, total: int) -> None: ...
    def advance(self, rows: int) -> None: ...
    def finish(self) -> None: ...


class _NoProgress:
    def start(self, label: str, total: int) -> None:
        pass

    def advance(self, rows: int) -> None:
        pass

    def finish(self) -> None:
        pass


class ImportRefused(MixiteError):
    """The bundle has problems; nothing was written."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(
            f"Import refusé : {len(problems)} problème(s) ; la base n'a pas été modifiée."
        )
        self.problems = problems


@dataclass
class Counts:
    added: int = 0
    replaced: int = 0
    unchanged: int = 0


@dataclass
class FileSummary:
    role: str
    name: str
    sha256: str
    encoding: str  # the codec that read the file (utf-8-sig, cp1252), or xlsx / yaml
    rows: int = 0
    ignored_columns: list[str] = field(default_factory=list)
    encoding_label: str = ""  # the encoding for people: UTF-8, UTF-8 (BOM), Windows-1252…


@dataclass
class ImportResult:
    bundle_sha256: str
    batch_id: int | None
    already_imported_at: dt.datetime | None
    files: list[FileSummary]
    counts: dict[str, Counts]
    key: PseudonymKey | None
    skipped: tuple[Path, ...]
    cia: CiaVersion | None = None  # the territory's CIA version stored by this import
    cia_files: list[str] = field(default_factory=list)  # the CIA files territoire.yaml declares
    # What the import accepted but a person should look at (French), e.g. attributions marked
    # anru that no rehoused household of relogements.csv links to.
    notices: list[str] = field(default_factory=list)


# The types of réservataire each reserved contingent admits.
_RESERVATAIRE_TYPES = {
    "collectivite": ("commune", "epci", "departement", "region"),
    "autre": ("autre",),
    "action_logement": ("action_logement",),
    "etat_prioritaires": ("etat",),
    "etat_fonctionnaires": ("etat",),
}


def _unknown_bailleur(siren: str) -> str:
    return f"bailleur {siren} inconnu (absent de territoire.yaml et de la base)"


def _unknown_reservataire(ident: str) -> str:
    return f"réservataire « {ident} » inconnu sur ce territoire (voir territoire.yaml)"


def _unknown_dwelling(rpls_id: str) -> str:
    return f"logement « {rpls_id} » inconnu (absent de logements et de la base)"


def _table(model: type[models.Base]) -> Table:
    table = model.__table__
    assert isinstance(table, Table)
    return table


class _Rollback(Exception):
    """Raised inside the transaction to undo it when problems were found."""


def bundle_digest(bundle: Bundle) -> tuple[str, dict[str, str]]:
    """A digest of the bundle's content, independent of file names and locations."""
    digests: dict[str, str] = {}
    for role, path in bundle.files.items():
        digests[role] = file_sha256(path)
    combined = "\n".join(f"{role}:{digest}" for role, digest in sorted(digests.items()))
    return hashlib.sha256(combined.encode()).hexdigest(), digests


class _Importer:
    def __init__(
        self,
        connection: Connection,
        key: PseudonymKey,
        problems: ProblemLog,
        progress: Progress,
        readers: ReadingProcesses | None = None,
    ) -> None:
        self.connection = connection
        self.readers = readers  # the launcher of the reading processes (parsing.py)
        self.key = key
        self.problems = problems
        self.progress = progress
        self.world = KnownWorld.from_database(connection)
        # The dwellings and residences known, kept by the database (staging.py).
        self.staged_dwellings = BundleDwellings(connection, self.world)
        self.staged_residences = BundleResidences(connection, self.world)
        self.batch_id = 0
        self.counts: dict[str, Counts] = {}
        # Dwellings whose row in logements was refused: their problem is already reported, so
        # the rows citing them are not reported again as citing an unknown dwelling.
        self.refused_logements: set[str] = set()
        self.logements_unreadable = False  # logements refused whole: no dwelling is known
        self.epci: str | None = None  # the bundle's territory, when it has one
        self.logements_file: str | None = None
        # Residences whose row was refused, so the rows citing them are not reported again.
        # Keyed by code alone: a row refused for its bailleur still names the residence.
        self.refused_residences: set[str] = set()
        self.residences_unreadable = False
        self.today = dt.date.today()
        # The bundle's attributions and relogements by natural key, to locate what the check
        # linking the two files finds (rehousing_links).
        self.linked_files: dict[str, BundleFile] = {}
        self.file_rows = 0  # the approximate size of the file being imported
        # Foreign keys dropped for a bulk load (bulk_load.py), added back before commit.
        self.dropped_keys: list[DroppedKey] = []
        # SQLite, a large file into an empty table (sqlite_load.py): its indexes dropped until
        # the file is written, its rows written without per-row CHECKs, verified once after.
        self.dropped_indexes: list[DroppedIndex] = []
        self.unchecked: set[str] = set()
        # PostgreSQL, the same load (bulk_load.py): indexes built again once its file is written.
        self.pg_dropped_indexes: list[PgDroppedIndex] = []
        self.written: set[str] = set()  # tables this import changed, whose statistics to refresh
        self.flushed: set[str] = set()  # tables `_flush` has written to in this import

    def drop_staging(self) -> None:
        self.staged_dwellings.drop()
        self.staged_residences.drop()

    def rebuild_indexes(self) -> None:
        """After a file: the indexes dropped for its load created again, its CHECKs verified
        (sqlite_load.py); before the next file reads the table. Nothing to do once a problem
        is found: the transaction is rolled back, indexes and all."""
        if self.problems or not (self.dropped_indexes or self.unchecked):
            return
        rebuild(self.connection, self.dropped_indexes, self.unchecked)
        self.dropped_indexes, self.unchecked = [], set()

    def _drop_sqlite_indexes(self, table: str) -> None:
        """SQLite, a first load: the table's named indexes dropped, its CHECKs left for after
        the file (sqlite_load.py)."""
        self.dropped_indexes += drop_indexes(self.connection, table)
        self.unchecked.add(table)

    # -- territory ---------------------------------------------------------------------------

    def territory(self, spec: TerritorySpec) -> None:
        epci = spec.epci
        siren = self.epci = epci.siren
        self._upsert(
            "EPCI",
            _table(models.Epci),
            ("siren",),
            [
                {
                    **epci.model_dump(),
                    "siren_arrete": epci.siren_arrete or siren,
                    "nom_arrete": epci.nom_arrete or epci.nom,
                }
            ],
        )
        self._upsert(
            "communes",
            _table(models.Commune),
            ("insee",),
            [{**commune.model_dump(), "epci_siren": siren} for commune in spec.communes],
        )
        self._upsert(
            "QPV",
            _table(models.Qpv),
            ("code",),
            [qpv.model_dump(exclude={"communes"}) for qpv in spec.qpv],
        )
        for qpv in spec.qpv:
            self.connection.execute(
                delete(models.QpvCommune).where(models.QpvCommune.qpv_code == qpv.code)
            )
            if qpv.communes:
                self.connection.execute(
                    insert(models.QpvCommune),
                    [{"qpv_code": qpv.code, "commune_insee": insee} for insee in qpv.communes],
                )
        self._upsert(
            "bailleurs",
            _table(models.Bailleur),
            ("siren",),
            [bailleur.model_dump() for bailleur in spec.bailleurs],
        )
        self._upsert(
            "réservataires",
            _table(models.Reservataire),
            ("epci_siren", "id"),
            [{**r.model_dump(), "epci_siren": siren} for r in spec.reservataires],
        )
        for commune in spec.communes:
            self.world.communes[commune.insee] = siren
        for qpv in spec.qpv:
            self.world.qpv_communes[qpv.code] = set(qpv.communes)
        self.world.bailleurs.update(bailleur.siren for bailleur in spec.bailleurs)
        for reservataire in spec.reservataires:
            self.world.reservataires[(siren, reservataire.id)] = reservataire.type

    def _upsert(
        self, label: str, table: Table, key: tuple[str, ...], records: list[dict[str, Any]]
    ) -> None:
        counts = self.counts.setdefault(label, Counts())
        columns = [table.c[name] for name in records[0]] if records else []
        existing: dict[tuple[Any, ...], dict[str, Any]] = {}
        if records:
            for row in self.connection.execute(select(*columns)).mappings():
                existing[tuple(row[name] for name in key)] = dict(row)
        for record in records:
            identity = tuple(record[name] for name in key)
            current = existing.get(identity)
            if current is None:
                self.connection.execute(insert(table), [record])
                counts.added += 1
                self.written.add(table.name)
            elif current != record:
                condition = [table.c[name] == record[name] for name in key]
                self.connection.execute(update(table).where(*condition).values(record))
                counts.replaced += 1
                self.written.add(table.name)
            else:
                counts.unchanged += 1

    # -- tables ------------------------------------------------------------------------------

    def _validated(
        self,
        table: InputTable,
        model: type[BaseModel],
        summary: FileSummary,
        refused: set[str] | None = None,
    ) -> Iterator[tuple[int, Any, str | None]]:
        """Valid rows as (line, record, pseudonym); invalid ones are logged with their place.

        `refused` collects the rpls_id of the invalid rows, when given.
        """
        for rows in self._validated_chunks(table, model, summary, refused):
            yield from rows

    def _validated_chunks(
        self,
        table: InputTable,
        model: type[BaseModel],
        summary: FileSummary,
        refused: set[str] | None = None,
    ) -> Iterator[list[tuple[int, Any, str | None]]]:
        """`_validated`'s rows, a parsed chunk at a time: the dwellings and residences its rows
        name are looked up once for the chunk (staging.py)."""
        self.progress.start(table.name, table.approximate_rows)
        self.file_rows = table.approximate_rows
        misshapen = MisshapenRows(table.name, table.width, table.separator)
        try:
            yield from self._parsed_rows(table, model, summary, refused, misshapen)
        except UnreadableFile as exc:  # met while reading: a cell over the CSV limit…
            self.problems.add(table.name, exc.line, exc.column, exc.message)
            if table.name == self.logements_file:
                self.logements_unreadable = True
        misshapen.report(summary.rows, self.problems)
        self.progress.finish()

    def _parsed_rows(
        self,
        table: InputTable,
        model: type[BaseModel],
        summary: FileSummary,
        refused: set[str] | None,
        misshapen: MisshapenRows,
    ) -> Iterator[list[tuple[int, Any, str | None]]]:
        for parsed in parse_table(table, model, self.key, self.readers):
            summary.rows += len(parsed.lines)
            for index, shape in parsed.misshapen.items():
                misshapen.add(parsed.lines[index], *shape)
            for error in parsed.errors:
                line = parsed.lines[error.row]
                column = self._column(table, error.field)
                self.problems.add(table.name, line, column, f"{error.field} : {error.message}")
            if refused is not None:
                refused.update(parsed.refused_rpls.values())
            self.refused_residences.update(parsed.refused_residences.values())
            pseudonyms: list[str | None] = (
                list(parsed.pseudonyms) if parsed.pseudonyms else [None] * len(parsed.lines)
            )
            yield [
                (line, record, pseudonym)
                for line, record, pseudonym in zip(
                    parsed.lines, parsed.records, pseudonyms, strict=True
                )
                if record is not None
            ]
            self.progress.advance(len(parsed.lines))

    def _column(self, table: InputTable, name: str) -> int | None:
        position = table.columns.get(name)
        return None if position is None else position + 1

    def logements(self, table: InputTable, summary: FileSummary) -> None:
        self.logements_file = table.name
        counts = self.counts.setdefault("logements", Counts())
        dwellings = self.staged_dwellings
        seen: dict[str, int] = {}
        # No dwelling known yet: the lines of the rows met are kept without a dict (`Described`).
        described = Described[str]() if not dwellings.earlier else None
        inserts: list[dict[str, Any]] = []
        qpv_links: list[dict[str, str]] = []
        refused = self.refused_logements
        for rows in self._validated_chunks(table, row_models.LogementRow, summary, refused):
            if described is not None:  # the file's dwellings this chunk names, if accepted
                dwellings.look_up(row.rpls_id for _, row, _ in rows)
            else:
                dwellings.flush()
            # The stored dwellings this chunk describes again, read per chunk, not all at once:
            # a row whose dwelling an earlier row of the file wrote is refused as described
            # twice before it is compared, so what an earlier chunk wrote is never read here.
            existing, existing_qpv = self._stored_dwellings([row.rpls_id for _, row, _ in rows])
            self.staged_residences.look_up(
                (row.bailleur_siren, row.residence_id)
                for _, row, _ in rows
                if row.residence_id is not None
            )
            for line, row, _ in rows:
                ok = True
                if described is not None and described.met(row.rpls_id, dwellings):
                    seen, described = described.lines_by_key(dwellings), None
                if described is None and row.rpls_id in seen:
                    self.problems.add(
                        table.name,
                        line,
                        self._column(table, "rpls_id"),
                        f"le logement {row.rpls_id} est déjà décrit ligne {seen[row.rpls_id]}",
                    )
                    continue
                if described is None:
                    seen[row.rpls_id] = line
                if row.bailleur_siren not in self.world.bailleurs:
                    ok = False
                    self.problems.add(
                        table.name,
                        line,
                        self._column(table, "bailleur_siren"),
                        _unknown_bailleur(row.bailleur_siren),
                    )
                if row.commune_insee not in self.world.communes:
                    ok = False
                    self.problems.add(
                        table.name,
                        line,
                        self._column(table, "commune_insee"),
                        f"commune {row.commune_insee} inconnue (absente de territoire.yaml et de la base)",
                    )
                for code in row.qpv_code:
                    communes = self.world.qpv_communes.get(code)
                    if communes is None:
                        ok = False
                        self.problems.add(
                            table.name,
                            line,
                            self._column(table, "qpv_code"),
                            f"QPV « {code} » inconnu (non déclaré dans territoire.yaml)",
                        )
                    elif row.commune_insee not in communes:
                        ok = False
                        self.problems.add(
                            table.name,
                            line,
                            self._column(table, "qpv_code"),
                            f"le QPV {code} n'est pas déclaré sur la commune {row.commune_insee}",
                        )
                if row.residence_id is not None:
                    message = self._residence_problem(
                        row.bailleur_siren, row.residence_id, "residences"
                    )
                    if message:
                        ok = False
                        self.problems.add(
                            table.name, line, self._column(table, "residence_id"), message
                        )
                if not ok:
                    refused.add(row.rpls_id)
                    if described is not None:
                        described.refused[row.rpls_id] = line
                    continue
                dwellings.add(row.rpls_id, row.bailleur_siren, row.commune_insee, row.financement)
                if described is not None:
                    described.lines.append(line)
                record = {
                    "rpls_id": row.rpls_id,
                    "bailleur_siren": row.bailleur_siren,
                    "commune_insee": row.commune_insee,
                    "financement": row.financement,
                    "nb_pieces": row.nb_pieces,
                    "surface_m2": row.surface,
                    "annee_construction": row.annee_construction,
                    "residence_id": row.residence_id,
                    "subvention_etat": row.subvention_etat,
                }
                previous = existing.get(row.rpls_id)
                same_qpv = existing_qpv.get(row.rpls_id, set()) == set(row.qpv_code)
                if previous is None:
                    counts.added += 1
                    inserts.append(record)
                    qpv_links.extend(
                        {"rpls_id": row.rpls_id, "qpv_code": code} for code in row.qpv_code
                    )
                elif previous == _logement_values(record) and same_qpv:
                    counts.unchanged += 1
                else:
                    counts.replaced += 1
                    if not self.problems:
                        self.written.update(("logement", "logement_qpv"))
                        self.connection.execute(
                            update(models.Logement)
                            .where(models.Logement.rpls_id == row.rpls_id)
                            .values(record)
                        )
                        self.connection.execute(
                            delete(models.LogementQpv).where(
                                models.LogementQpv.rpls_id == row.rpls_id
                            )
                        )
                        qpv_links.extend(
                            {"rpls_id": row.rpls_id, "qpv_code": code} for code in row.qpv_code
                        )
                if len(inserts) >= _CHUNK:
                    self._flush(_table(models.Logement), inserts)
                # the links' dwellings are written: flushed above, or before
                if len(qpv_links) >= _CHUNK:
                    self._flush(_table(models.Logement), inserts)
                    self._flush(_table(models.LogementQpv), qpv_links)
        self._flush(_table(models.Logement), inserts)
        self._flush(_table(models.LogementQpv), qpv_links)
        dwellings.file_done()

    def _stored_dwellings(
        self, rpls_ids: list[str]
    ) -> tuple[dict[str, tuple[Any, ...]], dict[str, set[str]]]:
        """The stored values and QPV codes of those of `rpls_ids` the database holds."""
        existing: dict[str, tuple[Any, ...]] = {}
        existing_qpv: dict[str, set[str]] = {}
        if not self.staged_dwellings.earlier or not rpls_ids:
            return existing, existing_qpv
        wanted, keys = among(self.connection.dialect.name == "postgresql", rpls_ids)
        columns = ", ".join(column.name for column in _table(models.Logement).columns)
        for row in self.connection.exec_driver_sql(
            f"SELECT {columns} FROM logement WHERE rpls_id {wanted}", keys
        ).mappings():
            existing[row["rpls_id"]] = _logement_values(row)
        for rpls, code in self.connection.exec_driver_sql(
            f"SELECT rpls_id, qpv_code FROM logement_qpv WHERE rpls_id {wanted}", keys
        ):
            existing_qpv.setdefault(rpls, set()).add(code)
        return existing, existing_qpv

    def _residence_problem(self, bailleur: str, ident: str, file: str) -> str | None:
        """Why a (bailleur, residence) pair cannot be referred to, or None when it can."""
        if (bailleur, ident) in self.world.residences:
            return None
        if ident in self.refused_residences or self.residences_unreadable:
            return None  # the residence's own problem is reported in residences already
        owners = self.staged_residences.owners(ident)
        if owners:
            return f"la résidence « {ident} » appartient au bailleur {owners[0]}, pas à {bailleur}"
        return f"résidence « {ident} » du bailleur {bailleur} inconnue (absente de {file} et de la base)"

    def residences(self, table: InputTable, summary: FileSummary) -> None:
        counts = self.counts.setdefault("résidences", Counts())
        name = table.name
        seen: dict[tuple[str, str], int] = {}
        batch = _TupleBatch(_table(models.Residence), _RESIDENCE_COLUMNS, _RESIDENCE_KEY)
        problems = self.problems
        iso = _IsoDates()

        def problem(line: int, column: str, message: str) -> None:
            problems.add(name, line, self._column(table, column), message)

        # No residence known yet: the lines of the rows met are kept without a dict (`Described`).
        residences = self.staged_residences
        described = Described[tuple[str, str]]() if not residences.earlier else None
        for rows in self._validated_chunks(table, row_models.ResidenceRow, summary):
            if described is not None:  # the file's residences this chunk names, if accepted
                residences.look_up((row.bailleur_siren, row.residence_id) for _, row, _ in rows)
            else:
                residences.flush()
            for line, row, _ in rows:
                identity = (row.bailleur_siren, row.residence_id)
                if described is not None and described.met(identity, residences):
                    seen, described = described.lines_by_key(residences), None
                first_line = line if described is not None else seen.setdefault(identity, line)
                if first_line != line:
                    problem(
                        line,
                        "residence_id",
                        f"même résidence (bailleur, code) que la ligne {first_line}",
                    )
                    continue
                findings: list[tuple[str, str]] = []
                if row.bailleur_siren not in self.world.bailleurs:
                    findings.append(("bailleur_siren", _unknown_bailleur(row.bailleur_siren)))
                if row.commune_insee not in self.world.communes:
                    findings.append((
                        "commune_insee",
                        f"commune {row.commune_insee} inconnue (absente de territoire.yaml et de la base)",
                    ))  # fmt: skip
                for code in row.qpv_code:
                    communes = self.world.qpv_communes.get(code)
                    if communes is None:
                        findings.append((
                            "qpv_code", f"QPV « {code} » inconnu (non déclaré dans territoire.yaml)"
                        ))  # fmt: skip
                    elif row.commune_insee not in communes:
                        findings.append((
                            "qpv_code",
                            f"le QPV {code} n'est pas déclaré sur la commune {row.commune_insee}",
                        ))  # fmt: skip
                for column, message in findings:
                    problem(line, column, message)
                if findings:
                    self.refused_residences.add(row.residence_id)
                    if described is not None:
                        described.refused[identity] = line
                    continue
                residences.add(row.bailleur_siren, row.residence_id)
                if described is not None:
                    described.lines.append(line)
                if problems:
                    continue
                batch.rows.append((
                    row.bailleur_siren, row.residence_id, row.nom, row.commune_insee,
                    "|".join(row.qpv_code), iso[row.date_mise_en_service], row.classe_enjeu,
                    row.operation_npnru, self.batch_id,
                ))  # fmt: skip
                if len(batch.rows) >= _CHUNK:
                    self._settle(batch, counts)
        self._settle(batch, counts)
        residences.file_done()

    def occupation(self, table: InputTable, summary: FileSummary) -> None:
        counts = self.counts.setdefault("enquêtes d'occupation", Counts())
        name = table.name
        # Natural keys seen, with their lines. Not on a first load, whose duplicates the
        # database finds (first_load.py) until a problem: two survey years of every residence
        # of a national bundle, 80 MiB of keys (docs/dev/performance.md, « Memory »).
        seen: dict[tuple[Any, ...], int] = {}
        batch = _TupleBatch(_table(models.Occupation), _OCCUPATION_COLUMNS, _OCCUPATION_KEY)
        loaded = self._first_load(batch, table, "uq_occupation_cle", key_may_stay=True)
        problems = self.problems
        this_year = self.today.year

        def problem(line: int, column: str, message: str) -> None:
            problems.add(name, line, self._column(table, column), message)

        def duplicate(line: int, first_line: int) -> None:
            problem(
                line, "annee_enquete", f"même résidence et même enquête que la ligne {first_line}"
            )

        def settle() -> None:
            nonlocal loaded, seen
            if loaded is None:
                self._settle(batch, counts)
            elif not self._settled_first_load(batch, counts, loaded):  # a key met twice
                seen, loaded = self._seen_so_far(loaded, batch, _as_key, duplicate), None

        for rows in self._validated_chunks(table, row_models.OccupationRow, summary):
            self.staged_residences.look_up(
                (row.bailleur_siren, row.residence_id) for _, row, _ in rows
            )
            for line, row, _ in rows:
                findings: list[tuple[str, str]] = []
                if row.annee_enquete > this_year:
                    findings.append((
                        "annee_enquete",
                        f"enquête {row.annee_enquete} : cette année n'est pas encore venue",
                    ))  # fmt: skip
                message = self._residence_problem(
                    row.bailleur_siren, row.residence_id, "residences"
                )
                if message:
                    findings.append(("residence_id", message))
                respondents = row.menages_repondants
                for column in codes.OPS_COUNTS[1:]:  # each against the first, the respondents
                    value = getattr(row, column)
                    if value > respondents:
                        findings.append((
                            column,
                            f"{value} ménages pour {respondents} répondants : un effectif ne peut "
                            "dépasser le nombre de ménages ayant répondu",
                        ))  # fmt: skip
                brackets = sum(getattr(row, column) for column in codes.OPS_RESOURCE_BRACKETS)
                if brackets > respondents:
                    findings.append((
                        "ressources_inf_20",
                        f"les tranches de ressources totalisent {brackets} ménages pour "
                        f"{respondents} répondants",
                    ))  # fmt: skip
                for column, text in findings:
                    problem(line, column, text)
                if loaded is not None and problems:  # the writing stops: keys in a dict from now on
                    seen, loaded = self._seen_so_far(loaded, batch, _as_key, duplicate), None
                if loaded is None:
                    identity = (row.bailleur_siren, row.residence_id, row.annee_enquete)
                    first_line = seen.setdefault(identity, line)
                    if first_line != line:
                        duplicate(line, first_line)
                        continue
                    if findings or problems:
                        continue
                else:  # no problem so far, so this row is ok: written, its line kept
                    loaded.lines.append(line)
                batch.rows.append((
                    row.bailleur_siren, row.residence_id, row.annee_enquete,
                    *(getattr(row, column) for column in codes.OPS_COUNTS), self.batch_id,
                ))  # fmt: skip
                if len(batch.rows) >= _CHUNK:
                    settle()
        if loaded is not None and problems:  # found after the last row met: as above
            seen, loaded = self._seen_so_far(loaded, batch, _as_key, duplicate), None
        settle()
        if loaded is not None:
            self._end_first_load(loaded, duplicate)

    def relogements(self, table: InputTable, summary: FileSummary) -> None:
        counts = self.counts.setdefault("relogements", Counts())
        name = table.name
        seen: dict[tuple[Any, ...], int] = {}
        batch = _TupleBatch(_table(models.Relogement), _RELOGEMENT_COLUMNS, _RELOGEMENT_KEY)
        problems = self.problems
        iso = _IsoDates()
        key = self.key

        def problem(line: int, column: str, message: str) -> None:
            problems.add(name, line, self._column(table, column), message)

        def dwelling_problem(rpls: str) -> str | None:
            if rpls in self.world.logements:
                return None
            if rpls in self.refused_logements or self.logements_unreadable:
                return ""  # reported in logements already
            return _unknown_dwelling(rpls)

        for rows in self._validated_chunks(table, row_models.RelogementRow, summary):
            self.staged_dwellings.look_up(
                rpls
                for _, row, _ in rows
                for rpls in (row.rpls_id_origine, row.rpls_id_destination)
                if rpls is not None
            )
            for line, row, sne in rows:
                findings: list[tuple[str, str]] = []
                origin = dwelling_problem(row.rpls_id_origine)
                if origin is None:
                    owner = self.world.logements[row.rpls_id_origine][0]
                    if owner != row.bailleur_siren:
                        findings.append((
                            "bailleur_siren",
                            f"le logement {row.rpls_id_origine} appartient au bailleur {owner}, "
                            f"pas à {row.bailleur_siren}",
                        ))  # fmt: skip
                elif origin:
                    findings.append(("rpls_id_origine", origin))
                rehoused = row.statut in codes.STATUTS_RELOGES
                if rehoused:
                    if row.date_relogement is None:
                        findings.append((
                            "date_relogement",
                            f"statut {row.statut} : la date de relogement est obligatoire",
                        ))  # fmt: skip
                    if row.rpls_id_destination is None:
                        findings.append((
                            "rpls_id_destination",
                            f"statut {row.statut} : le logement de destination est obligatoire",
                        ))  # fmt: skip
                elif row.statut == "a_reloger" and (
                    row.date_relogement is not None or row.rpls_id_destination is not None
                ):
                    findings.append((
                        "statut",
                        "statut a_reloger, mais une date ou un logement de relogement est donné : "
                        "indiquez reloge_definitif ou reloge_temporaire",
                    ))  # fmt: skip
                if row.rpls_id_destination is not None:
                    destination = dwelling_problem(row.rpls_id_destination)
                    if destination:
                        findings.append(("rpls_id_destination", destination))
                    elif destination is None and row.rpls_id_destination == row.rpls_id_origine:
                        findings.append((
                            "rpls_id_destination",
                            "le logement de destination est celui que le ménage quitte",
                        ))  # fmt: skip
                if (
                    row.date_relogement is not None
                    and row.date_relogement < row.date_entree_operation
                ):
                    findings.append((
                        "date_relogement",
                        f"le relogement ({row.date_relogement:%d/%m/%Y}) serait antérieur à l'entrée "
                        f"dans l'opération ({row.date_entree_operation:%d/%m/%Y})",
                    ))  # fmt: skip
                for column, message in findings:
                    problem(line, column, message)
                menage = key.pseudonym(row.menage_id)
                identity = (row.operation_npnru, menage)
                first_line = seen.setdefault(identity, line)
                if first_line != line:
                    problem(
                        line,
                        "menage_id",
                        f"même ménage dans la même opération que la ligne {first_line}",
                    )
                    continue
                if findings or problems or origin is not None:
                    continue
                batch.rows.append((
                    row.operation_npnru, menage, row.bailleur_siren, row.rpls_id_origine,
                    iso[row.date_entree_operation], row.statut, iso[row.date_relogement],
                    row.rpls_id_destination, sne if row.numero_unique is not None else None,
                    row.loyer_charges_avant, row.loyer_charges_apres, row.aide_logement_avant,
                    row.aide_logement_apres, row.surface_avant, row.surface_apres, self.batch_id,
                ))  # fmt: skip
                if len(batch.rows) >= _CHUNK:
                    self._settle(batch, counts)
        self.linked_files["relogements"] = BundleFile(
            name, seen, lambda column: self._column(table, column)
        )
        self._settle(batch, counts)

    def _flush(self, table: Table, records: list[dict[str, Any]]) -> None:
        if not self.problems and records:
            if table.name not in self.flushed:  # the first rows of the file for this table
                self.flushed.add(table.name)
                self._bulk_load_if_empty(table)
            columns = tuple(records[0])
            # itemgetter of several keys gives the tuple in C (a generator per row was a fifth
            # of importing dwellings)
            values = itemgetter(*columns) if len(columns) > 1 else lambda r: (r[columns[0]],)
            self._bulk_insert(table, columns, list(map(values, records)))
        records.clear()

    def _bulk_load_if_empty(self, table: Table) -> None:
        """PostgreSQL, a large file into an empty table (the dwellings and their QPV links,
        written by `_flush`): keys and indexes dropped for the load, as `_settle` does for the
        other files (bulk_load.py). Their rows were 3.8 s of the server's 18 s of COPY CPU in a
        national bundle (216 668 dwellings) with every key checked and index updated per row.
        SQLite: named indexes and per-row CHECKs, as `_settle` does (sqlite_load.py)."""
        dialect = self.connection.dialect.name
        if (
            dialect in ("postgresql", "sqlite")
            and self.file_rows >= LARGE_FILE_ROWS
            and not self.connection.scalar(select(exists().select_from(table)))
        ):
            if dialect == "sqlite":
                self._drop_sqlite_indexes(table.name)
                return
            self.dropped_keys += drop_foreign_keys(self.connection, table.name)
            self.pg_dropped_indexes += pg_drop_indexes(self.connection, table.name)

    def attributions(self, table: InputTable, summary: FileSummary) -> None:
        counts = self.counts.setdefault("attributions", Counts())
        name = table.name
        # Natural keys seen, packed (packed_keys.py): kept for the rehousing links. Not on a
        # first load, whose duplicates the database finds (first_load.py) until a problem.
        seen: dict[bytes, int] = {}
        pack = AttributionLines.pack
        batch = _TupleBatch(_table(models.Attribution), _ATTRIBUTION_COLUMNS, _ATTRIBUTION_KEY)
        loaded = self._first_load(batch, table, "uq_attribution_cle")
        batch_id = self.batch_id
        iso = _IsoDates()
        logements = self.world.logements
        refused = self.refused_logements
        communes = self.world.communes
        problems = self.problems

        def problem(line: int, column: str, message: str) -> None:
            problems.add(name, line, self._column(table, column), message)

        def duplicate(line: int, first_line: int) -> None:
            problem(
                line,
                "numero_unique",
                f"même attribution (logement, ménage, date de décision) que la ligne {first_line}",
            )

        def pack_stored(key: tuple[Any, ...]) -> bytes:  # rpls_id, menage, date_decision
            return pack(key[0], key[1], as_date(key[2]))

        for rows in self._validated_chunks(table, row_models.AttributionRow, summary):
            self.staged_dwellings.look_up(row.rpls_id for _, row, _ in rows)
            for line, row, menage in rows:
                dwelling = logements.get(row.rpls_id)
                if dwelling is None:
                    if row.rpls_id in refused or self.logements_unreadable:  # reported already
                        continue
                    problem(
                        line,
                        "rpls_id",
                        _unknown_dwelling(row.rpls_id),
                    )
                    continue
                bailleur, commune, _financement = dwelling
                ok = True
                if row.bailleur_siren != bailleur:
                    ok = False
                    problem(
                        line,
                        "bailleur_siren",
                        f"le logement {row.rpls_id} appartient au bailleur {bailleur}, pas à {row.bailleur_siren}",
                    )
                if row.date_bail is not None and row.date_bail < row.date_decision:
                    ok = False
                    problem(
                        line,
                        "date_bail",
                        f"le bail ({row.date_bail:%d/%m/%Y}) serait signé avant la décision de la CALEOL ({row.date_decision:%d/%m/%Y})",
                    )
                reservataire, message = self._check_reservataire(row, communes[commune])
                if message:
                    ok = False
                    problem(
                        line,
                        "reservataire_id" if "reservataire_id" in table.columns else "contingent",
                        message,
                    )
                if loaded is not None and problems:  # the writing stops: keys in a dict from now on
                    seen = self._seen_so_far(loaded, batch, pack_stored, duplicate)
                    loaded = None
                if loaded is None:
                    # numero_unique is required in attributions.csv: every row has its pseudonym
                    identity = pack(row.rpls_id, menage, row.date_decision)  # type: ignore[arg-type]
                    first_line = seen.setdefault(identity, line)
                    if first_line != line:
                        duplicate(line, first_line)
                        continue
                    if not ok or problems:
                        continue
                else:  # no problem so far, so this row is ok: written, its line kept
                    loaded.lines.append(line)
                batch.rows.append((
                    menage, row.bailleur_siren, row.rpls_id, iso[row.date_decision], iso[row.date_bail],
                    row.contingent, reservataire, row.mutation, row.dalo, row.criteres_prioritaires,
                    row.relogement, row.travailleur_essentiel, row.nb_titulaires,
                    row.nb_personnes_14_plus, row.nb_moins_14, row.revenus_mensuels, row.rfr_n2,
                    row.rfr_n1, row.categorie_menage, row.derogation_plafonds, row.age_demandeur,
                    row.situation_professionnelle, row.logement_actuel, batch_id,
                ))  # fmt: skip
                if len(batch.rows) >= _CHUNK:
                    self._settle(batch, counts)
        if loaded is not None and problems:  # found after the last row met: as above
            seen = self._seen_so_far(loaded, batch, pack_stored, duplicate)
            loaded = None
        self._settle(batch, counts)
        column = lambda column: self._column(table, column)  # noqa: E731
        if loaded is None:
            self.linked_files["attributions"] = BundleFile(name, AttributionLines(seen), column)
            return
        self._end_first_load(loaded, duplicate)
        first_load, connection = loaded, self.connection
        self.linked_files["attributions"] = BundleFile(
            name, {}, column, lambda row_id: first_load.line_of_id(connection, row_id)
        )

    def _check_reservataire(
        self, row: row_models.AttributionRow, epci: str
    ) -> tuple[str | None, str | None]:
        """The réservataire to store, or a message explaining why the pair does not hold."""
        contingent = row.contingent
        ident = row.reservataire_id
        if contingent == "non_reserve":
            if ident in (None, row.bailleur_siren):
                return None, None
            return None, (
                f"contingent non_reserve : le réservataire doit rester vide "
                f"(ou être le bailleur), « {ident} » donné"
            )
        allowed = _RESERVATAIRE_TYPES[contingent]
        if ident is None:
            if contingent in ("collectivite", "autre"):
                return None, f"contingent {contingent} : indiquez le réservataire (reservataire_id)"
            return None, None
        kind = self.world.reservataires.get((epci, ident))
        if kind is None:
            return None, _unknown_reservataire(ident)
        if kind not in allowed:
            return None, (
                f"le réservataire « {ident} » est de type {kind}, "
                f"incompatible avec le contingent {contingent}"
            )
        return ident, None

    def caleol(self, table: InputTable, summary: FileSummary) -> None:
        counts = self.counts.setdefault("examens CALEOL", Counts())
        name = table.name
        # Natural keys seen, packed (packed_keys.py): a national year has millions of rows. Not
        # on a first load, whose duplicates the database finds (first_load.py) until a problem.
        seen: dict[bytes, int] = {}
        batch = _TupleBatch(_table(models.CaleolExamen), _CALEOL_COLUMNS, _CALEOL_KEY)
        loaded = self._first_load(batch, table, "uq_caleol_examen_cle")
        problems = self.problems
        iso = _IsoDates()

        def problem(line: int, column: str, message: str) -> None:
            problems.add(name, line, self._column(table, column), message)

        def duplicate(line: int, first_line: int) -> None:
            problem(
                line,
                "numero_unique",
                f"même candidature (commission, logement, ménage) que la ligne {first_line}",
            )

        def pack_stored(key: tuple[Any, ...]) -> bytes:  # date_commission, rpls_id, menage
            return pack_key(key[2], as_date(key[0]), key[1])

        for rows in self._validated_chunks(table, row_models.CaleolRow, summary):
            self.staged_dwellings.look_up(row.rpls_id for _, row, _ in rows)
            for line, row, menage in rows:
                dwelling = self.world.logements.get(row.rpls_id)
                if dwelling is None:
                    if row.rpls_id in self.refused_logements or self.logements_unreadable:
                        continue  # the dwelling's own problem is reported in logements
                    problem(
                        line,
                        "rpls_id",
                        _unknown_dwelling(row.rpls_id),
                    )
                    continue
                if row.bailleur_siren != dwelling[0]:
                    problem(
                        line,
                        "bailleur_siren",
                        f"le logement {row.rpls_id} appartient au bailleur {dwelling[0]}, pas à {row.bailleur_siren}",
                    )
                    continue
                if loaded is not None and problems:  # the writing stops: keys in a dict from now on
                    seen = self._seen_so_far(loaded, batch, pack_stored, duplicate)
                    loaded = None
                if loaded is None:
                    # numero_unique is required in caleol.csv: every row has its pseudonym
                    identity = pack_key(menage, row.date_commission, row.rpls_id)  # type: ignore[arg-type]
                    first_line = seen.setdefault(identity, line)
                    if first_line != line:
                        duplicate(line, first_line)
                        continue
                    if problems:
                        continue
                else:  # no problem so far: written, its line kept
                    loaded.lines.append(line)
                batch.rows.append((
                    iso[row.date_commission], row.bailleur_siren, row.rpls_id, menage, row.rang,
                    row.decision, row.designation_dalo, row.motif_moins_de_trois, self.batch_id,
                ))  # fmt: skip
                if len(batch.rows) >= _CHUNK:
                    self._settle(batch, counts)
        if loaded is not None and problems:  # found after the last row met: as above
            seen = self._seen_so_far(loaded, batch, pack_stored, duplicate)
            loaded = None
        self._settle(batch, counts)
        if loaded is not None:
            self._end_first_load(loaded, duplicate)

    def _conventions_epci(self, name: str) -> str | None:
        """The EPCI whose réservataires the conventions name: the bundle's territory, or the
        only one in the database (réservataire ids are declared per territory)."""
        if self.epci is not None:
            return self.epci
        known = list(self.connection.scalars(select(models.Epci.siren).limit(2)))
        if len(known) == 1:
            return known[0]
        self.problems.add(
            name,
            None,
            None,
            "aucun territoire en base : joignez territoire.yaml au lot"
            if not known
            else "la base couvre plusieurs EPCI : joignez au lot le territoire.yaml de celui "
            "dont ces conventions nomment les réservataires",
        )
        return None

    def reservations(self, table: InputTable, summary: FileSummary) -> None:
        counts = self.counts.setdefault("conventions de réservation", Counts())
        name = table.name
        epci = self._conventions_epci(name)
        seen: dict[tuple[Any, ...], int] = {}
        batch = _TupleBatch(
            _table(models.ConventionReservation), _RESERVATION_COLUMNS, _RESERVATION_KEY
        )
        problems = self.problems
        iso = _IsoDates()

        def problem(line: int, column: str, message: str) -> None:
            problems.add(name, line, self._column(table, column), message)

        for line, row, _ in self._validated(table, row_models.ReservationRow, summary):
            findings = reservation_findings(row)
            if row.bailleur_siren not in self.world.bailleurs:
                findings.append(("bailleur_siren", _unknown_bailleur(row.bailleur_siren)))
            if epci is not None and (epci, row.reservataire_id) not in self.world.reservataires:
                findings.append(("reservataire_id", _unknown_reservataire(row.reservataire_id)))
            for column, message in findings:
                problem(line, column, message)
            identity = (row.bailleur_siren, row.reservataire_id, row.date_signature)
            first_line = seen.setdefault(identity, line)
            if first_line != line:
                problem(
                    line,
                    "date_signature",
                    f"même convention (bailleur, réservataire, date de signature) que la ligne {first_line}",
                )
                continue
            if findings or problems:
                continue
            batch.rows.append((
                epci, row.bailleur_siren, row.reservataire_id, row.mode,
                iso[row.date_signature], row.motif_stock, row.part_flux, self.batch_id,
            ))  # fmt: skip
            if len(batch.rows) >= _CHUNK:
                self._settle(batch, counts)
        self._settle(batch, counts)

    def baux(self, table: InputTable, summary: FileSummary) -> None:
        counts = self.counts.setdefault("baux", Counts())
        name = table.name
        seen: dict[tuple[Any, ...], int] = {}
        batch = _TupleBatch(_table(models.Bail), _BAIL_COLUMNS, _BAIL_KEY)
        problems = self.problems
        iso = _IsoDates()

        def problem(line: int, column: str, message: str) -> None:
            problems.add(name, line, self._column(table, column), message)

        for rows in self._validated_chunks(table, row_models.BailRow, summary):
            self.staged_dwellings.look_up(row.rpls_id for _, row, _ in rows)
            for line, row, _ in rows:
                findings = bail_findings(row)
                if row.rpls_id not in self.world.logements and not (
                    row.rpls_id in self.refused_logements or self.logements_unreadable
                ):  # a refused dwelling is reported in logements already
                    findings.append(("rpls_id", _unknown_dwelling(row.rpls_id)))
                for column, message in findings:
                    problem(line, column, message)
                identity = (row.rpls_id, row.date_signature)
                first_line = seen.setdefault(identity, line)
                if first_line != line:
                    problem(
                        line,
                        "date_signature",
                        f"même bail (logement, date de signature) que la ligne {first_line}",
                    )
                    continue
                if findings or problems or row.rpls_id not in self.world.logements:
                    continue
                batch.rows.append((
                    row.rpls_id, iso[row.date_signature], iso[row.date_dernier_examen], row.situations,
                    iso[row.date_transmission_caleol], iso[row.date_fin], self.batch_id,
                ))  # fmt: skip
                if len(batch.rows) >= _CHUNK:
                    self._settle(batch, counts)
        self._settle(batch, counts)

    def _settle(self, batch: _TupleBatch, counts: Counts) -> None:
        """Insert new records, replace changed ones, leave identical ones alone."""
        rows, batch.rows = batch.rows, []
        if self.problems or not rows:
            return
        if batch.table_is_empty is None:
            self._prepare_table(batch)
        if batch.table_is_empty:  # first import: nothing to compare with
            counts.added += len(rows)
            self._bulk_insert(batch.table, batch.columns, rows)
            return
        table = batch.table
        compared = batch.columns[:-1]  # all but batch_id
        key_of = itemgetter(*batch.key)
        key_names = [batch.columns[index] for index in batch.key]
        postgresql = self.connection.dialect.name == "postgresql"
        existing: dict[Any, tuple[int, tuple[Any, ...]]] = {}
        if postgresql:
            for row_id, stored_values in _stored_by_keys(
                self.connection, table, compared, key_names, map(key_of, rows)
            ):
                existing[key_of(stored_values)] = (row_id, stored_values)
        else:
            key_columns = [table.c[name] for name in key_names]
            query = select(table.c.id, *(table.c[name] for name in compared)).where(
                tuple_(*key_columns).in_([_typed(table, key_names, key_of(row)) for row in rows])
            )
            for stored in self.connection.execute(query):
                stored_values = tuple(map(_stored_form, stored[1:]))
                existing[key_of(stored_values)] = (stored[0], stored_values)
        inserts = []
        replaced: list[tuple[Any, ...]] = []  # PostgreSQL: the new values, then the id
        for row in rows:
            found = existing.get(key_of(row))
            if found is None:
                inserts.append(row)
                counts.added += 1
            elif found[1] == row[:-1]:
                counts.unchanged += 1
            else:
                counts.replaced += 1
                self.written.add(table.name)
                if postgresql:
                    replaced.append((*row, found[0]))
                    continue
                values = dict(zip(batch.columns, _typed(table, batch.columns, row), strict=True))
                self.connection.execute(update(table).where(table.c.id == found[0]).values(values))
        if replaced:
            # One executemany, which psycopg sends as a pipeline, not a statement compiled by
            # SQLAlchemy and waited for per row (3 574 rows: 14 s of settling, 2.9 s of CPU).
            # Dates go as their ISO text; the server reads them as the column's type.
            assignments = ", ".join(f"{name} = %s" for name in batch.columns)
            self.connection.exec_driver_sql(
                f"UPDATE {table.name} SET {assignments} WHERE id = %s", replaced
            )
        self._bulk_insert(table, batch.columns, inserts)

    def _prepare_table(self, batch: _TupleBatch) -> None:
        """Before a file's first rows: is its table empty, and, if so and the file is large,
        its keys and indexes dropped for the load (bulk_load.py, sqlite_load.py)."""
        # EXISTS, not count(*): counting reads the whole table, years of rows on a later import.
        batch.table_is_empty = not self.connection.scalar(select(exists().select_from(batch.table)))
        if not batch.table_is_empty or self.file_rows < LARGE_FILE_ROWS:
            return
        dialect = self.connection.dialect.name
        if dialect == "postgresql":
            self.dropped_keys += drop_foreign_keys(self.connection, batch.table.name)
            self.pg_dropped_indexes += pg_drop_indexes(self.connection, batch.table.name)
        elif dialect == "sqlite":
            self._drop_sqlite_indexes(batch.table.name)

    def _first_load(
        self, batch: _TupleBatch, table: InputTable, unique_key: str, key_may_stay: bool = False
    ) -> LoadedLines | None:
        """A large file into an empty table, no problem found so far, and the table's unique
        key dropped for the load: the file's rows are written as they come and their duplicates
        found by the database once written, the line of each row kept in an array
        (first_load.py). With `key_may_stay` (a caller writing through `_settled_first_load`),
        a unique key that could not be dropped does too: the database then refuses a repeated
        key as its batch is written. None otherwise: the keys are remembered in a dict, row by
        row."""
        if self.problems or table.approximate_rows < LARGE_FILE_ROWS:
            return None
        self.file_rows = table.approximate_rows
        self._prepare_table(batch)
        dropped = [index.name for index in self.dropped_indexes] + [
            index.name for index in self.pg_dropped_indexes
        ]
        kept = unique_key not in dropped
        if not batch.table_is_empty or (kept and not key_may_stay):
            return None
        return LoadedLines(batch.table, [batch.columns[index] for index in batch.key], kept)

    def _settled_first_load(self, batch: _TupleBatch, counts: Counts, loaded: LoadedLines) -> bool:
        """`_settle` for a first load. When the table's unique key could not be dropped for the
        load (SQLite keeps the index of a UNIQUE table constraint), the database refuses a
        repeated key as the batch is written: the batch is then undone (a savepoint) and its rows
        put back, and False returned for the caller to find the duplicates (`_seen_so_far`).
        Anything else refused fails the import, as it would have."""
        if not loaded.key_kept or self.problems or not batch.rows:
            self._settle(batch, counts)
            return True
        rows, added = list(batch.rows), counts.added
        refused = (IntegrityError, self.connection.dialect.loaded_dbapi.IntegrityError)
        try:
            with self.connection.begin_nested():
                self._settle(batch, counts)
        except refused as error:
            batch.rows, counts.added = rows, added
            loaded.refusal = error
            return False
        return True

    def _seen_so_far(
        self,
        loaded: LoadedLines,
        batch: _TupleBatch,
        pack: Callable[[tuple[Any, ...]], Any],
        duplicate: Callable[[int, int], None],
    ) -> dict[Any, int]:
        """A problem stops the writing: the keys of the rows met so far (written, or waiting in
        the batch, which will not be written now), read back into the dict that the rest of the
        file goes on with; a key met twice among them is reported as the dict would have."""
        seen: dict[Any, int] = {}
        waiting = map(itemgetter(*batch.key), batch.rows)
        keys = chain(loaded.stored_keys(self.connection), waiting)
        for key, line in zip(keys, loaded.lines, strict=True):
            first_line = seen.setdefault(pack(key), line)
            if first_line != line:
                duplicate(line, first_line)
        if loaded.refusal is not None and not self.problems:
            raise loaded.refusal  # the database refused the batch, but for no repeated key
        return seen

    def _end_first_load(self, loaded: LoadedLines, duplicate: Callable[[int, int], None]) -> None:
        """The file written without a problem: its table's indexes built at once (they would be
        right after the file anyway); if the unique key does not build, the rows sharing a key
        are reported, in the order of the file."""
        name = loaded.table.name
        sqlite_indexes = [index for index in self.dropped_indexes if index.table == name]
        pg_indexes = [index for index in self.pg_dropped_indexes if index.table == name]
        try:
            with self.connection.begin_nested():
                for index in sqlite_indexes:
                    self.connection.exec_driver_sql(index.definition)
                pg_restore_indexes(self.connection, pg_indexes)
        except IntegrityError:
            found = loaded.duplicates(self.connection)
            if not found:
                raise  # not a repeated key: the import fails as the later build would have
            for line, first_line in found:
                duplicate(line, first_line)
            return
        self.dropped_indexes = [index for index in self.dropped_indexes if index.table != name]
        self.pg_dropped_indexes = [i for i in self.pg_dropped_indexes if i.table != name]

    def _bulk_insert(
        self, table: Table, columns: tuple[str, ...], rows: list[tuple[Any, ...]]
    ) -> None:
        """Write many new rows with the driver's fastest way, inside the import's transaction.

        SQLAlchemy's per-row parameter processing costs more than the database's own insert
        on files of hundreds of thousands of rows, so rows go to the driver directly: COPY on
        PostgreSQL (psycopg adapts dates, booleans and NULLs itself), executemany on SQLite,
        where values are stored as SQLAlchemy's SQLite types store them (booleans are ints
        already; dates go through the ISO adapter registered at the top of this module).
        """
        if not rows:
            return
        self.written.add(table.name)
        dialect = self.connection.dialect.name
        if dialect == "sqlite":
            placeholders = ", ".join("?" for _ in columns)
            statement = f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({placeholders})"
            if table.name in self.unchecked:
                insert_unchecked(self.connection, statement, rows)
            else:
                self.connection.exec_driver_sql(statement, rows)
        elif dialect == "postgresql" and self.connection.dialect.driver == "psycopg":
            driver_connection = self.connection.connection.driver_connection
            assert driver_connection is not None
            statement = f"COPY {table.name} ({', '.join(columns)}) FROM STDIN"
            with driver_connection.cursor() as cursor, cursor.copy(statement) as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            records = [dict(zip(columns, _typed(table, columns, row), strict=True)) for row in rows]
            self.connection.execute(insert(table), records)


def _stored_by_keys(
    connection: Connection,
    table: Table,
    columns: Sequence[str],
    key_names: Sequence[str],
    keys: Iterable[tuple[Any, ...]],
) -> list[tuple[int, tuple[Any, ...]]]:
    """PostgreSQL: the id and the values of `columns`, as the batches hold them, of the stored
    rows whose natural key is one of `keys`.

    The chunk's keys go as one JSON array (`json.dumps`, in C) joined on the table's unique
    key: one parameter and one plan, where the `(a, b, c) IN (…)` list the other databases get
    binds 15 000 parameters per chunk of 5 000 rows and PostgreSQL plans an OR of 5 000
    conditions (on a later import of 45 000 attributions: 1.5 s of client and 1.7 s of server
    CPU for finding which rows exist). The server casts each key value to its column's type and
    sends the values back in the batches' form, dates as ISO text and the numerics SQLAlchemy
    reads as floats as float8, so that no value goes through Python on its way to the
    comparison (`_stored_form` was 2.3 million calls per 100 000 rows)."""
    import json

    from sqlalchemy import Numeric

    def stored(name: str) -> str:
        kind = table.c[name].type
        if isinstance(kind, Date):
            return f"to_char(t.{name}, 'YYYY-MM-DD')"
        if isinstance(kind, Numeric) and not kind.asdecimal:
            return f"CAST(t.{name} AS float8)"
        return f"t.{name}"

    joined = " AND ".join(
        f"t.{name} = CAST(k.key->>{i} AS {table.c[name].type.compile(dialect=connection.dialect)})"
        for i, name in enumerate(key_names)
    )
    query = (
        f"SELECT t.id, {', '.join(map(stored, columns))} "
        f"FROM json_array_elements(%(keys)s::json) AS k(key) JOIN {table.name} AS t ON {joined}"
    )
    found = connection.exec_driver_sql(query, {"keys": json.dumps(list(keys))}).all()
    return [(row[0], tuple(row[1:])) for row in found]


@dataclass
class _TupleBatch:
    """Rows waiting to be written to one table, as tuples in `columns` order."""

    table: Table
    columns: tuple[str, ...]
    key: tuple[int, ...]  # positions of the natural key in `columns`
    rows: list[tuple[Any, ...]] = field(default_factory=list)
    table_is_empty: bool | None = None


_ATTRIBUTION_COLUMNS = (
    "menage", "bailleur_siren", "rpls_id", "date_decision", "date_bail", "contingent",
    "reservataire_id", "mutation", "dalo", "criteres_prioritaires", "relogement",
    "travailleur_essentiel", "nb_titulaires", "nb_personnes_14_plus", "nb_moins_14",
    "revenus_mensuels_centimes", "rfr_n2_centimes", "rfr_n1_centimes", "categorie_menage",
    "derogation_plafonds", "age_demandeur", "situation_professionnelle", "logement_actuel",
    "batch_id",
)  # fmt: skip
_ATTRIBUTION_KEY = (2, 0, 3)  # rpls_id, menage, date_decision
_CALEOL_COLUMNS = (
    "date_commission", "bailleur_siren", "rpls_id", "menage", "rang", "decision",
    "designation_dalo", "motif_moins_de_trois", "batch_id",
)  # fmt: skip
_CALEOL_KEY = (0, 2, 3)  # date_commission, rpls_id, menage
_RESERVATION_COLUMNS = (
    "epci_siren", "bailleur_siren", "reservataire_id", "mode", "date_signature", "motif_stock",
    "part_flux_centiemes", "batch_id",
)  # fmt: skip
_RESERVATION_KEY = (0, 1, 2, 4)  # epci_siren, bailleur_siren, reservataire_id, date_signature
_BAIL_COLUMNS = (
    "rpls_id", "date_signature", "date_dernier_examen", "situations",
    "date_transmission_caleol", "date_fin", "batch_id",
)  # fmt: skip
_BAIL_KEY = (0, 1)  # rpls_id, date_signature
_RESIDENCE_COLUMNS = (
    "bailleur_siren", "residence_id", "nom", "commune_insee", "qpv_code",
    "date_mise_en_service", "classe_enjeu", "operation_npnru", "batch_id",
)  # fmt: skip
_RESIDENCE_KEY = (0, 1)  # bailleur_siren, residence_id
_OCCUPATION_COLUMNS = (
    "bailleur_siren", "residence_id", "annee_enquete", *codes.OPS_COUNTS, "batch_id",
)  # fmt: skip
_OCCUPATION_KEY = (0, 1, 2)  # bailleur_siren, residence_id, annee_enquete
_RELOGEMENT_COLUMNS = (
    "operation_npnru", "menage", "bailleur_siren", "rpls_id_origine", "date_entree_operation",
    "statut", "date_relogement", "rpls_id_destination", "menage_sne",
    "loyer_charges_avant_centimes", "loyer_charges_apres_centimes",
    "aide_logement_avant_centimes", "aide_logement_apres_centimes", "surface_avant_m2",
    "surface_apres_m2", "batch_id",
)  # fmt: skip
_RELOGEMENT_KEY = (0, 1)  # operation_npnru, menage


def _as_key(key: tuple[Any, ...]) -> tuple[Any, ...]:
    """A stored or batched key as the dict of keys holds it, when it holds the tuple itself."""
    return key


def _logement_values(row: Any) -> tuple[Any, ...]:
    return (
        row["bailleur_siren"],
        row["commune_insee"],
        row["financement"],
        row["nb_pieces"],
        None if row["surface_m2"] is None else round(float(row["surface_m2"]), 2),
        row["annee_construction"],
        row["residence_id"],
        None if row["subvention_etat"] is None else bool(row["subvention_etat"]),
    )


def _already_imported(db_url: str, digest: str) -> dt.datetime | None:
    if not database_exists(db_url):
        return None
    engine = make_engine(db_url)
    try:
        from sqlalchemy import inspect

        with connection_errors(db_url):  # the first connection of an import
            if "import_batch" not in inspect(engine).get_table_names():
                return None
            with engine.connect() as connection:
                found = connection.scalar(
                    select(models.ImportBatch.imported_at).where(
                        models.ImportBatch.bundle_sha256 == digest
                    )
                )
        return found
    finally:
        engine.dispose()


def import_bundle(
    paths: list[Path],
    db_url: str,
    progress: Progress | None = None,
    now: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
    epci: str | None = None,
    cia_required: bool = True,
) -> ImportResult:
    """Import the bundle's data (`epci`: see `_import_data`), then store the CIA its territoire.yaml declares (a new version
    when its text changed, even if the data were already imported). The CIA is checked with the
    rules before anything is imported. Without `cia_required`, a declared CIA file absent from
    the bundle is left out (the web uploads a CIA on its own page)."""
    from checker.paths import rules_dir
    from checker.territory_cia import (
        check_declared,
        declared_files,
        store_declared,
        territory_siren,
    )

    bundle = find_bundle(paths)
    territory = bundle.files.get("territoire")
    cia_files = declared_files(territory, cia_required) if territory else []
    check_declared(cia_files, [rules_dir()])
    result = _import_data(bundle, db_url, progress, now, epci)
    territory_epci = territory_siren(territory) if territory else None
    if cia_files and territory_epci:
        engine = make_engine(db_url)
        try:
            with engine.begin() as connection:
                result.cia = store_declared(connection, territory_epci, cia_files, [rules_dir()])
                result.cia_files = [path.name for path in cia_files]
        finally:
            engine.dispose()
    return result


def _import_data(
    bundle: Bundle,
    db_url: str,
    progress: Progress | None,
    now: Callable[[], dt.datetime],
    epci: str | None = None,
) -> ImportResult:
    """Import a bundle, all or nothing. `epci`: the territory of a bundle without
    territoire.yaml (the web passes an EPCI account's own), whose conventions name its
    réservataires; ignored when the bundle has its territory file."""
    progress = progress or _NoProgress()
    digest, _ = bundle_digest(bundle)
    already = _already_imported(db_url, digest)
    if already is not None:
        return ImportResult(digest, None, already, [], {}, None, bundle.skipped)

    problems = ProblemLog()
    order = _problem_order(bundle)
    territory: TerritorySpec | None = None
    territory_summary: FileSummary | None = None
    if "territoire" in bundle.files:
        path = bundle.files["territoire"]
        territory, sha = load_territory(path, problems)
        if territory is not None:  # read, so decodable
            _, label = decode(path.read_bytes())
            territory_summary = FileSummary("territoire", path.name, sha, "yaml", 1, [], label)
    if problems:  # the tables cannot be checked against a territory that does not load
        raise ImportRefused(sorted(problems.problems, key=order))

    # The launcher of the reading processes is forked before the import holds a database
    # session (which a forked process would share) or any of the bundle's data (parsing.py),
    # after the collector's thresholds are raised, which its readers inherit (gc_tuning.py).
    with (
        fewer_collections(),
        reading_processes() as readers,
        import_lock(db_url) as lock_session,
    ):
        try:
            return _import_locked(
                bundle, digest, db_url, problems, order, territory, territory_summary, progress, now,
                epci, readers,
            )  # fmt: skip
        except BaseException:
            # If the session is gone (server stopped), the first error is the one to show.
            with contextlib.suppress(Exception):
                reset_sequences(lock_session)
            raise


def _import_locked(
    bundle: Bundle,
    digest: str,
    db_url: str,
    problems: ProblemLog,
    order: Callable[[Problem], tuple[int, str, int, int]],
    territory: TerritorySpec | None,
    territory_summary: FileSummary | None,
    progress: Progress,
    now: Callable[[], dt.datetime],
    epci: str | None,
    readers: ReadingProcesses | None = None,
) -> ImportResult:
    """The import proper, under the database's import lock."""
    created_db = not database_exists(db_url)
    key = load_key(db_url, create=True)
    engine = make_engine(db_url)
    summaries: list[FileSummary] = [territory_summary] if territory_summary else []
    importer: _Importer | None = None
    notices: list[str] = []
    try:
        ensure_schema(engine)
        with engine.begin() as connection:
            # SQLite sorts each CREATE INDEX, and each GROUP BY of the checks, in memory up to
            # the size of the page cache: the engine's 64 MiB held 64 MiB of pages plus 64 MiB
            # per sort of a national year's attributions or CALEOL, the import's largest memory;
            # the same import with 16 MiB costs no more CPU (docs/dev/performance.md, « Memory »).
            bound_sqlite_memory(connection, IMPORT_CACHE_MIB)
            _check_key(connection, key)
            importer = _Importer(connection, key, problems, progress, readers)
            batch = connection.execute(
                insert(models.ImportBatch).values(
                    imported_at=now(),
                    bundle_sha256=digest,
                    epci_siren=territory.epci.siren if territory else epci,
                    files=[],
                    summary={},
                )
            )
            primary_key = batch.inserted_primary_key
            assert primary_key is not None
            importer.batch_id = int(primary_key[0])
            if territory is not None:
                importer.territory(territory)
            else:
                importer.epci = epci
            specs = {
                "residences": (row_models.RESIDENCES_SPEC, importer.residences),
                "logements": (row_models.LOGEMENTS_SPEC, importer.logements),
                "attributions": (row_models.ATTRIBUTIONS_SPEC, importer.attributions),
                "caleol": (row_models.CALEOL_SPEC, importer.caleol),
                "reservations": (row_models.RESERVATIONS_SPEC, importer.reservations),
                "baux": (row_models.BAUX_SPEC, importer.baux),
                "occupation": (row_models.OCCUPATION_SPEC, importer.occupation),
                "relogements": (row_models.RELOGEMENTS_SPEC, importer.relogements),
            }
            for role, (spec, handler) in specs.items():
                if role not in bundle.files:
                    continue
                path = bundle.files[role]
                # What the previous file freed goes back to the system before this one is read
                # (and its reading process forked at the smaller size): heap.py.
                release_free_memory()
                try:
                    table = read_table(
                        path,
                        spec["required"],  # type: ignore[arg-type]
                        spec["optional"],  # type: ignore[arg-type]
                        spec["aliases"],  # type: ignore[arg-type]
                        spec.get("percent", ()),  # type: ignore[arg-type]
                    )
                except UnreadableFile as exc:
                    problems.add(path.name, exc.line, exc.column, exc.message)
                    importer.logements_unreadable |= role == "logements"
                    importer.residences_unreadable |= role == "residences"
                    continue
                summary = FileSummary(
                    role,
                    path.name,
                    table.sha256,
                    table.encoding,
                    ignored_columns=table.ignored_columns,
                    encoding_label=table.encoding_label,
                )
                summaries.append(summary)
                handler(table, summary)
                importer.rebuild_indexes()
                if not problems:  # refused: the rollback brings the indexes back
                    pg_restore_indexes(connection, importer.pg_dropped_indexes)
                importer.pg_dropped_indexes = []
            if not problems and "relogements" in importer.linked_files:
                notices = check_links(
                    connection,
                    importer.linked_files["relogements"],
                    importer.linked_files.get("attributions"),
                    problems,
                )
            if problems:
                raise _Rollback
            importer.drop_staging()
            restore_foreign_keys(connection, importer.dropped_keys)
            _refresh_statistics(connection, importer.written)
            connection.execute(
                update(models.ImportBatch)
                .where(models.ImportBatch.id == importer.batch_id)
                .values(
                    files=[_file_record(s) for s in summaries],
                    summary={label: vars(c) for label, c in importer.counts.items()},
                )
            )
    except _Rollback:
        pass
    except BaseException:
        _undo_creation(engine, db_url, created_db, key)
        raise
    if problems:
        _undo_creation(engine, db_url, created_db, key)
        raise ImportRefused(sorted(problems.problems, key=order))
    assert importer is not None
    engine.dispose()
    return ImportResult(
        digest,
        importer.batch_id,
        None,
        summaries,
        importer.counts,
        key,
        bundle.skipped,
        notices=notices,
    )


def _problem_order(bundle: Bundle) -> Callable[[Problem], tuple[int, str, int, int]]:
    """Problems in the bundle's logical order (territory, dwellings, attributions, CALEOL,
    conventions, leases), then by line and column; problems of one place keep the order they were found in."""
    rank = {path.name: ROLES.index(role) for role, path in bundle.files.items()}

    def key(problem: Problem) -> tuple[int, str, int, int]:
        return (
            rank.get(problem.file, len(ROLES)),
            problem.file,
            problem.line or 0,
            problem.column or 0,
        )

    return key


_ANALYZED = (
    "attribution", "logement", "logement_qpv", "commune", "qpv", "caleol_examen",
    "convention_reservation", "bail", "residence", "occupation", "relogement",
)  # fmt: skip


# Rows of each index SQLite's ANALYZE reads (`PRAGMA analysis_limit`): an estimate from a
# sample, as PostgreSQL's, instead of every entry of every index (seconds at national scale).
_SQLITE_ANALYSIS_LIMIT = 2000


def _refresh_statistics(connection: Connection, written: set[str]) -> None:
    """Let the planner know the new volumes: right after a large import PostgreSQL's
    statistics still describe empty tables, and it would plan the checks' joins as nested
    loops over what it believes are a handful of rows (minutes instead of seconds). SQLite has
    none until a first ANALYZE: without them it drove the checks from the territory's
    dwellings to every attribution of every year, then kept the year's; with them, from the
    year's leases (date_bail's index), so that a check no longer grows with the years of
    history (docs/dev/performance.md, « Statistics of SQLite »).

    Only the tables this import changed: the others' statistics are still true, and analysing
    the large ones an import did not touch (CALEOL, attributions) cost seconds.

    Inside the import's transaction, as its last statement before the commit: ANALYZE reads the
    transaction's own rows as the tables will hold them once committed, and the statistics are
    committed with the rows, so no check starting right after the import plans on the new rows
    with the statistics of empty tables (it ran after the commit, in a connection of its own)."""
    tables = [name for name in _ANALYZED if name in written]
    if not tables:
        return
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql(f"ANALYZE {', '.join(tables)}")
    elif connection.dialect.name == "sqlite":
        connection.exec_driver_sql(f"PRAGMA analysis_limit = {_SQLITE_ANALYSIS_LIMIT}")
        for name in tables:  # SQLite analyses one table (or the whole base) per statement
            connection.exec_driver_sql(f"ANALYZE {name}")


def _file_record(summary: FileSummary) -> dict[str, Any]:
    return {
        "role": summary.role,
        "nom": summary.name,
        "sha256": summary.sha256,
        "encodage": summary.encoding,
        "lignes": summary.rows,
        "colonnes_ignorees": summary.ignored_columns,
    }


def _check_key(connection: Connection, key: PseudonymKey) -> None:
    stored = connection.scalar(
        select(models.Meta.valeur).where(models.Meta.cle == _KEY_FINGERPRINT)
    )
    if stored is None:
        connection.execute(
            insert(models.Meta).values(cle=_KEY_FINGERPRINT, valeur=key.fingerprint())
        )
    elif stored != key.fingerprint():
        raise MixiteError(
            "La clé de pseudonymisation n'est pas celle qui a servi à remplir cette base "
            f"(clé lue : {key.origin}).",
            "Utilisez la même clé qu'aux imports précédents, sinon un même ménage aurait deux "
            "pseudonymes.",
        )


def _undo_creation(engine: Any, db_url: str, created_db: bool, key: PseudonymKey) -> None:
    """Remove what a refused import created: a new database file and a new key file."""
    engine.dispose()
    path = sqlite_file(db_url)
    if created_db and path is not None and path.exists():
        path.unlink()
    if key.created:
        Path(key.origin).unlink(missing_ok=True)
