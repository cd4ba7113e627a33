"""The full report as one self-contained file (inline style and SVG, no script, no network),
structured as a CIL reads a yearly review: cover, one-page synthesis, the years side by side, one
section per obligation, the CIA's commitments, observations, annexes. It prints on A4 with page
numbers (`--format pdf` prints it)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from importlib.resources import files
from typing import Any, BinaryIO

from jinja2 import Environment, select_autoescape

from checker import __version__, frenchfmt
from checker.evaluate.explain import EN_DEFAUT, Column, show
from checker.evaluate.results import Result, objective_missing
from checker.report import charts, present
from checker.report.collect import Listing, ReportData
from checker.report.labels import STATUS_LABELS, shown_status
from checker.report.records import html_limit, record_key, record_table
from checker.report.synthesis import REFERENCE_FIGURES
from checker.vocabulary import expression_label, field_label, indicator_label, plain_text
from dsl import ast

# How many values the « why » cell of a listed record shows.
WHY_VALUES = 3
# The records of a covered listing read back at a time (there are at most `html_limit`).
_KEYS_SLICE = 1000
# The template's pieces of text encoded and written at a time.
_WRITE_PIECES = 4096


def _environment() -> Environment:
    environment = Environment(
        autoescape=select_autoescape(default=True), trim_blocks=True, lstrip_blocks=True
    )
    environment.filters["pct"] = present.percent
    environment.filters["nombre"] = present.count
    environment.filters["statut"] = lambda status: STATUS_LABELS[status]
    environment.filters["statut_shown"] = shown_status
    environment.filters["date"] = present.french_date
    environment.filters["champ"] = field_label
    environment.filters["texte"] = plain_text
    return environment


def anchor(index: int) -> str:
    return f"enregistrements-{index}"


def scope_key(result: Result) -> str:
    """A result's rule and scope, as the listing's data-perimetre attribute (for programs)."""
    return result.rule + "|" + ";".join(f"{k}={v}" for k, v in sorted(result.scope.items()))


def _scope_row(data: ReportData, index: int, result: Result) -> dict[str, Any]:
    bound = present.bound_of(data.rulebook, result)
    unit = present.unit_of(data.rulebook, result)
    return {
        "index": index,
        "result": result,
        "label": data.names.scope(result.scope),
        "codes": data.names.codes(result.scope),
        "achieved": present.achieved_text(result),
        "target": present.target_text(result, bound),
        "reference": present.target_reference(result),
        "shortfall": present.shortfall_text(result, bound, unit),
        "note": result.message
        if result.status in ("non_applicable", "donnees_insuffisantes")
        or objective_missing(result.status, result.target, result.target_source, result.denominator)
        else "",
        "listed": index in data.listings,
    }  # fmt: skip


def _short(column: Column) -> str:
    """A value's label without the keys of its look-up (« seuil du premier quartile »)."""
    return field_label(column.key.split("[", 1)[0].strip()) if "[" in column.key else column.title


def _why(listing: Listing, row: int) -> str:
    """Why a record is listed: the parts of the condition it fails (when not all of them fail
    by definition), then the first values the condition reads."""
    explanation = listing.explanation
    cells = explanation.rows[row]
    columns = explanation.columns
    reasons = [(c, v) for c, v in zip(columns, cells, strict=True) if c.role == "reason"]
    parts = [f"{c.title} : {v}" for c, v in reasons if v in ("non", "inconnu")]
    if reasons and len(parts) == len(reasons) and listing.state == EN_DEFAUT:
        parts = []  # « ni … ni … »: the heading says it already
    if listing.state != EN_DEFAUT:
        parts += [f"{c.title} : {v}" for c, v in zip(columns, cells, strict=True)
                  if c.role == "verdict"]  # fmt: skip
    values = [
        f"{_short(c)} : {show(v, c.type) or 'non renseigné'}"
        for c, v in zip(columns, cells, strict=True)
        if c.role == "value"
    ][:WHY_VALUES]
    if not parts and not values and listing.state == EN_DEFAUT:
        condition = explanation.condition
        short = condition if len(condition) <= 160 else condition[:157].rsplit(" ", 1)[0] + " …"
        return f"ne remplit pas : {short}"
    return " ; ".join(parts + values)


