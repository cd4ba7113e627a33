"""Options shared by several commands."""

from pathlib import Path
from typing import Annotated

import typer

DbOption = Annotated[
    str | None,
    typer.Option(
        "--db",
        help="Adresse de la base (SQLAlchemy). Par défaut : $MIXITE_DB, sinon sqlite:///mixite.db",
        show_default=False,
    ),
]

RulesOption = Annotated[
    list[Path] | None,
    typer.Option("--rules", help="Dossier de règles à utiliser (par défaut : les règles livrées)."),
]
