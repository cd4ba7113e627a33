"""The Excel workbook, as an analyst expects it: numbers, rates, amounts and dates typed (with
French-reading formats), names beside codes, a sheet per obligation named by its rule id, one
sheet of every failing record with a column per reason, frozen headers and filters everywhere;
then the CIA's commitments, an « Observations » sheet to fill in, the uncertain points, the
quality of the data and the receipt.

Written in openpyxl's write-only mode: each sheet's rows go to a temporary file as they are
appended, and the sheets of the failing records (a row per record, tens of thousands at
100 000 attributions) are never held as cells (a workbook held whole took 1.6 GB there). A
write-only sheet writes its column widths, frozen panes and size with its first row, so a
table's layout is set from its first rows before any is appended; its filter is written last."""

from __future__ import annotations

import contextlib
import datetime as dt
import heapq
from collections.abc import Iterable, Iterator, Mapping, Sequence, Set, Sized
from dataclasses import dataclass, field
from fractions import Fraction
from io import BytesIO
from itertools import chain, islice
from typing import Any, BinaryIO

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from checker.evaluate.explain import EN_DEFAUT, Explanation, show
from checker.evaluate.results import Result
from checker.report import present
from checker.report.collect import Listing, ReportData
from checker.report.labels import STATUS_LABELS, shown_status
from checker.report.records import record_key, record_table
from checker.report.spill import Spill, SpilledRows
from checker.report.synthesis import REFERENCE_FIGURES
from checker.vocabulary import SCOPE_ORDER, capitalized, field_label, indicator_label, plain_text
from dsl.types import DATE, MONEY, PERCENT, Type

PERCENT_FORMAT = "0.0%"
INTEGER_FORMAT = "#,##0"
DECIMAL_FORMAT = "#,##0.####"
MONEY_FORMAT = '#,##0.00 "€"'
DATE_FORMAT = "DD/MM/YYYY"
DATETIME_FORMAT = "DD/MM/YYYY HH:MM"
HEADER_FILL = PatternFill("solid", fgColor="EEEEEE")
CODE_FONT = Font(color="616161")
HEADER_FONT = Font(bold=True)
WRAP_TOP = Alignment(wrap_text=True, vertical="top")
WIDTH_SAMPLE = 200  # the rows whose text sets a column's width
SCOPE_CODE_TITLES = {
    "epci": "SIREN de l'EPCI",
    "bailleur": "SIREN du bailleur",
    "contingent": "code du contingent",
    "reservataire": "identifiant du réservataire",
    "commune": "code INSEE",
    "qpv": "code du QPV",
    "financement": "code du financement",
    "classe_residence": "code de la classe",
    "residence": "identifiant de la résidence",
    "operation": "code de l'opération",
}
BOUND_LABELS = {"min": "plancher (au moins)", "max": "plafond (au plus)", None: "chaque cas"}


def _sheet_name(text: str, used: set[str]) -> str:
    # Cut to Excel's 31 characters, without a dangling space or comma (« Lize Habitat, office
    # public de »).
    name = "".join("-" if char in "[]:*?/\\" else char for char in text)[:31].rstrip(" ,;")
    base, number = name, 2
    while name in used:
        # Still 31 characters from the 100th on (a bilan names a sheet after each of hundreds
        # of bailleurs, many alike once cut): Excel allows no longer name.
        suffix = f" {number}"
        name = base[: min(28, 31 - len(suffix))] + suffix
        number += 1
    used.add(name)
    return name


def _cell_value(value: Any) -> Any:
    """A value Excel stores typed: Fractions as numbers, the rest as they are."""
    if isinstance(value, Fraction):
        return float(value)
    return value


