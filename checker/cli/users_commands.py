"""`mixite users add|list|disable|token` and `mixite audit acces`: accounts and their traces."""

from __future__ import annotations

import csv
import datetime as dt
import io
import sys
from typing import TYPE_CHECKING, Annotated

import typer

from checker.cli.console import err, out
from checker.cli.options import DbOption
from checker.errors import MixiteError

if TYPE_CHECKING:
    from checker.access.roles import Actor

app = typer.Typer(help="Les comptes de l'application web (mixite serve).", no_args_is_help=True)
# The commands import what they use when they run: `mixite --help` stays light.


def _cli() -> Actor:
    """Who acts from the terminal: whoever may run mixite on the server administers it."""
    from checker.access.roles import Actor

    return Actor("ligne-de-commande", "admin")


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        line = sys.stdin.readline().rstrip("\r\n")
        if not line:
            raise MixiteError("Aucun mot de passe reçu sur l'entrée standard.")
        return line
    if not sys.stdin.isatty():
        raise MixiteError(
            "Le mot de passe se saisit au terminal.",
            "Depuis un script : --password-stdin, le mot de passe sur l'entrée standard.",
        )
    first = typer.prompt("Mot de passe", hide_input=True)
    second = typer.prompt("Confirmez le mot de passe", hide_input=True)
    if first != second:
        raise MixiteError("Les deux saisies du mot de passe diffèrent.")
    return str(first)


@app.command("add")
def add(
    login: Annotated[str, typer.Argument(help="Identifiant de connexion.")],
    role: Annotated[str, typer.Option("--role", help="admin, epci, etat, bailleur, reservataire ou lecteur.")],
    bailleur: Annotated[str | None, typer.Option("--bailleur", help="SIREN du bailleur (rôle bailleur).")] = None,
    reservataire: Annotated[str | None, typer.Option("--reservataire", help="Identifiant du réservataire (rôle reservataire, avec --epci).")] = None,
    epci: Annotated[list[str] | None, typer.Option("--epci", help="SIREN d'un territoire du compte (répétable pour le rôle etat).")] = None,
    password_stdin: Annotated[bool, typer.Option("--password-stdin", help="Lit le mot de passe sur l'entrée standard.")] = False,
    db: DbOption = None,
) -> None:  # fmt: skip
    """Crée un compte ; le mot de passe est demandé au terminal (jamais en argument)."""
    from checker.access import accounts, journal
    from checker.access.roles import ROLE_LABELS
    from checker.db.engine import ensure_schema, make_engine, resolve_url

    password = _read_password(password_stdin)
    engine = make_engine(resolve_url(db))
    ensure_schema(engine)
    with engine.begin() as connection:
        account = accounts.create(connection, login, role, password, bailleur=bailleur,
                                  reservataire=reservataire, territories=epci or [])  # fmt: skip
        journal.record(connection, _cli(), "creer_utilisateur", f"compte {login} ({role})",
                       channel="cli")  # fmt: skip
    engine.dispose()
    out.print(f"Compte « {account.login} » créé ({ROLE_LABELS[account.role]}).")


@app.command("list")
def list_accounts(db: DbOption = None) -> None:
    """Liste les comptes, leur rôle et leur rattachement."""
    from rich.table import Table

    from checker.access import accounts
    from checker.access.roles import ROLE_LABELS
    from checker.db.engine import make_engine, require_schema, resolve_url

    engine = make_engine(resolve_url(db))
    require_schema(engine)
    with engine.connect() as connection:
        found = accounts.all_accounts(connection)
    engine.dispose()
    table = Table(title="Comptes", title_justify="left")
    for column in ("Identifiant", "Rôle", "Bailleur", "Réservataire", "Territoires", "État"):
        table.add_column(column)
    for account in found:
        table.add_row(account.login, ROLE_LABELS[account.role], account.bailleur or "—",
                      account.reservataire or "—", ", ".join(account.territories) or "tous",
                      "actif" if account.active else "désactivé")  # fmt: skip
    out.print(table)


