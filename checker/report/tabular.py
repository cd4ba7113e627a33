"""Markdown and CSV renderings (CSV for French Excel: `;`, decimal comma, BOM): the same
synthesis as the HTML report, with names, caps read as caps, and units."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Sequence
from typing import Any

from checker.evaluate.results import Result
from checker.report import present
from checker.report.collect import Listing, YearRun
from checker.report.labels import STATUS_LABELS, shown_status
from checker.report.names import Names
from checker.report.records import record_key, record_table
from checker.report.synthesis import REFERENCE_FIGURES, synthesis
from checker.vocabulary import SCOPE_ORDER
from dsl.rulebook import Rulebook

CSV_COLUMNS = (
    "annee", "regle", "version", "perimetre", "epci", "bailleur", "contingent", "reservataire",
    "commune", "qpv", "statut", "numerateur", "denominateur", "taux", "cible", "type_de_cible",
    "cible_lue", "source_de_la_cible", "reference_de_la_cible", "manque", "manque_lu",
    "inconnus", "message",
)  # fmt: skip
TARGET_KINDS = {"min": "plancher", "max": "plafond", None: "chaque cas"}


def _csv_number(value: float | int | None) -> str:
    if value is None:
        return ""
    if isinstance(value, int):
        return str(value)
    return f"{value:.6f}".rstrip("0").rstrip(".").replace(".", ",")


def _csv(rows: list[list[Any]], header: list[str] | tuple[str, ...]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return "\ufeff" + buffer.getvalue()  # BOM: Excel then reads UTF-8 correctly


def to_csv(results: list[Result], rulebook: Rulebook, names: Names, year: int,
           earlier: Sequence[YearRun] = ()) -> str:  # fmt: skip
    """One line per result (and per year when several are reported), codes in their own
    columns beside the scope's names."""
    rows = []
    for run_year, run_results in [*((run.year, run.results) for run in earlier), (year, results)]:
        for result in sorted(run_results, key=Result.sort_key):
            bound = present.bound_of(rulebook, result)
            unit = present.unit_of(rulebook, result)
            rows.append([
                run_year, result.rule, result.version, names.scope(result.scope),
                *(result.scope.get(key, "") for key in ("epci", "bailleur", "contingent", "reservataire", "commune", "qpv")),
                STATUS_LABELS[shown_status(result)], _csv_number(result.numerator), _csv_number(result.denominator),
                _csv_number(result.rate), _csv_number(result.target),
                TARGET_KINDS[bound] if result.target is not None else "",
                present.target_text(result, bound), result.target_source or "",
                present.target_reference(result), _csv_number(result.shortfall), present.shortfall_text(result, bound, unit),
                _csv_number(result.unknown), result.message,
            ])  # fmt: skip
    return _csv(rows, CSV_COLUMNS)


FAILING_COLUMNS = ("annee", "regle", "perimetre", "codes_du_perimetre", "statut_du_resultat",
                   "enregistrement", "population", "cle")  # fmt: skip


def failing_csv(listings: dict[int, Listing], names: Names, year: int) -> str:
    """Every record behind every result to act on: one line per result and record, its
    identity (names and codes), and the columns of its rule's listing."""
    return "".join(failing_csv_pieces(listings, names, year))


# The records of a listing turned into text at a time (one listing may hold 50 000 records).
_CSV_SLICE = 2000


