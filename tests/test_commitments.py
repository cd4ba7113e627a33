"""Local commitments (CIA): nothing accepted that is not checked. Each mistake in an engagement
is a located diagnostic with its code; the diagnostics page's examples produce their codes."""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
from pathlib import Path

import pytest
from sqlalchemy import create_engine

from checker.checking import evaluate
from checker.errors import MixiteError
from checker.evaluate.commitments import database_diagnostics
from checker.evaluate.reference import ReferenceEvaluator
from checker.evaluate.run import Options, Period
from checker.ingest.importer import import_bundle
from checker.paths import rules_dir
from checker.report import present
from checker.rulebook_loader import load_rules, require_rules
from dsl.diagnostics import Diagnostic
from dsl.formatter import format_text
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
    assert _codes(diagnostics) == [("W502", 1), ("W503", 13)]
    assert all(not d.is_error for d in diagnostics)


@pytest.mark.parametrize(
    ("scope", "expected"),
    [
        ('epci = "980008015"', "E506"),
        ('quartier = "Les Hauts"', "E506"),
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
    """The examples of the local-commitment codes (E5…, W502, W503) on the diagnostics page."""
    markdown = (DOCS / "regles" / "diagnostics.md").read_text(encoding="utf-8")
    examples = []
    for heading in HEADING.finditer(markdown):
        code = heading.group("code")
        if not (code.startswith("E5") or code in ("W502", "W503", "W504", "W506")) or code in (
            "E507",
            "W505",
        ):
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
    wanted = {c for c in CODES if c.startswith("E5") or c in ("W502", "W503", "W504", "W506")}
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


def test_an_engagement_for_a_territory_not_in_the_database_is_warned_not_refused(
    crafted: str, tmp_path: Path
) -> None:
    rules = _cia(
        tmp_path,
        """  objectif L441-1.Q1-HORS-QPV pour bailleur = "912999999" : 30 %
    source "CIA de test, article 4"
""",
    )
    cia = rules / "local" / "cia.regles"
    cia.write_text(cia.read_text(encoding="utf-8").replace(EPCI, "200046977"), encoding="utf-8")
    rulebook, _ = require_rules([rules])
    engine = create_engine(crafted)
    try:
        with engine.connect() as connection:
            [warning] = database_diagnostics(connection, rulebook, Period.year(2024))
            # Its scope is not compared with the database: it applies to nothing here.
            evaluate(connection, rulebook, Period.year(2024), Options(), None)
    finally:
        engine.dispose()
    assert (warning.code, warning.is_error) == ("W505", False)
    assert "territoire « 200046977 » absent de la base, l'engagement ne s'applique à rien" in (
        warning.message
    )


# ------------------------------------------------------------------ qualitative commitments

QUALITATIVE = """  du 15/01/2024 au 31/12/2029
  objectif L441-1.Q1-HORS-QPV : 30 %
    source "CIA d'essai, article 4"
  qualitatif "Proposer à chaque ménage relogé au moins un logement hors QPV"
    par "Bailleurs signataires"
    échéance 31/12/2027
  qualitatif "Créer la commission de coordination"
    fait 14/11/2023
"""


def test_qualitative_commitments_are_read_and_an_incomplete_one_is_warned(tmp_path: Path) -> None:
    diagnostics = _lint(tmp_path, HEADER + QUALITATIVE)
    assert _codes(diagnostics) == [("W504", 12), ("W504", 12)]
    loaded = load_rules([rules_dir(), tmp_path])
    assert loaded.rulebook is not None
    first, second = loaded.rulebook.commitments["CIA-TEST-2024"].qualitatives
    assert (first.owed_by, first.due, first.done) == (
        "Bailleurs signataires",
        dt.date(2027, 12, 31),
        None,
    )
    assert (second.owed_by, second.done) == (None, dt.date(2023, 11, 14))
    assert present.qualitative_text(first) == (
        "Proposer à chaque ménage relogé au moins un logement hors QPV — dû par : Bailleurs "
        "signataires — échéance : 31/12/2027 — non déclaré fait"
    )


def test_qualitative_commitments_keep_their_canonical_form() -> None:
    text = HEADER + QUALITATIVE
    assert format_text(text, "cia.regles") == (text, [])
    scrambled = text.replace("    par ", "    par   ").replace("échéance 31", "ÉCHÉANCE  31")
    assert format_text(scrambled, "cia.regles") == (text, [])


# ------------------------------------------------------------------ local rules


LOCAL_RULES = """
règle LIZE.Q1-COMMUNES
  titre "Part des attributions aux ménages du premier quartile, par commune"
  source "CIA de test, article 9" url "https://exemple.invalid/cia.pdf"
  objectif local
  version du 01/01/2024
    source "CIA de test, article 9" url "https://exemple.invalid/cia.pdf"
    parmi les attributions où bail_signe
    par epci, commune
    exiger une part d'au moins l'objectif local vérifiant premier_quartile

règle LIZE.Q1-EPCI
  titre "Part des attributions aux ménages du premier quartile"
  source "CIA de test, article 10" url "https://exemple.invalid/cia.pdf"
  version du 01/01/2024
    source "CIA de test, article 10" url "https://exemple.invalid/cia.pdf"
    parmi les attributions où bail_signe
    exiger une part d'au moins 20 % vérifiant premier_quartile
"""
OTHER_EPCI = "910000041"


def test_a_local_rule_belongs_to_its_territory_and_judges_only_the_scopes_with_an_objective(
    db_url: str, tmp_path: Path
) -> None:
    import_bundle([bundles.write_bundle(tmp_path / "lot", DWELLINGS, ATTRIBUTIONS)], db_url)
    other = (
        bundles.TERRITORY.replace(EPCI, OTHER_EPCI)
        .replace('"80901", nom: "Aval"', '"80911", nom: "Ailleurs"')
        .replace('"80902", nom: "Amont"', '"80912", nom: "Loin"')
        .replace('["80901"]', '["80911"]')
        .replace('["80902"]', '["80912"]')
        .replace("QN08001M", "QN08011M")
        .replace("QP080099", "QP080911")
    )
    elsewhere = [
        {**bundles.dwelling("M1", bundles.BAILLEUR_A, commune="80911"), "rpls_id": "M1"},
    ]
    attributions = [
        {**bundles.household(90, bundles.BAILLEUR_A, "M1", "15/03/2024", "500")},
    ]
    import_bundle(
        [bundles.write_bundle(tmp_path / "autre", elsewhere, attributions, other)], db_url
    )
    rules = _cia(
        tmp_path,
        """  objectif LIZE.Q1-COMMUNES : 20 %
    source "CIA de test, article 9"
  objectif LIZE.Q1-COMMUNES pour commune = "80902" : 30 %
    source "CIA de test, article 9"
""",
    )
    cia = rules / "local" / "cia.regles"
    cia.write_text(cia.read_text(encoding="utf-8") + LOCAL_RULES, encoding="utf-8")
    results = _results(db_url, Period.year(2024), rules=rules)
    local = {
        (r["rule"], tuple(sorted(r["scope"].items()))): r  # type: ignore[union-attr]
        for r in results
        if str(r["rule"]).startswith("LIZE.")
    }
    # The other territory's EPCI: not applicable, saying whose rule it is.
    for rule in ("LIZE.Q1-COMMUNES", "LIZE.Q1-EPCI"):
        other_result = local[(rule, (("epci", OTHER_EPCI),))]
        assert other_result["status"] == "non_applicable"
        assert "règle locale de l'engagement CIA-TEST-2024 (territoire 910000009)" in str(
            other_result["message"]
        )
    # The commune with an objective is judged against it; the other commune is not judged.
    judged = local[("LIZE.Q1-COMMUNES", (("commune", "80902"), ("epci", EPCI)))]
    assert (judged["target"], judged["target_source"]) == (0.3, "CIA-TEST-2024")
    unjudged = local[("LIZE.Q1-COMMUNES", (("commune", "80901"), ("epci", EPCI)))]
    assert (unjudged["status"], unjudged["message"]) == (
        "non_applicable",
        "aucun objectif fixé par la convention pour ce périmètre",
    )
    assert unjudged["denominator"] == 10
    # The EPCI-wide objective is computed though the rule groups by commune only.
    assert local[("LIZE.Q1-COMMUNES", (("epci", EPCI),))]["target"] == 0.2
    # A local rule's own target comes from its convention, not from the law.
    assert local[("LIZE.Q1-EPCI", (("epci", EPCI),))]["target_source"] == "CIA-TEST-2024"


# ------------------------------------------------------------------ residences and their class


def test_an_objective_per_class_of_residence_counts_the_dwellings_of_that_class(
    tmp_path: Path,
) -> None:
    from sqlalchemy import text

    from checker.paths import demo_bundle_dir

    url = f"sqlite:///{tmp_path / 'demo.db'}"
    import_bundle([demo_bundle_dir()], url)
    rules = tmp_path / "regles"
    shutil.copytree(rules_dir(), rules)
    (rules / "cia.regles").write_text(
        """engagement CIA-CLASSES
  titre "Objectifs par classe de résidence"
  source "CIA de test" url "https://exemple.invalid/cia.pdf"
  territoire "980008015"
  signataires "EPCI"
  du 01/01/2025 au 31/12/2025
  objectif L441-1.Q1-HORS-QPV pour classe_residence = "tres_fragile" : 35 %
    source "CIA de test, article 7"
  objectif L441-1.Q1-HORS-QPV pour bailleur = "912000007", residence = "P0007-001" : 30 %
    source "CIA de test, article 7"
""",
        encoding="utf-8",
    )
    results = _results(url, Period.year(2025), rules=rules)
    by_scope = {tuple(sorted(r["scope"].items())): r for r in results if r["rule"] == RULE}  # type: ignore[union-attr]
    classed = by_scope[(("classe_residence", "tres_fragile"), ("epci", "980008015"))]
    one = by_scope[(("bailleur", "912000007"), ("epci", "980008015"), ("residence", "P0007-001"))]
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            # Leases of 2025 in dwellings of those residences and outside any QPV of the 2024
            # list (the demo's QPV list is fixed over 2025), counted directly.
            def leases(where: str) -> int:
                return int(connection.execute(text(
                    "SELECT count(*) FROM attribution a JOIN logement l ON l.rpls_id = a.rpls_id "
                    "JOIN residence r ON r.bailleur_siren = l.bailleur_siren "
                    "AND r.residence_id = l.residence_id "
                    "WHERE a.date_bail BETWEEN '2025-01-01' AND '2025-12-31' "
                    "AND NOT EXISTS (SELECT 1 FROM logement_qpv q JOIN qpv ON qpv.code = q.qpv_code "
                    "WHERE q.rpls_id = l.rpls_id AND qpv.valide_du <= '2025-12-31' "
                    "AND (qpv.valide_au IS NULL OR qpv.valide_au >= '2025-01-01')) AND " + where
                )).scalar_one())  # fmt: skip

            assert classed["denominator"] == leases("r.classe_enjeu = 'tres_fragile'") > 0
            assert one["denominator"] == leases("r.residence_id = 'P0007-001'") > 0
    finally:
        engine.dispose()
    assert (classed["target"], classed["target_source"]) == (0.35, "CIA-CLASSES")
    assert _results(url, Period.year(2025), rules=rules) == _results(
        url, Period.year(2025), ReferenceEvaluator, rules=rules
    )
