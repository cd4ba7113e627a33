"""`mixite check`, `mixite runs`, `mixite audit verify`: evaluating, and proving what was run."""

from __future__ import annotations

import datetime as dt
import json
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from checker.cli.console import err, out
from checker.cli.options import DbOption, RulesOption
from checker.errors import MixiteError

# The modules that evaluate, store and render are imported inside the commands, where they
# are used: every command of `mixite` would otherwise pay for them at start-up
# (tests/test_startup.py keeps it so).
if TYPE_CHECKING:
    from checker.evaluate.results import Result
    from checker.evaluate.run import Period

FORMATS = ("json", "md", "csv", "html", "xlsx")
_STATUS_STYLE = {
    "conforme": "green",
    "non_conforme": "bold red",
    "non_applicable": "dim",
    "donnees_insuffisantes": "yellow",
}


def _parse_date(text: str | None, option: str) -> dt.date | None:
    if text is None:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise MixiteError(
            f"{option} : date illisible « {text} ».", "Forme attendue : AAAA-MM-JJ"
        ) from None


def _period(year: int | None, to_date: dt.date | None) -> Period:
    from checker.evaluate.run import Period

    if year is None and to_date is None:
        raise MixiteError("Indiquez l'année à vérifier : --year AAAA (ou --to-date AAAA-MM-JJ).")
    if to_date is not None and year is not None and to_date.year != year:
        raise MixiteError(f"--to-date {to_date.isoformat()} n'est pas dans l'année {year}.")
    return Period.year(year or to_date.year, to_date)  # type: ignore[union-attr]


def _percent(value: float | None) -> str:
    from checker import frenchfmt

    return frenchfmt.percent(
        Fraction(value).limit_denominator(10**9) if value is not None else None
    )


def print_summary(results: list[Result], title: str) -> None:
    from rich.table import Table

    from checker.report.labels import STATUS_LABELS, scope_text

    table = Table(title=title, title_justify="left")
    for column, justify in (("Règle", "left"), ("Périmètre", "left"), ("Statut", "left"),
                            ("Réalisé", "right"), ("Taux", "right"), ("Cible", "right"),
                            ("Manque", "right")):  # fmt: skip
        table.add_column(column, justify=justify, overflow="fold")  # type: ignore[arg-type]
    for result in results:
        done = (
            f"{result.numerator} / {result.denominator}" if result.denominator is not None else "—"
        )
        table.add_row(
            result.rule,
            scope_text(result.scope),
            f"[{_STATUS_STYLE[result.status]}]{STATUS_LABELS[result.status]}[/]",
            done,
            _percent(result.rate),
            _percent(result.target),
            "—" if result.shortfall is None else str(result.shortfall),
        )
    out.print(table)


def _write(text: str, destination: Path | None, encoding: str = "utf-8") -> None:
    if destination is None:
        out.print(text, markup=False, highlight=False, end="")
        return
    destination.parent.mkdir(parents=True, exist_ok=True)
    destination.write_text(text, encoding=encoding, newline="")
    err.print(f"Rapport écrit : {destination}")