def _hidden_keys(results: list[tuple[int, Result]], population: str) -> set[str]:
    """Identity columns a rule's listings leave out: the EPCI's name, and an attribution's
    contingent and réservataire for rules not judged by them."""
    scoped = {key for _, r in results for key in r.scope}
    if population != "attributions":
        return {"nom"}
    return {"nom"} | ({"contingent", "reservataire"} - scoped)


@dataclass(frozen=True)
class _Listings:
    """A section's listings, made when the template shows them, one at a time, and dropped
    once written: at 500 000 attributions (1 373 listings) the views of every section held
    at once were 37 MiB of the report's peak."""

    data: ReportData
    results: list[tuple[int, Result]]

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return _listing_views(self.data, self.results)


def _listing_views(data: ReportData, results: list[tuple[int, Result]]) -> Iterator[dict[str, Any]]:
    """The records of a rule's results to act on. A narrower result whose records are all in
    the EPCI's complete list (a record-level rule) points to that list instead of repeating it.
    Every listed row names (data-resultats) the results it belongs to."""
    listed = [(i, r) for i, r in results if i in data.listings]
    covered: dict[int, int] = {}
    for i, r in listed:
        listing = data.listings[i]
        if set(r.scope) != {"epci"} or r.kind != "each" or listing.total > html_limit(r.kind):
            continue
        for j, narrower in listed:
            if (
                j != i
                and narrower.scope.get("epci") == r.scope.get("epci")
                and (data.listings[j].state == listing.state)
            ):
                covered[j] = i
    # The records of a covered listing, each marked on the complete list's rows: at most
    # those of that list (`html_limit`), read back whole.
    keys_of = {
        j: {record_key(part, row) for part in data.listings[j].slices(_KEYS_SLICE)
            for row in range(len(part.rows))}
        for j in covered
    }  # fmt: skip
    for i, result in listed:
        if i in covered:
            continue
        listing = data.listings[i]
        hidden = _hidden_keys(results, listing.explanation.population)
        shown_rows = listing.rows[: html_limit(result.kind)]
        table = record_table(listing.explanation, data.names, shown_rows)
        columns = []
        for position, key in enumerate(table.keys):
            column = next((c for c in listing.explanation.columns if c.key == key), None)
            if column is None or column.role != "identity" or key in result.scope or key in hidden:
                continue
            code = table.keys.index(key + ":code") if key + ":code" in table.keys else None
            columns.append((position, code, table.headers[position]))
        rows = []
        for row, cells in zip(shown_rows, table.rows, strict=True):
            shown = []
            for position, code_position, _ in columns:
                text = show(cells[position], table.types[position])
                if table.keys[position] == "pseudonyme":
                    text = text[:12] + "…"
                code = cells[code_position] if code_position is not None else None
                shown.append((text, None if code is None else str(code)))
            key = record_key(listing.explanation, row)
            members = [i] + [j for j, w in covered.items() if w == i and key in keys_of[j]]
            rows.append({"cells": shown, "why": _why(listing, row), "key": key,
                         "members": " ".join(str(m) for m in sorted(members))})  # fmt: skip
        unit = present.unit_of(data.rulebook, result)
        yield {
            "anchor": anchor(i),
            "index": i,
            "key": scope_key(result),
            "scope": data.names.scope(result.scope),
            "headers": [header for _, _, header in columns],
            "rows": rows,
            "total": listing.total,
            "rest": listing.total - len(shown_rows),
            "state": listing.state,
            "unit": unit,
            "kind": result.kind,
            "bound": present.bound_of(data.rulebook, result),
            "covered": [
                {"index": j, "anchor": anchor(j), "scope": data.names.scope(data.results[j].scope),
                 "key": scope_key(data.results[j]),
                 "total": data.listings[j].total}
                for j, w in sorted(covered.items(), key=lambda item: data.names.scope(data.results[item[0]].scope))
                if w == i
            ],
        }  # fmt: skip


