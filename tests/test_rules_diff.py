"""`mixite rules diff`: what changed in the rules between two dates, or since a revision."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
from pathlib import Path

import pytest

from checker.rulebook_loader import require_rules
from checker.rules_diff import Changes, as_markdown, as_text, changes_between
from tests.test_cli import mixite

ROOT = Path(__file__).resolve().parents[1]


def _between(before: str, after: str) -> Changes:
    rulebook, _ = require_rules(None)
    return changes_between(rulebook, dt.date.fromisoformat(before), rulebook,
                           dt.date.fromisoformat(after))  # fmt: skip


def _what(changes: Changes) -> dict[str, list[str]]:
    found = {rule.rule_id: [change.what for change in rule.changes] for rule in changes.rules}
    found["paramètres"] = [change.what.split(" ")[1] for change in changes.parameters]
    return found


def test_new_year_2024_names_the_quartile_thresholds_and_the_cotation_deadline() -> None:
    changes = _between("2023-12-31", "2024-01-01")
    what = _what(changes)
    assert what["L441-2-8.COTATION"] == [
        "échéance du 31/12/2023 atteinte (écrite dans la version du 23/02/2022)"
    ]
    assert {"seuil_q1", "seuil_q2", "seuil_q3"} <= set(what["paramètres"])
    seuil_q1 = next(c for c in changes.parameters if c.what.startswith("paramètre seuil_q1 "))
    assert "sans valeur auparavant ; en vigueur le 01/01/2024" in seuil_q1.what
    assert seuil_q1.details[0] == "lu par : L441-1-5.QPV-HORS-Q1, L441-1.Q1-HORS-QPV"
    assert any("aucune valeur → " in detail for detail in seuil_q1.details)
    assert seuil_q1.sources and all(source.url for source in seuil_q1.sources)
    cotation = changes.rules[[r.rule_id for r in changes.rules].index("L441-2-8.COTATION")]
    assert any("soit date_limite = 31/12/2023" in d for d in cotation.changes[0].details)
    assert "3DS" in cotation.changes[0].sources[0].title
    # Nothing else takes effect that night: the other rules' versions are unchanged.
    assert set(what) - {"paramètres"} == {"L441-2-8.COTATION"}


def test_elan_on_25_november_2018() -> None:
    changes = _between("2018-11-24", "2018-11-25")
    what = _what(changes)
    # ELAN: the new version, which counts ORCOD rehousing too (issue #13).
    assert what["L441-1.Q1-HORS-QPV"][0] == (
        "nouvelle version du 25/11/2018 au 22/02/2022 (remplace celle du 29/01/2017 au 24/11/2018)"
    )
    assert what["L441-2-8.COTATION"] == ["entre en vigueur : version du 25/11/2018 au 18/12/2019"]
    assert what["L441-1.GESTION-EN-FLUX"] == [
        "entre en vigueur : version du 25/11/2018 au 22/02/2022"
    ]
    assert "R441-3.CALEOL-TROIS-CANDIDATS" in what
    for rule in changes.rules:
        # Each change is sourced to ELAN, except an uncertain point of the version left behind.
        sourced = [change for change in rule.changes if change.sources]
        assert sourced and all("ELAN" in change.sources[0].title for change in sourced)
        assert all(c.sources or c.what.startswith("point incertain levé") for c in rule.changes)
    # ELAN turned the 25 % outside QPV and the 50 % in QPV into floors of the CIA's objectives.
    assert sorted(what["paramètres"]) == [
        "plancher_objectif_q1_hors_qpv",
        "plancher_objectif_qpv_hors_q1",
    ]


def test_no_change_and_intermediate_versions() -> None:
    assert _between("2019-06-01", "2019-06-01").empty
    assert as_text(_between("2019-06-01", "2019-06-01")).endswith("Aucun changement.\n")
    # Over 2019–2022 the cotation deadline moved twice: the versions in between are named.
    what = _what(_between("2019-01-01", "2022-12-31"))["L441-2-8.COTATION"]
    assert "version en vigueur du 19/12/2019 au 01/08/2021 seulement (remplacée depuis)" in what
    assert any(line.startswith("nouvelle version du 23/02/2022") for line in what)
    assert any(line.startswith("point incertain ajouté : Le jour exact") for line in what)


def test_clause_changes_of_a_version_are_listed(tmp_path: Path) -> None:
    """A version by difference lists what it adds and removes (the tutorial's example)."""
    rulebook, _ = require_rules([ROOT / "rules", ROOT / "docs/regles/exemple"])
    changes = changes_between(rulebook, dt.date(2024, 12, 31), rulebook, dt.date(2025, 1, 1))
    rule = next(r for r in changes.rules if r.rule_id == "EXEMPLE.MUTATIONS")
    assert rule.changes[0].details == (
        "ajouté : sauf si relogement_urbain",
        'ajouté : aussi "dalo" : dalo',
    )
    parameter = next(c for c in changes.parameters if "taux_mutations_exemple" in c.what)
    assert "20 % → 25 % depuis le 01/01/2025" in parameter.what
    markdown = as_markdown(changes)
    assert "## EXEMPLE.MUTATIONS" in markdown and "`ajouté : sauf si relogement_urbain`" in markdown


def test_cli_between_dates_and_refusals() -> None:
    done = mixite("rules", "diff", "--du", "2023-12-31", "--au", "2024-01-01")
    assert done.returncode == 0, done.stderr
    text = " ".join(done.stdout.split())  # lines are cut to the terminal's width
    assert "échéance du 31/12/2023 atteinte" in text and "seuil_q1" in text
    for arguments, message in [
        (("--du", "2024-01-02", "--au", "2024-01-01"), "est après --au"),
        (
            (
                "--du",
                "2024-13-01",
            ),
            "--du : date illisible « 2024-13-01 »",
        ),
        ((), "Indiquez --du"),
        (("--depuis", "pas-une-revision"), "Révision git inconnue"),
    ]:
        refused = mixite("rules", "diff", *arguments)
        assert refused.returncode == 1 and message in refused.stderr, refused.stderr
        assert "Traceback" not in refused.stderr


@pytest.mark.skipif(shutil.which("git") is None, reason="git absent")
def test_cli_since_a_revision(tmp_path: Path) -> None:
    """Two commits of a rules folder: the second changes a rate; --depuis names it."""
    folder = tmp_path / "depot"
    shutil.copytree(ROOT / "docs/regles/exemple", folder / "regles")

    def git(*args: str) -> None:
        subprocess.run(["git", "-C", str(folder), *args], check=True, capture_output=True)

    git("init", "-q")
    git("-c", "user.name=t", "-c", "user.email=t@t", "add", ".")
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "un")
    path = folder / "regles" / "exemple.regles"
    path.write_text(path.read_text(encoding="utf-8").replace(": 25 %", ": 27 %"), encoding="utf-8")
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qam", "deux")
    done = mixite("rules", "diff", "--depuis", "HEAD~1", "--au", "2025-06-01",
                  "--rules", str(ROOT / "rules"), "--rules", str(folder / "regles"))  # fmt: skip
    assert done.returncode == 0, done.stderr
    text = " ".join(done.stdout.split())  # lines are cut to the terminal's width
    assert "entre la révision HEAD~1 (au 01/06/2025) et l'état actuel (au 01/06/2025)" in text
    assert "paramètre taux_mutations_exemple" in text and "25 % → 27 %" in text
    outside = mixite("rules", "diff", "--depuis", "HEAD", "--rules", str(ROOT / "rules"),
                     "--rules", str(tmp_path / "ailleurs.regles"))  # fmt: skip
    assert outside.returncode == 1 and "Traceback" not in outside.stderr


def test_text_is_cut_for_a_terminal() -> None:
    changes = _between("2023-12-31", "2024-01-01")
    lines = as_text(changes, 80).splitlines()
    assert all(len(line) <= 80 or "https://" in line for line in lines)
    assert "  • échéance du 31/12/2023 atteinte (écrite dans la version du 23/02/2022)" in lines
    assert (
        as_text(changes, 80).replace("\n", " ").split()
        == as_text(changes).replace("\n", " ").split()
    )
