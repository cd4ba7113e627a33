"""`mixite check`, `mixite runs`, `mixite audit verify`: evaluating, and proving what was run."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from checker.cli.console import err, out, styled
from checker.cli.options import DbOption, RulesOption
from checker.cli.out_guard import FORCE_HELP
from checker.errors import MixiteError

# The modules that evaluate, store and render are imported inside the commands, where they
# are used: every command of `mixite` would otherwise pay for them at start-up
# (tests/test_startup.py keeps it so).
if TYPE_CHECKING:
    from rich.console import Console

    from checker.evaluate.run import Period
    from checker.report.outputs import Streamed
    from checker.runs import Receipt
    from checker.territory_cia import CiaVersion

# What `--format` accepts (checker.report.outputs.FORMATS, kept here so that the help needs no
# report module).
FORMATS = ("json", "md", "csv", "html", "xlsx", "pdf", "docx")


def _parse_date(text: str | None, option: str) -> dt.date | None:
    from checker.cli.dates import parse_day

    return None if text is None else parse_day(text, option)


def _period(year: int | None, to_date: dt.date | None) -> Period:
    from checker.evaluate.run import Period

    if year is None and to_date is None:
        raise MixiteError("Indiquez l'année à vérifier : --year AAAA (ou --to-date JJ/MM/AAAA).")
    if to_date is not None and year is not None and to_date.year != year:
        raise MixiteError(f"--to-date {to_date.isoformat()} n'est pas dans l'année {year}.")
    return Period.year(year or to_date.year, to_date)  # type: ignore[union-attr]


MAX_YEARS = 20


def parse_years(values: list[str] | None) -> list[int]:
    """`--year 2025`, repeated (`--year 2023 --year 2025`) or as a range (`--year 2023-2025`):
    the years, sorted, each once."""
    years: set[int] = set()
    for value in values or []:
        first, separator, last = value.strip().partition("-")
        bounds = [first.strip(), last.strip()] if separator else [first.strip()]
        if not all(len(b) == 4 and b.isdigit() for b in bounds):
            raise typer.BadParameter(
                f"année illisible « {value} » (forme attendue : AAAA, répétée, ou un intervalle "
                "AAAA-AAAA)"
            )
        start, end = int(bounds[0]), int(bounds[-1])
        if start > end:
            raise typer.BadParameter(f"« {value} » : la première année est après la seconde")
        years.update(range(start, end + 1))
    if len(years) > MAX_YEARS:
        raise typer.BadParameter(f"{len(years)} années demandées ; {MAX_YEARS} au plus")
    return sorted(years)


def _check_years(values: list[str] | None) -> list[str] | None:
    parse_years(values)  # refused here, as a usage error, before anything is read
    return values


def _write_streamed(content: Streamed, destination: Path | None) -> None:
    """`_write` of a text made as it is written: to the screen a piece at a time, to a file
    through `write_files` (whole or not at all)."""
    if destination is None:
        for piece in content.pieces():
            out.print(piece, markup=False, highlight=False, end="")
        return
    from checker.cli.out_guard import write_files

    write_files({destination: content})
    err.print(f"Rapport écrit : {destination}", markup=False, highlight=False)


def _write(text: str, destination: Path | None) -> None:
    if destination is None:
        out.print(text, markup=False, highlight=False, end="")
        return
    from checker.cli.out_guard import write_files

    write_files({destination: text})
    err.print(f"Rapport écrit : {destination}", markup=False, highlight=False)


def _keep_heads(url: str, receipts: list[Receipt]) -> None:
    """Append each new run's head to the heads file beside the key, once committed."""
    from checker import runs

    path = runs.heads_path(url)
    if not all(runs.keep_head(url, receipt) for receipt in receipts):
        err.print(
            f"Attention : la tête de la chaîne n'a pas pu être ajoutée à {path} ; "
            "notez-la vous-même (ci-dessous).",
            markup=False,
        )


def _print_head(console: Console, receipt: Receipt) -> None:
    from rich.text import Text

    from checker.report.explain_screen import wrapped

    # The digest alone on its line: 64 characters, it fits a terminal of 80 columns and is
    # copied whole.
    sentence = wrapped(f"Exécution n° {receipt.run_id} enregistrée. Tête de la chaîne des "
                       "exécutions, à conserver hors de la base (pour mixite audit verify "
                       "--tete) :", console.width)  # fmt: skip
    console.print(Text(f"{sentence.plain}\n{receipt.hash}", style="dim"))


