"""The HTML report: one self-contained file (inline style and SVG, no script, no network),
printable, for the CIL and the préfet."""

from __future__ import annotations

from fractions import Fraction
from importlib.resources import files
from typing import Any

from jinja2 import Environment, select_autoescape

from checker import __version__, frenchfmt
from checker.evaluate.results import Result
from checker.report import charts
from checker.report.collect import REFERENCE_FIGURES, ReportData, summary_rows
from checker.report.labels import SCOPE_LABELS, STATUS_LABELS, scope_text
from dsl import ast


def _percent(value: float | None) -> str:
    return frenchfmt.percent(
        Fraction(value).limit_denominator(10**9) if value is not None else None
    )


def _environment() -> Environment:
    environment = Environment(
        autoescape=select_autoescape(default=True), trim_blocks=True, lstrip_blocks=True
    )
    environment.filters["pct"] = _percent
    environment.filters["statut"] = lambda status: STATUS_LABELS[status]
    environment.filters["perimetre"] = scope_text
    environment.filters["date"] = lambda iso: (
        frenchfmt.date(__import__("datetime").date.fromisoformat(iso)) if iso else "—"
    )
    return environment


def _anchor(index: int) -> str:
    return f"detail-{index}"


def _rule_sections(data: ReportData) -> list[dict[str, Any]]:
    sections = []
    for rule_id in sorted(data.rulebook.rules):
        rule: ast.Rule = data.rulebook.rules[rule_id]
        results = [(i, r) for i, r in enumerate(data.results) if r.rule == rule_id]
        if not results:
            continue
        detailed = [(i, r) for i, r in results if len(r.scope) > 1]
        chart = None
        rated = [(i, r) for i, r in detailed if r.rate is not None]
        if rated and rated[0][1].kind == "share":
            labels = [_scope_label(r.scope, data) for _, r in rated]
            chart = charts.rate_against_target(labels, [r.rate for _, r in rated], [r.target for _, r in rated],
                                               f"{rule_id} : taux par {_dimension_label(rated[0][1].scope)}")  # fmt: skip
        trend_chart = None
        history = data.trend.get(rule_id, [])
        if (
            len(history) >= 1
            and history[-1][1].kind == "share"
            and any(r.rate is not None for _, r in history)
        ):
            references = [(int(y), v) for y, v, _ in REFERENCE_FIGURES.get(rule_id, [])]
            trend_chart = charts.trend([y for y, _ in history], [r.rate for _, r in history],
                                       [r.target for _, r in history], f"{rule_id} : évolution", references)  # fmt: skip
        breakdowns = [b for b in data.breakdowns if b.rule == rule_id]
        sections.append({
            "id": rule_id,
            "title": rule.meta.title or rule_id,
            "sources": rule.meta.sources,
            "uncertain": rule.meta.uncertain,
            "results": results,
            "chart": chart,
            "trend_chart": trend_chart,
            "breakdowns": breakdowns,
            "references": REFERENCE_FIGURES.get(rule_id, []),
        })  # fmt: skip
    return sections


def _dimension_label(scope: dict[str, str]) -> str:
    others = [key for key in scope if key != "epci"]
    return ", ".join(SCOPE_LABELS.get(key, key) for key in others) or "EPCI"


def _scope_label(scope: dict[str, str], data: ReportData) -> str:
    parts = []
    for key, value in sorted(scope.items()):
        if key == "epci" and len(scope) > 1:
            continue
        name = data.bailleurs.get(value) if key == "bailleur" else None
        parts.append(f"{name} ({value})" if name else f"{SCOPE_LABELS.get(key, key)} {value}")
    return ", ".join(parts)


def _parameters(results: list[Result]) -> list[dict[str, Any]]:
    seen: dict[str, dict[str, Any]] = {}
    for result in results:
        for parameter in result.parameters:
            key = f"{parameter['name']}|{parameter['key']}|{parameter['from']}"
            seen.setdefault(key, parameter)
    return [seen[key] for key in sorted(seen)]


def render(data: ReportData) -> str:
    template = _environment().from_string(
        files("checker.report").joinpath("templates/rapport.html.j2").read_text(encoding="utf-8")
    )
    summary = summary_rows(data.results)
    return template.render(
        data=data,
        version=__version__,
        summary=summary,
        sections=_rule_sections(data),
        anchor=_anchor,
        scope_label=lambda scope: _scope_label(scope, data),
        parameters=_parameters(data.results),
        references=REFERENCE_FIGURES,
        rules=[data.rulebook.rules[rule_id] for rule_id in sorted(data.rulebook.rules)],
    )
