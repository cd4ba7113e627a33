"""The Excel workbook: a summary sheet, one sheet per obligation, the records behind the
non-compliant results, and the receipt. Numbers are numbers, rates are formatted as
percentages, headers are French, filters are on."""

from __future__ import annotations

from io import BytesIO
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from checker.report.collect import ReportData, summary_rows
from checker.report.labels import STATUS_LABELS

PERCENT = "0.0%"
HEADER_FILL = PatternFill("solid", fgColor="EEEEEE")
SCOPE_KEYS = ("epci", "bailleur", "contingent", "reservataire", "commune", "qpv")
SCOPE_HEADERS = {"epci": "EPCI", "bailleur": "Bailleur", "contingent": "Contingent",
                 "reservataire": "Réservataire", "commune": "Commune", "qpv": "QPV"}  # fmt: skip


def _table(sheet: Worksheet, headers: list[str], rows: list[list[Any]], percent_columns: set[int],
           start_row: int = 1) -> None:  # fmt: skip
    for column, header in enumerate(headers, start=1):
        cell = sheet.cell(row=start_row, column=column, value=header)
        cell.font = Font(bold=True)
        cell.fill = HEADER_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    for offset, row in enumerate(rows, start=1):
        for column, value in enumerate(row, start=1):
            cell = sheet.cell(row=start_row + offset, column=column, value=value)
            if column in percent_columns:
                cell.number_format = PERCENT
    last = get_column_letter(len(headers))
    sheet.auto_filter.ref = f"A{start_row}:{last}{start_row + max(len(rows), 1)}"
    sheet.freeze_panes = f"A{start_row + 1}"
    for column, header in enumerate(headers, start=1):
        width = max(
            [len(str(header))]
            + [len(str(row[column - 1])) for row in rows[:200] if column - 1 < len(row)]
        )
        sheet.column_dimensions[get_column_letter(column)].width = min(max(10, width + 2), 60)


def _sheet_name(text: str, used: set[str]) -> str:
    name = "".join("-" if char in "[]:*?/\\" else char for char in text)[:31]
    base, number = name, 2
    while name in used:
        name = f"{base[:28]} {number}"
        number += 1
    used.add(name)
    return name


def render(data: ReportData) -> bytes:
    workbook = Workbook()
    used: set[str] = set()
    summary = workbook.active
    assert summary is not None
    summary.title = _sheet_name("Synthèse", used)
    headers = ["Règle", "Intitulé", "EPCI", "Statut", "Numérateur", "Dénominateur", "Taux", "Cible", "Manque",
               "Indécidables", "Source de la cible", "Version"]  # fmt: skip
    rows = [
        [r.rule, data.rulebook.rules[r.rule].meta.title, r.scope.get("epci"), STATUS_LABELS[r.status],
         r.numerator, r.denominator, r.rate, r.target, r.shortfall, r.unknown, r.target_source, r.version]
        for _, r in summary_rows(data.results)
    ]  # fmt: skip
    _table(summary, headers, rows, {7, 8})
    for rule_id in sorted(data.rulebook.rules):
        results = [r for r in data.results if r.rule == rule_id]
        if not results:
            continue
        sheet = workbook.create_sheet(_sheet_name(rule_id, used))
        keys = [key for key in SCOPE_KEYS if any(key in r.scope for r in results)]
        extra = sorted({name for r in results for name in r.indicators})
        headers = [*(SCOPE_HEADERS[k] for k in keys), *(["Nom du bailleur"] if "bailleur" in keys else []),
                   "Statut", "Numérateur", "Dénominateur", "Taux", "Cible", "Manque", "Indécidables",
                   "Source de la cible", "Message", *extra]  # fmt: skip
        rows = []
        for r in results:
            row: list[Any] = [r.scope.get(k) for k in keys]
            if "bailleur" in keys:
                row.append(data.bailleurs.get(r.scope.get("bailleur", ""), ""))
            row += [STATUS_LABELS[r.status], r.numerator, r.denominator, r.rate, r.target, r.shortfall,
                    r.unknown, r.target_source, r.message, *(r.indicators.get(name) for name in extra)]  # fmt: skip
            rows.append(row)
        offset = len(keys) + (1 if "bailleur" in keys else 0)
        percents = {offset + 4, offset + 5} | {
            offset + 10 + i for i, name in enumerate(extra) if name.startswith("rate_")
        }
        _table(sheet, headers, rows, percents)
    for number, (index, explanation) in enumerate(sorted(data.explanations.items()), start=1):
        sheet = workbook.create_sheet(_sheet_name(f"Détail {number}", used))
        result = data.results[index]
        sheet.cell(
            row=1,
            column=1,
            value=f"{result.rule} — "
            + ", ".join(f"{k} {v}" for k, v in sorted(result.scope.items())),
        )
        sheet.cell(row=1, column=1).font = Font(bold=True)
        _table(sheet, explanation.columns, explanation.rows, set(), start_row=3)
    receipt = workbook.create_sheet(_sheet_name("Reçu", used))
    facts = [
        ("Exécution n°", data.receipt["run_id"]),
        ("Date (UTC)", data.receipt["created_at"]),
        ("Version de mixite", data.receipt["tool_version"]),
        ("Période", f"{data.receipt['period']['start']} → {data.receipt['period']['end']}"),
        ("Empreinte des règles", data.receipt["rulebook_digest"]),
        ("Empreinte des données", data.receipt["data_digest"]),
        ("Empreinte de l'exécution", data.receipt["hash"]),
    ]
    _table(receipt, ["Élément", "Valeur"], [list(fact) for fact in facts], set())
    buffer = BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
