"""Typer's fixed English texts in French: help panels, the help option and usage errors.

Typer vendors Click with its texts written in English, outside gettext: the panel titles are
module constants of `typer.rich_utils`, read when help is shown; the help option is created
once per command and cached, so its text can be set before the command runs; usage errors
carry their parts (option name, parameter, value) as attributes, from which a French message
is written. Anything not recognised keeps Typer's own text rather than a guessed one.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import re
import sys
from collections.abc import Sequence
from types import ModuleType
from typing import Any, get_args, get_origin

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


_FRENCH_TEXTS = {
    "ARGUMENTS_PANEL_TITLE": "Arguments",
    "OPTIONS_PANEL_TITLE": "Options",
    "COMMANDS_PANEL_TITLE": "Commandes",
    "ERRORS_PANEL_TITLE": "Erreur",
    "REQUIRED_LONG_STRING": "[obligatoire]",
    "DEFAULT_STRING": "[par défaut : {}]",
    "ENVVAR_STRING": "[variable d'environnement : {}]",
    "DEPRECATED_STRING": "(obsolète) ",
    "ABORTED_TEXT": "Interrompu.",
    "RICH_HELP": "Aide : [blue]{command_path} {help_option}[/]",
}


def _apply_french_texts(rich_utils: ModuleType) -> None:
    for name, text in _FRENCH_TEXTS.items():
        setattr(rich_utils, name, text)


_RICH_UTILS = "typer.rich_utils"


class _FrenchOnImport(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Sets the French texts the moment Typer imports its help formatter.

    Importing `typer.rich_utils` (and Rich with it) costs a tenth of a second that only help
    screens need; it is left to Typer to import it when it shows one.
    """

    def find_spec(
        self, name: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if name != _RICH_UTILS:
            return None
        sys.meta_path.remove(self)  # find the real module once, then step aside
        try:
            spec = importlib.machinery.PathFinder.find_spec(name, path)
        finally:
            sys.meta_path.insert(0, self)
        if spec is None or spec.loader is None:
            return spec
        self._real_loader: importlib.abc.Loader = spec.loader
        spec.loader = self
        return spec

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return self._real_loader.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        self._real_loader.exec_module(module)
        _apply_french_texts(module)


def set_french_texts() -> None:
    """Typer's help texts in French, now if its formatter is loaded, else when it loads."""
    loaded = sys.modules.get(_RICH_UTILS)
    if loaded is not None:
        _apply_french_texts(loaded)
    elif not any(isinstance(finder, _FrenchOnImport) for finder in sys.meta_path):
        sys.meta_path.insert(0, _FrenchOnImport())


# What a value is, by its annotation, where an option or argument names none itself: help
# screens otherwise show Python types (`<list[Path]>`, `<bool>`, `<int>`).
_FRENCH_METAVARS = {"Path": "CHEMIN", "str": "TEXTE", "int": "N", "float": "NOMBRE",
                    "bool": "OUI|NON", "datetime": "DATE", "date": "DATE"}  # fmt: skip


def _french_metavar(param: Any) -> str | None:
    if getattr(param, "is_flag", False):
        return ""  # a flag takes no value
    descriptor = getattr(param, "type_descriptor", None)
    if descriptor is None or getattr(descriptor, "is_choice", False):
        return None  # a choice: Typer lists the values
    annotation = descriptor.annotation
    many = get_origin(annotation) is list
    if many:
        annotation = get_args(annotation)[0]
    label = _FRENCH_METAVARS.get(getattr(annotation, "__name__", ""))
    if label is None:
        return None
    return label + ("..." if many or param.nargs != 1 else "")


def _set_french_metavars(command: Any) -> None:
    for param in getattr(command, "params", []):
        if param.metavar is not None:
            continue
        label = _french_metavar(param)
        if label is None:
            continue
        if getattr(param, "param_type_name", "") == "argument":
            # An argument's help shows its name from `metavar` and its type from
            # display_type_rich, which ignores `metavar`: the type is set on the instance.
            param.display_type_rich = lambda ctx, label=label: label
        else:
            param.metavar = label


def set_french_help_option(command: Any) -> None:
    """The `--help` option of `command` and of its subcommands, described in French, and
    every value's kind in French rather than as a Python type."""
    context = command.context_class(command, info_name=command.name, **command.context_settings)
    option = command.get_help_option(context)
    if option is not None:
        option.help = HELP_OPTION_TEXT
        option.metavar = ""
    _set_french_metavars(command)
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
