"""Where a rule's bound on a local objective applies (issue #13, points 2 and 3): the law sets
the rate for the EPCI's territory, the CIA splits the effort between bailleurs; before ELAN the
CIL orientations could adapt the 25 % to the local situation."""

from __future__ import annotations

from pathlib import Path

from checker.paths import rules_dir
from checker.schema import schema
from dsl.analysis import load_rulebook
from dsl.diagnostics import Diagnostic


def _lint(tmp_path: Path, start: str, objectives: str) -> list[Diagnostic]:
    cia = tmp_path / "cia.regles"
    text = f"""engagement CIA-TEST
  titre "CIA de test"
  source "CIA signée" url "https://exemple.invalid/cia.pdf"
  territoire "910000009"
  signataires "Préfet", "EPCI"
  du {start} au 31/12/2026
{objectives}"""
    _, diagnostics = load_rulebook([rules_dir()], schema(), texts={cia: text})
    return [d for d in diagnostics if d.code.startswith(("E5", "W5"))]


SPLIT = """  objectif L441-1.Q1-HORS-QPV : 25 %
    source "CIA, article 4"
  objectif L441-1.Q1-HORS-QPV pour bailleur = "910000017" : 20 %
    source "CIA, article 4"
  objectif L441-1.Q1-HORS-QPV pour bailleur = "910000025" : 30 %
    source "CIA, article 4"
"""


def test_a_bailleur_below_the_rate_is_a_warning_when_the_territory_holds(tmp_path: Path) -> None:
    found = _lint(tmp_path, "01/01/2024", SPLIT)
    assert [d.code for d in found] == ["W501"]
    assert "20 %" in found[0].message and "territoire" in found[0].message


def test_a_territory_objective_below_the_rate_after_elan_is_refused(tmp_path: Path) -> None:
    territory_20 = '  objectif L441-1.Q1-HORS-QPV : 20 %\n    source "CIA, article 4"\n'
    assert [d.code for d in _lint(tmp_path, "01/01/2024", territory_20)] == ["E501"]
    assert [d.code for d in _lint(tmp_path, "25/11/2018", territory_20)] == ["E501"]
    # Under the loi Égalité et Citoyenneté (until 24/11/2018) a lower local rate was lawful.
    assert _lint(tmp_path, "24/11/2018", territory_20) == []
    assert _lint(tmp_path, "01/06/2017", territory_20) == []


def test_an_objective_above_the_rate_is_silent(tmp_path: Path) -> None:
    above = '  objectif L441-1.Q1-HORS-QPV pour bailleur = "910000017" : 30 %\n    source "CIA"\n'
    assert _lint(tmp_path, "01/01/2024", above) == []


def test_the_qpv_objective_has_a_floor_from_elan_only(tmp_path: Path) -> None:
    # ELAN made the 50 % in QPV a floor (« au moins 50 % », upwards only); before, the
    # orientations could set another rate.
    qpv_45 = '  objectif L441-1-5.QPV-HORS-Q1 : 45 %\n    source "CIA, article 5"\n'
    assert [d.code for d in _lint(tmp_path, "25/11/2018", qpv_45)] == ["E501"]
    assert _lint(tmp_path, "24/11/2018", qpv_45) == []
    bailleur_45 = (
        '  objectif L441-1-5.QPV-HORS-Q1 pour bailleur = "910000017" : 45 %\n    source "CIA"\n'
    )
    assert [d.code for d in _lint(tmp_path, "01/01/2024", bailleur_45)] == ["W501"]
    assert _lint(tmp_path, "01/01/2024", qpv_45.replace("45 %", "60 %")) == []
