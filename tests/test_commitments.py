"""Local commitments (CIA): nothing accepted that is not checked. Each mistake in an engagement
is a located diagnostic with its code; the diagnostics page's examples produce their codes."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest
from sqlalchemy import create_engine

from checker.checking import evaluate
from checker.errors import MixiteError
from checker.evaluate.reference import ReferenceEvaluator
from checker.evaluate.run import Options, Period
from checker.ingest.importer import import_bundle
from checker.paths import rules_dir
from checker.rulebook_loader import load_rules, require_rules
from dsl.diagnostics import Diagnostic
from tests import bundles
from tests.bundles import BAILLEUR_B, EPCI
from tests.test_evaluate import ATTRIBUTIONS, DWELLINGS, RULE, _results

DOCS = Path(__file__).resolve().parent.parent / "docs"

HEADER = """engagement CIA-TEST-2024
  titre "Convention d'essai"
  source "CIA d'essai signée le 15/01/2024" url "https://exemple.invalid/cia.pdf"
  territoire "980008015"
  signataires "EPCI d'essai", "Préfet"
"""


def _lint(tmp_path: Path, text: str) -> list[Diagnostic]:
    (tmp_path / "cia.regles").write_text(text, encoding="utf-8")
    return load_rules([rules_dir(), tmp_path]).diagnostics


def _codes(diagnostics: list[Diagnostic]) -> list[tuple[str, int | None]]:
    return [(d.code, d.span.line if d.span else None) for d in diagnostics]


def test_a_well_formed_engagement_is_clean(tmp_path: Path) -> None:
    text = (
        HEADER
        + """  du 15/01/2024 au 31/12/2029
  objectif L441-1.Q1-HORS-QPV pour bailleur = "912000007" : 30 %
    source "CIA d'essai, article 4"
  objectif L441-1.Q1-HORS-QPV : 27 %
    source "CIA d'essai, article 4"
"""
    )
    assert _lint(tmp_path, text) == []


def test_a_reversed_period_is_an_error(tmp_path: Path) -> None:
    text = (
        HEADER
        + """  du 15/01/2024 au 31/12/2023
  objectif L441-1.Q1-HORS-QPV : 30 %
    source "CIA d'essai, article 4"
"""
    )
    diagnostics = _lint(tmp_path, text)
    assert _codes(diagnostics) == [("E405", 1)]
    assert "à l'envers (du 15/01/2024 au 31/12/2023)" in diagnostics[0].message


def test_two_objectives_for_the_same_scope_are_an_error(tmp_path: Path) -> None:
    text = (
        HEADER
        + """  du 15/01/2024 au 31/12/2029
  objectif L441-1.Q1-HORS-QPV pour bailleur = "912000007" : 30 %
    source "CIA d'essai, article 4"
  objectif L441-1.Q1-HORS-QPV pour bailleur = "912000379" : 30 %
    source "CIA d'essai, article 4"
  objectif L441-1.Q1-HORS-QPV pour bailleur = "912000007" : 35 %
    source "CIA d'essai, article 4 bis"
"""
    )
    diagnostics = _lint(tmp_path, text)
    assert _codes(diagnostics) == [("E504", 11)]
    assert diagnostics[0].related[0].span.line == 7


def test_a_scope_named_twice_is_an_error(tmp_path: Path) -> None:
    text = (
        HEADER
        + """  du 15/01/2024 au 31/12/2029
  objectif L441-1.Q1-HORS-QPV pour bailleur = "912000007", bailleur = "912000379" : 30 %
    source "CIA d'essai, article 4"
"""
    )
    assert _codes(_lint(tmp_path, text)) == [("E504", 7)]


@pytest.mark.parametrize("value", ["120 %", "-5 %"])
def test_a_share_outside_0_and_100_percent_is_an_error(tmp_path: Path, value: str) -> None:
    text = (
        HEADER
        + f"""  du 15/01/2024 au 31/12/2029
  objectif L441-1-5.QPV-HORS-Q1 : {value}
    source "CIA d'essai, article 5"
"""
    )
    diagnostics = _lint(tmp_path, text)
    assert _codes(diagnostics) == [("E505", 7)]
    assert "entre 0 et 100 %" in diagnostics[0].message


def test_an_engagement_without_objective_and_an_objective_without_source_are_warned(
    tmp_path: Path,
) -> None:
    empty = HEADER.replace("CIA-TEST-2024", "CIA-VIDE") + "  du 15/01/2024 au 31/12/2029\n"
    text = (
        empty
        + HEADER
        + """  du 15/01/2024 au 31/12/2029
  objectif L441-1.Q1-HORS-QPV : 30 %
