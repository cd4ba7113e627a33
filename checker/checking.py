"""A whole check: evaluate the rulebook for a period, store the run's receipt, return both."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection

from checker import runs
from checker.evaluate.results import Result
from checker.evaluate.run import Evaluator, Options, Period
from checker.report.json_report import results_block
from dsl.rulebook import Rulebook


@dataclass
class CheckOutcome:
    results: list[Result]
    receipt: runs.Receipt


def options_document(period: Period, options: Options, to_date: dt.date | None) -> dict[str, Any]:
    return {
        "annee": period.end.year,
        "au": to_date.isoformat() if to_date else None,
        "epci": options.epci,
        "bailleur": options.bailleur,
    }


def evaluate(connection: Connection, rulebook: Rulebook, period: Period, options: Options,
             to_date: dt.date | None) -> list[Result]:  # fmt: skip
    results = Evaluator(connection, rulebook, period, options).evaluate()
    if to_date is not None:
        for result in results:
            # At constant volume, what is missing today is what remains to be found by
            # 31 December; reported under its own name for the bailleur's year-to-date view.
            result.indicators["needed_by_year_end"] = result.shortfall
    return results


def run_check(connection: Connection, rulebook: Rulebook, period: Period, options: Options,
              to_date: dt.date | None) -> CheckOutcome:  # fmt: skip
    results = evaluate(connection, rulebook, period, options, to_date)
    receipt = runs.record_run(
        connection,
        rulebook_digest=rulebook.digest,
        period=(period.start, period.end),
        as_of=to_date,
        options=options_document(period, options, to_date),
        results=results_block(results),
    )
    return CheckOutcome(results, receipt)
