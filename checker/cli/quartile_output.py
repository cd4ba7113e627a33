"""What `mixite quartile` computes and prints, without Typer: shared by the command
(`checker.cli.quartile_command`) and its quick path (`checker.cli.quick`)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from pathlib import Path

from checker.cli.console import out, styled
from checker.errors import MixiteError


def show_quartile(epci: str, annee: int, revenus_mensuels: str, titulaires: int,
                  personnes_14_plus: int, moins_14: int, as_json: bool,
                  rules: Sequence[Path] | None) -> None:  # fmt: skip
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
