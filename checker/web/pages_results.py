"""Home, results of a year, the records behind a result, and report downloads."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from sqlalchemy import Connection

from checker import runs
from checker.access import permissions
from checker.access.roles import Actor
from checker.evaluate.results import Result
from checker.evaluate.run import Options, Period
from checker.report import json_report
from checker.report.collect import YearRun, collect, years_held
from checker.report.names import Names as ReportNames
from checker.report.outputs import (
    COMPLETE,
    FAILING_SUFFIX,
    Written,
    complete_content,
    failing_listings,
)
from checker.report.records import explain_csv_pieces, record_table
from checker.report.tabular import failing_csv_pieces, to_csv, to_markdown
from checker.web import services
from checker.web.context import log, page_actor, render, require, state, transaction
from checker.web.names import Names

router = APIRouter(include_in_schema=False)
REPORT_FORMATS = {
    "html": ("text/html; charset=utf-8", "page web imprimable"),
    "pdf": ("application/pdf", "document PDF"),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "classeur Excel"),
    "docx": (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "document Word, pour la délibération",
    ),
    "csv": ("text/csv; charset=utf-8", "tableau CSV (Excel)"),
    "md": ("text/markdown; charset=utf-8", "texte Markdown"),
    "json": ("application/json", "données JSON"),
}
RECORDS_PER_PAGE = services.RECORDS_PER_PAGE
_STATUS_ORDER = ("non_conforme", "donnees_insuffisantes", "en_cours", "conforme", "non_applicable")


def records_link(actor: Actor, result: Result, year: int, to_date: dt.date | None) -> str | None:
    if result.denominator is None or result.kind == "structure":
        return None
    if not permissions.can_see_records(actor, result.scope):
        return None
    query: list[tuple[str, str]] = [("annee", str(year))]
    if to_date:
        query.append(("au", to_date.isoformat()))
    query.extend(("perimetre", f"{k}={v}") for k, v in sorted(result.scope.items()))
    return f"/resultats/{result.rule}/enregistrements?{urlencode(query)}"


def _rows(connection: Connection, request: Request, actor: Actor, results: list[Result],
          year: int, to_date: dt.date | None) -> list[dict[str, Any]]:  # fmt: skip
    names = Names.load(connection)
    rulebook = state(request).rulebook(connection)
    rows = []
    for result in results:
        rule = rulebook.rules.get(result.rule)
        rows.append({
            "result": result,
            "titre": rule.meta.title if rule and rule.meta.title else result.rule,
            "perimetre": names.scope(result.scope),
            "lien": records_link(actor, result, year, to_date),
            "reste": result.indicators.get("needed_by_year_end"),
        })  # fmt: skip
    return rows


def _own(actor: Actor, result: Result) -> bool:
    """What a partner's home puts first: its own scopes (a bailleur's, a réservataire's flow)."""
    if actor.role == "bailleur":
        return "bailleur" in result.scope or result.scope.get("contingent") == "non_reserve"
    if actor.role == "reservataire":
        return True
    return set(result.scope) == {"epci"}


@router.get("/")
def home(request: Request) -> Response:
    with transaction(request) as connection:
        actor = page_actor(request, connection)
        year, to_date = services.default_year(connection)
        results = services.visible_results(request, connection, actor, year, to_date) \
            if permissions.can(actor, "lire_resultats") else []  # fmt: skip
        # A figure for information has no verdict: neither counted nor « à suivre ».
        own = [r for r in results if _own(actor, r) and not r.information]
        counts = {status: sum(r.status == status for r in own) for status in _STATUS_ORDER}
        pending = [r for r in own if r.status in ("non_conforme", "donnees_insuffisantes")]
        rows = _rows(connection, request, actor, pending, year, to_date)
        names = Names.load(connection)
    return render(request, "accueil.html", {
        "annee": year, "au": to_date, "compteurs": counts, "a_suivre": rows,
        "organisme": names.bailleur.get(actor.bailleur or "", None),
        "territoires": [names.epci.get(s, s) for s in actor.territories],
        "total": len(own),
    })  # fmt: skip


@router.get("/resultats")
def results_page(request: Request, annee: int | None = None, au: str | None = None) -> Response:
    with transaction(request) as connection:
        actor = page_actor(request, connection)
        if annee is None and not au:
            year, to_date = services.default_year(connection)
        else:
            year, to_date = services.parse_to_date(au, annee)
        results = services.visible_results(request, connection, actor, year, to_date)
        rows = _rows(connection, request, actor, results, year, to_date)
        held = years_held(connection)
    groups: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(row["result"].rule, []).append(row)
    return render(request, "resultats.html", {
        "annee": year, "au": to_date, "groupes": groups, "annees": held,
        "formats": REPORT_FORMATS, "en_defaut": FAILING_SUFFIX,
        "enregistrements": permissions.can(actor, "lire_enregistrements"),
    })  # fmt: skip