def _format_for(type_: Type | None, value: Any) -> str | None:
    if isinstance(value, dt.datetime):
        return DATETIME_FORMAT
    if isinstance(value, dt.date) or (type_ is not None and type_.kind == DATE):
        return DATE_FORMAT
    if type_ is not None and type_.kind == MONEY:
        return MONEY_FORMAT
    if type_ is not None and type_.kind == PERCENT:
        return "0.00%"
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return INTEGER_FORMAT
    if isinstance(value, float | Fraction):
        return DECIMAL_FORMAT
    return None


@dataclass(frozen=True)
class _Columns:
    """How a table's cells look: `formats` by column (1-based), else from `types` (0-based)
    or the value; code columns (0-based) in grey; `wrap` (1-based) wrapped at the top."""

    headers: Sequence[str]
    formats: Mapping[int, str] = field(default_factory=dict)
    code_columns: Set[int] = frozenset()
    types: Sequence[Type | None] | None = None
    wrap: Set[int] = frozenset()

    def header(self, sheet: Any) -> list[Any]:
        cells = []
        for title in self.headers:
            cell = WriteOnlyCell(sheet, value=title)
            cell.font = HEADER_FONT
            cell.fill = HEADER_FILL
            cell.alignment = WRAP_TOP
            cells.append(cell)
        return cells

    def cells(self, sheet: Any, row: Sequence[Any]) -> list[Any]:
        """A row to append: a plain value where the cell has no style of its own, else a cell
        (an empty one too, in a code or wrapped column, as a sheet held whole had it)."""
        out: list[Any] = []
        for column, item in enumerate(row, start=1):
            own = item.number_format if isinstance(item, Formatted) else None
            raw = item.value if isinstance(item, Formatted) else item
            value = _cell_value(raw)
            type_ = self.types[column - 1] if self.types and column - 1 < len(self.types) else None
            number_format = (
                None
                if value is None
                else own or self.formats.get(column) or _format_for(type_, raw)
            )
            code = column - 1 in self.code_columns
            wrapped = column in self.wrap
            if not (code or wrapped or number_format):
                out.append(value)
                continue
            cell = WriteOnlyCell(sheet, value=value)
            if number_format:
                cell.number_format = number_format
            if code:
                cell.font = CODE_FONT
            if wrapped:
                cell.alignment = WRAP_TOP
            out.append(cell)
        return out

    def widths(self, sample: Iterable[Sequence[Any]]) -> dict[str, float]:
        """Each column's width, by letter, from its header and the text of `sample`'s values."""
        rows = list(sample)
        widths: dict[str, float] = {}
        for column, header in enumerate(self.headers, start=1):
            width = max(
                [min(len(str(header)), 30)]
                + [
                    len(show(_plain(row[column - 1]), None))
                    for row in rows
                    if column - 1 < len(row)
                ]
            )
            widths[get_column_letter(column)] = min(max(10, width + 2), 60)
        return widths


def _layout(sheet: Any, widths: Mapping[str, float], last_cell: str) -> None:
    """What a write-only sheet writes with its first row, so set before it: the columns'
    widths, the frozen header and the sheet's size."""
    for letter, width in widths.items():
        sheet.column_dimensions[letter].width = width
    sheet.freeze_panes = "A2"
    if not isinstance(sheet, Worksheet):
        # openpyxl writes a sheet's <dimension> only when it can compute it (from the cells of
        # a sheet held whole). Without it, readers that stream a sheet (openpyxl's read_only,
        # hence pandas) stop each row at its last filled cell instead of the sheet's last
        # column.
        sheet.calculate_dimension = lambda: f"A1:{last_cell}"