def register(app: typer.Typer) -> None:
    @app.command("check")
    def check_command(
        year: Annotated[list[str] | None, typer.Option("--year", help="Année vérifiée (baux signés cette année-là) ; se répète, ou un intervalle (2023-2025), pour plusieurs années côte à côte.", metavar="AAAA", callback=_check_years)] = None,
        to_date: Annotated[str | None, typer.Option("--to-date", metavar="DATE", help="Situation à cette date (JJ/MM/AAAA ou AAAA-MM-JJ), depuis le 1er janvier.")] = None,
        epci: Annotated[str | None, typer.Option("--epci", metavar="NOM|SIREN", help="L'EPCI, par son nom ou son SIREN (par défaut : tous).")] = None,
        bailleur: Annotated[str | None, typer.Option("--bailleur", metavar="NOM|SIREN", help="Le bailleur, par son nom ou son SIREN : ses résultats et ceux de l'EPCI.")] = None,
        rules: RulesOption = None,
        db: DbOption = None,
        output_format: Annotated[str | None, typer.Option("--format", help="json, md, csv, html, pdf, xlsx ou docx (par défaut : synthèse à l'écran).")] = None,
        out_path: Annotated[Path | None, typer.Option("--out", help="Fichier de sortie (par défaut : l'écran, ou rapport-AAAA.html, .pdf, .xlsx, .docx).")] = None,
        force: Annotated[bool, typer.Option("--force", help=FORCE_HELP)] = False,
    ) -> None:  # fmt: skip
        """Vérifie les obligations pour une année (ou plusieurs côte à côte) : un résultat par règle et par périmètre."""
        from checker import frenchfmt
        from checker.checking import check_transaction, run_check
        from checker.cli import out_guard
        from checker.cli.arguments import require_years, resolve_bailleur, resolve_epci
        from checker.db.engine import (
            bound_sqlite_memory,
            make_engine,
            require_schema,
            resolve_url,
        )
        from checker.evaluate.commitments import database_diagnostics
        from checker.evaluate.run import Options, Period
        from checker.report.names import Names
        from checker.report.outputs import (
            COMPLETE,
            FAILING_SUFFIX,
            Checked,
            Content,
            Streamed,
            failing_path,
            report_files,
        )
        from checker.rulebook_loader import require_rules

        # The screen summary, the territories' CIA (and YAML) and the Alembic-free schema check
        # are imported below where they are used: a check written to a file with its own rules
        # needs none of the first two.

        if output_format is not None and output_format not in FORMATS:
            raise MixiteError(
                f"Format inconnu : {output_format}.", f"Formats : {', '.join(FORMATS)}"
            )
        if output_format == "pdf":
            from checker.report.pdf import find_chromium

            find_chromium()  # before any work: the PDF needs the browser
        as_of = _parse_date(to_date, "--to-date")
        years = parse_years(year)
        if len(years) > 1 and as_of is not None:
            raise MixiteError(
                "--to-date ne se combine pas avec plusieurs années.",
                "Plusieurs années : --year 2023-2025 ; une situation en cours d'année : --to-date seul.",
            )
        periods = [Period.year(y) for y in years[:-1]] + [
            _period(years[-1] if years else None, as_of)
        ]
        last = periods[-1]
        url = resolve_url(db)
        destination: Path | None = None
        if output_format is not None and (out_path is not None or output_format in COMPLETE):
            stem = "rapport" if output_format in COMPLETE else "resultats"
            destination = out_path or Path(f"{stem}-{last.end.year}.{output_format}")
            out_guard.guard([destination], output_format, url, force)
            if output_format in ("csv", "html", "pdf"):  # the failing records' CSV beside it
                out_guard.guard([failing_path(destination)], "csv", url, force)
        engine = make_engine(url)
        require_schema(engine)
        cia: list[CiaVersion] = []
        if rules:
            rulebook, _ = require_rules(rules)
        else:  # the national rules and the CIA stored with each territory
            from checker.paths import rules_dir
            from checker.territory_cia import latest_versions, load_with_cia

            with engine.connect() as connection:
                cia = latest_versions(connection)
            rulebook = load_with_cia([rules_dir()], cia)
        title = f"Contrôle des attributions {last.end.year}"
        if as_of:
            title += f" au {frenchfmt.date(as_of)}"
        if len(periods) > 1:
            title += f" (évolution {periods[0].end.year}–{last.end.year})"
        checked: list[Checked] = []
        files: dict[Path, Content] = {}
        with check_transaction(engine) as connection:
            bound_sqlite_memory(connection)
            # Refused before anything is evaluated or recorded: an argument naming nothing would
            # give an empty result that reads like a compliant one, and a receipt for it.
            options = Options(
                resolve_epci(connection, epci), resolve_bailleur(connection, bailleur)
            )
            require_years(connection, [period.end.year for period in periods])
            for warning in database_diagnostics(connection, rulebook, last):
                if not warning.is_error:  # the errors refuse the check, in run_check
                    err.print(warning.render(rulebook.sources), markup=False, highlight=False)
            for period in periods:
                day = as_of if period is last else None
                outcome = run_check(connection, rulebook, period, options, day, cia)
                checked.append(Checked(period, outcome.results, outcome.receipt))
            names = Names.load(connection)
            if output_format is not None:
                stem = "rapport" if output_format in COMPLETE else "resultats"
                files = report_files(connection, rulebook, options, checked, title, output_format,
                                     destination or Path(f"{stem}-{last.end.year}.{output_format}"))  # fmt: skip
            if destination is not None:
                # Written before the receipt is committed: a report that cannot be written
                # (full disk, no right) leaves no receipt of a run nobody received.
                out_guard.write_files(files)
        engine.dispose()
        current = checked[-1]
        _keep_heads(url, [c.receipt for c in checked])
        if output_format is None:
            from checker.report import terminal

            earlier = [c.as_run() for c in checked[:-1]]
            for printed in terminal.summary(current.results, title, rulebook, names, earlier,
                                            current.year, width=out.width):  # fmt: skip
                out.print(printed, soft_wrap=True)
            for version in cia:
                out.print(styled("[dim]CIA appliquée : {name}, version {number} (territoire "
                                 "{epci}), empreinte {digest}….[/]", name=version.name,
                                 number=version.number, epci=version.epci,
                                 digest=version.sha256[:16]))  # fmt: skip
            _print_head(out, current.receipt)
            return
        if out_path is None and output_format not in COMPLETE:
            main = next(iter(files))
            text = files.pop(main)
            if isinstance(text, Streamed):
                text = text.text()
            out.print(text, markup=False, highlight=False, end="")
            _print_head(err, current.receipt)
            if files:
                err.print(
                    "La liste des enregistrements en défaut s'écrit avec --out (fichier "
                    f"…{FAILING_SUFFIX} à côté du rapport), ou : mixite explain RÈGLE --en-defaut",
                    markup=False,
                    highlight=False,
                )
            return
        for path in files:
            err.print(f"Rapport écrit : {path}", markup=False, highlight=False)
        _print_head(err, current.receipt)

    runs_app = typer.Typer(help="Les exécutions enregistrées (reçus).", invoke_without_command=True)

    @runs_app.callback()
    def runs_list(ctx: typer.Context, db: DbOption = None) -> None:
        """Liste les exécutions enregistrées."""
        if ctx.invoked_subcommand is not None:
            return
        from rich.table import Table

        from checker import run_guards, runs
        from checker.db.engine import make_engine, require_schema, resolve_url

        engine = make_engine(resolve_url(db))
        require_schema(engine)
        with engine.connect() as connection:
            run_guards.require_run_table(connection)
            stored = runs.list_runs(connection)
        engine.dispose()
        table = Table(title="Exécutions", title_justify="left")
        for column in ("N°", "Date (UTC)", "Période", "Options", "Règles", "Données", "Empreinte"):
            table.add_column(column)
        for run in stored:
            table.add_row(str(run.id), run.created_at, f"{run.period_start} → {run.period_end}",
                          run.options, run.rulebook_digest[:12], run.data_digest[:12], run.hash[:12])  # fmt: skip
        out.print(table)

    @runs_app.command("replay")
    def replay(run_id: Annotated[int, typer.Argument(help="Numéro de l'exécution")], rules: RulesOption = None,
               db: DbOption = None) -> None:  # fmt: skip
        """Refait une exécution et signale toute différence avec ses résultats enregistrés."""
        from rich.text import Text

        from checker import run_guards, runs
        from checker.checking import evaluate
        from checker.db.engine import make_engine, require_schema, resolve_url
        from checker.evaluate.run import Options, Period
        from checker.report import json_report
        from checker.rulebook_loader import require_rules

        engine = make_engine(resolve_url(db))
        require_schema(engine)
        rulebook, _ = require_rules(rules)
        with engine.connect() as connection:
            run_guards.require_run_table(connection)
            run = runs.load_run(connection, run_id)
            if run is None:
                raise MixiteError(f"Aucune exécution n° {run_id}.", "Voir : mixite runs")
            options = run_guards.stored_options(run)
            stored_results = run_guards.stored_results(run)
            start = run_guards.stored_date(run, "period_start")
            end = run_guards.stored_date(run, "period_end")
            if start is None or end is None:
                raise MixiteError(f"L'exécution n° {run_id} est illisible : sa période est vide.")
            period = Period(start, end)
            as_of = run_guards.stored_date(run, "as_of")
            results = evaluate(
                connection,
                rulebook,
                period,
                Options(options.get("epci"), options.get("bailleur")),
                as_of,
            )
            current_data = runs.data_digest(connection)
            current_content = runs.content_digest(connection)
        engine.dispose()
        notes = []
        if rulebook.digest != run.rulebook_digest:
            notes.append(f"les règles ont changé depuis l'exécution n° {run_id}")
        imported = current_data != run.data_digest
        if imported:
            notes.append(f"les données ont changé depuis l'exécution n° {run_id} (nouvel import)")
        elif run.content_digest is not None and current_content != run.content_digest:
            notes.append(f"les données ont changé depuis l'exécution n° {run_id} (modifiées "
                         "directement dans la base, sans import)")  # fmt: skip
        recomputed = runs.canonical(runs.as_stored(json_report.results_block(results), run.results))
        if recomputed == run.results:
            out.print(f"Exécution n° {run_id} reproduite à l'identique ({len(results)} résultats).")
            return
        stored = {runs.canonical([r["rule"], r["scope"]]): r for r in stored_results}
        fresh = {runs.canonical([r["rule"], r["scope"]]): r for r in json.loads(recomputed)}
        for key in sorted(set(stored) | set(fresh)):
            before, after = stored.get(key), fresh.get(key)
            if before != after:
                label = key
                err.print(f"Différence pour {label} :", markup=False)
                err.print(f"  enregistré : {runs.canonical(before)}", markup=False)
                err.print(f"  recalculé  : {runs.canonical(after)}", markup=False)
        if not notes:
            notes.append("ni les règles ni les données n'ont changé : le reçu enregistré ou "
                         "le calcul diffère (voir mixite audit verify)")  # fmt: skip
        for note in notes:
            err.print(Text(f"Cause probable : {note}.", style="yellow"))
        raise typer.Exit(1)

    app.add_typer(runs_app, name="runs")

    audit_app = typer.Typer(
        help="Vérification de l'intégrité des exécutions enregistrées.", no_args_is_help=True
    )

    @audit_app.command("verify")
    def verify(
        head: Annotated[str | None, typer.Option("--tete", metavar="EMPREINTE", help="Tête de la chaîne notée après une exécution (affichée par mixite check) : la chaîne doit la contenir encore.")] = None,
        db: DbOption = None,
    ) -> None:  # fmt: skip
        """Vérifie la chaîne des exécutions : aucune modifiée, aucune supprimée, données non retouchées."""
        from rich.text import Text

        from checker import run_guards, runs
        from checker.db.engine import make_engine, require_schema, resolve_url

        kept: list[runs.KeptHead] = []
        if head is not None:
            given = head.strip().lower()
            if not runs.is_hash(given):
                raise MixiteError(
                    f"--tete « {head} » : une tête de chaîne s'écrit avec 64 caractères "
                    "hexadécimaux (0-9, a-f).",
                    "Copiez la tête affichée après mixite check.",
                )
            kept.append(runs.KeptHead(given, "--tete"))
        url = resolve_url(db)
        engine = make_engine(url)
        require_schema(engine)
        heads = runs.heads_path(url)
        if heads.exists():
            kept.extend(runs.read_heads(heads, runs.database_label(url)))
        with engine.connect() as connection:
            run_guards.require_run_table(connection)
            count, problems = runs.verify_chain(connection, kept)
        engine.dispose()
        if problems:
            for problem in problems:
                line = Text("Atteinte à l'intégrité : ", style="bold red")
                line.append(problem.message)
                err.print(line)
            raise typer.Exit(1)
        out.print(f"Chaîne intègre : {count} exécution(s) vérifiée(s).", markup=False)
        if head is not None:
            out.print("La tête donnée avec --tete est dans la chaîne.", markup=False)
        if heads.exists():
            out.print(f"Têtes conservées dans {heads} : toutes présentes.", markup=False)
        else:
            out.print(f"Aucun fichier des têtes ({heads}) : la suppression des dernières "
                      "exécutions ne peut être détectée qu'avec --tete.", markup=False)  # fmt: skip

    from checker.cli.users_commands import register_audit

    register_audit(audit_app)
    app.add_typer(audit_app, name="audit")


