"""How a command's expected errors and unexpected failures reach the user, without Typer: the
full command line (`checker.cli.app`) and the quick path of `mixite quartile`
(`checker.cli.quick`) report them the same way."""

from __future__ import annotations

import sys
from typing import NoReturn

from checker.cli.console import err, styled
from checker.errors import MixiteError


def report_error(error: MixiteError) -> None:
    from rich.text import Text

    # Messages are plain text: brackets in them (e.g. "mixite[postgres]") are not markup.
    message = Text("Erreur : ", style="bold red")
    message.append(error.message)
    err.print(message, soft_wrap=True)
    if error.hint:
        hint = Text("Conseil : ", style="dim")
        hint.append(error.hint)
        err.print(hint, soft_wrap=True)


def internal_error() -> NoReturn:
    """The exception being handled goes to a log file, never to the user's screen."""
    import tempfile  # here: a command that succeeds does not pay for it
    import traceback

    with tempfile.NamedTemporaryFile(
        "w", prefix="mixite-erreur-", suffix=".log", delete=False, encoding="utf-8"
    ) as log:
        traceback.print_exc(file=log)
    err.print(styled(
        "[bold red]Erreur interne inattendue[/] : mixite n'a pas pu terminer. Le détail "
        "technique est dans {log} ; merci de le transmettre à l'équipe mixite.", log=log.name))  # fmt: skip
    sys.exit(70)


def unexpected_error(error: Exception) -> NoReturn:
    """An exception no command handled: a SQLite file another command is writing to is said
    in French (`busy_database`); anything else is an internal error, logged."""
    from checker.db.engine import busy_database  # here: a command that succeeds does not pay

    busy = busy_database(error)
    if busy is None:
        internal_error()
    report_error(busy)
    sys.exit(busy.exit_code)
