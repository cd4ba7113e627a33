"""`mixite quartile`: the question a bailleur's staff asks ten times a day."""

from __future__ import annotations

from typing import Annotated

import typer

from checker.cli.options import RulesOption


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
        from checker.cli.quartile_output import show_quartile

        show_quartile(epci, annee, revenus_mensuels, titulaires, personnes_14_plus, moins_14,
                      as_json, rules)  # fmt: skip
