"""The quick path of `mixite rules test` (checker/cli/quick.py) reads only the plain form of the
command line and prints exactly what the Typer command prints, with the same exit code; any
other form goes to Typer."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from checker.cli.quick import rules_test_arguments
from checker.paths import rules_dir

RULE = "R441-5-2.CONTINGENT-ETAT"  # six cases: quick to run


def _mixite(*arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "checker", *arguments], capture_output=True,
                          text=True, check=False, timeout=300)  # fmt: skip


def test_the_plain_form_is_read() -> None:
    assert rules_test_arguments([]) == {
        "paths": None, "regle": None, "moteur": None, "processus": None,
    }  # fmt: skip
    assert rules_test_arguments(["a", "--regle", "R", "b", "--moteur=sql", "--processus", "2"]) == {
        "paths": [Path("a"), Path("b")], "regle": "R", "moteur": "sql", "processus": 2,
    }  # fmt: skip


@pytest.mark.parametrize(
    "arguments",
    [
        ["--help"],
        ["regles", "--regle", "A", "--regle", "B"],  # repeated
        ["--regles", "A"],  # misspelt
        ["--regle"],  # no value
        ["--regle", "-x"],
        ["--processus", "0"],  # refused by Typer (at least 1)
        ["--processus", "01"],  # a conversion left to Typer
        ["--processus", "deux"],
        ["--", "regles"],
        ["-"],
    ],
)
def test_any_other_form_goes_to_typer(arguments: list[str]) -> None:
    assert rules_test_arguments(arguments) is None


def test_the_quick_path_answers_as_the_typer_command(tmp_path: Path) -> None:
    quick = _mixite("rules", "test", "--regle", RULE, "--processus", "1")
    typer = _mixite("rules", "test", "--regle", RULE, "--processus", "01")  # not the plain form
    assert quick.returncode == typer.returncode == 0, quick.stderr + typer.stderr
    assert quick.stdout == typer.stdout and "6 réussi(s), 0 en échec." in quick.stdout
    # A case that fails: same lines, same exit code.
    rules = tmp_path / "regles"
    shutil.copytree(rules_dir(), rules)
    tests = rules / "national" / "tests" / "contingent_etat.tests.yaml"
    text = tests.read_text(encoding="utf-8")
    assert "statut: non_conforme, numerateur: 4" in text, "update this test"
    tests.write_text(text.replace("statut: non_conforme, numerateur: 4",
                                  "statut: conforme, numerateur: 4", 1), encoding="utf-8")  # fmt: skip
    quick = _mixite("rules", "test", str(rules), "--regle", RULE, "--processus", "1")
    typer = _mixite("rules", "test", str(rules), "--regle", RULE, "--processus", "01")
    assert quick.returncode == typer.returncode == 1, quick.stderr + typer.stderr
    assert quick.stdout == typer.stdout and "ÉCHEC" in quick.stdout


def test_an_error_reads_the_same_on_both_paths() -> None:
    quick = _mixite("rules", "test", "--regle", RULE + "X", "--processus", "1")
    typer = _mixite("rules", "test", "--regle", RULE + "X", "--processus", "01")
    assert quick.returncode == typer.returncode == 1
    assert quick.stderr == typer.stderr and f"Vouliez-vous dire {RULE} ?" in quick.stderr


def test_the_collector_is_on_again_after_loading_even_when_loading_fails(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`run_tests` turns the cyclic collector off while the rules and the test files load,
    then freezes what they loaded: the collector is on again whatever happened."""
    import gc

    from checker.cli.rules_test_output import run_tests
    from checker.errors import MixiteError

    frozen: list[bool] = []
    monkeypatch.setattr(gc, "freeze", lambda: frozen.append(gc.isenabled()))
    with pytest.raises(MixiteError, match="Moteur inconnu"):
        run_tests(None, RULE, "turbo", 1)
    assert frozen == [False]  # frozen while still off, just after loading
    assert gc.isenabled()