def write_table(sheet: Any, headers: list[str], rows: Iterable[Sequence[Any]],
                formats: dict[int, str] | None = None, code_columns: Set[int] = frozenset(),
                types: list[Type | None] | None = None, wrap: Set[int] = frozenset(), *,
                length: int | None = None, widths: Mapping[str, float] | None = None) -> None:  # fmt: skip
    """A table on a sheet where nothing is written yet (a write-only sheet, or a Worksheet):
    a bold, frozen, filtered header; `formats` by column (1-based), else from `types`
    (0-based) or the value; code columns in grey. Columns are as wide as their first 200 rows
    need, unless `widths` (by letter) says otherwise. `rows` may be made as they are written:
    then `length` says how many there are (no row wider than the first ones)."""
    columns = _Columns(headers, formats or {}, code_columns, types, wrap)
    stream = iter(rows)
    sample = list(islice(stream, WIDTH_SAMPLE))
    if length is None:
        if not isinstance(rows, Sized):
            raise TypeError("rows made as they are written need their length")
        length = len(rows)
    widest = get_column_letter(max(len(headers), *(len(row) for row in sample), 1))
    _layout(sheet, columns.widths(sample) | dict(widths or {}), f"{widest}{1 + length}")
    sheet.append(columns.header(sheet))
    written = 0
    for row in chain(sample, stream):
        sheet.append(columns.cells(sheet, row))
        written += 1
    if written != length:  # the sheet's declared size would be wrong
        raise ValueError(f"{written} rows written, {length} announced")
    sheet.auto_filter.ref = f"A1:{get_column_letter(max(len(headers), 1))}{1 + max(length, 1)}"


def _plain(item: Any) -> Any:
    return item.value if isinstance(item, Formatted) else item


def _table(sheet: Worksheet, headers: list[str], rows: list[list[Any]],
           percent_columns: set[int]) -> None:  # fmt: skip
    """The older helper (bilan aux réservataires, CALEOL): percentages by column number."""
    write_table(sheet, headers, rows, dict.fromkeys(percent_columns, PERCENT_FORMAT))


@dataclass(frozen=True)
class Formatted:
    """A cell with its own number format, not its column's: a number of records among rates."""

    value: float
    number_format: str


def _target_number(result: Result) -> float | Formatted | None:
    if result.kind == "count" and result.target is not None:  # « au moins 130 relogés »
        return Formatted(result.target, "0")
    return result.target if result.kind in ("share", "each") else None


def _version_date(version: str) -> dt.date | None:
    """A rule version is named by its start date: a date cell, shown in the French way."""
    return dt.date.fromisoformat(version) if version else None


def _synthesis(workbook: Workbook, data: ReportData, used: set[str]) -> None:
    sheet = workbook.create_sheet(_sheet_name("Synthèse", used))
    headers = ["Règle", "Obligation", "Statut", "Taux", "Numérateur", "Dénominateur",
               "Périmètres conformes", "Périmètres jugés", "Cible", "Type de cible",
               "Source de la cible", "Manque", "Unité", "Qui doit", "Référence nationale",
               "EPCI", "SIREN de l'EPCI", "Version"]  # fmt: skip
    rows = []
    for line in data.lines:
        whole = line.whole
        scopes = whole is None
        reference = REFERENCE_FIGURES.get(line.rule, [])
        rows.append([
            line.rule, line.title, line.status_label,
            whole.rate if whole else None, whole.numerator if whole else None,
            whole.denominator if whole else None,
            line.compliant if scopes else None, line.judged if scopes else None,
            _target_number(whole) if whole else None, BOUND_LABELS[line.bound],
            present.source_label(whole) if whole else "loi", line.shortfall_total, line.unit[1],
            " ; ".join(f"{o.label} : {o.shortfall}" for o in line.owed_by),
            reference[-1][1] if reference else None,
            data.names.of("epci", line.epci), line.epci,
            _version_date((whole or line.scopes[0][1]).version) if (whole or line.scopes) else None,
        ])  # fmt: skip
    write_table(sheet, headers, rows, {4: PERCENT_FORMAT, 9: PERCENT_FORMAT, 15: PERCENT_FORMAT},
                code_columns={16}, wrap={2, 14}, widths={"B": 50})  # fmt: skip


