"""A whole check: evaluate the rulebook for a period, store the run's receipt, return both."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from checker import runs
from checker.db.engine import memory_released
from checker.errors import MixiteError
from checker.evaluate import parallel
from checker.evaluate.commitments import database_diagnostics
from checker.evaluate.results import Result
from checker.evaluate.run import Evaluator, Options, Period
from checker.report.json_report import result_documents

if TYPE_CHECKING:  # YAML and the CIA's models are only for a check with territories' CIA
    from sqlalchemy import Connection, Engine

    from checker.territory_cia import CiaVersion
    from dsl.rulebook import Rulebook


def refuse_unknown_commitments(connection: Connection, rulebook: Rulebook, period: Period) -> None:
    """An engagement naming a territory, bailleur, commune… the database does not know would
    be silently ignored: refuse to check, saying where (E507)."""
    errors = [d for d in database_diagnostics(connection, rulebook, period) if d.is_error]
    if errors:
        rendered = "\n\n".join(d.render(rulebook.sources) for d in errors[:20])
        raise MixiteError(
            f"Les engagements ne correspondent pas à la base ({len(errors)} erreur(s)) :\n\n{rendered}",
            "Corrigez la convention encodée, ou importez les données du territoire qu'elle vise.",
        )


@dataclass
class CheckOutcome:
    results: list[Result]
    receipt: runs.Receipt


def options_document(period: Period, options: Options, to_date: dt.date | None,
                     cia: Sequence[CiaVersion] = ()) -> dict[str, Any]:  # fmt: skip
    document: dict[str, Any] = {
        "annee": period.end.year,
        "au": to_date.isoformat() if to_date else None,
        "epci": options.epci,
        "bailleur": options.bailleur,
    }
    if cia:  # the stored CIA versions applied: their digests are part of the receipt
        document["cia"] = [version.document() for version in cia]
    return document


def evaluate(connection: Connection, rulebook: Rulebook, period: Period, options: Options,
             to_date: dt.date | None) -> list[Result]:  # fmt: skip
    refuse_unknown_commitments(connection, rulebook, period)
    # On PostgreSQL, in the check's snapshot, on as many connections as MIXITE_CONNEXIONS says.
    results = parallel.evaluate(Evaluator(connection, rulebook, period, options))
    if to_date is not None:
        for result in results:
            # At constant volume, what is missing today is what remains to be found by
            # 31 December; reported under its own name for the bailleur's year-to-date view.
            result.indicators["needed_by_year_end"] = result.shortfall
    return results


@contextmanager
def check_transaction(engine: Engine) -> Iterator[Connection]:
    """The transaction of a whole check (its periods, receipts and report), committed at the end.

    On PostgreSQL, one snapshot for everything the check reads (REPEATABLE READ): an import
    committed meanwhile is not half seen, by some rules and not others, and the content
    digest's own process reads that same snapshot (`content_digest.start`). The run chain is
    locked first, before the snapshot is taken: the run appended at the end then follows the
    last run committed, never one this snapshot cannot see; a second check waits for this one.
    On SQLite, statements read the latest data; `run_check` refuses to record a period when an
    import was committed while it was evaluated.
    """
    with engine.connect() as connection:
        begin_check(connection)
        try:
            yield connection
        except BaseException:
            connection.rollback()
            raise
        connection.commit()


def begin_check(connection: Connection) -> None:
    """Begin a check's transaction on `connection`, before anything is read on it (the web's
    recording routes call it first thing): on PostgreSQL, REPEATABLE READ, its first statement
    locking the run chain (`check_transaction`); on SQLite, nothing."""
    if connection.dialect.name == "postgresql":
        connection.execution_options(isolation_level="REPEATABLE READ")
        connection.exec_driver_sql("LOCK TABLE run IN EXCLUSIVE MODE")


class ImportDuringCheck(MixiteError):
    def __init__(self) -> None:
        super().__init__(
            "Un import a été enregistré dans la base pendant le contrôle : ses résultats "
            "mêleraient les données d'avant et d'après. Aucune exécution n'a été enregistrée.",
            "Relancez le contrôle une fois l'import terminé.",
        )


def run_check(connection: Connection, rulebook: Rulebook, period: Period, options: Options,
              to_date: dt.date | None, cia: Sequence[CiaVersion] = ()) -> CheckOutcome:  # fmt: skip
    from checker import content_digest

    imports = runs.data_digest(connection)
    digest = content_digest.start(connection)  # read while the rules are evaluated
    results = evaluate(connection, rulebook, period, options, to_date)
    content = digest()
    # Read last, once the rules and the digest have read what they read: under READ COMMITTED
    # (SQLite), an import committed meanwhile would have been seen by some of them only.
    if runs.data_digest(connection) != imports:
        raise ImportDuringCheck()
    with memory_released(connection):
        receipt = runs.record_run(
            connection,
            rulebook_digest=rulebook.digest,
            period=(period.start, period.end),
            as_of=to_date,
            options=options_document(period, options, to_date, cia),
            results=result_documents(results),  # encoded one at a time
            content=content,
            imports=imports,
        )
    return CheckOutcome(results, receipt)
