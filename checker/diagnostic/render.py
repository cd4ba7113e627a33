"""The occupation diagnostic in each output format: JSON (stable keys, documented in the JSON
reference), Markdown, CSV (one row per group and indicator), HTML (inline SVG bars, printable on
A4) and plain text for the terminal. Names, not codes, wherever a person reads."""

from __future__ import annotations

import csv
import heapq
import html
import io
import json
import math
from typing import Any, TextIO

from checker.diagnostic.compute import CLASS_LABELS, INDICATORS
from checker.diagnostic.rows import Rows

SCHEMA_VERSION = 1
GROUPS = (
    ("epci", "EPCI"),
    ("bailleurs", "Bailleurs"),
    ("communes", "Communes"),
    ("qpv", "Quartiers prioritaires"),
    ("residences", "Résidences"),
)
STATUS_COLUMNS = (
    ("menages", "ménages"),
    ("a_reloger", "à reloger"),
    ("reloges_definitifs", "relogés définitivement"),
    ("reloges_temporaires", "relogés temporairement"),
    ("sortis_parc_social", "sortis du parc social"),
    ("autres_sorties", "autres sorties"),
    ("par_attribution", "relogés par une attribution"),
)


def to_json(diagnostic: dict[str, Any]) -> str:
    buffer = io.StringIO()
    write_json(diagnostic, buffer)
    return buffer.getvalue()


def write_json(diagnostic: dict[str, Any], handle: TextIO) -> None:
    """The JSON document, written as it goes: indented as `json.dumps(indent=2)` would, except
    that each entry of a per-residence list (see rows.py) is one line of compact JSON."""
    _write(handle, {"version_schema": SCHEMA_VERSION, **diagnostic}, 0)
    handle.write("\n")


def _holds_rows(value: Any) -> bool:
    if isinstance(value, Rows):
        return True
    if isinstance(value, dict):
        return any(_holds_rows(item) for item in value.values())
    return isinstance(value, list) and any(_holds_rows(item) for item in value)


def _write(handle: TextIO, value: Any, level: int) -> None:
    pad, inner = "  " * level, "  " * (level + 1)
    if isinstance(value, Rows):
        if not value:
            handle.write("[]")
            return
        separator = "[\n"
        for text in value.texts():
            handle.write(separator + inner + text)
            separator = ",\n"
        handle.write("\n" + pad + "]")
    elif isinstance(value, dict) and value and _holds_rows(value):
        separator = "{\n"
        for key, item in value.items():
            handle.write(separator + inner + json.dumps(key, ensure_ascii=False) + ": ")
            _write(handle, item, level + 1)
            separator = ",\n"
        handle.write("\n" + pad + "}")
    else:
        text = json.dumps(value, ensure_ascii=False, indent=2)
        handle.write(text.replace("\n", "\n" + pad) if level else text)


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f} %".replace(".", ",")


def _points(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:+.1f} pt".replace(".", ",")


def _euros(value: float | None) -> str:
    return "—" if value is None else f"{value:,.2f} €".replace(",", " ").replace(".", ",")


def _class(code: str | None) -> str:
    if code is None:
        return "—"
    return CLASS_LABELS.get(code, "non classée" if code == "non_classee" else code)


def _title(diagnostic: dict[str, Any]) -> str:
    territory = ", ".join(e["nom"] for e in diagnostic["epci"])
    return f"Diagnostic de l'occupation sociale {diagnostic['annee']} — {territory}"


def _survey_line(diagnostic: dict[str, Any]) -> str:
    if diagnostic["enquete"] is None:
        return "Aucune enquête OPS jusqu'à cette année."
    line = f"Enquête OPS {diagnostic['enquete']}"
    if diagnostic["enquete_precedente"] is not None:
        line += f", évolution depuis l'enquête {diagnostic['enquete_precedente']}"
    return line + " ; parts calculées sur les ménages ayant répondu (déclaratif)."


# HTML and Markdown are read and printed: beyond this many residences, their per-residence
# tables keep the residences at stake and say where the full lists are (XLSX, CSV, JSON).
RESIDENCES_SHOWN = 200
AT_STAKE = ("tres_fragile", "fragile")
FULL_LISTS = ("La liste complète est dans les exports XLSX, CSV et JSON "
              "(mixite diagnostic --format xlsx, csv ou json).")  # fmt: skip