def failing_csv_pieces(listings: dict[int, Listing], names: Names, year: int) -> Iterator[str]:
    """`failing_csv`'s text a result at a time, for a file written as it is made: at 100 000
    attributions the text is 30 MB, and its rows held at once as cells took about 300 MB."""
    header: list[str] = list(FAILING_COLUMNS)
    for index in sorted(listings):  # the columns of every listing first: the header names them
        listing = listings[index]
        for title in record_table(listing.explanation, names, []).headers:
            if title not in header[len(FAILING_COLUMNS) :]:
                header.append(title)
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(header)
    yield "\ufeff" + buffer.getvalue()  # BOM: Excel then reads UTF-8 correctly
    for index in sorted(listings):
        listing = listings[index]
        fixed = {
            "annee": str(year),
            "regle": listing.result.rule,
            "perimetre": names.scope(listing.result.scope),
            "codes_du_perimetre": names.codes(listing.result.scope),
            "statut_du_resultat": STATUS_LABELS[shown_status(listing.result)],
            "enregistrement": "en défaut" if listing.state == "en_defaut" else "indécidable",
            "population": present.UNITS.get(listing.explanation.population, ("",))[0],
        }
        for part in listing.slices(_CSV_SLICE):
            table = record_table(part, names)
            buffer.seek(0)
            buffer.truncate()
            for row, texts in enumerate(table.text_rows()):
                cells = {**fixed, "cle": record_key(part, row)}
                cells.update(zip(table.headers, texts, strict=True))
                writer.writerow([cells.get(name, "") for name in header])
            yield buffer.getvalue()


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def to_markdown(results: list[Result], receipt: dict[str, Any], title: str, rulebook: Rulebook,
                names: Names, earlier: Sequence[YearRun] = ()) -> str:  # fmt: skip
    lines = synthesis(results, rulebook, names)
    period = receipt["period"]
    territory = ", ".join(sorted({names.of("epci", line.epci) for line in lines}))
    out = [f"# {title}", ""]
    out.append(f"- Territoire : {territory}")
    out.append(
        f"- Période : baux signés du {present.french_date(period['start'])} au {present.french_date(period['end'])}"
        + (
            f" (situation au {present.french_date(receipt['as_of'])})"
            if receipt.get("as_of")
            else ""
        )
    )
    commitments = sorted({r.target_source for r in results if r.target_source not in (None, "loi")})
    out.append(
        "- Convention (CIA) : "
        + (", ".join(c for c in commitments if c) or "aucune, cibles de la loi")
    )
    qualitative = [
        present.qualitative_text(item)
        for commitment in sorted(rulebook.commitments.values(), key=lambda c: c.commitment_id)
        if commitment.commitment_id in commitments
        for item in commitment.qualitatives
    ]
    if qualitative:
        out += ["", "## Engagements qualitatifs de la CIA", "",
                "mixite les rappelle sans les vérifier : leur suivi relève de la CIL.", ""]  # fmt: skip
        out += [f"- {text}" for text in qualitative]
    out += ["", "## Synthèse : une ligne par obligation", ""]
    out.append("| Obligation | Statut | Réalisé | Cible | Manque | Qui doit |")
    out.append("| --- | --- | ---: | ---: | ---: | --- |")
    for line in lines:
        owed = " ; ".join(f"{o.label} : {o.shortfall}" for o in line.owed_by) or "—"
        reference = REFERENCE_FIGURES.get(line.rule, [])
        note = (
            f" (réf. nationale {reference[-1][0]} : {present.percent(reference[-1][1])})"
            if reference
            else ""
        )
        out.append(
            f"| **{line.rule}** {_cell(line.title)}{note} | {line.status_label} | {line.achieved} "
            f"| {line.target} | {line.shortfall} | {_cell(owed)} |"
        )
    out += ["", "Cible : ≥ plancher, ≤ plafond, « chaque cas » pour une obligation par attribution "
            "ou par dossier ; entre parenthèses, sa source (loi ou CIA).", ""]  # fmt: skip
    if earlier:
        out += _evolution_markdown(lines, results, rulebook, names, earlier, int(period["end"][:4]))
    out += ["## Détail par obligation", ""]
    for line in lines:
        out += [f"### {line.rule} — {_cell(line.title)}", ""]
        out.append("| Périmètre | Codes | Statut | Réalisé | Cible | Manque |")
        out.append("| --- | --- | --- | ---: | ---: | ---: |")
        members = [
            r for r in results if r.rule == line.rule and r.scope.get("epci", "") == line.epci
        ]
        for r in sorted(members, key=lambda r: (len(r.scope), names.scope(r.scope))):
            bound = present.bound_of(rulebook, r)
            out.append(
                f"| {_cell(names.scope(r.scope))} | {_cell(names.codes(r.scope))} "
                f"| {STATUS_LABELS[shown_status(r)]} | {present.achieved_text(r)} "
                f"| {present.target_text(r, bound)} "
                f"| {present.shortfall_text(r, bound, present.unit_of(rulebook, r))} |"
            )
        out.append("")
        cited = [(names.scope(r.scope), present.target_reference(r)) for r in members]
        out += [f"- Cible de {_cell(scope)} fixée par : {_cell(reference)}"
                for scope, reference in sorted(cited) if reference]  # fmt: skip
        if any(reference for _, reference in cited):
            out.append("")
    out += ["## Reçu", ""]
    out.append(
        f"- Exécution n° {receipt['run_id']} du {present.french_date(receipt['created_at'])} (mixite {receipt['tool_version']})"
    )
    out.append(f"- Empreinte des règles : `{receipt['rulebook_digest']}`")
    out += [f"- CIA appliquée : {line}" for line in present.cia_versions(receipt)]
    out.append(f"- Empreinte des données : `{receipt['data_digest']}`")
    out.append(f"- Empreinte de l'exécution : `{receipt['hash']}`")
    out.append("")
    return "\n".join(out)


def _evolution_markdown(lines: list[Any], results: list[Result], rulebook: Rulebook, names: Names,
                        earlier: Sequence[YearRun], year: int) -> list[str]:  # fmt: skip
    runs = [*((run.year, run.results) for run in earlier), (year, results)]
    history = {
        run_year: {
            line.rule: line
            for line in synthesis(run_results, rulebook, names)
            if line.status != "information"
        }  # figures without verdict: no trend
        for run_year, run_results in runs
    }
    years = [y for y, _ in runs]
    out = [f"## Évolution {years[0]}–{years[-1]}", ""]
    out.append("| Obligation | " + " | ".join(str(y) for y in years) + " | Réf. nationale |")
    out.append("| --- | " + " | ".join("---:" for _ in years) + " | --- |")
    for line in lines:
        if line.status == "information":
            continue
        cells = []
        for y in years:
            past = history[y].get(line.rule)
            if past is None:
                cells.append("—")
                continue
            rate = (
                present.percent(past.whole.rate)
                if past.whole and past.whole.rate is not None and past.whole.kind != "count"
                else past.achieved
            )
            cells.append(f"{rate} ({past.status_label}, cible {past.target})")
        reference = "; ".join(
            f"{y} : {present.percent(v)}" for y, v, _ in REFERENCE_FIGURES.get(line.rule, [])
        )
        out.append(f"| **{line.rule}** | " + " | ".join(cells) + f" | {reference or '—'} |")
    return [*out, ""]


__all__ = ["CSV_COLUMNS", "SCOPE_ORDER", "failing_csv", "to_csv", "to_markdown"]
