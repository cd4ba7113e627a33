"""`mixite diagnostic`: the occupation diagnostic of a year (OPS profiles, classes of the
residences, entrants against occupants, NPNRU rehousing)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from checker.cli.console import out
from checker.cli.options import DbOption, RulesOption
from checker.errors import MixiteError

FORMATS = ("terminal", "html", "xlsx", "md", "json", "csv")


def register(app: typer.Typer) -> None:
    @app.command("diagnostic")
    def diagnostic_command(
        year: Annotated[int, typer.Option("--year", help="Année du diagnostic : dernière enquête OPS de l'année ou d'avant, entrants de l'année.")],
        epci: Annotated[str | None, typer.Option("--epci", help="SIREN de l'EPCI (par défaut : tous).")] = None,
        bailleur: Annotated[str | None, typer.Option("--bailleur", help="SIREN du bailleur (par défaut : tous).")] = None,
        rules: RulesOption = None,
        db: DbOption = None,
        output_format: Annotated[str, typer.Option("--format", help="terminal, html, xlsx, md, json ou csv.")] = "terminal",
        out_path: Annotated[Path | None, typer.Option("--out", help="Fichier de sortie (par défaut : l'écran, ou diagnostic-AAAA.html, .xlsx).")] = None,
    ) -> None:  # fmt: skip
        """Diagnostic de l'occupation sociale : profils OPS, classes des résidences, entrants, relogements NPNRU."""
        from checker.db.engine import make_engine, require_schema, resolve_url
        from checker.diagnostic import render
        from checker.diagnostic.compute import compute
        from checker.paths import rules_dir
        from checker.rulebook_loader import require_rules
        from checker.territory_cia import latest_versions, load_with_cia

        if output_format not in FORMATS:
            raise MixiteError(
                f"Format inconnu : {output_format}.", f"Formats : {', '.join(FORMATS)}"
            )
        engine = make_engine(resolve_url(db))
        require_schema(engine)
        try:
            with engine.connect() as connection:
                if rules:
                    rulebook, _ = require_rules(rules)
                else:  # as `mixite check`: the national rules and each territory's stored ones
                    rulebook = load_with_cia([rules_dir()], latest_versions(connection))
                diagnostic = compute(connection, rulebook, year, [epci] if epci else None, bailleur)
        finally:
            engine.dispose()
        if not diagnostic["profils"]["residences"]:
            raise MixiteError(
                "Aucune résidence en base pour ce périmètre.",
                "Importez residences.csv (et occupation.csv) avec le lot : voir « Préparer un export ».",
            )
        if output_format == "xlsx":
            target = out_path or Path(f"diagnostic-{year}.xlsx")
            target.write_bytes(render.to_xlsx(diagnostic))
            out.print(f"Écrit : {target}")
            return
        if output_format in ("json", "csv") and out_path is not None:
            # Written as they are rendered: at national scale either is hundreds of megabytes.
            writer = render.write_json if output_format == "json" else render.write_csv
            with out_path.open("w", encoding="utf-8") as handle:
                writer(diagnostic, handle)
            out.print(f"Écrit : {out_path}")
            return
        if output_format == "terminal":
            text = render.to_terminal(diagnostic)
            if out_path is None:
                out.print(text, end="", markup=False, highlight=False)
                return
        else:
            text = {"html": render.to_html, "md": render.to_markdown, "json": render.to_json,
                    "csv": render.to_csv}[output_format](diagnostic)  # fmt: skip
        if out_path is None:
            if output_format == "html":
                out_path = Path(f"diagnostic-{year}.html")
            else:
                out.print(text, end="", markup=False, highlight=False)
                return
        out_path.write_text(text, encoding="utf-8")
        out.print(f"Écrit : {out_path}")