CHART_BARS = 40  # bars per chart beyond which a chart keeps the largest groups


def _largest(items: list[dict[str, Any]], size: Any, limit: int) -> list[dict[str, Any]]:
    """The `limit` items of largest `size` (all when there are no more), in their order."""
    if len(items) <= limit:
        return list(items)
    kept = {id(item) for item in heapq.nlargest(limit, items, key=size)}
    return [item for item in items if id(item) in kept]


def _count(number: int) -> str:
    return f"{number:,}".replace(",", "\u202f")


def _residences_shown(diagnostic: dict[str, Any]) -> tuple[list[dict[str, Any]], str]:
    """Every residence's profile up to RESIDENCES_SHOWN; beyond, the residences at stake (very
    fragile or fragile, computed or declared, or whose classes differ) furthest above the
    EPCI's share under 40 % of the ceilings, and a note saying so."""
    profiles = diagnostic["profils"]["residences"]
    if len(profiles) <= RESIDENCES_SHOWN:
        return list(profiles), ""
    at_stake = 0

    def candidates() -> Any:
        nonlocal at_stake
        for index, (item, klass) in enumerate(zip(profiles, diagnostic["classes"], strict=True)):
            if (klass["calculee"] in AT_STAKE or klass["declaree"] in AT_STAKE
                    or klass["differe"]):  # fmt: skip
                at_stake += 1
                gap = (item["ecart_epci"] or {}).get("sous_40")
                yield (-gap if gap is not None else math.inf, index, item)

    shown = [item for _, _, item in heapq.nsmallest(RESIDENCES_SHOWN, candidates())]
    note = (
        f"{_count(len(profiles))} résidences : ce tableau montre les {_count(len(shown))} "
        f"résidences à enjeu (classées très fragiles ou fragiles, classe calculée ou déclarée, "
        f"ou dont les deux classes diffèrent ; {_count(at_stake)} en tout) dont la part des "
        f"ménages sous 40 % des plafonds dépasse le plus la moyenne de l'EPCI. " + FULL_LISTS
    )
    return shown, note


def _classes_shown(diagnostic: dict[str, Any]) -> tuple[list[dict[str, Any]], str]:
    """Every residence's classes up to RESIDENCES_SHOWN; beyond, the first residences (by
    name) whose computed class differs from the declared one, and a note saying so."""
    classes = diagnostic["classes"]
    if len(classes) <= RESIDENCES_SHOWN:
        return list(classes), ""
    differing = 0
    shown: list[dict[str, Any]] = []
    for item in classes:
        if item["differe"]:
            differing += 1
            if len(shown) < RESIDENCES_SHOWN:
                shown.append(item)
    note = (
        f"{_count(len(classes))} résidences, dont {_count(differing)} dont la classe calculée "
        f"diffère de la classe déclarée : ce tableau montre les {_count(len(shown))} premières "
        f"par nom. " + FULL_LISTS
    )
    return shown, note