def _rule_sections(data: ReportData) -> list[dict[str, Any]]:
    sections = []
    uncertain_count: dict[str, int] = {}
    for point in data.uncertain:
        uncertain_count[point.rule] = uncertain_count.get(point.rule, 0) + 1
    seen: set[str] = set()
    for line in data.lines:
        rule: ast.Rule = data.rulebook.rules[line.rule]
        # A rule may have several lines (a whole flow and its per-EPCI figures, several EPCI):
        # the first keeps the rule's id as anchor, the others are told apart.
        # Named by its title where a person reads it (the table of contents); the code beside.
        title = rule.meta.title or line.rule
        label = title + (" (pour information)" if line.status == "information" else "")
        anchor_id = line.rule if line.rule not in seen else f"{line.rule}-{line.epci or 'ensemble'}"
        seen.add(line.rule)
        results = [(i, r) for i, r in enumerate(data.results)
                   if r.rule == line.rule and r.scope.get("epci", "") == line.epci]  # fmt: skip
        results.sort(key=lambda item: (len(item[1].scope), data.names.scope(item[1].scope)))
        chart = None
        rated = [(i, r) for i, r in results if len(r.scope) > 1 and r.rate is not None]
        if rated and rated[0][1].kind == "share":
            chart = charts.rate_against_target(
                [data.names.scope(r.scope) for _, r in rated],
                [r.rate for _, r in rated],
                [r.target for _, r in rated],
                f"Taux par {_dimension_label(rated[0][1].scope)}",
            )
        trend_chart = None
        history = data.trend.get(line.rule, [])
        if (
            len(history) > 1
            and history[-1][1].kind == "share"
            and any(r.rate is not None for _, r in history)
        ):
            references = [(int(y), v) for y, v, _ in REFERENCE_FIGURES.get(line.rule, [])]
            trend_chart = charts.trend(
                [y for y, _ in history],
                [r.rate for _, r in history],
                [r.target for _, r in history],
                "Évolution sur les années",
                references,
            )
        breakdowns = []
        for breakdown in data.breakdowns:
            if breakdown.rule != line.rule or breakdown.target is None:
                continue
            reference = breakdown.target
            target = reference.target if reference else None
            bound = present.bound_of(data.rulebook, reference) if reference else None
            rows = []
            for r in sorted(breakdown.rows, key=lambda r: data.names.of(breakdown.dimension, r.scope[breakdown.dimension])):  # fmt: skip
                gap = None if r.rate is None or target is None else (r.rate - target) * 100
                rows.append({
                    "name": data.names.of(breakdown.dimension, r.scope[breakdown.dimension]),
                    "code": r.scope[breakdown.dimension],
                    "achieved": present.achieved_text(r),
                    "gap": "—" if gap is None else f"{gap:+.1f} pts".replace(".", ",").replace("-", "−"),
                    "meets": None if gap is None else (gap >= 0 if bound != "max" else gap <= 0),
                })  # fmt: skip
            breakdowns.append({
                "dimension": breakdown.dimension,
                "title": "commune" if breakdown.dimension == "commune" else "QPV",
                "target": present.target_text(reference, bound) if reference else "—",
                "rows": rows,
            })  # fmt: skip
        indicators = []
        if line.whole is not None:
            for key in sorted(line.whole.indicators):
                value = line.whole.indicators[key]
                if value is None or key == "needed_by_year_end":
                    continue
                shown = present.percent(value) if key.startswith("rate_") else present.count(value)
                indicators.append((indicator_label(key), shown))
        sections.append({
            "id": anchor_id,
            "label": label,
            "rule": line.rule,
            "line": line,
            "title": title,
            "sources": rule.meta.sources,
            "uncertain": uncertain_count.get(line.rule, 0),
            "rows": [_scope_row(data, i, r) for i, r in results],
            "chart": chart,
            "trend_chart": trend_chart,
            "breakdowns": breakdowns,
            "indicators": indicators,
            "listings": _Listings(data, results),
        })  # fmt: skip
    return sections