def _drilldown(request: Request, connection: Connection, rule_id: str, annee: int,
               au: str | None, perimetre: list[str], page: int) -> services.Drilldown:  # fmt: skip
    """A page of the records behind a result (the last one when `page` is past it)."""
    actor = page_actor(request, connection)
    year, to_date = services.parse_to_date(au, annee)
    scope = services.parse_scope(perimetre)
    found = services.drilldown(request, connection, actor, rule_id, year, to_date, scope,
                               first=(page - 1) * RECORDS_PER_PAGE, size=RECORDS_PER_PAGE)  # fmt: skip
    last = max(1, -(-found.explanation.counted // RECORDS_PER_PAGE))
    if page > last:  # allowed and logged once already: the last page read without a new entry
        found.explanation = state(request).records_page(
            connection, rule_id, year, to_date, scope, found.territories,
            (last - 1) * RECORDS_PER_PAGE, RECORDS_PER_PAGE,
        )  # fmt: skip
    return found


@router.get("/resultats/{rule_id}/enregistrements")
def records_page(request: Request, rule_id: str, annee: int, au: str | None = None,
                 perimetre: Annotated[list[str], Query()] = [],  # noqa: B006
                 page: Annotated[int, Query(ge=1)] = 1) -> Response:  # fmt: skip
    with transaction(request) as connection:
        found = _drilldown(request, connection, rule_id, annee, au, perimetre, page)
        names = Names.load(connection)
        table = record_table(found.explanation, ReportNames.load(connection))
    shown = [i for i, key in enumerate(table.keys) if not key.endswith(":code")]
    query = [
        ("annee", annee),
        *([("au", au)] if au else []),
        *(("perimetre", p) for p in perimetre),
    ]
    # Only the page's records are read in full (`Explainer.page`); the total is the scope's.
    total = found.explanation.counted
    pages = max(1, -(-total // RECORDS_PER_PAGE))
    page = min(page, pages)
    first = (page - 1) * RECORDS_PER_PAGE

    def page_link(number: int) -> str:
        return f"{request.url.path}?{urlencode([*query, ('page', number)])}"

    return render(request, "enregistrements.html", {
        "d": found, "perimetre": names.scope(found.scope),
        "csv": f"{request.url.path}.csv?{urlencode(query)}",
        # On the page, names; the codes beside them are in the CSV, as on the terminal.
        "entetes": [table.headers[i] for i in shown],
        "lignes": [[cells[i] for i in shown] for cells in table.text_rows()],
        "pseudonymes": bool(table.keys) and table.keys[0] == "pseudonyme",
        "pagination": {
            "page": page, "pages": pages, "total": total, "premier": first + 1,
            "dernier": min(first + RECORDS_PER_PAGE, total),
            "precedente": page_link(page - 1) if page > 1 else None,
            "suivante": page_link(page + 1) if page < pages else None,
            "liens": {number: page_link(number) for number in _page_numbers(page, pages)},
        },
    })  # fmt: skip


def _page_numbers(page: int, pages: int) -> list[int]:
    """The pages linked by number: the first, the last, and two on each side of this one."""
    return sorted({1, pages, *range(max(1, page - 2), min(pages, page + 2) + 1)})


@router.get("/resultats/{rule_id}/enregistrements.csv")
def records_csv(request: Request, rule_id: str, annee: int, au: str | None = None,
                perimetre: Annotated[list[str], Query()] = []) -> Response:  # noqa: B006  # fmt: skip
    """Every record behind a result, read a slice at a time (`Explainer.slices`) into the
    download (`services.spooled`)."""
    with transaction(request) as connection:
        # The first page: the right to see these records and the access log's entry with their
        # number, before they are read.
        found = _drilldown(request, connection, rule_id, annee, au, perimetre, 1)
        names = ReportNames.load(connection)
        slices = services.drilldown_slices(request, found, connection)
        return services.spooled(explain_csv_pieces(slices, names), "text/csv; charset=utf-8",
                                f"enregistrements-{rule_id}-{annee}.csv")  # fmt: skip


# Declared before the report's route, which would otherwise take "2025-en-defaut" for a year.
@router.get("/rapports/{annee:int}" + FAILING_SUFFIX)
def failing_download(request: Request, annee: int, au: str | None = None) -> Response:
    """Every failing or undecidable record behind the year's results, as the CSV `mixite check`
    writes beside its report: only the results whose records the actor may list."""
    with transaction(request) as connection:
        actor = page_actor(request, connection)
        require(request, connection, actor, permissions.can(actor, "lire_enregistrements"),
                "consulter_enregistrements", f"enregistrements en défaut {annee}",
                "Votre compte ne permet pas de voir des enregistrements.")  # fmt: skip
        year, to_date = services.parse_to_date(au, annee)
        shown = services.visible_results(request, connection, actor, year, to_date)
        rulebook = state(request).rulebook(connection)
        found = failing_listings(connection, rulebook, Period.year(year, to_date), Options(), shown)
        allowed = {index: listing for index, listing in found.items()
                   if permissions.can_see_records(actor, shown[index].scope)}  # fmt: skip
        count = sum(listing.total for listing in allowed.values())
        log(request, connection, actor, "consulter_enregistrements",
            f"enregistrements en défaut {year} ({count} enregistrement(s))")  # fmt: skip
        # Read back from the listings' temporary file a result at a time, never held whole
        # (285 MB of text at 1 000 000 attributions).
        return services.spooled(
            failing_csv_pieces(allowed, ReportNames.load(connection), year),
            "text/csv; charset=utf-8", f"rapport-{year}{FAILING_SUFFIX}",
        )  # fmt: skip


@router.get("/rapports/{annee}.{fmt}")
def report_download(request: Request, annee: int, fmt: str, au: str | None = None) -> Response:
    """A report of the year in any format of `mixite check --format`, restricted to what the
    actor may see; the run is recorded (a receipt), as `mixite check --format` does."""
    if fmt not in REPORT_FORMATS:
        from checker.errors import MixiteError

        raise MixiteError(f"Format inconnu : {fmt}.", "Formats : " + ", ".join(REPORT_FORMATS))
    if fmt == "pdf":
        from checker.report.pdf import find_chromium

        find_chromium()  # before any work: the PDF needs the browser on the server
    with transaction(request, check=True) as connection:
        actor = page_actor(request, connection)
        year, to_date = services.parse_to_date(au, annee)
        services.require_results_access(request, connection, actor, year, to_date)
        # Evaluated again with its receipt (not the cached results): see `recorded_check`.
        outcome = state(request).recorded_check(connection, year, to_date)
        shown = services.visible_results(request, connection, actor, year, to_date,
                                         found=outcome.results)  # fmt: skip
        receipt = outcome.receipt
        rulebook = state(request).rulebook(connection)
        period = Period.year(year, to_date)
        title = f"Contrôle des attributions {year}" + (f" au {to_date:%d/%m/%Y}" if to_date else "")
        names = ReportNames.load(connection)
        body: bytes | str | Written
        if fmt in COMPLETE:
            earlier = [
                YearRun(held, [r for r in state(request).results(connection, held, None)
                               if permissions.can_see_result(actor, r.scope)], None)
                for held in years_held(connection) if held < year
            ]  # fmt: skip
            data = collect(connection, rulebook, period, Options(), shown, receipt, title,
                           earlier, stem=f"rapport-{year}")  # fmt: skip
            restrict_report(actor, data)
            # The HTML and the workbook written as they are made (`Written`), not held whole.
            body = complete_content(data, fmt)
        elif fmt == "json":
            body = json_report.dumps(json_report.document(shown, receipt.as_json()))
        elif fmt == "md":
            body = to_markdown(shown, receipt.as_json(), title, rulebook, names)
        else:
            body = to_csv(shown, rulebook, names, year)
        log(request, connection, actor, "telecharger_rapport",
            f"rapport {year} ({fmt}), exécution n° {receipt.run_id}")  # fmt: skip
        media, _ = REPORT_FORMATS[fmt]
        name = f"rapport-{year}.{fmt}"
        answer = (
            services.spooled_file(body.write, media, name)
            if isinstance(body, Written)
            else Response(body, media_type=media,
                          headers={"Content-Disposition": f'attachment; filename="{name}"'})
        )  # fmt: skip
    # Committed: its head goes to the heads file beside the key, as after `mixite check`.
    runs.keep_head(state(request).config.db_url, receipt)
    return answer


def restrict_report(actor: Actor, data: Any) -> None:
    """Leave in a full report only what the actor may see: the records listed under a result
    only where it may list them, breakdowns and territories only where it may read them."""
    data.listings = {
        index: found for index, found in data.listings.items()
        if permissions.can_see_records(actor, data.results[index].scope)
    }  # fmt: skip
    for breakdown in data.breakdowns:
        breakdown.rows = [r for r in breakdown.rows if permissions.can_see_result(actor, r.scope)]
    data.breakdowns = [b for b in data.breakdowns if b.rows]
    data.territory = [t for t in data.territory if actor.covers_epci(t.get("siren"))]