def to_markdown(diagnostic: dict[str, Any]) -> str:
    lines = [f"# {_title(diagnostic)}", "", _survey_line(diagnostic), ""]
    for key, label in GROUPS:
        lines += [f"## {label}", ""]
        items = diagnostic["profils"][key]
        if key == "residences":
            items, note = _residences_shown(diagnostic)
            lines += [note, ""] if note else []
        header = ["", "répondants", "sans réponse (ressources)"]
        header += [lab for _, lab, _ in INDICATORS]
        lines.append("| " + " | ".join(header) + " |")
        lines.append("|" + "---|" * len(header))
        for item in items:
            profile = item["profil"]
            if profile is None:
                continue
            cells = [
                item["nom"],
                _count(profile["repondants"]),
                _count(profile["sans_reponse_ressources"]),
            ]
            evolution = item["evolution"] or {}
            for indicator, _, _ in INDICATORS:
                cell = _pct(profile["parts"][indicator])
                if evolution.get(indicator) is not None:
                    cell += f" ({_points(evolution[indicator])})"
                cells.append(cell)
            lines.append("| " + " | ".join(cells) + " |")
        lines.append("")
    classes, note = _classes_shown(diagnostic)
    lines += ["## Classes des résidences", "", *([note, ""] if note else []),
              "| résidence | classe déclarée | classe calculée | écart |", "|---|---|---|---|"]  # fmt: skip
    for item in classes:
        flag = "à revoir" if item["differe"] else ""
        lines.append(f"| {item['nom']} | {_class(item['declaree'])} | "
                     f"{_class(item['calculee'])} | {flag} |")  # fmt: skip
    lines += ["", "## Entrants de l'année et occupants, par classe", "",
              "| classe | entrants | sous 40 % des plafonds (entrants) | sous 40 % (occupants) |",
              "|---|---|---|---|"]  # fmt: skip
    for item in diagnostic["entrants"]["classes"]:
        lines.append(f"| {_class(item['classe'])} | {_count(item['entrants'])} | "
                     f"{_pct(item['part_sous_40_entrants'])} | "
                     f"{_pct(item['part_sous_40_occupants'])} |")  # fmt: skip
    lines += ["", "## Relogements NPNRU", ""]
    rehousing = _largest(diagnostic["relogements"], lambda item: item["menages"],
                         RESIDENCES_SHOWN)  # fmt: skip
    if len(rehousing) < len(diagnostic["relogements"]):
        lines += [f"{_count(len(diagnostic['relogements']))} opérations et bailleurs : ce tableau "
                  f"montre les {_count(len(rehousing))} qui comptent le plus de ménages. La liste "
                  "complète est dans les exports XLSX et JSON.", ""]  # fmt: skip
    header = ["opération", "bailleur", *(lab for _, lab in STATUS_COLUMNS), "hors QPV",
              "logement récent", "autre commune", "reste à charge avant", "après", "délai moyen"]  # fmt: skip
    lines.append("| " + " | ".join(header) + " |")
    lines.append("|" + "---|" * len(header))
    for item in rehousing:
        lines.append("| " + " | ".join([
            item["operation"], item["bailleur_nom"], *(_count(item[k]) for k, _ in STATUS_COLUMNS),
            _pct(item["part_hors_qpv"]), _pct(item["part_logement_recent"]),
            _pct(item["part_autre_commune"]), _euros(item["reste_a_charge_avant_moyen"]),
            _euros(item["reste_a_charge_apres_moyen"]),
            "—" if item["delai_moyen_jours"] is None else f"{item['delai_moyen_jours']} j",
        ]) + " |")  # fmt: skip
    return "\n".join(lines) + "\n"


def to_csv(diagnostic: dict[str, Any]) -> str:
    """One row per group and indicator (profile, change, gap to the EPCI): the figures a
    spreadsheet pivots on; codes and names side by side."""
    buffer = io.StringIO()
    write_csv(diagnostic, buffer)
    return buffer.getvalue()


def write_csv(diagnostic: dict[str, Any], handle: TextIO) -> None:
    """The CSV rendering, written row by row."""
    writer = csv.writer(handle, delimiter=";", lineterminator="\n")
    writer.writerow(["annee", "enquete", "niveau", "code", "nom", "indicateur", "libelle",
                     "repondants", "part_pct", "evolution_points", "ecart_epci_points"])  # fmt: skip
    for key, _ in GROUPS:
        for item in diagnostic["profils"][key]:
            profile = item["profil"]
            if profile is None:
                continue
            for indicator, label, _ in INDICATORS:
                evolution = (item["evolution"] or {}).get(indicator)
                gap = (item["ecart_epci"] or {}).get(indicator)
                writer.writerow([
                    diagnostic["annee"], diagnostic["enquete"], key, item["code"], item["nom"],
                    indicator, label, profile["repondants"],
                    _decimal(profile["parts"][indicator]), _decimal(evolution), _decimal(gap),
                ])  # fmt: skip


def _decimal(value: float | None) -> str:
    return "" if value is None else f"{value:.1f}".replace(".", ",")


