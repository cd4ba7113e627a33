"""`mixite demo`: the whole job on the bundled demo territory, in a temporary database."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated

import typer

from checker.cli.check_commands import print_summary
from checker.cli.console import err, out

DEMO_CIA = "cia.regles"


def register(app: typer.Typer) -> None:
    @app.command("demo")
    def demo_command(
        out_dir: Annotated[Path, typer.Option("--out", help="Dossier des rapports.")] = Path(
            "rapport-demo"
        ),
    ) -> None:
        """Démonstration : importe le territoire fictif, vérifie chaque année, écrit les rapports."""
        from sqlalchemy import select

        from checker.checking import run_check
        from checker.db import models
        from checker.db.engine import make_engine
        from checker.evaluate.run import Options, Period
        from checker.ingest.importer import import_bundle
        from checker.ingest.pseudonym import KEY_FILE_ENV, key_setting
        from checker.paths import demo_bundle_dir, rules_dir
        from checker.report import bilan, html, json_report, xlsx
        from checker.report.collect import collect, summary_rows, years_held
        from checker.report.tabular import to_csv, to_markdown
        from checker.rulebook_loader import require_rules

        bundle = demo_bundle_dir()
        rule_paths = [rules_dir()]
        if (bundle / DEMO_CIA).exists():
            rule_paths.append(bundle / DEMO_CIA)
        rulebook, _ = require_rules(rule_paths)
        out_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix="mixite-demo-") as scratch:
            url = f"sqlite:///{Path(scratch) / 'demo.db'}"
            with key_setting(KEY_FILE_ENV, str(Path(scratch) / "demo.cle")):
                err.print(f"Import du territoire de démonstration ({bundle})…")
                import_bundle([bundle], url)
            engine = make_engine(url)
            written: list[Path] = []
            with engine.begin() as connection:
                years = years_held(connection)
                for year in years:
                    period = Period.year(year)
                    title = f"Contrôle des attributions {year} — territoire de démonstration"
                    outcome = run_check(connection, rulebook, period, Options(), None)
                    data = collect(connection, rulebook, period, Options(), outcome.results,
                                   outcome.receipt, title)  # fmt: skip
                    receipt = outcome.receipt.as_json()
                    stem = out_dir / f"rapport-{year}"
                    files = {
                        stem.with_suffix(".html"): html.render(data),
                        stem.with_suffix(".md"): to_markdown(outcome.results, receipt, title),
                        stem.with_suffix(".json"): json_report.dumps(
                            json_report.document(outcome.results, receipt)
                        ),
                        stem.with_suffix(".csv"): to_csv(outcome.results),
                    }
                    for path, text in files.items():
                        path.write_text(text, encoding="utf-8", newline="")
                        written.append(path)
                    workbook = stem.with_suffix(".xlsx")
                    workbook.write_bytes(xlsx.render(data))
                    written.append(workbook)
                    rows = bilan.bilan(connection, year)
                    names = dict(
                        connection.execute(select(models.Bailleur.siren, models.Bailleur.nom)).all()
                    )
                    table = out_dir / f"bilan-reservataires-{year}"
                    table.with_suffix(".csv").write_text(
                        bilan.to_csv(rows), encoding="utf-8", newline=""
                    )
                    table.with_suffix(".xlsx").write_bytes(bilan.to_xlsx(rows, year, names))
                    written.extend([table.with_suffix(".xlsx"), table.with_suffix(".csv")])
                    if year == years[-1]:
                        print_summary([r for _, r in summary_rows(outcome.results)],
                                      f"Démonstration — {year} (synthèse par obligation)")  # fmt: skip
            engine.dispose()
        out.print(f"Rapports écrits dans {out_dir}/ :")
        for path in written:
            out.print(f"  {path}")
        out.print(f"Ouvrez {out_dir / f'rapport-{years[-1]}.html'} dans un navigateur.")