def register(app: typer.Typer) -> None:
    @app.command("check")
    def check_command(
        year: Annotated[int | None, typer.Option("--year", help="Année vérifiée (baux signés cette année-là).")] = None,
        to_date: Annotated[str | None, typer.Option("--to-date", help="Situation à cette date (AAAA-MM-JJ), depuis le 1er janvier.")] = None,
        epci: Annotated[str | None, typer.Option("--epci", help="SIREN de l'EPCI (par défaut : tous).")] = None,
        bailleur: Annotated[str | None, typer.Option("--bailleur", help="SIREN du bailleur : ses résultats et ceux de l'EPCI.")] = None,
        rules: RulesOption = None,
        db: DbOption = None,
        output_format: Annotated[str | None, typer.Option("--format", help="json, md, csv, html ou xlsx (par défaut : tableau à l'écran).")] = None,
        out_path: Annotated[Path | None, typer.Option("--out", help="Fichier de sortie (par défaut : l'écran).")] = None,
    ) -> None:  # fmt: skip
        """Vérifie les obligations pour une année : un résultat par règle et par périmètre."""
        from checker import frenchfmt
        from checker.checking import run_check
        from checker.db.engine import make_engine, require_schema, resolve_url
        from checker.evaluate.run import Options
        from checker.report import json_report
        from checker.report.tabular import to_csv, to_markdown
        from checker.rulebook_loader import require_rules

        if output_format is not None and output_format not in FORMATS:
            raise MixiteError(
                f"Format inconnu : {output_format}.", f"Formats : {', '.join(FORMATS)}"
            )
        as_of = _parse_date(to_date, "--to-date")
        period = _period(year, as_of)
        rulebook, _ = require_rules(rules)
        engine = make_engine(resolve_url(db))
        require_schema(engine)
        title = f"Contrôle des attributions {period.end.year}" + (
            f" au {frenchfmt.date(as_of)}" if as_of else ""
        )
        with engine.begin() as connection:
            outcome = run_check(connection, rulebook, period, Options(epci, bailleur), as_of)
            if output_format in ("html", "xlsx"):
                from checker.report import html, xlsx
                from checker.report.collect import collect

                data = collect(connection, rulebook, period, Options(epci, bailleur), outcome.results,
                               outcome.receipt, title)  # fmt: skip
                destination = out_path or Path(f"rapport-{period.end.year}.{output_format}")
                destination.parent.mkdir(parents=True, exist_ok=True)
                if output_format == "html":
                    destination.write_text(html.render(data), encoding="utf-8")
                else:
                    destination.write_bytes(xlsx.render(data))
                err.print(f"Rapport écrit : {destination}")
        engine.dispose()
        receipt = outcome.receipt.as_json()
        if output_format in ("html", "xlsx"):
            return
        if output_format == "json":
            _write(json_report.dumps(json_report.document(outcome.results, receipt)), out_path)
        elif output_format == "md":
            _write(to_markdown(outcome.results, receipt, title), out_path)
        elif output_format == "csv":
            _write(to_csv(outcome.results), out_path)
        else:
            print_summary(outcome.results, title)
            out.print(
                f"[dim]Exécution n° {outcome.receipt.run_id} enregistrée (empreinte {outcome.receipt.hash[:16]}…).[/]"
            )

    runs_app = typer.Typer(help="Les exécutions enregistrées (reçus).", invoke_without_command=True)

    @runs_app.callback()
    def runs_list(ctx: typer.Context, db: DbOption = None) -> None:
        """Liste les exécutions enregistrées."""
        if ctx.invoked_subcommand is not None:
            return
        from rich.table import Table

        from checker import runs
        from checker.db.engine import make_engine, require_schema, resolve_url

        engine = make_engine(resolve_url(db))
        require_schema(engine)
        with engine.connect() as connection:
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
        from checker import runs
        from checker.checking import evaluate
        from checker.db.engine import make_engine, require_schema, resolve_url
        from checker.evaluate.run import Options, Period
        from checker.report import json_report
        from checker.rulebook_loader import require_rules

        engine = make_engine(resolve_url(db))
        require_schema(engine)
        rulebook, _ = require_rules(rules)
        with engine.connect() as connection:
            run = runs.load_run(connection, run_id)
            if run is None:
                raise MixiteError(f"Aucune exécution n° {run_id}.", "Voir : mixite runs")
            options = json.loads(run.options)
            period = Period(
                dt.date.fromisoformat(run.period_start), dt.date.fromisoformat(run.period_end)
            )
            as_of = dt.date.fromisoformat(run.as_of) if run.as_of else None
            results = evaluate(
                connection,
                rulebook,
                period,
                Options(options.get("epci"), options.get("bailleur")),
                as_of,
            )
            current_data = runs.data_digest(connection)
        engine.dispose()
        notes = []
        if rulebook.digest != run.rulebook_digest:
            notes.append("les règles ont changé depuis cette exécution")
        if current_data != run.data_digest:
            notes.append("les données ont changé depuis cette exécution (nouvel import)")
        recomputed = runs.canonical(json_report.results_block(results))
        if recomputed == run.results:
            out.print(f"Exécution n° {run_id} reproduite à l'identique ({len(results)} résultats).")
            return
        stored = {runs.canonical([r["rule"], r["scope"]]): r for r in json.loads(run.results)}
        fresh = {runs.canonical([r["rule"], r["scope"]]): r for r in json.loads(recomputed)}
        for key in sorted(set(stored) | set(fresh)):
            before, after = stored.get(key), fresh.get(key)
            if before != after:
                label = key
                err.print(f"Différence pour {label} :", markup=False)
                err.print(f"  enregistré : {runs.canonical(before)}", markup=False)
                err.print(f"  recalculé  : {runs.canonical(after)}", markup=False)
        for note in notes:
            err.print(f"[yellow]Cause probable : {note}.[/]")
        raise typer.Exit(1)

    app.add_typer(runs_app, name="runs")

    audit_app = typer.Typer(
        help="Vérification de l'intégrité des exécutions enregistrées.", no_args_is_help=True
    )

    @audit_app.command("verify")
    def verify(db: DbOption = None) -> None:
        """Vérifie la chaîne des exécutions : aucune modifiée, aucune supprimée."""
        from checker import runs
        from checker.db.engine import make_engine, require_schema, resolve_url

        engine = make_engine(resolve_url(db))
        require_schema(engine)
        with engine.connect() as connection:
            count, problems = runs.verify_chain(connection)
        engine.dispose()
        if problems:
            for problem in problems:
                err.print(f"[bold red]Atteinte à l'intégrité :[/] {problem.message}")
            raise typer.Exit(1)
        out.print(f"Chaîne intègre : {count} exécution(s) vérifiée(s).")

    app.add_typer(audit_app, name="audit")


