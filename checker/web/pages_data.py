"""Pages that bring data in: import by upload, the CIA and its versions, CALEOL pre-check."""

from __future__ import annotations

import csv
import io
import tempfile
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import Response
from sqlalchemy import Connection
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile as SentFile

from checker.access import permissions
from checker.access.roles import Actor
from checker.caleol_check import DocketChecker, DocketRefused, read_docket
from checker.errors import MixiteError
from checker.web import cia, imports
from checker.web.context import Denied, log, page_actor, render, require, state, transaction
from checker.web.names import Names

router = APIRouter(include_in_schema=False)


# ------------------------------------------------------------------------------- import
@router.get("/import")
def import_page(request: Request) -> Response:
    with transaction(request) as connection:
        actor = page_actor(request, connection)
        require(request, connection, actor, permissions.can(actor, "importer"), "importer",
                "page d'import", "Votre compte ne permet pas d'importer des données.")  # fmt: skip
    return render(request, "import.html", {"issue": None})


@router.post("/import")
async def import_upload(request: Request,
                        fichiers: Annotated[list[UploadFile], File()]) -> Response:  # fmt: skip
    def who() -> Actor:
        with transaction(request) as connection:
            return page_actor(request, connection)

    actor = await run_in_threadpool(who)
    outcome = await imports.run_import(request, actor, fichiers)
    status = 200 if outcome.result is not None else 422
    return render(request, "import.html", {"issue": outcome}, status_code=status)


# ------------------------------------------------------------------------------- CIA
def _territories(connection: Connection, actor: Actor) -> dict[str, str]:
    names = Names.load(connection)
    return {siren: name for siren, name in sorted(names.epci.items(), key=lambda item: item[1])
            if permissions.can(actor, "lire_cia", siren)}  # fmt: skip


@router.get("/cia")
def cia_page(request: Request) -> Response:
    with transaction(request) as connection:
        actor = page_actor(request, connection)
        require(request, connection, actor, permissions.can(actor, "lire_cia"), "consulter_cia",
                "CIA", "Votre compte ne permet pas de consulter la CIA.")  # fmt: skip
        territories = _territories(connection, actor)
        listed = {siren: cia.versions(connection, siren) for siren in territories}
    return render(request, "cia.html", {"territoires": territories, "versions": listed,
                                        "verification": None})  # fmt: skip


@router.get("/cia/{epci}/{numero}")
def cia_version_page(request: Request, epci: str, numero: int) -> Response:
    with transaction(request) as connection:
        actor = page_actor(request, connection)
        require(request, connection, actor, permissions.can(actor, "lire_cia", epci),
                "consulter_cia", f"CIA {epci} n° {numero}",
                "Ce territoire n'est pas l'un des vôtres.")  # fmt: skip
        found = cia.version(connection, epci, numero)
        names = Names.load(connection)
    if found is None:
        raise MixiteError(f"Aucune version n° {numero} de la CIA de ce territoire.")
    return render(request, "cia_version.html", {
        "v": found, "territoire": names.epci.get(epci, epci),
        "lignes": cia.listing(found.texte, [], ""),
    })  # fmt: skip


@router.post("/cia")
async def cia_upload(request: Request, epci: Annotated[str, Form()],
                     fichier: Annotated[UploadFile, File()]) -> Response:  # fmt: skip
    raw = await fichier.read()
    name = Path(fichier.filename or "cia.regles").name

    def work() -> Response:
        with transaction(request) as connection:
            actor = page_actor(request, connection)
            require(request, connection, actor, permissions.can(actor, "deposer_cia", epci),
                    "deposer_cia", f"CIA {epci} ({name})",
                    "Votre compte ne permet pas de déposer la CIA de ce territoire.")  # fmt: skip
            text = cia.decode(raw, name)
            checked = cia.check(state(request), connection, epci, name, text)
            territories = _territories(connection, actor)
            number = None
            if not checked.errors:
                number = cia.store(connection, epci, name, text, actor.login)
                log(
                    request,
                    connection,
                    actor,
                    "deposer_cia",
                    f"CIA {epci} version n° {number} ({name})",
                )
            else:
                log(request, connection, actor, "deposer_cia",
                    f"CIA {epci} ({name}) : refusée, {len(checked.errors)} erreur(s)", "echec")  # fmt: skip
            listed = {siren: cia.versions(connection, siren) for siren in territories}
        return render(request, "cia.html", {
            "territoires": territories, "versions": listed, "numero": number,
            "verification": checked, "epci_choisi": epci,
            "lignes": cia.listing(text, checked.diagnostics, checked.name),
            "nom": name,
        }, status_code=200 if number else 422)  # fmt: skip

    return await run_in_threadpool(work)


# ------------------------------------------------------------------------------- CALEOL
_DOCKET_COLUMNS = ("date_commission", "bailleur_siren", "rpls_id", "numero_unique", "rang",
                   "nb_titulaires", "nb_personnes_14_plus", "nb_moins_14", "revenus_mensuels",
                   "rfr_n2", "dalo", "criteres_prioritaires", "contingent", "mutation")  # fmt: skip