def _evolution(workbook: Workbook, data: ReportData, used: set[str]) -> None:
    years = [run.year for run in data.years]
    if len(years) < 2:
        return
    sheet = workbook.create_sheet(_sheet_name("Évolution", used))
    headers = ["Règle", "Obligation"]
    formats: dict[int, str] = {}
    for year in years:
        headers += [f"Taux {year}", f"Statut {year}", f"Cible {year}"]
        formats[len(headers) - 2] = PERCENT_FORMAT
        formats[len(headers)] = PERCENT_FORMAT
    headers.append("Référence nationale (dernière publiée)")
    formats[len(headers)] = PERCENT_FORMAT
    rows = []
    for line in data.lines:
        history = dict(data.history.get(line.rule, []))
        row: list[Any] = [line.rule, line.title]
        for year in years:
            past = history.get(year)
            whole = past.whole if past else None
            row += [whole.rate if whole else None, past.status_label if past else None,
                    _target_number(whole) if whole else None]  # fmt: skip
        reference = REFERENCE_FIGURES.get(line.rule, [])
        row.append(reference[-1][1] if reference else None)
        rows.append(row)
    write_table(sheet, headers, rows, formats, wrap={2}, widths={"B": 50})


def _rule_sheets(workbook: Workbook, data: ReportData, used: set[str]) -> None:
    for line in data.lines:
        results = [r for r in data.results
                   if r.rule == line.rule and r.scope.get("epci", "") == line.epci]  # fmt: skip
        sheet = workbook.create_sheet(_sheet_name(line.rule, used))
        keys = [key for key in SCOPE_ORDER if any(key in r.scope for r in results)]
        extra = sorted({name for r in results for name in r.indicators})
        headers = ["Périmètre"]
        codes: set[int] = set()
        for key in keys:
            headers += [capitalized(field_label(key)), SCOPE_CODE_TITLES[key]]
            codes.add(len(headers) - 1)
        headers += ["Statut", "Taux", "Numérateur", "Dénominateur", "Cible", "Type de cible",
                    "Source de la cible", "Manque", "Indécidables", "Message",
                    *(indicator_label(name) for name in extra)]  # fmt: skip
        # Taux and Cible: the 2nd and 5th of the ten columns after the scope's.
        formats = {len(headers) - len(extra) - 8: PERCENT_FORMAT,
                   len(headers) - len(extra) - 5: PERCENT_FORMAT}  # fmt: skip
        for offset, name in enumerate(extra, start=len(headers) - len(extra) + 1):
            if name.startswith("rate_"):
                formats[offset] = PERCENT_FORMAT
        rows = []
        for r in sorted(results, key=lambda r: (len(r.scope), data.names.scope(r.scope))):
            row: list[Any] = [data.names.scope(r.scope)]
            for key in keys:
                row += [data.names.of(key, r.scope.get(key)) or None, r.scope.get(key)]
            row += [STATUS_LABELS[shown_status(r)], r.rate, r.numerator, r.denominator,
                    _target_number(r), BOUND_LABELS[present.bound_of(data.rulebook, r)],
                    (present.target_reference(r) or present.source_label(r))
                    if r.target is not None else None, r.shortfall,
                    r.unknown, r.message, *(r.indicators.get(name) for name in extra)]  # fmt: skip
            rows.append(row)
        write_table(sheet, headers, rows, formats, code_columns=codes)


def _record_columns(data: ReportData, identity: bool) -> list[tuple[str, str, Type | None, bool]]:
    """The union of the listed records' columns, in order: (key, title, type, is code); the
    identity columns, or (identity False) the others: verdict, reasons, values read."""
    columns: list[tuple[str, str, Type | None, bool]] = []
    seen: set[str] = set()
    for listing in data.listings.values():
        table = record_table(listing.explanation, data.names, [])
        for position, key in enumerate(table.keys):
            column = next(
                (c for c in listing.explanation.columns if c.key == key.split(":")[0]), None
            )
            if column is None or (column.role == "identity") != identity:
                continue
            title = table.headers[position]
            if title in seen:
                continue
            seen.add(title)
            columns.append((key, title, table.types[position], position in table.code_columns))
    return columns


