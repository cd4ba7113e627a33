"""Typer's fixed English texts in French: help panels, the help option and usage errors.

Typer vendors Click with its texts written in English, outside gettext: the panel titles are
module constants of `typer.rich_utils`, read when help is shown; the help option is created
once per command and cached, so its text can be set before the command runs; usage errors
carry their parts (option name, parameter, value) as attributes, from which a French message
is written. Anything not recognised keeps Typer's own text rather than a guessed one.
"""

from __future__ import annotations

import re
from typing import Any

from typer import rich_utils

HELP_OPTION_TEXT = "Affiche cette aide et s'arrête."

_VALUE_MESSAGES = (
    (re.compile(r"^Value (.+) is not a valid (int|integer)\.?$"), "{0} n'est pas un nombre entier"),
    (re.compile(r"^Value (.+) is not a valid (float|decimal)\.?$"), "{0} n'est pas un nombre"),
    (re.compile(r"^Value (.+) is not a valid (.+?)\.?$"), "{0} n'est pas une valeur acceptée"),
    (re.compile(r"^(?:File|Directory|Path) (.+) does not exist\.?$"), "{0} n'existe pas"),
    (re.compile(r"^(.+) is not one of (.+?)\.?$"), "{0} n'est pas l'une des valeurs {1}"),
    (re.compile(r"^Input should be a valid integer\b.*$"), "un nombre entier est attendu"),
    (re.compile(r"^Input should be a valid number\b.*$"), "un nombre est attendu"),
    (re.compile(r"^Input should be a valid date\b.*$"), "une date AAAA-MM-JJ est attendue"),
)


def set_french_texts() -> None:
    rich_utils.ARGUMENTS_PANEL_TITLE = "Arguments"
    rich_utils.OPTIONS_PANEL_TITLE = "Options"
    rich_utils.COMMANDS_PANEL_TITLE = "Commandes"
    rich_utils.ERRORS_PANEL_TITLE = "Erreur"
    rich_utils.REQUIRED_LONG_STRING = "[obligatoire]"
    rich_utils.DEFAULT_STRING = "[par défaut : {}]"
    rich_utils.ENVVAR_STRING = "[variable d'environnement : {}]"
    rich_utils.DEPRECATED_STRING = "(obsolète) "
    rich_utils.ABORTED_TEXT = "Interrompu."
    rich_utils.RICH_HELP = "Aide : [blue]{command_path} {help_option}[/]"


def set_french_help_option(command: Any) -> None:
    """The `--help` option of `command` and of its subcommands, described in French."""
    context = command.context_class(command, info_name=command.name, **command.context_settings)
    option = command.get_help_option(context)
    if option is not None:
        option.help = HELP_OPTION_TEXT
    for subcommand in getattr(command, "commands", {}).values():
        set_french_help_option(subcommand)


def _hint(error: Any) -> str:
    hint = getattr(error, "param_hint", None)
    if hint is None and getattr(error, "param", None) is not None:
        hint = error.param.get_error_hint()
    if isinstance(hint, list | tuple):
        hint = " / ".join(hint)
    return str(hint or "").replace("'", "")


def _value_message(message: str) -> str:
    for pattern, french in _VALUE_MESSAGES:
        found = pattern.match(message.strip())
        if found:
            return french.format(*(f"« {part.strip(chr(39))} »" for part in found.groups()))
    return message


def french_usage_error(error: Any) -> str | None:
    """A usage error of the command line in French, or None when it is not one we know."""
    kind = type(error).__name__
    if kind == "NoSuchOption":
        text = f"option inconnue : {error.option_name}"
        if error.possibilities:
            text += f" (vouliez-vous dire {', '.join(sorted(error.possibilities))} ?)"
        return text
    if kind == "MissingParameter":
        param_type = error.param_type or getattr(error.param, "param_type_name", "")
        what = {"argument": "argument manquant", "option": "option manquante"}
        return f"{what.get(param_type, 'paramètre manquant')} : {_hint(error)}"
    if kind == "BadParameter":
        hint = _hint(error)
        where = f" pour {hint}" if hint else ""
        return f"valeur refusée{where} : {_value_message(error.message)}"
    if kind == "UsageError":
        found = re.match(r"^No such command '(.+?)'\.(?: Did you mean '(.+)'\?)?$", error.message)
        if found:
            text = f"commande inconnue : {found.group(1)}"
            return text + (f" (vouliez-vous dire {found.group(2)} ?)" if found.group(2) else "")
        found = re.match(r"^Got unexpected extra argument(?:s|\(s\))? \((.+)\)$", error.message)
        if found:
            return f"argument(s) en trop : {found.group(1)}"
    return None
