"""`mixite caleol check DOSSIER.csv`: the docket of a commission, checked before it sits."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from checker.cli.console import err, out, styled
from checker.cli.options import DbOption, RulesOption
from checker.cli.out_guard import FORCE_HELP
from checker.errors import MixiteError

# The docket checker, the database and the rules are imported inside the command: every command
# of `mixite` would otherwise pay for them at start-up (tests/test_startup.py).
if TYPE_CHECKING:
    from checker.caleol_check import Dwelling

app = typer.Typer(help="Les commissions d'attribution (CALEOL).", no_args_is_help=True)
_STYLE = {"conforme": "green", "non_conforme": "bold red", "donnees_insuffisantes": "yellow"}


def _rate(value: Fraction | None) -> str:
    from checker import frenchfmt

    return frenchfmt.percent(value) if value is not None else "—"


def print_dwellings(dwellings: list[Dwelling]) -> None:
    from checker import frenchfmt
    from checker.report.labels import STATUS_LABELS

    for dwelling in dwellings:
        place = "en QPV" if dwelling.in_qpv else "hors QPV"
        out.print(styled("\n[bold]Logement {rpls}[/] ({financement}, {place}) — commission du {day} — "
                         "{count} candidature(s)", rpls=dwelling.rpls_id, financement=dwelling.financement_label,
                         place=place, day=frenchfmt.date(dwelling.commission),
                         count=dwelling.applications))  # fmt: skip
        for rule, status, detail in dwelling.verdicts:
            out.print(styled(f"  {{rule}} : [{_STYLE.get(status, 'white')}]{{status}}[/] ({{detail}})",
                             rule=rule, status=STATUS_LABELS.get(status, status), detail=detail))  # fmt: skip
        for applicant in dwelling.applicants:
            rank = f"rang {applicant.rank}" if applicant.rank else "sans rang"
            out.print(f"  Candidature {rank} (n° {applicant.reference}) :")
            for topic, verdict, detail in applicant.checks:
                shown = STATUS_LABELS.get(verdict, verdict)
                style = _STYLE.get(verdict)
                text = f"[{style}]{{shown}}[/]" if style else "{shown}"
                out.print(styled("    {topic} : " + text + "{detail}", topic=topic, shown=shown,
                                 detail=f" ({detail})" if detail else ""))  # fmt: skip
            for effect in applicant.effects:
                if effect.target is None or effect.after is None:
                    continue  # no target, or this attribution is outside the rule's population
                mark = "compte" if effect.counted else "ne compte pas"
                if effect.bound == "min":
                    rest = (f"encore {effect.still_needed} à trouver d'ici le 31 décembre"
                            if effect.still_needed else "objectif atteint")  # fmt: skip
                    goal = f"cible {_rate(effect.target)}"
                else:
                    rest = f"le plafond en admet encore {effect.still_needed}"
                    goal = f"plafond {_rate(effect.target)}"
                out.print(f"    {effect.rule} (bailleur) : {_rate(effect.before)} → {_rate(effect.after)} "
                          f"({goal}) ; cette attribution {mark} ; {rest}")  # fmt: skip


@app.command("check")
def check_command(
    docket: Annotated[Path, typer.Argument(help="Le dossier de la commission (CSV ou XLSX).")],
    date: Annotated[str | None, typer.Option("--date", metavar="DATE", help="Date de la situation (JJ/MM/AAAA ou AAAA-MM-JJ ; par défaut : la commission).")] = None,
    db: DbOption = None,
    rules: RulesOption = None,
    output_format: Annotated[str | None, typer.Option("--format", help="html ou xlsx (par défaut : l'écran).")] = None,
    out_path: Annotated[Path | None, typer.Option("--out", help="Fichier de sortie.")] = None,
    force: Annotated[bool, typer.Option("--force", help=FORCE_HELP)] = False,
) -> None:  # fmt: skip
    """Vérifie un dossier de CALEOL : trois candidatures, plafonds, quartile, priorités, effet sur les objectifs."""
    from checker import frenchfmt
    from checker.caleol_check import DocketChecker, DocketRefused, read_docket
    from checker.db.engine import make_engine, require_schema, resolve_url
    from checker.rulebook_loader import require_rules

    if not docket.exists():
        raise MixiteError(f"{docket} : fichier introuvable.")
    try:
        records = read_docket(docket)
    except DocketRefused as refused:
        for problem in refused.problems[:200]:
            err.print(problem.render(), markup=False)
        raise
    if not records:
        raise MixiteError(f"{docket} : aucune candidature.")
    from checker.cli.dates import parse_day

    day = (
        parse_day(date, "--date") if date else max(record.date_commission for _, record in records)
    )
    rulebook, _ = require_rules(rules)
    engine = make_engine(resolve_url(db))
    require_schema(engine)
    with engine.connect() as connection:
        dwellings = DocketChecker(connection, rulebook, day).check(records)
    engine.dispose()
    if output_format in ("html", "xlsx"):
        from checker.cli import out_guard
        from checker.report import caleol_report

        destination = out_path or Path(f"dossier-caleol-{day.isoformat()}.{output_format}")
        out_guard.guard([destination], output_format, resolve_url(db), force)
        content: str | bytes = (
            caleol_report.to_html(dwellings, day)
            if output_format == "html"
            else caleol_report.to_xlsx(dwellings)
        )
        out_guard.write_files({destination: content})
        err.print(f"Rapport écrit : {destination}", markup=False)
    elif output_format is not None:
        raise MixiteError(f"Format inconnu : {output_format}.", "Formats : html, xlsx")
    out.print(
        f"Situation au {frenchfmt.date(day)} (attributions depuis le 1er janvier {day.year})."
    )
    print_dwellings(dwellings)
    flagged = [
        d for d in dwellings
        if any(status == "non_conforme" for _, status, _ in d.verdicts)
        or any(verdict == "non_conforme" for a in d.applicants for _, verdict, _ in a.checks)
    ]  # fmt: skip
    if flagged:
        out.print(
            styled("\n[bold red]{n} logement(s) à revoir avant la commission.[/]", n=len(flagged))
        )