def _reason(listing: Listing, explanation: Explanation, row: int) -> str:
    """A listed record's reason for one rule, short: what fails, with the values read (the
    record at `row` of `explanation`, a slice of `listing`)."""
    cells = explanation.rows[row]
    parts = []
    for column, value in zip(explanation.columns, cells, strict=True):
        if column.role == "reason" and value in ("non", "inconnu"):
            parts.append(f"{column.title} : {value}")
        elif column.role == "value":
            parts.append(f"{column.title} : {show(value, column.type) or 'non renseigné'}")
    head = "en défaut" if listing.state == EN_DEFAUT else "indécidable"
    return head + (f" ({' ; '.join(parts)})" if parts else "")


# The entries of « En défaut » sorted in memory at a time before the runs are merged.
_SORT_RUN = 20_000
# The records of a listing made into rows at a time.
_SLICE = 2000


def _failing(workbook: Workbook, data: ReportData, used: set[str]) -> None:
    """« En défaut »: each listed record once, a column per rule saying why it is listed;
    « Défauts par résultat »: one row per result and record (the same rows as the CSV), made
    as they are written."""
    columns = _record_columns(data, identity=True)
    details = _record_columns(data, identity=False)
    population_title = "Population"
    rules = sorted({listing.result.rule for listing in data.listings.values()})
    spill = Spill()
    try:
        runs = _sorted_runs(data, columns, spill)
        sheet = workbook.create_sheet(_sheet_name("En défaut", used))
        headers = [population_title, *(title for _, title, _, _ in columns), *rules]
        types: list[Type | None] = [None, *(type_ for _, _, type_, _ in columns)]
        codes = {i + 1 for i, (_, _, _, code) in enumerate(columns) if code}
        rows = (
            [present.UNITS.get(population, (population,))[0], *identity,
             *(reasons.get(rule) for rule in rules)]
            for population, identity, reasons in _records(runs)
        )  # fmt: skip
        length = sum(1 for _ in _records(runs))
        write_table(sheet, headers, rows, types=types, code_columns=codes, length=length)
    finally:
        spill.close()
    sheet = workbook.create_sheet(_sheet_name("Défauts par résultat", used))
    headers = ["Règle", "Périmètre", "Codes du périmètre", "Statut du résultat", "Enregistrement",
               population_title, *(title for _, title, _, _ in columns), "Pourquoi",
               *(title for _, title, _, _ in details)]  # fmt: skip
    types = [*([None] * 6), *(type_ for _, _, type_, _ in columns), None,
             *(type_ for _, _, type_, _ in details)]  # fmt: skip
    codes = {2} | {i + 6 for i, (_, _, _, code) in enumerate(columns) if code}
    write_table(sheet, headers, _per_result(data, columns, details), types=types,
                code_columns=codes, length=sum(found.total for found in data.listings.values()))  # fmt: skip


# An entry of « En défaut »: (population, record key, order listed, rule, identity values,
# reason), one per listing and record.
_Entry = tuple[str, str, int, str, list[Any], str]


def _sorted_runs(data: ReportData, columns: list[tuple[str, str, Type | None, bool]],
                 spill: Spill) -> list[SpilledRows]:  # fmt: skip
    """The entries of « En défaut » in runs sorted by record (then in the order listed), on
    disk: a national report lists hundreds of thousands of records, which the sheet shows
    sorted, each once (an external merge sort instead of every record held)."""
    runs: list[SpilledRows] = []
    batch: list[_Entry] = []
    order = 0
    for index in sorted(data.listings):
        listing = data.listings[index]
        population = listing.explanation.population
        for part in listing.slices(_SLICE):
            table = record_table(part, data.names)
            for row, cells in enumerate(table.rows):
                values = dict(zip(table.keys, cells, strict=True))
                batch.append((population, record_key(part, row), order, listing.result.rule,
                              [values.get(k) for k, _, _, _ in columns],
                              _reason(listing, part, row)))  # fmt: skip
                order += 1
                if len(batch) >= _SORT_RUN:
                    runs.append(_run(batch, spill))
                    batch = []
    if batch:
        runs.append(_run(batch, spill))
    return runs


