"""`--format docx`: the synthesis as a Word document the CIL's secretariat edits for its
deliberation: each obligation's result, a box for the CIL's observations, the CIA's
commitments, a signature block. Written with python-docx (maintained, pure Python, reads and
writes the Office Open XML that Word and LibreOffice open)."""

from __future__ import annotations

from io import BytesIO

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt
from docx.table import Table

from checker.report import present
from checker.report.collect import ReportData
from checker.report.labels import STATUS_LABELS, shown_status


def _page_number(paragraph: object) -> None:
    """A PAGE field: Word and LibreOffice fill in the page number."""
    run = paragraph.add_run()  # type: ignore[attr-defined]
    for kind, text in (("begin", None), (None, "PAGE"), ("end", None)):
        if kind is not None:
            element = OxmlElement("w:fldChar")
            element.set(qn("w:fldCharType"), kind)
        else:
            element = OxmlElement("w:instrText")
            element.set(qn("xml:space"), "preserve")
            element.text = text
        run._r.append(element)


# The text width of an A4 page with 18 mm margins.
TEXT_WIDTH_MM = 174
# Column widths (mm) of the synthesis and of the CIA's objectives: the words get the room, the
# figures what they need; equal columns cut « L441-1.PRIORITAIRES-25 » in the middle.
SYNTHESIS_WIDTHS = (48, 20, 25, 19, 26, 36)
COMMITMENT_WIDTHS = (50, 46, 26, 22, 30)
TABLE_FONT = Pt(9)


def _table(document: object, headers: list[str], rows: list[list[str]],
           widths: tuple[int, ...] | None = None) -> Table:  # fmt: skip
    table: Table = document.add_table(rows=1, cols=len(headers))  # type: ignore[attr-defined]
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    for cell, header in zip(table.rows[0].cells, headers, strict=True):
        cell.text = header
        for run in cell.paragraphs[0].runs:
            run.bold = True
            run.font.size = TABLE_FONT
    for row in rows:
        cells = table.add_row().cells  # type: ignore[no-untyped-call]
        for cell, text in zip(cells, row, strict=True):
            cell.text = text
            for run in cell.paragraphs[0].runs:
                run.font.size = TABLE_FONT
    if widths is not None:
        # Word reads the cells' widths, LibreOffice the grid's: both are set.
        table.autofit = False
        for column, width in zip(table.columns, widths, strict=True):
            column.width = Mm(width)
            for cell in column.cells:
                cell.width = Mm(width)
    return table


def _box(document: object, lines: int = 6) -> None:
    """An empty bordered box to write in."""
    box = _table(document, ["Observations de la CIL"], [[""]])
    cell = box.rows[1].cells[0]
    for _ in range(lines - 1):
        cell.add_paragraph("")


def render(data: ReportData) -> bytes:
    document = Document()
    section = document.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Mm(210), Mm(297)
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, side, Mm(18))
    style = document.styles["Normal"]
    style.font.name = "Arial"
    style.font.size = Pt(10)
    footer = section.footer.paragraphs[0]
    footer.text = f"{data.title} — page "
    _page_number(footer)

    territory = ", ".join(data.names.of("epci", str(e["siren"])) for e in data.territory)
    document.add_heading(data.title, level=0)
    receipt = data.receipt
    facts = [
        ("Territoire", territory),
        ("Période", f"baux signés du {present.french_date(receipt['period']['start'])} au "
                    f"{present.french_date(receipt['period']['end'])}"),
        ("Convention (CIA)", " ; ".join(f"{c.title}, {c.period}" for c in data.commitments)
         or "aucune : cibles de la loi"),
        ("Données", f"importées le {present.french_date(data.imports[-1].day)}" if data.imports else "—"),
        ("Reçu", f"exécution n° {receipt['run_id']} du {present.french_date(receipt['created_at'])}, "
                 f"empreinte {receipt['hash'][:16]}…"),
        *(("CIA appliquée", line) for line in present.cia_versions(receipt)),
    ]  # fmt: skip
    for label, value in facts:
        paragraph = document.add_paragraph()
        paragraph.add_run(f"{label} : ").bold = True
        paragraph.add_run(value)

    document.add_heading(f"Synthèse {data.period.end.year}", level=1)
    rows = [
        [f"{line.rule}\n{line.title}", line.status_label, line.achieved, line.target,
         line.shortfall, "\n".join(f"{o.label} : {o.shortfall}" for o in line.owed_by) or "—"]
        for line in data.lines
    ]  # fmt: skip
    _table(document, ["Obligation", "Statut", "Réalisé", "Cible", "Manque", "Qui doit"], rows,
           SYNTHESIS_WIDTHS)  # fmt: skip
    document.add_paragraph(
        "Cible : ≥ plancher, ≤ plafond, « chaque cas » pour une obligation par attribution ou par "
        "dossier ; entre parenthèses, sa source (loi ou CIA). Le détail de chaque chiffre, les "
        "enregistrements en défaut et les points incertains sont dans le rapport complet (HTML, "
        "PDF ou classeur Excel) du même reçu."
    ).runs[0].italic = True

    document.add_heading("Observations par obligation", level=1)
    for line in data.lines:
        information = line.status == "information"
        shown = f"{line.rule} (pour information)" if information else line.rule
        document.add_heading(f"{shown} — {line.title}", level=2)
        # A multi-year objective before its end has no shortfall yet: the way gone instead.
        gap = "chemin parcouru" if line.status == "en_cours" else "manque"
        document.add_paragraph(
            f"{STATUS_LABELS[line.status].capitalize()} : réalisé {line.achieved}, cible "
            f"{line.target}, {gap} {line.shortfall}."
        )
        if line.owed_by:
            document.add_paragraph(
                "Qui doit : " + " ; ".join(f"{o.label} : {o.text}" for o in line.owed_by)
            )
        if not information:  # figures without verdict: nothing for the CIL to observe
            _box(document, 4)

    document.add_heading("Engagements de la CIA", level=1)
    if not data.commitments:
        document.add_paragraph("Aucune convention intercommunale d'attribution n'est chargée.")
    for commitment in data.commitments:
        document.add_heading(commitment.title, level=2)
        quantified = [
            [f"{o.rule} — {o.source}" if o.source else o.rule, o.scope, o.target,
             present.achieved_text(o.result) if o.result and o.result.kind == "count"
             else present.percent(o.result.rate) if o.result else "—",
             STATUS_LABELS[shown_status(o.result)] if o.result else "non évalué"]
            for o in commitment.quantified
        ]  # fmt: skip
        if quantified:
            _table(document, ["Objectif", "Périmètre", "Cible (CIA)", "Réalisé", "Statut"],
                   quantified, COMMITMENT_WIDTHS)  # fmt: skip
        if commitment.qualitative:
            document.add_paragraph("Engagements qualitatifs (non vérifiés par mixite) :")
            for text in commitment.qualitative:
                document.add_paragraph(text, style="List Bullet")

    document.add_heading("Avis de la CIL et visa", level=1)
    _box(document, 8)
    document.add_paragraph("")
    _table(document, ["Pour la CIL", "Transmis au préfet"],
           [["Délibération du :\n\nLe président :\n\n\n", "Le :\n\nVisa :\n\n\n"]])  # fmt: skip
    buffer = BytesIO()
    document.save(buffer)
    return buffer.getvalue()
