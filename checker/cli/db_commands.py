"""`mixite db …`: the database schema."""

from __future__ import annotations

import typer

from checker.cli.console import out
from checker.cli.options import DbOption

app = typer.Typer(help="Gestion du schéma de la base de données.", no_args_is_help=True)


@app.command("upgrade")
def upgrade_command(db: DbOption = None) -> None:
    """Met le schéma de la base à jour (à faire après une mise à jour de mixite)."""
    from checker.db.engine import make_engine, resolve_url, upgrade

    url = resolve_url(db)
    engine = make_engine(url)
    before, after = upgrade(engine)
    engine.dispose()
    if before == after:
        out.print(f"Base déjà à jour (révision {after}).")
    else:
        out.print(f"Schéma mis à jour : révision {before or 'vide'} → {after}.")


@app.command("revision")
def revision_command() -> None:
    """Affiche la révision de schéma attendue par cette version de mixite."""
    from checker.db.engine import head_revision

    out.print(head_revision())