"""
    )
    diagnostics = _lint(tmp_path, text)
    assert _codes(diagnostics) == [("W105", 1), ("W106", 13)]
    assert all(not d.is_error for d in diagnostics)


@pytest.mark.parametrize(
    ("scope", "expected"),
    [
        ('epci = "980008015"', "E506"),
        ('residence = "R1"', "E506"),
        ('bailleur = "912000007"', None),
        ('contingent = "action_logement"', None),
        ('contingent = "Action Logement"', "E304"),
    ],
)
def test_a_scope_the_data_cannot_count_is_an_error(
    tmp_path: Path, scope: str, expected: str | None
) -> None:
    text = (
        HEADER
        + f"""  du 15/01/2024 au 31/12/2029
  objectif L441-1.Q1-HORS-QPV pour {scope} : 30 %
    source "CIA d'essai, article 4"
"""
    )
    assert [d.code for d in _lint(tmp_path, text)] == ([expected] if expected else [])


# ------------------------------------------------------------------ the diagnostics page

DIRECTIVE = re.compile(r"^<!--\s*lint\s+(?P<args>[^>]*?)\s*-->$", re.M)
FENCE = re.compile(r'^(?P<ticks>`{3,})[\w-]*\s+title="(?P<title>[^"]+)"[^\n]*\n(?P<body>.*?)^(?P=ticks)\s*$',
                   re.M | re.S)  # fmt: skip
HEADING = re.compile(r"^### (?P<code>[EW]\d{3})\b", re.M)


def _commitment_examples() -> list[tuple[str, dict[str, str], bool]]:
    """The examples of the local-commitment codes (E5…, W105, W106) on the diagnostics page."""
    markdown = (DOCS / "regles" / "diagnostics.md").read_text(encoding="utf-8")
    examples = []
    for heading in HEADING.finditer(markdown):
        code = heading.group("code")
        if not (code.startswith("E5") or code in ("W105", "W106")) or code == "E507":
            continue  # E507 compares an engagement with the database: tested with the evaluator
        directive = DIRECTIVE.search(markdown, heading.end())
        assert directive is not None, code
        args = directive.group("args").split()
        assert args[0] == code
        files = {
            m.group("title"): m.group("body")
            for m in FENCE.finditer(markdown, heading.end(), directive.start())
        }
        examples.append((code, files, "nationales" in args))
    return examples


@pytest.mark.parametrize(
    ("code", "files", "national"),
    _commitment_examples(),
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_each_commitment_code_has_an_example_that_produces_it(
    tmp_path: Path, code: str, files: dict[str, str], national: bool
) -> None:
    for name, body in files.items():
        (tmp_path / name).write_text(body, encoding="utf-8")
    previous = Path.cwd()
    os.chdir(tmp_path)
    try:
        loaded = load_rules([tmp_path, rules_dir()] if national else [tmp_path])
    finally:
        os.chdir(previous)
    assert code in {d.code for d in loaded.diagnostics}


def test_every_commitment_code_is_on_the_diagnostics_page() -> None:
    from dsl.diagnostics import CODES

    documented = {code for code, _, _ in _commitment_examples()}
    wanted = {c for c in CODES if c.startswith("E5") or c in ("W105", "W106")}
    # E507 compares an engagement with the database: documented with `mixite check`, tested below.
    assert wanted - {"E507"} <= documented


# ------------------------------------------------------------------ objectives on any scope


@pytest.fixture
def crafted(db_url: str, tmp_path: Path) -> str:
    """The hand-computed attributions of test_evaluate, imported."""
    import_bundle([bundles.write_bundle(tmp_path / "lot", DWELLINGS, ATTRIBUTIONS)], db_url)
    return db_url


def _cia(tmp_path: Path, objectives: str) -> Path:
    rules = tmp_path / "regles"
    shutil.copytree(rules_dir(), rules)
    (rules / "local").mkdir(exist_ok=True)
    (rules / "local" / "cia.regles").write_text(
        f"""engagement CIA-TEST-2024
  titre "CIA de test"
  source "CIA signée le 01/01/2024" url "https://exemple.invalid/cia.pdf"
  territoire "{EPCI}"
  signataires "Préfet", "EPCI"
  du 01/01/2024 au 31/12/2026
{objectives}""",
        encoding="utf-8",
    )
    return rules


def test_an_objective_on_a_scope_the_rule_does_not_group_by_is_computed_there(
    crafted: str, tmp_path: Path
) -> None:
    rules = _cia(
        tmp_path,
        f"""  objectif L441-1.Q1-HORS-QPV pour commune = "80902" : 30 %
    source "CIA de test, article 4"
  objectif L441-1.Q1-HORS-QPV pour qpv = "QN08001M" : 30 %
    source "CIA de test, article 4"
  objectif L441-1.Q1-HORS-QPV pour bailleur = "{BAILLEUR_B}", commune = "80902" : 35 %
    source "CIA de test, article 4"