def register_explain(app: typer.Typer) -> None:
    @app.command("explain")
    def explain_command(
        rule_id: Annotated[str, typer.Argument(help="Identifiant de la règle, ex. L441-1.Q1-HORS-QPV")],
        year: Annotated[int | None, typer.Option("--year", help="Année vérifiée.")] = None,
        to_date: Annotated[str | None, typer.Option("--to-date", metavar="DATE", help="Situation à cette date (JJ/MM/AAAA ou AAAA-MM-JJ).")] = None,
        scope: Annotated[list[str] | None, typer.Option("--scope", metavar="CLE=VALEUR", help="Périmètre, ex. --scope bailleur=912000379 (EPCI et bailleur : nom ou SIREN) ; se répète.")] = None,
        failing: Annotated[bool, typer.Option("--en-defaut", help="Seulement les enregistrements en défaut (pour un plafond : ceux comptés dans la part plafonnée).")] = False,
        output_format: Annotated[str | None, typer.Option("--format", help="csv (par défaut : tableau à l'écran).")] = None,
        out_path: Annotated[Path | None, typer.Option("--out", help="Fichier de sortie.")] = None,
        force: Annotated[bool, typer.Option("--force", help=FORCE_HELP)] = False,
        rules: RulesOption = None,
        db: DbOption = None,
    ) -> None:  # fmt: skip
        """Les enregistrements comptés dans un résultat, et pourquoi (identifiants pseudonymisés)."""
        from checker.cli.arguments import check_year_form, require_years, resolve_scope
        from checker.cli.out_guard import guard
        from checker.db.engine import make_engine, require_schema, resolve_url
        from checker.evaluate.explain import EN_DEFAUT, explainer
        from checker.evaluate.explain import explain as explain_records
        from checker.report.explain_screen import listing, wrapped
        from checker.report.names import Names
        from checker.report.outputs import Streamed
        from checker.report.records import explain_csv_pieces, record_table
        from checker.rulebook_loader import require_rules

        if output_format is not None and output_format != "csv":
            raise MixiteError(f"Format inconnu : {output_format}.", "Formats : csv")
        check_year_form(year)
        as_of = _parse_date(to_date, "--to-date")
        period = _period(year, as_of)
        wanted: dict[str, str] = {}
        for item in scope or []:
            key, sep, value = item.partition("=")
            if not sep:
                raise MixiteError(
                    f"Périmètre mal écrit : « {item} ».", "Forme attendue : --scope cle=valeur"
                )
            wanted[key.strip()] = value.strip()
        url = resolve_url(db)
        if out_path is not None:
            guard([out_path], output_format or "csv", url, force)
        rulebook, _ = require_rules(rules)
        engine = make_engine(url)
        require_schema(engine)
        with engine.connect() as connection:
            wanted = resolve_scope(connection, wanted)
            require_years(connection, [period.end.year])
            names = Names.load(connection)
            if output_format == "csv":
                # Written as the records are read: a listing of 1 000 000 attributions held
                # 1 GB when it was made whole first (docs/dev/performance.md).
                records = explainer(connection, rulebook, rule_id, period, wanted)
                only = EN_DEFAUT if failing else None
                _write_streamed(
                    Streamed(lambda: explain_csv_pieces(
                        records.slices(rule_id, wanted, only=only), names)),
                    out_path,
                )  # fmt: skip
            else:
                # --en-defaut: the records in good standing are counted, not detailed.
                explanation = explain_records(connection, rulebook, rule_id, period, wanted,
                                              listed_only=failing)  # fmt: skip
        engine.dispose()
        if output_format == "csv":
            return
        rows = explanation.failing() if failing else None
        table = record_table(explanation, names, rows)
        title = (f"{rule_id} — {names.scope(wanted, whole_flow=False) if wanted else 'tous périmètres'} — "
                 f"{period.end.year}" + (" — en défaut" if failing else ""))  # fmt: skip
        # On screen: names and reasons; codes, communes and contingents are in the CSV.
        keep = [
            i for i, key in enumerate(table.keys)
            if not key.endswith(":code") and key not in ("commune", "contingent", "reservataire")
            and key not in wanted
        ]  # fmt: skip
        identities = {c.key for c in explanation.columns if c.role == "identity"}
        shown_rows = []
        for cells in table.text_rows():
            shown = [cells[i] for i in keep]
            if table.keys[keep[0]] == "pseudonyme":
                shown[0] = shown[0][:10] + "…"
            shown_rows.append(shown)
        out.print(wrapped(title, out.width))
        for part in listing([table.headers[i] for i in keep], shown_rows,
                            [table.keys[i] in identities for i in keep], out.width):  # fmt: skip
            out.print(part)
        failing_count = sum(state == EN_DEFAUT for state in explanation.states)
        out.print(
            wrapped(
                f"{explanation.counted} enregistrement(s) comptés au dénominateur, "
                f"{explanation.qualifying} au numérateur, {explanation.unknown} indécidable(s), "
                f"{failing_count} en défaut. Pseudonymes et codes complets : --format csv.",
                out.width,
            )
        )