@app.command("disable")
def disable(login: Annotated[str, typer.Argument(help="Identifiant du compte.")], db: DbOption = None) -> None:  # fmt: skip
    """Désactive un compte : ses sessions et ses jetons cessent aussitôt de valoir."""
    from checker.access import accounts, journal
    from checker.db.engine import make_engine, require_schema, resolve_url

    engine = make_engine(resolve_url(db))
    require_schema(engine)
    with engine.begin() as connection:
        accounts.disable(connection, login)
        journal.record(
            connection, _cli(), "desactiver_utilisateur", f"compte {login}", channel="cli"
        )
    engine.dispose()
    out.print(f"Compte « {login} » désactivé.")


@app.command("token")
def token(
    login: Annotated[str, typer.Argument(help="Identifiant du compte.")],
    days: Annotated[int, typer.Option("--jours", help="Durée de validité, en jours.")] = 90,
    db: DbOption = None,
) -> None:  # fmt: skip
    """Crée un jeton d'API pour ce compte (en-tête Authorization: Bearer …), affiché une seule fois."""
    from checker.access import accounts, journal
    from checker.cli.import_command import paris_time
    from checker.db.engine import make_engine, require_schema, resolve_url

    engine = make_engine(resolve_url(db))
    require_schema(engine)
    with engine.begin() as connection:
        value, expiry = accounts.issue_token(connection, login, days)
        journal.record(connection, _cli(), "creer_jeton", f"compte {login}", channel="cli")
    engine.dispose()
    err.print(f"Jeton pour « {login} », valable jusqu'au {paris_time(expiry):%d/%m/%Y %H:%M} "
              "(il ne sera plus affiché ; gardez-le comme un mot de passe) :")  # fmt: skip
    out.print(value, markup=False)


def register_audit(audit_app: typer.Typer) -> None:
    @audit_app.command("acces")
    def access_log(
        since: Annotated[str | None, typer.Option("--depuis", metavar="DATE", help="Depuis cette date (JJ/MM/AAAA ou AAAA-MM-JJ).")] = None,
        login: Annotated[str | None, typer.Option("--utilisateur", help="Seulement ce compte.")] = None,
        output_format: Annotated[str | None, typer.Option("--format", help="csv (par défaut : tableau à l'écran).")] = None,
        db: DbOption = None,
    ) -> None:  # fmt: skip
        """Le journal des accès : consultations d'enregistrements, changements, connexions."""
        from rich.table import Table

        from checker.access import journal
        from checker.access.roles import ROLE_LABELS
        from checker.cli.import_command import paris_time
        from checker.db.engine import make_engine, require_schema, resolve_url

        start = None
        if since is not None:
            from checker.cli.dates import parse_day

            start = dt.datetime.combine(parse_day(since, "--depuis"), dt.time(), dt.UTC)
        if output_format not in (None, "csv"):
            raise MixiteError(f"Format inconnu : {output_format}.", "Formats : csv")
        engine = make_engine(resolve_url(db))
        require_schema(engine)
        with engine.connect() as connection:
            found = journal.entries(connection, start, login)
        engine.dispose()
        rows = [
            [f"{paris_time(e.moment):%d/%m/%Y %H:%M:%S}", e.login or "—",
             ROLE_LABELS.get(e.role or "", "—"), e.channel,
             journal.ACTION_LABELS.get(e.action, e.action), e.resource,
             journal.OUTCOME_LABELS.get(e.outcome, e.outcome), e.address or "—"]
            for e in found
        ]  # fmt: skip
        titles = ["Moment", "Compte", "Rôle", "Canal", "Action", "Objet", "Issue", "Adresse"]
        if output_format == "csv":
            buffer = io.StringIO()
            writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
            writer.writerow(titles)
            writer.writerows(rows)
            out.print("\ufeff" + buffer.getvalue(), markup=False, highlight=False, end="")
            return
        table = Table(title="Journal des accès (heure de Paris)", title_justify="left")
        for title in titles:
            table.add_column(title, overflow="fold")
        for row in rows:
            table.add_row(*row)
        out.print(table)
        out.print(f"{len(rows)} entrée(s).")
