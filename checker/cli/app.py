"""Entry point: builds the Typer application and turns expected errors into French messages."""

from __future__ import annotations

import sys

import typer

from checker.cli import (
    caleol_command,
    check_commands,
    db_commands,
    demo_command,
    diagnostic_command,
    import_command,
    new_command,
    quartile_command,
    rules_commands,
    serve_command,
    users_commands,
)
from checker.cli.console import err
from checker.cli.french_cli import (
    french_usage_error,
    set_french_help_option,
    set_french_texts,
)
from checker.cli.guard import report_error, unexpected_error
from checker.errors import MixiteError

set_french_texts()
app = typer.Typer(
    name="mixite",
    help="Vérifie les attributions de logements sociaux au regard de la loi et de la CIA.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        from checker import __version__

        typer.echo(f"mixite {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Affiche la version."
    ),
) -> None:
    """mixite : conformité des attributions de logements sociaux (LEC, ELAN, 3DS, CIA)."""


import_command.register(app)
app.add_typer(db_commands.app, name="db")
rules_commands.app.add_typer(new_command.app, name="new")
app.add_typer(rules_commands.app, name="rules")
rules_commands.register_param(app)
rules_commands.register_lsp(app)
check_commands.register(app)
check_commands.register_explain(app)
check_commands.register_bilan(app)
demo_command.register(app)
diagnostic_command.register(app)
quartile_command.register(app)
app.add_typer(caleol_command.app, name="caleol")
app.add_typer(users_commands.app, name="users")
serve_command.register(app)


def _help_hint(context: object) -> str | None:
    path = getattr(context, "command_path", None)
    return f"voir {path} --help" if path else None


def main() -> None:
    """Console script. A traceback is never shown to a user: it goes to a log file."""
    try:
        # Without standalone mode, click returns (rather than raises) the code of typer.Exit.
        command = typer.main.get_command(app)
        set_french_help_option(command)
        returned = command(standalone_mode=False, prog_name="mixite")
        if isinstance(returned, int) and returned:
            sys.exit(returned)
    except MixiteError as error:
        report_error(error)
        sys.exit(error.exit_code)
    except typer.Exit as done:
        sys.exit(done.exit_code)
    except typer.Abort:
        err.print("Interrompu.")
        sys.exit(130)
    except KeyboardInterrupt:
        err.print("Interrompu.")
        sys.exit(130)
    except Exception as error:
        # Usage errors (unknown option, missing argument) come from click, which recent Typer
        # releases vendor: recognise them by their interface rather than by their module.
        show = getattr(error, "show", None)
        if callable(show) and isinstance(getattr(error, "exit_code", None), int):
            french = french_usage_error(error)
            if french is None:
                show()
            else:
                report_error(MixiteError(french[0].upper() + french[1:] + ".",
                                         _help_hint(getattr(error, "ctx", None))))  # fmt: skip
            sys.exit(error.exit_code)  # type: ignore[attr-defined]
        unexpected_error(error)
