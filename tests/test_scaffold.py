"""`mixite rules new`: a local rule or an engagement, with its tests, that lints clean and
passes its tests at once; refusals; the questions asked in a terminal."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from checker.cli import new_command
from checker.cli.app import app
from checker.paths import rules_dir
from checker.rule_tests import run_rule_tests
from checker.rulebook_loader import load_rules
from tests.test_cli import mixite

SIREN = "990000101"  # not the rule tests' own territory (910000009)


def _lint_and_test(folder: Path) -> list[str]:
    loaded = load_rules([rules_dir(), folder])
    assert loaded.rulebook is not None, [d.render() for d in loaded.diagnostics]
    assert [d.render() for d in loaded.diagnostics] == []
    outcomes = run_rule_tests(loaded.rulebook, [folder])
    assert outcomes and all(outcome.ok for outcome in outcomes), [o.failures for o in outcomes]
    return [outcome.name for outcome in outcomes]


@pytest.mark.parametrize(
    ("criterion", "rate", "expected"),
    [
        (
            "mutation",
            "25 %",
            ["2024 : 1 sur 4 (mutation), conforme", "2024 : 0 sur 4 (mutation), non conforme"],
        ),
        (
            "dalo",
            "33,3",
            ["2024 : 2 sur 4 (dalo), conforme", "2024 : 1 sur 4 (dalo), non conforme"],
        ),
        (
            "travailleur_essentiel",
            "100",
            [
                "2024 : 4 sur 4 (travailleur_essentiel), conforme",
                "2024 : 3 sur 4 (travailleur_essentiel), non conforme",
            ],
        ),
        ("mutation", "0", ["2024 : 0 sur 4 (mutation), conforme"]),
    ],
)
def test_a_local_rule_lints_and_tests_green(tmp_path: Path, criterion: str, rate: str,
                                            expected: list[str]) -> None:  # fmt: skip
    done = mixite("rules", "new", "regle", "CIA-ESSAI.PART", "--titre", "Part d'essai",
                  "--territoire", SIREN, "--critere", criterion, "--taux", rate, "--du", "01/03/2024",
                  "--source", "Délibération d'essai", "--url", "https://exemple.invalid/d.pdf",
                  "--dossier", str(tmp_path))  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "cia_essai_part.regles").is_file()
    assert _lint_and_test(tmp_path) == expected
    assert mixite("rules", "fmt", "--check", str(tmp_path)).returncode == 0


def test_an_engagement_lints_and_tests_green(tmp_path: Path) -> None:
    done = mixite("rules", "new", "engagement", "CIA-ESSAI-2024", "--titre", "CIA d'essai",
                  "--territoire", SIREN, "--regle", "L441-1.Q1-HORS-QPV", "--objectif", "30 %",
                  "--du", "2024-07-01", "--au", "30/06/2030", "--signataire", "EPCI d'essai",
                  "--signataire", "Préfet", "--source", "CIA d'essai signée le 1er juillet 2024",
                  "--url", "https://exemple.invalid/cia.pdf", "--dossier", str(tmp_path))  # fmt: skip
    assert done.returncode == 0, done.stderr
    text = (tmp_path / "cia_essai_2024.regles").read_text(encoding="utf-8")
    assert 'signataires "EPCI d\'essai", "Préfet"' in text and "du 01/07/2024 au 30/06/2030" in text
    assert _lint_and_test(tmp_path) == [
        "2024 : l'objectif de CIA-ESSAI-2024 est la cible pour l'EPCI"
    ]


def test_refusals_write_nothing(tmp_path: Path) -> None:
    missing = mixite("rules", "new", "regle", "--dossier", str(tmp_path))
    assert missing.returncode == 1 and "Options manquantes : IDENTIFIANT, --titre" in missing.stderr
    bad = mixite("rules", "new", "regle", "x.y", "--titre", "t", "--territoire", SIREN, "--taux", "5",
                 "--du", "01/01/2024", "--source", "s", "--url", "u", "--dossier", str(tmp_path))  # fmt: skip
    assert bad.returncode == 1 and "Identifiant de règle mal formé" in bad.stderr
    assert list(tmp_path.iterdir()) == []
    (tmp_path / "cia_essai_part.tests.yaml").write_text("# déjà là\n", encoding="utf-8")
    taken = mixite("rules", "new", "regle", "CIA-ESSAI.PART", "--titre", "t", "--territoire", SIREN,
                   "--taux", "5", "--du", "01/01/2024", "--source", "s", "--url", "u",
                   "--dossier", str(tmp_path))  # fmt: skip
    assert taken.returncode == 1 and "existe déjà" in taken.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cia_essai_part.tests.yaml"]
    assert "Traceback" not in missing.stderr + bad.stderr + taken.stderr


def test_questions_in_a_terminal(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(new_command, "_in_a_terminal", lambda: True)
    answers = ["CIA-ESSAI.QUESTIONS", "Part posée en questions", "123", SIREN, "", "quarante",
               "40", "01/01/2025", "Délibération d'essai", "https://exemple.invalid/q.pdf"]  # fmt: skip
    result = CliRunner().invoke(app, ["rules", "new", "regle", "--dossier", str(tmp_path)],
                                input="\n".join(answers) + "\n")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "SIREN de l'EPCI mal formé" in result.output  # asked again
    assert "Pourcentage illisible" in result.output
    text = (tmp_path / "cia_essai_questions.regles").read_text(encoding="utf-8")
    assert "du 01/01/2025 : 40 %" in text and "vérifiant mutation" in text  # the default criterion
    assert _lint_and_test(tmp_path) == ["2025 : 2 sur 4 (mutation), conforme",
                                        "2025 : 1 sur 4 (mutation), non conforme"]  # fmt: skip


def test_the_criteria_of_the_command_are_the_scaffolds() -> None:
    from checker.scaffold import CRITERIA

    assert tuple(CRITERIA) == new_command.CRITERIA
