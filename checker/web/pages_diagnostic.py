"""The occupation diagnostic of `mixite diagnostic` in the web: the page (its tables, from the
diagnostic's own Markdown rendering, so that the figures are those of the command) and its
downloads. Who sees what: a territory's accounts their territories, a bailleur its own
residences (as `mixite diagnostic --bailleur`); réservataires and lecteurs none."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from checker.access import permissions
from checker.access.roles import Actor
from checker.errors import MixiteError
from checker.web import services
from checker.web.context import log, page_actor, render, require, state, transaction

router = APIRouter(include_in_schema=False)
FORMATS = {
    "html": ("text/html; charset=utf-8", "page web imprimable, avec graphiques"),
    "md": ("text/markdown; charset=utf-8", "texte brut mis en forme (Markdown)"),
    "json": ("application/json", "données JSON"),
    "csv": ("text/csv; charset=utf-8", "tableau CSV pour un tableur"),
    "xlsx": (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "classeur Excel, une feuille par partie",
    ),
}


def _diagnostic(request: Request, annee: int | None) -> tuple[Actor, dict[str, Any]]:
    from checker.diagnostic.compute import compute

    with transaction(request) as connection:
        actor = page_actor(request, connection)
        require(request, connection, actor, permissions.can(actor, "lire_diagnostic"),
                "consulter_diagnostic", "diagnostic de l'occupation",
                "Votre compte ne permet pas de consulter le diagnostic de l'occupation.")  # fmt: skip
        year = annee if annee is not None else services.default_year(connection)[0]
        services.parse_to_date(None, year)  # the year's bounds, refused in French
        rulebook = state(request).rulebook(connection)
        found = compute(connection, rulebook, year, list(actor.territories) or None,
                        actor.bailleur if actor.role == "bailleur" else None)  # fmt: skip
        log(request, connection, actor, "consulter_diagnostic", f"diagnostic {year}")
    return actor, found


def sections(markdown: str) -> list[dict[str, Any]]:
    """The Markdown rendering cut into sections of paragraphs and tables (header, rows)."""
    found: list[dict[str, Any]] = []
    current: dict[str, Any] = {"titre": None, "blocs": []}
    for line in markdown.splitlines()[1:]:  # the title is the page's own
        if line.startswith("## "):
            found.append(current)
            current = {"titre": line[3:].strip(), "blocs": []}
        elif line.startswith("|"):
            if set(line.strip()) <= {"|", "-", ":", " "}:
                continue
            cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
            blocks = current["blocs"]
            if blocks and blocks[-1]["type"] == "table":
                blocks[-1]["lignes"].append(cells)
            else:
                blocks.append({"type": "table", "entetes": cells, "lignes": []})
        elif line.strip():
            current["blocs"].append({"type": "texte", "texte": line.strip()})
    found.append(current)
    return [s for s in found if s["titre"] or s["blocs"]]


@router.get("/diagnostic")
def diagnostic_page(request: Request, annee: int | None = None) -> Response:
    from checker.diagnostic import render as diagnostic_render

    _, found = _diagnostic(request, annee)
    empty = not found["profils"]["residences"]
    return render(request, "diagnostic.html", {
        "annee": found["annee"], "vide": empty, "formats": FORMATS,
        "titre": diagnostic_render._title(found),
        "sections": [] if empty else sections(diagnostic_render.to_markdown(found)),
    })  # fmt: skip


@router.get("/diagnostic/{annee:int}.{fmt}")
def diagnostic_download(request: Request, annee: int, fmt: str) -> Response:
    from checker.diagnostic import render as diagnostic_render

    if fmt not in FORMATS:
        raise MixiteError(f"Format inconnu : {fmt}.", "Formats : " + ", ".join(FORMATS))
    _, found = _diagnostic(request, annee)
    if not found["profils"]["residences"]:
        raise MixiteError("Aucune résidence en base pour ce périmètre.",
                          "Importez residences.csv (et occupation.csv) avec le lot.")  # fmt: skip
    writers: dict[str, Callable[[dict[str, Any]], str | bytes]] = {
        "html": diagnostic_render.to_html, "md": diagnostic_render.to_markdown,
        "json": diagnostic_render.to_json, "csv": diagnostic_render.to_csv,
        "xlsx": diagnostic_render.to_xlsx,
    }  # fmt: skip
    writer = writers[fmt]
    media, _ = FORMATS[fmt]
    return Response(writer(found), media_type=media, headers={
        "Content-Disposition": f'attachment; filename="diagnostic-{annee}.{fmt}"'})  # fmt: skip