""",
    )
    results = [r for r in _results(crafted, Period.year(2024), rules=rules) if r["rule"] == RULE]
    by_scope = {tuple(sorted(r["scope"].items())): r for r in results}  # type: ignore[union-attr]
    commune = by_scope[(("commune", "80902"), ("epci", EPCI))]
    # 80902: households 4 (rehoused), 5 and 16 (income unknown), 15 and 17 (not first quartile)
    assert (commune["numerator"], commune["denominator"], commune["unknown"]) == (1, 5, 2)
    assert (commune["target"], commune["target_source"]) == (0.3, "CIA-TEST-2024")
    assert commune["status"] == "donnees_insuffisantes"
    # This rule counts attributions outside QPV: none in a QPV's scope.
    empty = by_scope[(("epci", EPCI), ("qpv", "QN08001M"))]
    assert (empty["denominator"], empty["status"]) == (0, "non_applicable")
    both = by_scope[(("bailleur", BAILLEUR_B), ("commune", "80902"), ("epci", EPCI))]
    assert (both["numerator"], both["denominator"], both["target"]) == (1, 3, 0.35)
    # Only the scopes with an objective are added: no other commune, and the legal scopes stay.
    assert {key for key in by_scope if ("commune", "80901") in key} == set()
    assert (("epci", EPCI),) in by_scope
    assert _results(crafted, Period.year(2024), rules=rules) == _results(
        crafted, Period.year(2024), ReferenceEvaluator, rules=rules
    )


def test_an_objective_per_reservataire_is_reported_even_without_attributions(
    crafted: str, tmp_path: Path
) -> None:
    rules = _cia(
        tmp_path,
        """  objectif L441-1.Q1-HORS-QPV pour reservataire = "AL" : 30 %
    source "CIA de test, article 4"
""",
    )
    results = [r for r in _results(crafted, Period.year(2024), rules=rules) if r["rule"] == RULE]
    scoped = [r for r in results if "reservataire" in r["scope"]]  # type: ignore[operator]
    assert [(r["scope"], r["target"], r["target_source"]) for r in scoped] == [
        ({"epci": EPCI, "reservataire": "AL"}, 0.3, "CIA-TEST-2024")
    ]


# ------------------------------------------------------------------ engagements and the database


def _check(url: str, rules: Path) -> None:
    rulebook, _ = require_rules([rules])
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            evaluate(connection, rulebook, Period.year(2024), Options(), None)
    finally:
        engine.dispose()


def test_an_engagement_naming_what_the_database_does_not_know_is_refused(
    crafted: str, tmp_path: Path
) -> None:
    rules = _cia(
        tmp_path,
        f"""  objectif L441-1.Q1-HORS-QPV pour bailleur = "{BAILLEUR_B}" : 30 %
    source "CIA de test, article 4"
  objectif L441-1.Q1-HORS-QPV pour bailleur = "912999999" : 30 %
    source "CIA de test, article 4"
  objectif L441-1.Q1-HORS-QPV pour commune = "80999" : 30 %
    source "CIA de test, article 4"
""",
    )
    with pytest.raises(MixiteError) as refused:
        _check(crafted, rules)
    message = refused.value.args[0]
    assert "(2 erreur(s))" in message
    assert (
        "cia.regles:9:36: erreur E507: engagement CIA-TEST-2024 : bailleur « 912999999 » "
        "inconnu de la base (bailleurs connus : 910000017, 910000025, 910000033)" in message
    )
    assert (
        "cia.regles:11:36: erreur E507: engagement CIA-TEST-2024 : commune « 80999 » "
        "inconnue de la base (communes connues : 80901, 80902)" in message
    )


def test_an_engagement_for_a_territory_not_in_the_database_is_refused(
    crafted: str, tmp_path: Path
) -> None:
    rules = _cia(
        tmp_path,
        """  objectif L441-1.Q1-HORS-QPV : 30 %
    source "CIA de test, article 4"
""",
    )
    cia = rules / "local" / "cia.regles"
    cia.write_text(cia.read_text(encoding="utf-8").replace(EPCI, "200046977"), encoding="utf-8")
    with pytest.raises(
        MixiteError, match=r"E507: engagement CIA-TEST-2024 : territoire « 200046977 » absent"
    ):
        _check(crafted, rules)
    # The same engagement outside the checked period is not applied, so not refused.
    rulebook, _ = require_rules([rules])
    engine = create_engine(crafted)
    try:
        with engine.connect() as connection:
            evaluate(connection, rulebook, Period.year(2023), Options(), None)
    finally:
        engine.dispose()
