"""Markdown and CSV renderings of the results (CSV for French Excel: `;`, decimal comma, BOM)."""

from __future__ import annotations

import csv
import io
from fractions import Fraction
from typing import Any

from checker import frenchfmt
from checker.evaluate.results import Result
from checker.report.labels import SCOPE_LABELS, STATUS_LABELS, scope_text

CSV_COLUMNS = (
    "regle", "version", "epci", "bailleur", "contingent", "reservataire", "commune", "qpv",
    "statut", "numerateur", "denominateur", "taux", "cible", "manque", "inconnus",
    "source_de_la_cible", "message",
)  # fmt: skip


def _csv_number(value: float | int | None) -> str:
    if value is None:
        return ""
    if isinstance(value, int):
        return str(value)
    return f"{value:.6f}".rstrip("0").rstrip(".").replace(".", ",")


def to_csv(results: list[Result]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for result in sorted(results, key=Result.sort_key):
        writer.writerow([
            result.rule, result.version,
            *(result.scope.get(key, "") for key in ("epci", "bailleur", "contingent", "reservataire", "commune", "qpv")),
            STATUS_LABELS[result.status], _csv_number(result.numerator), _csv_number(result.denominator),
            _csv_number(result.rate), _csv_number(result.target), _csv_number(result.shortfall),
            _csv_number(result.unknown), result.target_source or "", result.message,
        ])  # fmt: skip
    return "\ufeff" + buffer.getvalue()  # BOM: Excel then reads UTF-8 correctly


def _percent(value: float | None) -> str:
    return frenchfmt.percent(
        Fraction(value).limit_denominator(10**9) if value is not None else None
    )


def to_markdown(results: list[Result], receipt: dict[str, Any], title: str) -> str:
    lines = [f"# {title}", ""]
    period = receipt["period"]
    lines.append(f"Période : du {period['start']} au {period['end']}"
                 + (f" (situation au {receipt['as_of']})" if receipt.get("as_of") else ""))  # fmt: skip
    lines.append("")
    lines.append("| Règle | Périmètre | Statut | Réalisé | Taux | Cible | Manque |")
    lines.append("| --- | --- | --- | ---: | ---: | ---: | ---: |")
    for result in sorted(results, key=Result.sort_key):
        done = (
            f"{result.numerator} / {result.denominator}" if result.denominator is not None else "—"
        )
        shortfall = "—" if result.shortfall is None else str(result.shortfall)
        lines.append(
            f"| {result.rule} | {scope_text(result.scope)} | {STATUS_LABELS[result.status]} | {done} "
            f"| {_percent(result.rate)} | {_percent(result.target)} | {shortfall} |"
        )
    lines.append("")
    lines.append("## Reçu")
    lines.append("")
    lines.append(
        f"- Exécution n° {receipt['run_id']} du {receipt['created_at']} (mixite {receipt['tool_version']})"
    )
    lines.append(f"- Empreinte des règles : `{receipt['rulebook_digest']}`")
    lines.append(f"- Empreinte des données : `{receipt['data_digest']}`")
    lines.append(f"- Empreinte de l'exécution : `{receipt['hash']}`")
    lines.append("")
    return "\n".join(lines)


__all__ = ["SCOPE_LABELS", "to_csv", "to_markdown"]