def _dimension_label(scope: dict[str, str]) -> str:
    others = [key for key in scope if key not in ("epci", "contingent")]
    return ", ".join(field_label(key) for key in others) or "EPCI"


def _evolution(data: ReportData) -> list[dict[str, Any]]:
    """One row per obligation: each year's status, achievement and target."""
    rows = []
    years = [run.year for run in data.years]
    for line in data.lines:
        if line.status == "information":
            continue  # figures without verdict: no trend
        history = dict(data.history.get(line.rule, []))
        cells: list[dict[str, str] | None] = []
        for year in years:
            past = history.get(year)
            if past is None:
                cells.append(None)
                continue
            achieved = (
                present.percent(past.whole.rate)
                if past.whole and past.whole.rate is not None and past.whole.kind != "count"
                else past.achieved
            )
            cells.append({"status": past.status, "achieved": achieved, "target": past.target})
        references = REFERENCE_FIGURES.get(line.rule, [])
        rows.append({"line": line, "cells": cells, "references": references})
    return rows


def _parameters(data: ReportData) -> list[dict[str, Any]]:
    seen: dict[str, dict[str, Any]] = {}
    for result in data.results:
        for parameter in result.parameters:
            key = f"{parameter['name']}|{parameter['key']}|{parameter['from']}"
            seen.setdefault(key, parameter)
    shown = []
    for key in sorted(seen):
        parameter = seen[key]
        keys = ", ".join(
            f"{field_label(k)} : {data.names.of(k, str(v)) if k != 'epci' else v}"
            for k, v in parameter["key"].items()
        )
        declared = data.rulebook.parameters.get(parameter["name"])
        value = parameter["value"]
        if declared is not None and isinstance(value, int | float | str):
            with contextlib.suppress(ValueError):
                value = frenchfmt.value(Fraction(str(value)), declared.type)
        shown.append({**parameter, "label": field_label(parameter["name"]), "keys": keys,
                      "shown": value})  # fmt: skip
    return shown


def render(data: ReportData) -> str:
    return "".join(pieces(data))


def write(data: ReportData, target: BinaryIO) -> None:
    """The report written into `target` as UTF-8 as it is rendered (`mixite check --format
    html`): the same bytes as `render`'s text, never held whole (19 million characters at
    500 000 attributions, on top of the template's pieces)."""
    batch: list[str] = []
    for piece in pieces(data):
        batch.append(piece)
        if len(batch) >= _WRITE_PIECES:
            target.write("".join(batch).encode("utf-8"))
            batch = []
    target.write("".join(batch).encode("utf-8"))


def pieces(data: ReportData) -> Iterator[str]:
    """The report's text as the template makes it (`Template.generate`: joined, the text of
    `Template.render`)."""
    template = _environment().from_string(
        files("checker.report").joinpath("templates/rapport.html.j2").read_text(encoding="utf-8")
    )
    statuses = [line.status for line in data.lines]
    return template.generate(
        data=data,
        version=__version__,
        lines=data.lines,
        counts={status: statuses.count(status) for status in STATUS_LABELS},
        sections=_rule_sections(data),
        evolution=_evolution(data),
        years=[run.year for run in data.years],
        receipts=[run for run in data.years if run.receipt is not None],
        parameters=_parameters(data),
        references=REFERENCE_FIGURES,
        rules=[data.rulebook.rules[rule_id] for rule_id in sorted({r.rule for r in data.results})],
        anchor=anchor,
        expression=expression_label,
        territory=", ".join(data.names.of("epci", str(e["siren"])) for e in data.territory),
        sirens=", ".join(str(e["siren"]) for e in data.territory),
    )
