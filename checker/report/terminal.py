"""The synthesis on screen, readable at 80 columns: one block per obligation (its status,
what is achieved against which target, what is missing), then each of its scopes by name on
two lines. Lines are wrapped here, with a hanging indent and no trailing spaces, so that the
output reads the same in a terminal, a file or a pipe."""

from __future__ import annotations

import textwrap
from collections.abc import Sequence

from rich.text import Text

from checker.evaluate.results import Result
from checker.report import present
from checker.report.collect import YearRun
from checker.report.labels import STATUS_LABELS, shown_status
from checker.report.names import Names
from checker.report.synthesis import REFERENCE_FIGURES, ObligationLine, synthesis
from dsl.rulebook import Rulebook

STATUS_STYLE = {
    "conforme": "green",
    "non_conforme": "bold red",
    "non_applicable": "dim",
    "donnees_insuffisantes": "yellow",
    "en_cours": "cyan",
    "information": "dim italic",
}
RULE_WIDTH = 31  # the longest rule id of the national rulebook, and a space


def _wrap(text: str, width: int, indent: int, style: str = "") -> list[Text]:
    prefix = " " * indent
    return [
        Text(line, style=style)
        for line in textwrap.wrap(text, width=max(width, 40), initial_indent=prefix,
                                  subsequent_indent=prefix + "  ", break_on_hyphens=False)
    ]  # fmt: skip


def _headline(status: str, label: str, width: int, indent: int) -> list[Text]:
    """« non conforme  L441-1.Q1-HORS-QPV », the status coloured, wrapped if needed."""
    lines = _wrap(f"{STATUS_LABELS[status]}  {label}", width, indent)
    if lines:
        lines[0].stylize(STATUS_STYLE[status], indent, indent + len(STATUS_LABELS[status]))
    return lines


def summary(results: list[Result], title: str, rulebook: Rulebook, names: Names,
            earlier: Sequence[YearRun] = (), year: int | None = None, scopes: bool = True,
            width: int = 80) -> list[Text]:  # fmt: skip
    """The lines to print: a heading, each obligation with (if `scopes`) its narrower results,
    and with `earlier` years their evolution."""
    lines = synthesis(results, rulebook, names)
    statuses = [line.status for line in lines]
    judged = [status for status in statuses if status != "information"]
    counts = (
        f"{len(judged)} obligation(s) : {statuses.count('conforme')} respectée(s), "
        f"{statuses.count('non_conforme')} non respectée(s)"
    )
    if "donnees_insuffisantes" in statuses:
        counts += f", {statuses.count('donnees_insuffisantes')} en données insuffisantes"
    if "en_cours" in statuses:
        counts += f", {statuses.count('en_cours')} en cours (objectif pluriannuel)"
    if "non_applicable" in statuses:
        counts += f", {statuses.count('non_applicable')} non applicable(s)"
    if "information" in statuses:
        counts += f" ; {statuses.count('information')} ligne(s) pour information, sans verdict"
    out = [*_wrap(title, width, 0, "bold"), *_wrap(counts + ".", width, 0)]
    for line in lines:
        out += [Text(""), *_block(line, rulebook, names, width, scopes)]
    if earlier and year is not None:
        out += [Text(""), *evolution(results, rulebook, names, earlier, year, width)]
    return out


def _block(line: ObligationLine, rulebook: Rulebook, names: Names, width: int,
           scopes: bool) -> list[Text]:  # fmt: skip
    out = _headline(line.status, line.rule, width, 0)
    out += _wrap(line.title, width, 2, "dim")
    achieved = f"Réalisé {line.achieved}" if line.whole is not None else line.achieved
    out += _wrap(f"{achieved} · cible {line.target} · {line.gap}", width, 2)
    reference = REFERENCE_FIGURES.get(line.rule)
    if reference:
        out += _wrap(
            f"Référence nationale {reference[-1][0]} (ANCOLS, hors relogés) : "
            f"{present.percent(reference[-1][1])}",
            width, 2, "dim",
        )  # fmt: skip
    if scopes:
        for _, result in sorted(line.scopes, key=lambda item: names.scope(item[1].scope)):
            bound = present.bound_of(rulebook, result)
            out += _headline(shown_status(result), names.scope(result.scope), width, 4)
            unit = present.unit_of(rulebook, result)
            out += _wrap(
                f"{present.achieved_text(result)} · cible {present.target_text(result, bound)}"
                f" · {present.gap_phrase(result, bound, unit)}",
                width, 8,
            )  # fmt: skip
    return out


def evolution(results: list[Result], rulebook: Rulebook, names: Names,
              earlier: Sequence[YearRun], year: int, width: int = 80) -> list[Text]:  # fmt: skip
    """Each obligation's EPCI-wide rate year by year (or its compliant scopes), and the
    national reference."""
    runs = [*((run.year, run.results) for run in earlier), (year, results)]
    history = {
        run_year: {
            line.rule: line
            for line in synthesis(run_results, rulebook, names)
            if line.status != "information"
        }  # figures without verdict: no trend
        for run_year, run_results in runs
    }
    out = _wrap(f"Évolution {runs[0][0]}–{year} (EPCI entier ; réf. : référence nationale)",
                width, 0, "bold")  # fmt: skip
    header = Text(
        "Obligation".ljust(RULE_WIDTH) + "".join(f"{y:>9}" for y, _ in runs) + "     réf."
    )
    out.append(header)
    for line in synthesis(results, rulebook, names):
        if line.status == "information":
            continue
        row = Text(line.rule.ljust(RULE_WIDTH))
        for run_year, _ in runs:
            past = history[run_year].get(line.rule)
            if past is None:
                row.append(f"{'—':>9}")
            elif (
                past.whole is not None
                and past.whole.rate is not None
                and past.whole.kind != "count"
            ):
                row.append(f"{present.percent(past.whole.rate):>9}", STATUS_STYLE[past.status])
            elif past.whole is not None and past.whole.kind == "count":  # a number, not a rate
                row.append(f"{present.count(past.whole.numerator):>9}", STATUS_STYLE[past.status])
            else:
                row.append(f"{f'{past.compliant}/{past.judged}':>9}", STATUS_STYLE[past.status])
        reference = REFERENCE_FIGURES.get(line.rule)
        row.append(f"{present.percent(reference[-1][1]) if reference else '—':>9}")
        out.append(row)
    return out