def register_bilan(app: typer.Typer) -> None:
    @app.command("bilan-reservataires")
    def bilan_command(
        year: Annotated[int, typer.Option("--year", help="Année des attributions (baux signés).")],
        bailleur: Annotated[str | None, typer.Option("--bailleur", metavar="NOM|SIREN", help="Le bailleur, par son nom ou son SIREN (par défaut : tous).")] = None,
        out_dir: Annotated[Path, typer.Option("--out", help="Dossier de sortie.")] = Path(),
        force: Annotated[bool, typer.Option("--force", help=FORCE_HELP)] = False,
        db: DbOption = None,
    ) -> None:  # fmt: skip
        """Le bilan annuel dû aux réservataires avant le 28 février (CCH R441-5-1), en XLSX et CSV."""
        from itertools import chain

        from checker.cli import out_guard
        from checker.cli.arguments import check_year_form, require_years, resolve_bailleur
        from checker.db.engine import bound_sqlite_memory, make_engine, require_schema, resolve_url
        from checker.report import bilan
        from checker.report.names import Names

        check_year_form(year)
        url = resolve_url(db)
        if out_dir.exists() and not out_dir.is_dir():
            raise MixiteError(f"--out {out_dir} : ce n'est pas un dossier.",
                              "Indiquez le dossier où écrire le bilan.")  # fmt: skip
        engine = make_engine(url)
        require_schema(engine)
        with engine.connect() as connection:
            bailleur = resolve_bailleur(connection, bailleur)
            require_years(connection, [year])
            stem = out_dir / (f"bilan-reservataires-{year}" + (f"-{bailleur}" if bailleur else ""))
            files = [stem.with_suffix(".csv"), stem.with_suffix(".xlsx")]
            # Before the table is counted: a refusal comes at once.
            out_guard.guard(files[:1], "csv", url, force)
            out_guard.guard(files[1:], "xlsx", url, force)
            names = Names.load(connection)
            bound_sqlite_memory(connection)  # the grouping's sort: see CHECK_CACHE_MIB
            rows = bilan.bilan(connection, year, bailleur)
            first = next(rows, None)
            if first is None:
                raise MixiteError(
                    f"Aucune attribution avec un bail signé en {year}"
                    + (f" pour le bailleur {bailleur}." if bailleur else ".")
                )
            # Written as the rows come from the database; renamed over the files only once
            # both are whole, so that a failure leaves the earlier bilan as it was.
            with out_guard.replacing(files) as (csv_file, xlsx_file):
                written = bilan.write(chain([first], rows), year, names, csv_file, xlsx_file)
        engine.dispose()
        from checker.frenchfmt import number

        out.print(f"Bilan {year} : {number(written.attributions, 0)} attributions, "
                  f"{number(written.rows, 0)} lignes.")  # fmt: skip
        out.print(f"Écrit : {stem.with_suffix('.xlsx')} et {stem.with_suffix('.csv')}")
