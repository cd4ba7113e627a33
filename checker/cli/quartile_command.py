"""`mixite quartile`: the question a bailleur's staff asks ten times a day."""

from __future__ import annotations

import json
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from typing import Annotated

import typer

from checker.cli.console import out, styled
from checker.cli.options import RulesOption
from checker.errors import MixiteError


def register(app: typer.Typer) -> None:
    @app.command("quartile")
    def quartile_command(
        epci: Annotated[str, typer.Option("--epci", metavar="NOM|SIREN", help="SIREN de l'EPCI, ou son nom tel qu'un arrêté l'écrit.")],
        annee: Annotated[int, typer.Option("--annee", help="Année (celle du seuil applicable).")],
        revenus_mensuels: Annotated[str, typer.Option("--revenus-mensuels", help="Revenus mensuels du ménage (€).")],
        titulaires: Annotated[int, typer.Option("--titulaires", help="Demandeur et cotitulaires.")] = 1,
        personnes_14_plus: Annotated[int, typer.Option("--personnes-14-plus", help="Autres personnes de 14 ans ou plus.")] = 0,
        moins_14: Annotated[int, typer.Option("--moins-14", help="Enfants de moins de 14 ans.")] = 0,
        as_json: Annotated[bool, typer.Option("--json", help="Sortie JSON.")] = False,
        rules: RulesOption = None,
    ) -> None:  # fmt: skip
        """Le quartile d'un ménage pour un EPCI et une année, avec les seuils utilisés."""
        from checker import frenchfmt
        from checker.quartile import quartile
        from checker.rulebook_loader import require_rules

        try:
            income = Fraction(
                Decimal(revenus_mensuels.replace(" ", "").replace("\u00a0", "").replace(",", "."))
            )
        except InvalidOperation:
            raise MixiteError(
                f"Montant illisible : « {revenus_mensuels} ».", "Exemple : 1234,50"
            ) from None
        rulebook, _ = require_rules(rules)
        answer = quartile(rulebook, epci, annee, titulaires, personnes_14_plus, moins_14, income)
        if as_json:
            out.print_json(json.dumps(answer.as_json(), ensure_ascii=False))
            return
        out.print(
            styled(
                "[bold]Quartile {q}[/] pour {epci} (SIREN {siren}) en {annee}",
                q=answer.quartile,
                epci=answer.epci,
                siren=answer.siren,
                annee=annee,
            )
        )
        out.print(f"Unités de consommation : {frenchfmt.number(answer.uc)} ; revenu annuel par UC : "
                  f"{frenchfmt.euros(answer.annual_income_per_uc)}")  # fmt: skip
        for name, value in answer.thresholds.items():
            out.print(f"  {name} : {frenchfmt.euros(value.value)} — {value.sources[0].title}")  # type: ignore[arg-type]
        out.print(
            styled(
                "[dim]Premier quartile : revenu par UC strictement inférieur au seuil (CCH L441-1).[/]"
            )
        )
