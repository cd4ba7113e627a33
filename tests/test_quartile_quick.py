"""The quick path of `mixite quartile` (checker/cli/quick.py) reads only the plain form of the
command line, and answers exactly as the Typer command does; any other form goes to Typer."""

from __future__ import annotations

import subprocess
import sys

import pytest

from checker.cli.quick import quartile_arguments

PLAIN = ["--epci", "CA Amiens Métropole", "--annee", "2024", "--revenus-mensuels", "1000"]


def _mixite(*arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "checker", *arguments], capture_output=True,
                          text=True, check=False, timeout=120)  # fmt: skip


def test_the_plain_form_is_read_with_the_commands_defaults() -> None:
    assert quartile_arguments([*PLAIN, "--moins-14=2", "--json"]) == {
        "epci": "CA Amiens Métropole", "annee": 2024, "revenus_mensuels": "1000",
        "titulaires": 1, "personnes_14_plus": 0, "moins_14": 2, "as_json": True, "rules": None,
    }  # fmt: skip


@pytest.mark.parametrize(
    "arguments",
    [
        [*PLAIN, "--help"],
        [*PLAIN, "--annee", "2025"],  # repeated
        [*PLAIN, "--titulaire", "2"],  # misspelt
        [*PLAIN, "--titulaires", "-1"],
        [*PLAIN, "--titulaires", "01"],  # a conversion left to Typer
        [*PLAIN, "--titulaires", "2x"],
        [*PLAIN, "--json=oui"],
        [*PLAIN, "--rules", "regles"],
        [*PLAIN, "--titulaires"],
        PLAIN[:-2],  # --revenus-mensuels missing
    ],
)
def test_any_other_form_goes_to_typer(arguments: list[str]) -> None:
    assert quartile_arguments(arguments) is None


@pytest.mark.parametrize("json_output", [False, True])
def test_the_quick_path_answers_as_the_typer_command(json_output: bool) -> None:
    extra = ["--json"] if json_output else []
    quick = _mixite("quartile", *PLAIN, "--titulaires", "2", *extra)
    typer = _mixite("quartile", *PLAIN, "--titulaires", "02", *extra)  # not the plain form
    assert quick.returncode == typer.returncode == 0, quick.stderr + typer.stderr
    assert quick.stdout == typer.stdout and quick.stdout


def test_an_error_reads_the_same_on_both_paths() -> None:
    quick = _mixite("quartile", *PLAIN[:-1], "12x00")
    typer = _mixite("quartile", *PLAIN[:-1], "12x00", "--titulaires", "01")
    assert quick.returncode == typer.returncode == 1
    assert quick.stderr == typer.stderr
    assert "Montant illisible : « 12x00 »" in quick.stderr