def _run(batch: list[_Entry], spill: Spill) -> SpilledRows:
    batch.sort(key=lambda entry: (entry[0], entry[1], entry[2]))
    run = SpilledRows(spill)
    for entry in batch:
        run.add(entry)
    run.flush()
    return run


def _records(runs: list[SpilledRows]) -> Iterator[tuple[str, list[Any], dict[str, str]]]:
    """Each record once, in order (population, key): the identity values it was first
    listed with, and, for each rule, the reason of the last listing naming it."""
    current: _Entry | None = None
    reasons: dict[str, str] = {}
    for entry in heapq.merge(*runs, key=lambda entry: (entry[0], entry[1], entry[2])):
        if current is None or entry[:2] != current[:2]:
            if current is not None:
                yield current[0], current[4], reasons
            current, reasons = entry, {}
        reasons[entry[3]] = entry[5]
    if current is not None:
        yield current[0], current[4], reasons


def _per_result(data: ReportData, columns: list[tuple[str, str, Type | None, bool]],
                details: list[tuple[str, str, Type | None, bool]]) -> Iterator[list[Any]]:  # fmt: skip
    """The rows of « Défauts par résultat », a slice of a listing at a time."""
    for index in sorted(data.listings):
        listing = data.listings[index]
        result = listing.result
        population = listing.explanation.population
        head = [result.rule, data.names.scope(result.scope), data.names.codes(result.scope),
                STATUS_LABELS[shown_status(result)],
                "en défaut" if listing.state == EN_DEFAUT else "indécidable",
                present.UNITS.get(population, (population,))[0]]  # fmt: skip
        for part in listing.slices(_SLICE):
            table = record_table(part, data.names)
            for row, cells in enumerate(table.rows):
                values = dict(zip(table.keys, cells, strict=True))
                by_title = dict(zip(table.headers, cells, strict=True))
                yield [*head, *(values.get(k) for k, _, _, _ in columns),
                       _reason(listing, part, row),
                       *(by_title.get(title) for _, title, _, _ in details)]  # fmt: skip


def _commitments(workbook: Workbook, data: ReportData, used: set[str]) -> None:
    sheet = workbook.create_sheet(_sheet_name("Engagements CIA", used))
    headers = ["Convention", "Engagement", "Règle", "Périmètre", "Cible (CIA)", "Réalisé (taux, ou nombre)",
               "Statut", "Source"]  # fmt: skip
    rows: list[list[Any]] = []
    for commitment in data.commitments:
        for o in commitment.quantified:
            rows.append([commitment.title, "chiffré", o.rule, o.scope,
                         _target_number(o.result) if o.result else None,
                         # a count objective: the count reached, not a rate
                         (Formatted(o.result.numerator or 0, "0") if o.result.kind == "count"
                          else o.result.rate) if o.result else None,
                         STATUS_LABELS[shown_status(o.result)] if o.result else "non évalué sur la période",
                         o.source])  # fmt: skip
        for text in commitment.qualitative:
            rows.append([commitment.title, "qualitatif", None, None, None, None,
                         "non vérifié par mixite", plain_text(text)])  # fmt: skip
    if not data.commitments:
        rows.append([None, None, None, None, None, None, None,
                     "Aucune convention intercommunale d'attribution chargée : cibles de la loi."])  # fmt: skip
    write_table(sheet, headers, rows, {5: PERCENT_FORMAT, 6: PERCENT_FORMAT}, wrap={1, 8},
                widths={"H": 80})  # fmt: skip


