"""`mixite import PATH…`: load a territory's bundle into the database."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import typer

from checker.cli.console import RichProgress, err, out, styled
from checker.cli.options import DbOption

# The importer (SQLAlchemy, openpyxl, pydantic) is imported inside the command: every command
# of `mixite` would otherwise pay for it at start-up (tests/test_startup.py).
if TYPE_CHECKING:
    from checker.ingest.importer import ImportResult

MAX_LISTED_PROBLEMS = 200


def register(app: typer.Typer) -> None:
    @app.command("import")
    def import_command(
        paths: Annotated[
            list[Path],
            typer.Argument(help="Dossier du lot, ou fichiers (territoire.yaml, logements.csv…)."),
        ],
        db: DbOption = None,
        max_problems: Annotated[
            int, typer.Option("--max-problemes", help="Nombre de problèmes listés au plus.")
        ] = MAX_LISTED_PROBLEMS,
    ) -> None:
        """Importe un lot (CSV ou XLSX) : tout ou rien, sans doublon, identifiants pseudonymisés."""
        from checker.db.engine import resolve_url
        from checker.ingest.importer import ImportRefused, import_bundle

        url = resolve_url(db)
        try:
            result = import_bundle(paths, url, RichProgress())
        except ImportRefused as refused:
            for problem in refused.problems[:max_problems]:
                err.print(problem.render(), soft_wrap=True, markup=False)
            hidden = len(refused.problems) - max_problems
            if hidden > 0:
                err.print(f"… et {hidden} autre(s) problème(s) non affiché(s).")
            raise
        _print_result(result)


def paris_time(moment: dt.datetime) -> dt.datetime:
    """A stored time (UTC; naive when SQLite returns it) as the clock on the wall in France."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    try:
        return moment.astimezone(ZoneInfo("Europe/Paris"))
    except ZoneInfoNotFoundError:  # no time zone database (Windows without tzdata)
        return moment.astimezone()


def _print_result(result: ImportResult) -> None:
    from rich.table import Table

    if result.already_imported_at is not None:
        imported_at = paris_time(result.already_imported_at)
        out.print(
            f"Ce lot a déjà été importé le {imported_at:%d/%m/%Y à %H:%M} "
            "(même contenu) : " + ("données inchangées." if result.cia else "rien n'a changé.")
        )
        _print_cia(result)
        return
    if result.key is not None and result.key.warning:
        err.print(f"Attention : {result.key.warning}", markup=False, soft_wrap=True)
    if result.key is not None and result.key.created:
        err.print(styled(
            "[yellow]Clé de pseudonymisation créée : {origin}[/]. Gardez-en une copie "
            "en lieu sûr et ne la transmettez jamais avec la base : elle seule permet de "
            "retrouver un ménage à partir de son pseudonyme, et sans elle les prochains imports "
            "seront refusés.", origin=result.key.origin))  # fmt: skip
    files = Table(title=f"Import n° {result.batch_id}", title_justify="left")
    files.add_column("Fichier")
    files.add_column("Lignes lues", justify="right")
    files.add_column("Encodage")
    files.add_column("Colonnes ignorées")
    for summary in result.files:
        files.add_row(
            summary.name,
            "—" if summary.role == "territoire" else f"{summary.rows:n}",
            summary.encoding_label or summary.encoding,
            ", ".join(summary.ignored_columns) or "—",
        )
    out.print(files)
    counts = Table(show_header=True)
    counts.add_column("Données")
    counts.add_column("Ajoutées", justify="right")
    counts.add_column("Remplacées", justify="right")
    counts.add_column("Inchangées", justify="right")
    for label, count in result.counts.items():
        counts.add_row(label, str(count.added), str(count.replaced), str(count.unchanged))
    out.print(counts)
    for skipped in result.skipped:
        if skipped.name not in result.cia_files:
            out.print(
                styled("[dim]Fichier ignoré (hors format d'import) : {name}[/]", name=skipped.name)
            )
    _print_cia(result)
    for notice in result.notices:
        err.print(f"Attention : {notice}", markup=False, soft_wrap=True)
    replaced = sum(count.replaced for count in result.counts.values())
    if replaced:
        out.print(
            f"{replaced} enregistrement(s) remplacé(s) par leur version plus récente "
            "(même clé, contenu modifié)."
        )


def _print_cia(result: ImportResult) -> None:
    """The CIA territoire.yaml declares: a new version stored, or the stored one unchanged."""
    files = ", ".join(result.cia_files)
    if result.cia is not None:
        out.print(
            f"CIA du territoire ({files}) enregistrée : version {result.cia.number}, empreinte "
            f"{result.cia.sha256[:16]}… ; « mixite check » l'applique sans --rules.",
            markup=False, highlight=False,
        )  # fmt: skip
    elif result.cia_files:
        out.print(f"CIA du territoire ({files}) : identique à la version enregistrée.",
                  markup=False, highlight=False)  # fmt: skip