def to_terminal(diagnostic: dict[str, Any]) -> str:
    lines = [_title(diagnostic), _survey_line(diagnostic), ""]
    for item in diagnostic["profils"]["epci"]:
        profile = item["profil"]
        if profile is None:
            continue
        lines.append(f"{item['nom']} : {_count(profile['repondants'])} ménages ayant répondu "
                     f"({_count(profile['sans_reponse_ressources'])} sans réponse sur les ressources)")  # fmt: skip
        for indicator, label, _ in INDICATORS:
            change = (item["evolution"] or {}).get(indicator)
            lines.append(f"  {label} : {_pct(profile['parts'][indicator])}"
                         + (f" ({_points(change)})" if change is not None else ""))  # fmt: skip
    differing = 0
    first: list[dict[str, Any]] = []
    for item in diagnostic["classes"]:
        if item["differe"]:
            differing += 1
            first += [item] if len(first) < 10 else []
    lines += ["", f"Classes : {len(diagnostic['classes'])} résidences, "
              f"{differing} dont la classe calculée diffère de la classe déclarée"]  # fmt: skip
    for item in first:
        lines.append(f"  {item['nom']} : déclarée {_class(item['declaree'])}, "
                     f"calculée {_class(item['calculee'])}")  # fmt: skip
    lines += ["", "Entrants de l'année et occupants (part sous 40 % des plafonds) :"]
    for item in diagnostic["entrants"]["classes"]:
        lines.append(f"  {_class(item['classe'])} : entrants {_pct(item['part_sous_40_entrants'])}"
                     f" (n = {_count(item['entrants'])}), occupants {_pct(item['part_sous_40_occupants'])}")  # fmt: skip
    lines += ["", "Relogements NPNRU :"]
    for item in diagnostic["relogements"]:
        lines.append(f"  {item['operation']} ({item['bailleur_nom']}) : {item['menages']} ménages, "
                     f"{item['reloges_definitifs']} relogés définitivement, "
                     f"{item['a_reloger']} à reloger ; hors QPV {_pct(item['part_hors_qpv'])}, "
                     f"logement récent {_pct(item['part_logement_recent'])}")  # fmt: skip
    return "\n".join(lines) + "\n"


def _bars(rows: list[tuple[str, float | None, float | None]], first: str, second: str) -> str:
    """Horizontal paired bars (0–100 %) as inline SVG: one pair per row."""
    height = 22 * len(rows) + 30
    parts = [f'<svg class="barres" viewBox="0 0 640 {height}" role="img" '
             f'aria-label="{html.escape(first)} et {html.escape(second)}">']  # fmt: skip
    parts.append(f'<rect x="250" y="4" width="12" height="8" class="a"/><text x="266" y="12">'
                 f'{html.escape(first)}</text><rect x="420" y="4" width="12" height="8" '
                 f'class="b"/><text x="436" y="12">{html.escape(second)}</text>')  # fmt: skip
    for index, (label, a, b) in enumerate(rows):
        y = 24 + index * 22
        parts.append(f'<text x="0" y="{y + 12}">{html.escape(label[:38])}</text>')
        for offset, value, kind in ((0, a, "a"), (9, b, "b")):
            if value is not None:
                width = max(0.0, min(100.0, value)) * 3.6
                parts.append(f'<rect x="250" y="{y + offset}" width="{width:.1f}" height="8" '
                             f'class="{kind}"/><text x="{254 + width:.1f}" y="{y + offset + 8}" '
                             f'class="v">{_pct(value)}</text>')  # fmt: skip
    parts.append("</svg>")
    return "".join(parts)


# The widest table a portrait A4 page prints whole at 7 pt (the classes and entrants tables);
# the profiles, with a column per indicator, need a landscape page.
PORTRAIT_COLUMNS = 9

_STYLE = """
@page { size: A4; margin: 15mm; }
@page paysage { size: A4 landscape; margin: 12mm; }
section.large { page: paysage; }
@media screen { section.large { overflow-x: auto; } }
body { font-family: sans-serif; font-size: 10pt; color: #222; max-width: 180mm; margin: auto; }
h1 { font-size: 15pt; } h2 { font-size: 12pt; margin-top: 1.5em; break-after: avoid; }
table { border-collapse: collapse; width: 100%; font-size: 7pt; break-inside: auto; }
th, td { border: 1px solid #bbb; padding: 2px 4px; text-align: right; }
th:first-child, td:first-child { text-align: left; }
tr { break-inside: avoid; }
svg.barres { width: 100%; font-size: 9px; break-inside: avoid; }
svg .a { fill: #1f5fa8; } svg .b { fill: #e0892b; } svg .v { fill: #444; font-size: 8px; }
.note { color: #555; font-size: 9pt; }
"""