APPLICANTS_IN_FORM = 3


@router.get("/caleol")
def caleol_page(request: Request) -> Response:
    with transaction(request) as connection:
        actor = page_actor(request, connection)
        require(request, connection, actor, permissions.can(actor, "verifier_caleol"),
                "verifier_caleol", "page CALEOL",
                "Votre compte ne permet pas de vérifier un dossier de CALEOL.")  # fmt: skip
        names = Names.load(connection)
    bailleurs = {s: n for s, n in names.bailleur.items()
                 if actor.role != "bailleur" or s == actor.bailleur}  # fmt: skip
    return render(request, "caleol.html", {"bailleurs": bailleurs, "logements": None,
                                           "problemes": [], "candidats": APPLICANTS_IN_FORM})  # fmt: skip


def _form_docket(form: dict[str, str], folder: Path) -> Path:
    """The filled form as a docket file, read by the very reader of `mixite caleol check`."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\n")
    writer.writerow(_DOCKET_COLUMNS)
    for index in range(1, APPLICANTS_IN_FORM + 1):
        if not form.get(f"numero_unique_{index}", "").strip():
            continue
        row = []
        for column in _DOCKET_COLUMNS:
            if column in ("date_commission", "bailleur_siren", "rpls_id"):
                row.append(form.get(column, ""))
            elif column in ("dalo", "mutation"):
                row.append("oui" if form.get(f"{column}_{index}") else "non")
            else:
                row.append(form.get(f"{column}_{index}", ""))
        writer.writerow(row)
    path = folder / "formulaire-caleol.csv"
    path.write_text(buffer.getvalue(), encoding="utf-8")
    return path


@router.post("/caleol")
async def caleol_check(request: Request) -> Response:
    form = await request.form()
    upload = form.get("fichier")
    fields = {key: value for key, value in form.items() if isinstance(value, str)}
    raw = await upload.read() if isinstance(upload, SentFile) and upload.filename else None
    name = Path(upload.filename).name if isinstance(upload, SentFile) and upload.filename else ""

    def work() -> Response:
        with transaction(request) as connection:
            actor = page_actor(request, connection)
            require(request, connection, actor, permissions.can(actor, "verifier_caleol"),
                    "verifier_caleol", "dossier CALEOL",
                    "Votre compte ne permet pas de vérifier un dossier de CALEOL.")  # fmt: skip
            names = Names.load(connection)
            bailleurs = {s: n for s, n in names.bailleur.items()
                         if actor.role != "bailleur" or s == actor.bailleur}  # fmt: skip
            context = {"bailleurs": bailleurs, "candidats": APPLICANTS_IN_FORM, "saisie": fields}
            with tempfile.TemporaryDirectory(prefix="mixite-caleol-") as scratch:
                if raw is not None:
                    path = Path(scratch) / name
                    path.write_bytes(raw)
                else:
                    if actor.role == "bailleur":
                        fields["bailleur_siren"] = actor.bailleur or ""
                    path = _form_docket(fields, Path(scratch))
                try:
                    records = read_docket(path)
                except DocketRefused as refused:
                    return render(request, "caleol.html", {**context, "logements": None,
                                  "problemes": refused.problems}, status_code=422)  # fmt: skip
            if not records:
                raise MixiteError("Aucune candidature dans le dossier.")
            if actor.role == "bailleur":
                others = [(line, r.bailleur_siren) for line, r in records
                          if r.bailleur_siren != actor.bailleur]  # fmt: skip
                if others:
                    log(request, connection, actor, "verifier_caleol",
                        f"dossier d'un autre bailleur ({others[0][1]})", "refuse")  # fmt: skip
                    raise Denied(f"Ligne {others[0][0]} : dossier d'un autre bailleur "
                                 f"(SIREN {others[0][1]}). Vous ne vérifiez que vos propres dossiers.")  # fmt: skip
            day = max(record.date_commission for _, record in records)
            dwellings = DocketChecker(connection, state(request).rulebook(connection), day).check(
                records
            )
            if actor.role == "bailleur" and any(d.bailleur != actor.bailleur for d in dwellings):
                raise Denied("Ce logement n'appartient pas à votre organisme.")
            log(request, connection, actor, "verifier_caleol",
                f"dossier du {day:%d/%m/%Y} ({len(dwellings)} logement(s))")  # fmt: skip
        # The page answered shows the end of each numéro unique only, not the full number typed.
        context["saisie"] = {k: v for k, v in fields.items() if not k.startswith("numero_unique")}
        return render(request, "caleol.html", {**context, "logements": dwellings, "jour": day,
                                               "problemes": []})  # fmt: skip

    return await run_in_threadpool(work)


@router.get("/caleol/modele.csv")
def caleol_template() -> Response:
    """An empty docket with the expected columns, to fill in a spreadsheet."""
    header = ";".join(_DOCKET_COLUMNS) + "\r\n"
    return Response("\ufeff" + header, media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": 'attachment; filename="dossier-caleol.csv"'})  # fmt: skip
