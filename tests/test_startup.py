"""Start-up stays light: `mixite --version`, `--help` and each command's help import none of the
heavy libraries (SQLAlchemy, Lark, openpyxl, matplotlib…), which commands load where they use them.

Checked with `python -X importtime` (the modules a process imported), not with a clock: the
time itself is measured by `benchmarks/feedback_benchmark.py`.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

# Libraries that cost tens to hundreds of milliseconds to import and that no help screen needs.
HEAVY = (
    "sqlalchemy", "lark", "yaml", "pydantic", "matplotlib", "openpyxl", "jinja2", "numpy",
    "alembic", "psycopg", "hypothesis", "argon2", "fastapi", "uvicorn", "starlette",
)  # fmt: skip

COMMANDS = (
    ["import"], ["param"], ["check"], ["explain"], ["bilan-reservataires"], ["demo"],
    ["quartile"], ["db", "upgrade"], ["rules", "lint"], ["rules", "test"], ["rules", "show"],
    ["runs"], ["audit", "verify"], ["caleol", "check"], ["audit", "acces"], ["users", "add"],
    ["users", "list"], ["users", "token"], ["users", "disable"], ["serve"],
    ["rules", "diff"], ["rules", "new", "regle"], ["rules", "new", "engagement"], ["lsp"],
    ["diagnostic"],
)  # fmt: skip


def imported_modules(*arguments: str) -> set[str]:
    """The top-level packages a `mixite` process imported (from its -X importtime report)."""
    process = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "checker", *arguments],
        capture_output=True, text=True, check=False, timeout=120,
    )  # fmt: skip
    assert process.returncode == 0, process.stderr[-2000:]
    names = set()
    for line in process.stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            names.add(line.rsplit("|", 1)[1].strip().split(".")[0])
    assert names, "no -X importtime report"
    return names


def test_version_imports_no_heavy_library_and_not_even_rich() -> None:
    loaded = imported_modules("--version")
    assert not loaded & {*HEAVY, "rich"}, sorted(loaded & {*HEAVY, "rich"})


def test_root_help_imports_no_heavy_library() -> None:
    loaded = imported_modules("--help")
    assert not loaded & set(HEAVY), sorted(loaded & set(HEAVY))


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_command_help_imports_no_heavy_library(command: list[str]) -> None:
    # Typer itself converts a command's arguments through pydantic (TypeAdapter) once it
    # builds them: that one is the CLI library's cost, not ours.
    heavy = set(HEAVY) - {"pydantic"}
    loaded = imported_modules(*command, "--help")
    assert not loaded & heavy, sorted(loaded & heavy)


def test_quartile_with_cached_rules_needs_neither_the_parser_nor_the_database_layer() -> None:
    """`mixite quartile` answers from the cached rulebook (see checker/rulebook_cache.py):
    once the rules have been checked, it imports neither Lark, nor SQLAlchemy, nor YAML."""
    household = ["quartile", "--epci", "CA Amiens Métropole", "--annee", "2025",
                 "--titulaires", "1", "--revenus-mensuels", "1200"]  # fmt: skip
    imported_modules(*household)  # the first run checks the rules and fills the cache
    loaded = imported_modules(*household)
    heavy = set(HEAVY) - {"pydantic"}  # Typer's own conversion of the arguments
    assert not loaded & heavy, sorted(loaded & heavy)


def test_a_plain_quartile_is_answered_without_typer() -> None:
    """The plain form of `mixite quartile` is read before Typer is imported (checker/cli/quick.py):
    with cached rules, neither Typer, nor click, nor pydantic is imported."""
    household = ["quartile", "--epci", "CA Amiens Métropole", "--annee", "2025",
                 "--titulaires", "1", "--revenus-mensuels", "1200", "--json"]  # fmt: skip
    imported_modules(*household)  # the first run checks the rules and fills the cache
    loaded = imported_modules(*household)
    assert not loaded & {*HEAVY, "typer", "click"}, sorted(loaded & {*HEAVY, "typer", "click"})


def test_a_plain_rules_test_is_run_without_typer() -> None:
    """The plain form of `mixite rules test` is read before Typer is imported
    (checker/cli/quick.py): a rule author runs it after every edit. With the cases already
    imported once (the cache of imported cases), neither Typer, nor click, nor pydantic is
    imported; a case not yet in that cache goes through the importer, which validates its
    files with pydantic."""
    command = ["rules", "test", "--regle", "R441-5-2.CONTINGENT-ETAT", "--processus", "1"]
    cli = {"typer", "click", "pydantic"}
    imported_modules(*command)  # the first run imports the cases and fills the cache
    loaded = imported_modules(*command)
    assert not loaded & cli, sorted(loaded & cli)


def test_a_plain_rules_test_builds_neither_the_orm_nor_the_models() -> None:
    """The evaluator builds its statements on the tables alone (checker/db/tables.py): with the
    cases and the tables in the cache, `mixite rules test` imports neither sqlalchemy.orm nor
    checker.db.models (about 0.13 s of CPU)."""
    command = ["rules", "test", "--regle", "R441-5-2.CONTINGENT-ETAT", "--processus", "1"]
    imported_modules(*command)  # the first run fills the caches
    process = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "checker", *command],
        capture_output=True, text=True, check=False, timeout=120,
    )  # fmt: skip
    assert process.returncode == 0, process.stderr[-2000:]
    modules = {line.rsplit("|", 1)[1].strip() for line in process.stderr.splitlines()
               if line.startswith("import time:") and "|" in line}  # fmt: skip
    assert "checker.evaluate.run" in modules  # the evaluation ran
    assert not modules & {"sqlalchemy.orm", "checker.db.models"}