def to_html(diagnostic: dict[str, Any]) -> str:
    esc = html.escape
    out = ["<!doctype html><html lang=\"fr\"><head><meta charset=\"utf-8\">",
           f"<title>{esc(_title(diagnostic))}</title><style>{_STYLE}</style></head><body>",
           f"<h1>{esc(_title(diagnostic))}</h1>",
           f"<p class=\"note\">{esc(_survey_line(diagnostic))} L'enquête OPS est déclarative ; "
           "seuls les ménages ayant répondu sont comptés.</p>"]  # fmt: skip
    epci = diagnostic["profils"]["epci"]
    average = epci[0]["profil"]["parts"] if epci and epci[0]["profil"] else {}
    groups = [*diagnostic["profils"]["bailleurs"], *diagnostic["profils"]["qpv"]]
    charted = _largest(groups, lambda item: item["profil"]["repondants"] if item["profil"] else 0,
                       CHART_BARS)  # fmt: skip
    out.append("<h2>Ménages sous 40 % des plafonds, face à la moyenne de l'EPCI</h2>")
    if len(charted) < len(groups):
        out.append(f"<p class=\"note\">Les {len(charted)} bailleurs et quartiers qui comptent le "
                   f"plus de ménages ayant répondu, sur {_count(len(groups))} : tous sont dans "
                   "les tableaux plus bas.</p>")  # fmt: skip
    out.append(_bars([(item["nom"], item["profil"]["parts"]["sous_40"] if item["profil"] else None,
                       average.get("sous_40")) for item in charted],
                     "part du groupe", "moyenne de l'EPCI"))  # fmt: skip
    out.append("<h2>Entrants de l'année et occupants, par classe de résidence</h2>")
    out.append(_bars([(_class(item["classe"]), item["part_sous_40_entrants"],
                       item["part_sous_40_occupants"]) for item in diagnostic["entrants"]["classes"]],
                     "entrants sous 40 % des plafonds", "occupants sous 40 %"))  # fmt: skip
    out.append("<h2>Parcours de relogement NPNRU</h2>")
    paths = _largest(diagnostic["relogements"], lambda item: item["menages"], CHART_BARS)
    if len(paths) < len(diagnostic["relogements"]):
        out.append(f"<p class=\"note\">Les {len(paths)} opérations et bailleurs qui comptent le "
                   f"plus de ménages, sur {_count(len(diagnostic['relogements']))}.</p>")  # fmt: skip
    out.append(_bars([(item["operation"], item["part_hors_qpv"], item["part_autre_commune"])
                      for item in paths],
                     "relogés hors QPV", "relogés dans une autre commune"))  # fmt: skip
    body = to_markdown(diagnostic).split("\n")
    out.append(_markdown_tables_to_html(body[4:]))  # after the title and survey line
    out.append("</body></html>")
    return "\n".join(out) + "\n"


def _markdown_tables_to_html(lines: list[str]) -> str:
    """The Markdown rendering's sections and tables as HTML (one source for both). A section
    whose table has more columns than a portrait A4 page holds is printed on a landscape page
    (and scrolls sideways on a narrow screen) rather than cut at the right margin."""
    esc = html.escape
    sections: list[tuple[list[str], int]] = []  # (parts, widest table's columns)
    parts: list[str] = []
    widest = 0
    in_table = False
    header_done = False
    for line in lines:
        if line.startswith("|"):
            cells = [cell.strip() for cell in line.strip("|").split("|")]
            if set(line) <= {"|", "-"}:
                continue
            if not in_table:
                parts.append("<table>")
                in_table, header_done = True, False
            widest = max(widest, len(cells))
            tag = "td" if header_done else "th"
            parts.append("<tr>" + "".join(f"<{tag}>{esc(c)}</{tag}>" for c in cells) + "</tr>")
            header_done = True
            continue
        if in_table:
            parts.append("</table>")
            in_table = False
        if line.startswith("## "):
            sections.append((parts, widest))
            parts, widest = [f"<h2>{esc(line[3:])}</h2>"], 0
        elif line.strip():
            parts.append(f"<p>{esc(line)}</p>")
    if in_table:
        parts.append("</table>")
    sections.append((parts, widest))
    out = []
    for section, columns in sections:
        if not section:
            continue
        kind = ' class="large"' if columns > PORTRAIT_COLUMNS else ""
        out.append(f"<section{kind}>" + "\n".join(section) + "</section>")
    return "\n".join(out)


