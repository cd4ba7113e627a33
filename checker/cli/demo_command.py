"""`mixite demo`: the whole job on the bundled demo territory, in a temporary database."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated, Any

import typer

from checker.cli.console import err, out
from checker.errors import MixiteError


def register(app: typer.Typer) -> None:
    @app.command("demo")
    def demo_command(
        out_dir: Annotated[Path, typer.Option("--out", help="Dossier des rapports.")] = Path(
            "rapport-demo"
        ),
    ) -> None:
        """Démonstration : importe le territoire fictif, vérifie chaque année, écrit les rapports."""
        from checker.checking import check_transaction, run_check
        from checker.db.engine import make_engine
        from checker.evaluate.run import Options, Period
        from checker.ingest.importer import import_bundle
        from checker.ingest.pseudonym import KEY_FILE_ENV, key_setting
        from checker.paths import demo_bundle_dir, rules_dir
        from checker.report import bilan, docx_report, html, json_report, pdf, terminal, xlsx
        from checker.report.collect import collect, years_held
        from checker.report.names import Names
        from checker.report.outputs import Checked, failing_path
        from checker.report.outputs import write as write_files
        from checker.report.tabular import failing_csv, to_csv, to_markdown
        from checker.rulebook_loader import require_rules
        from checker.territory_cia import declared_files, latest_versions, load_with_cia

        bundle = demo_bundle_dir()
        # Before any work: the territory's rules (its CIA, its CIL's classification and
        # rehousing charter, as territoire.yaml declares them) must load.
        require_rules([rules_dir(), *declared_files(bundle / "territoire.yaml")])
        out_dir.mkdir(parents=True, exist_ok=True)
        try:
            printer: str | None = pdf.find_chromium()
        except MixiteError:
            printer = None
        with tempfile.TemporaryDirectory(prefix="mixite-demo-") as scratch:
            url = f"sqlite:///{Path(scratch) / 'demo.db'}"
            with key_setting(KEY_FILE_ENV, str(Path(scratch) / "demo.cle")):
                err.print(f"Import du territoire de démonstration ({bundle})…")
                import_bundle([bundle], url)
            engine = make_engine(url)
            written: list[Path] = []
            with check_transaction(engine) as connection:
                # The rules territoire.yaml declares (CIA, CIL classification, rehousing
                # charter), stored with the territory at import: the demo applies them as
                # `mixite check` does without --rules, to the check and to the diagnostic.
                cia = latest_versions(connection)
                rulebook = load_with_cia([rules_dir()], cia)
                years = years_held(connection)
                names = Names.load(connection)
                checked: list[Checked] = []
                for year in years:
                    period = Period.year(year)
                    title = f"Contrôle des attributions {year} — territoire de démonstration"
                    outcome = run_check(connection, rulebook, period, Options(), None, cia)
                    earlier = [c.as_run() for c in checked]
                    checked.append(Checked(period, outcome.results, outcome.receipt))
                    data = collect(connection, rulebook, period, Options(), outcome.results,
                                   outcome.receipt, title, earlier, stem=f"rapport-{year}")  # fmt: skip
                    receipt = outcome.receipt.as_json()
                    stem = out_dir / f"rapport-{year}"
                    page = html.render(data)
                    files: dict[Path, str | bytes] = {
                        stem.with_suffix(".html"): page,
                        failing_path(stem.with_suffix(".html")): failing_csv(data.listings, names, year),
                        stem.with_suffix(".md"): to_markdown(outcome.results, receipt, title, rulebook, names, earlier),
                        stem.with_suffix(".json"): json_report.dumps(json_report.document(outcome.results, receipt)),
                        stem.with_suffix(".csv"): to_csv(outcome.results, rulebook, names, year, earlier),
                        stem.with_suffix(".xlsx"): xlsx.render(data),
                        stem.with_suffix(".docx"): docx_report.render(data),
                    }  # fmt: skip
                    if printer is not None:
                        files[stem.with_suffix(".pdf")] = pdf.to_pdf_bytes(page)
                    write_files(files)
                    written.extend(files)
                    table = out_dir / f"bilan-reservataires-{year}"
                    bilan.write(bilan.bilan(connection, year), year, names,
                                table.with_suffix(".csv"), table.with_suffix(".xlsx"))  # fmt: skip
                    written += [table.with_suffix(".xlsx"), table.with_suffix(".csv")]
                    if year == years[-1]:
                        for text in terminal.summary(outcome.results, f"Démonstration — {year}",
                                                     rulebook, names, earlier, year, scopes=False,
                                                     width=out.width):  # fmt: skip
                            out.print(text, soft_wrap=True)
                written.extend(_diagnostics(connection, rulebook, years, out_dir))
            engine.dispose()
        if printer is None:
            err.print(
                "Chromium absent : pas de rapport PDF (le rapport HTML s'imprime depuis un navigateur)."
            )
        out.print(f"Rapports écrits dans {out_dir}/ :")
        for path in written:
            out.print(f"  {path}")
        out.print(f"Ouvrez {out_dir / f'rapport-{years[-1]}.html'} dans un navigateur.")


def _diagnostics(connection: Any, rulebook: Any, years: list[int], out_dir: Path) -> list[Path]:
    """The occupation diagnostic of each year, with the rules of the check: the territory's own
    (the CIL's classification and the rehousing charter) included."""
    from checker.diagnostic import render
    from checker.diagnostic.compute import compute
    from checker.report.outputs import write as write_files

    files: dict[Path, str | bytes] = {}
    for year in years:
        diagnostic = compute(connection, rulebook, year)
        stem = out_dir / f"diagnostic-{year}"
        files[stem.with_suffix(".html")] = render.to_html(diagnostic)
        files[stem.with_suffix(".xlsx")] = render.to_xlsx(diagnostic)
        files[stem.with_suffix(".json")] = render.to_json(diagnostic)
        files[stem.with_suffix(".md")] = render.to_markdown(diagnostic)
        files[stem.with_suffix(".csv")] = render.to_csv(diagnostic)
    write_files(files)
    return list(files)