def _observations(workbook: Workbook, data: ReportData, used: set[str]) -> None:
    sheet = workbook.create_sheet(_sheet_name("Observations", used))
    columns = _Columns(["Règle", "Obligation", "Statut", "Manque", "Observations de la CIL"],
                       wrap={2, 5})  # fmt: skip
    rows = [[line.rule, line.title, line.status_label, line.shortfall, None] for line in data.lines]
    labels = ("Délibération de la CIL du :", "Le président :", "Transmis au préfet le :", "Visa :")
    for number in range(2, len(rows) + 2):  # written with each row: set before
        sheet.row_dimensions[number].height = 60
    widths = columns.widths(rows[:WIDTH_SAMPLE]) | {"B": 50, "E": 80}
    _layout(sheet, widths, f"E{len(rows) + 2 + len(labels)}")
    sheet.append(columns.header(sheet))
    thin = Side(style="thin", color="9E9E9E")
    box = Border(top=thin, bottom=thin, left=thin, right=thin)
    for row in rows:
        cells = columns.cells(sheet, row)
        cells[4].border = box  # an empty, wrapped cell: a box to write in
        sheet.append(cells)
    sheet.append([])
    for label in labels:
        cell = WriteOnlyCell(sheet, value=label)
        cell.font = HEADER_FONT
        sheet.append([cell])
    sheet.auto_filter.ref = f"A1:E{1 + max(len(rows), 1)}"


def _uncertain(workbook: Workbook, data: ReportData, used: set[str]) -> None:
    sheet = workbook.create_sheet(_sheet_name("Points incertains", used))
    rows = [[p.rule, p.where, plain_text(p.text)] for p in data.uncertain]
    write_table(sheet, ["Règle", "Où", "Point incertain"], rows, wrap={3}, widths={"C": 100})


def _quality(workbook: Workbook, data: ReportData, used: set[str]) -> None:
    """The imports, then, two rows below, the missing data and the undecided records; the
    frozen header and the filter are the imports'; the widths the second table's."""
    sheet = workbook.create_sheet(_sheet_name("Qualité des données", used))
    imports = _Columns(["Import du", "Fichier", "Lignes", "Encodage", "Colonnes ignorées"])
    rows: list[list[Any]] = []
    for batch in data.imports:
        day = batch.day.replace(tzinfo=None) if isinstance(batch.day, dt.datetime) else batch.day
        for file in batch.files:
            rows.append([day, file.get("nom"), file.get("lignes"), file.get("encodage"),
                         ", ".join(file.get("colonnes_ignorees") or []) or None])  # fmt: skip
    gaps = _Columns(["Donnée", "Manquante", "Sur", "Population", "Effet"])
    missing = [[m.field, m.missing, m.total, m.population, m.effect] for m in data.missing]
    undecided = [[f"{r.rule} — {data.names.scope(r.scope)}", r.unknown, r.denominator,
                  "indécidables", "le résultat en dépend"] for r in data.results if r.unknown]  # fmt: skip
    start = len(rows) + 3
    _layout(sheet, gaps.widths((missing + undecided)[:WIDTH_SAMPLE]),
            f"E{start + len(missing) + len(undecided)}")  # fmt: skip
    sheet.append(imports.header(sheet))
    for row in rows:
        sheet.append(imports.cells(sheet, row))
    sheet.append([])
    sheet.append(gaps.header(sheet))
    for row in missing + undecided:
        sheet.append(gaps.cells(sheet, row))
    sheet.auto_filter.ref = f"A1:E{len(rows) + 1}"