def to_xlsx(diagnostic: dict[str, Any]) -> bytes:
    """A workbook: the profiles (one row per group, one column per indicator and its change),
    the classes, the entrants and the rehousing follow-up, one sheet each."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    # Write-only: rows go to the file as they are appended (a sheet held cell by cell took
    # gigabytes for 250 000 residences).
    workbook = Workbook(write_only=True)
    bold = Font(bold=True)

    def header(sheet: Any, titles: list[str]) -> None:
        cells = []
        for title in titles:
            cell = WriteOnlyCell(sheet, value=title)
            cell.font = bold
            cells.append(cell)
        sheet.append(cells)

    sheet = workbook.create_sheet("Profils")
    sheet.append([_title(diagnostic)])
    sheet.append([_survey_line(diagnostic)])
    titles = ["niveau", "code", "nom", "répondants", "sans réponse (ressources)"]
    for _, label, _ in INDICATORS:
        titles += [f"{label} (%)", "évolution (points)", "écart à l'EPCI (points)"]
    header(sheet, titles)
    for key, level in GROUPS:
        for item in diagnostic["profils"][key]:
            profile = item["profil"]
            if profile is None:
                continue
            row: list[Any] = [level, item["code"], item["nom"], profile["repondants"],
                              profile["sans_reponse_ressources"]]  # fmt: skip
            for indicator, _, _ in INDICATORS:
                row += [profile["parts"][indicator], (item["evolution"] or {}).get(indicator),
                        (item["ecart_epci"] or {}).get(indicator)]  # fmt: skip
            sheet.append(row)
    classes = workbook.create_sheet("Classes")
    header(classes,
           ["résidence", "nom", "bailleur", "classe déclarée", "classe calculée", "à revoir"])  # fmt: skip
    for item in diagnostic["classes"]:
        classes.append([item["residence"], item["nom"], item["bailleur"], _class(item["declaree"]),
                        _class(item["calculee"]), "oui" if item["differe"] else ""])  # fmt: skip
    entrants = workbook.create_sheet("Entrants")
    header(entrants, ["résidence", "nom", "classe", "entrants", "ressources connues",
                      "entrants sous 40 % (%)", "occupants sous 40 % (%)"])  # fmt: skip
    for item in diagnostic["entrants"]["residences"]:
        entrants.append([item["residence"], item["nom"], _class(item["classe"]), item["entrants"],
                         item["entrants_ressources_connues"], item["part_sous_40_entrants"],
                         item["part_sous_40_occupants"]])  # fmt: skip
    for item in diagnostic["entrants"]["classes"]:
        entrants.append(["", "toutes les résidences de la classe", _class(item["classe"]),
                         item["entrants"], item["entrants_ressources_connues"],
                         item["part_sous_40_entrants"], item["part_sous_40_occupants"]])  # fmt: skip
    rehousing = workbook.create_sheet("Relogements")
    header(rehousing, ["opération", "bailleur", *(label for _, label in STATUS_COLUMNS),
                       "hors QPV (%)", "logement récent (%)", "autre commune (%)",
                       "reste à charge avant (€/mois)", "reste à charge après (€/mois)",
                       "délai moyen (jours)"])  # fmt: skip
    for item in diagnostic["relogements"]:
        rehousing.append([item["operation"], item["bailleur_nom"],
                          *(item[key] for key, _ in STATUS_COLUMNS), item["part_hors_qpv"],
                          item["part_logement_recent"], item["part_autre_commune"],
                          item["reste_a_charge_avant_moyen"], item["reste_a_charge_apres_moyen"],
                          item["delai_moyen_jours"]])  # fmt: skip
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