def register_explain(app: typer.Typer) -> None:
    @app.command("explain")
    def explain_command(
        rule_id: Annotated[str, typer.Argument(help="Identifiant de la règle, ex. L441-1.Q1-HORS-QPV")],
        year: Annotated[int | None, typer.Option("--year", help="Année vérifiée.")] = None,
        to_date: Annotated[str | None, typer.Option("--to-date", help="Situation à cette date (AAAA-MM-JJ).")] = None,
        scope: Annotated[list[str] | None, typer.Option("--scope", help="Périmètre, ex. --scope bailleur=912000379")] = None,
        output_format: Annotated[str | None, typer.Option("--format", help="csv (par défaut : tableau à l'écran).")] = None,
        out_path: Annotated[Path | None, typer.Option("--out", help="Fichier de sortie.")] = None,
        rules: RulesOption = None,
        db: DbOption = None,
    ) -> None:  # fmt: skip
        """Les enregistrements comptés dans un résultat, et pourquoi (identifiants pseudonymisés)."""
        import csv
        import io

        from rich.table import Table

        from checker.db.engine import make_engine, require_schema, resolve_url
        from checker.evaluate.explain import explain as explain_records
        from checker.report.labels import scope_text
        from checker.rulebook_loader import require_rules

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
        rulebook, _ = require_rules(rules)
        engine = make_engine(resolve_url(db))
        require_schema(engine)
        with engine.connect() as connection:
            explanation = explain_records(connection, rulebook, rule_id, period, wanted)
        engine.dispose()
        if output_format == "csv":
            buffer = io.StringIO()
            writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
            writer.writerow(explanation.columns)
            writer.writerows(explanation.rows)
            _write("\ufeff" + buffer.getvalue(), out_path)
            return
        if output_format is not None:
            raise MixiteError(f"Format inconnu : {output_format}.", "Formats : csv")
        table = Table(title=f"{rule_id} — {scope_text(wanted) or 'tous périmètres'} — {period.end.year}",
                      title_justify="left")  # fmt: skip
        # On screen: the identity that matters and the reasons; every column is in the CSV.
        keep = [
            i for i, name in enumerate(explanation.columns) if name not in ("commune", "contingent")
        ]
        for index in keep:
            table.add_column(explanation.columns[index], overflow="fold")
        for cells in explanation.rows:
            shown = [cells[i] for i in keep]
            first = shown[0][:10] + "…" if explanation.columns[0] == "pseudonyme" else shown[0]
            table.add_row(first, *shown[1:])
        out.print(table)
        out.print(
            f"{explanation.counted} enregistrement(s) comptés au dénominateur, "
            f"{explanation.qualifying} au numérateur, {explanation.unknown} indécidable(s). "
            "Pseudonymes complets : --format csv."
        )


def register_bilan(app: typer.Typer) -> None:
    @app.command("bilan-reservataires")
    def bilan_command(
        year: Annotated[int, typer.Option("--year", help="Année des attributions (baux signés).")],
        bailleur: Annotated[str | None, typer.Option("--bailleur", help="SIREN du bailleur (par défaut : tous).")] = None,
        out_dir: Annotated[Path, typer.Option("--out", help="Dossier de sortie.")] = Path(),
        db: DbOption = None,
    ) -> None:  # fmt: skip
        """Le bilan annuel dû aux réservataires avant le 28 février (CCH R441-5-1), en XLSX et CSV."""
        from sqlalchemy import select as sql_select

        from checker.db import models
        from checker.db.engine import make_engine, require_schema, resolve_url
        from checker.report import bilan

        engine = make_engine(resolve_url(db))
        require_schema(engine)
        with engine.connect() as connection:
            rows = bilan.bilan(connection, year, bailleur)
            names = dict(
                connection.execute(sql_select(models.Bailleur.siren, models.Bailleur.nom)).all()
            )
        engine.dispose()
        if not rows:
            raise MixiteError(
                f"Aucune attribution avec un bail signé en {year}"
                + (f" pour le bailleur {bailleur}." if bailleur else ".")
            )
        out_dir.mkdir(parents=True, exist_ok=True)
        stem = out_dir / (f"bilan-reservataires-{year}" + (f"-{bailleur}" if bailleur else ""))
        stem.with_suffix(".csv").write_text(bilan.to_csv(rows), encoding="utf-8", newline="")
        stem.with_suffix(".xlsx").write_bytes(bilan.to_xlsx(rows, year, names))
        total = sum(row.attributions for row in rows)
        out.print(f"Bilan {year} : {total} attributions, {len(rows)} lignes.")
        out.print(f"Écrit : {stem.with_suffix('.xlsx')} et {stem.with_suffix('.csv')}")