def _parameters(workbook: Workbook, data: ReportData, used: set[str]) -> None:
    sheet = workbook.create_sheet(_sheet_name("Valeurs du droit", used))
    seen: dict[str, dict[str, Any]] = {}
    for result in data.results:
        for parameter in result.parameters:
            seen.setdefault(
                f"{parameter['name']}|{parameter['key']}|{parameter['from']}", parameter
            )
    rows = []
    for key in sorted(seen):
        p = seen[key]
        declared = data.rulebook.parameters.get(p["name"])
        value = p["value"]
        if isinstance(value, int | float | str) and declared is not None:
            try:
                value = float(Fraction(str(value)))
            except ValueError:
                value = str(value)
        kind = declared.type.kind if declared is not None else None
        if isinstance(value, float) and kind in (PERCENT, MONEY):
            value = Formatted(value, "0.##%" if kind == PERCENT else MONEY_FORMAT)
        rows.append([field_label(p["name"]), ", ".join(f"{field_label(k)} : {v}" for k, v in p["key"].items()) or None,
                     value, dt.date.fromisoformat(p["from"]), dt.date.fromisoformat(p["to"]) if p.get("to") else None,
                     p.get("source"), p.get("url")])  # fmt: skip
    types = [None, None, None, Type(DATE), Type(DATE), None, None]
    write_table(sheet, ["Valeur", "Pour", "Valeur", "Du", "Au", "Source", "Adresse"], rows,
                types=types, wrap={6}, widths={"F": 80})  # fmt: skip


def _receipt(workbook: Workbook, data: ReportData, used: set[str]) -> None:
    sheet = workbook.create_sheet(_sheet_name("Reçu", used))
    rows: list[list[Any]] = []
    for run in data.years:
        if run.receipt is None:
            continue
        r = run.receipt
        created = dt.datetime.fromisoformat(r["created_at"]).replace(tzinfo=None)
        rows += [
            [run.year, "Exécution n°", r["run_id"]],
            [run.year, "Date (UTC)", created],
            [run.year, "Version de mixite", r["tool_version"]],
            [run.year, "Période du", dt.date.fromisoformat(r["period"]["start"])],
            [run.year, "Période au", dt.date.fromisoformat(r["period"]["end"])],
            [run.year, "Empreinte des règles", r["rulebook_digest"]],
            [run.year, "Empreinte des données", r["data_digest"]],
            [run.year, "Empreinte de l'exécution", r["hash"]],
        ]
        rows += [[run.year, "CIA appliquée", line] for line in present.cia_versions(r)]
    write_table(sheet, ["Année", "Élément", "Valeur"], rows, {1: "0"}, widths={"C": 70})


def render(data: ReportData) -> bytes:
    buffer = BytesIO()
    write(data, buffer)
    return buffer.getvalue()


def write(data: ReportData, target: BinaryIO) -> None:
    """The workbook written into `target` (`mixite check --format xlsx` gives the file it
    writes: a national workbook is not held as bytes)."""
    workbook = Workbook(write_only=True)
    try:
        used: set[str] = set()
        _synthesis(workbook, data, used)
        _evolution(workbook, data, used)
        _rule_sheets(workbook, data, used)
        _commitments(workbook, data, used)
        _failing(workbook, data, used)
        _observations(workbook, data, used)
        _uncertain(workbook, data, used)
        _quality(workbook, data, used)
        _parameters(workbook, data, used)
        _receipt(workbook, data, used)
        workbook.save(target)
    except BaseException:
        _remove_sheet_files(workbook)
        raise


def _remove_sheet_files(workbook: Workbook) -> None:
    """The temporary files of a write-only workbook that will not be saved. openpyxl removes
    them at the save, else only when the process ends: a long-running server (`mixite web`)
    kept every failed workbook's files (up to 685 MB at 500 000 attributions) in /tmp. The
    writer of each sheet is openpyxl's (`_writer`, made at the sheet's first row, and `_rows`,
    the stream of its rows, closed first as `close` does)."""
    for sheet in workbook.worksheets:
        writer = getattr(sheet, "_writer", None)
        if writer is None:
            continue
        rows = getattr(sheet, "_rows", None)
        with contextlib.suppress(Exception):  # its XML stream may be broken: closed anyway
            if rows is not None:
                rows.close()
            writer.close()
        with contextlib.suppress(OSError, ValueError):
            writer.cleanup()  # removes the file and forgets it
