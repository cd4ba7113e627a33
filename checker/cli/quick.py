"""A quick path for `mixite quartile` and `mixite rules test`, taken before Typer is imported.

Typer, with the pydantic conversion of arguments it brings, costs about a third of what
`mixite quartile` spends answering one household. The question is asked ten times a day with
the same plain form: for that form only (every option known, given once, with a plain value),
the arguments are read here and the answer is printed by the very code of the command
(`checker.cli.quartile_output`). Anything else, help, a misspelt or repeated option, a value
Typer would have to convert or refuse, goes to Typer, so that help and usage errors stay
exactly Typer's.

`mixite rules test` is run by a rule author after every edit; its plain form (rule folders or
files, `--regle`, `--moteur`, `--processus` with plain values, each option once) is read the
same way and runs the command's own code (`checker.cli.rules_test_output`).
"""

from __future__ import annotations

import re
import sys
from collections.abc import Sequence

_TEXT = ("--epci", "--revenus-mensuels")
_INTEGERS = {"--annee": None, "--titulaires": 1, "--personnes-14-plus": 0, "--moins-14": 0}
_FLAG = "--json"
_PLAIN_INTEGER = re.compile(r"0|[1-9][0-9]{0,8}")


def quartile_arguments(arguments: Sequence[str]) -> dict[str, object] | None:
    """The options of `mixite quartile` given as `arguments` (after the command name), or None
    when they are not in the plain form this path reads (Typer then reads them)."""
    given: dict[str, str | bool] = {}
    pending = list(arguments)
    while pending:
        token = pending.pop(0)
        name, equals, value = token.partition("=")
        if name == _FLAG and not equals:
            option: str | bool = True
        elif name in _TEXT or name in _INTEGERS:
            if not equals:
                if not pending:
                    return None
                value = pending.pop(0)
            if value.startswith("-"):
                return None
            option = value
        else:
            return None
        if name in given:
            return None
        given[name] = option
    if any(required not in given for required in ("--epci", "--annee", "--revenus-mensuels")):
        return None
    numbers: dict[str, int] = {}
    for name, default in _INTEGERS.items():
        text = given.get(name)
        if text is None:
            assert default is not None
            numbers[name] = default
        elif isinstance(text, str) and _PLAIN_INTEGER.fullmatch(text):
            numbers[name] = int(text)
        else:
            return None
    return {
        "epci": given["--epci"],
        "annee": numbers["--annee"],
        "revenus_mensuels": given["--revenus-mensuels"],
        "titulaires": numbers["--titulaires"],
        "personnes_14_plus": numbers["--personnes-14-plus"],
        "moins_14": numbers["--moins-14"],
        "as_json": given.get(_FLAG, False),
        "rules": None,
    }


_RULES_TEST_OPTIONS = ("--regle", "--moteur", "--processus")
_PLAIN_COUNT = re.compile(r"[1-9][0-9]{0,8}")


def rules_test_arguments(arguments: Sequence[str]) -> dict[str, object] | None:
    """The paths and options of `mixite rules test` given as `arguments` (after `rules test`),
    or None when they are not in the plain form this path reads (Typer then reads them)."""
    from pathlib import Path

    paths: list[Path] = []
    given: dict[str, str] = {}
    pending = list(arguments)
    while pending:
        token = pending.pop(0)
        if not token.startswith("-"):
            paths.append(Path(token))
            continue
        name, equals, value = token.partition("=")
        if name not in _RULES_TEST_OPTIONS or name in given:
            return None
        if not equals:
            if not pending:
                return None
            value = pending.pop(0)
        if value.startswith("-") or (name == "--processus" and not _PLAIN_COUNT.fullmatch(value)):
            return None
        given[name] = value
    count = given.get("--processus")
    return {
        "paths": paths or None,
        "regle": given.get("--regle"),
        "moteur": given.get("--moteur"),
        "processus": int(count) if count is not None else None,
    }


def quick_main(arguments: Sequence[str]) -> bool:
    """Answer the command line `arguments` here when it is a plain `mixite quartile` or
    `mixite rules test`; False when Typer must read it."""
    if not arguments:
        return False
    if arguments[0] == "quartile":
        options = quartile_arguments(arguments[1:])
    elif list(arguments[:2]) == ["rules", "test"]:
        options = rules_test_arguments(arguments[2:])
    else:
        return False
    if options is None:
        return False
    from checker.cli.guard import report_error, unexpected_error
    from checker.errors import MixiteError

    try:
        if arguments[0] == "quartile":
            from checker.cli.quartile_output import show_quartile

            show_quartile(**options)  # type: ignore[arg-type]
        else:
            from checker.cli.rules_test_output import run_tests

            code = run_tests(**options)  # type: ignore[arg-type]
            if code:
                sys.exit(code)
    except MixiteError as error:
        report_error(error)
        sys.exit(error.exit_code)
    except KeyboardInterrupt:
        from checker.cli.console import err

        err.print("Interrompu.")
        sys.exit(130)
    except Exception as error:
        unexpected_error(error)
    return True
