"""The bundled rulebook: it checks clean, its rule tests pass on both engines, and the tests
would catch an altered threshold, date or boundary."""

from __future__ import annotations

import shutil
from functools import cache
from pathlib import Path

import pytest

from checker.paths import rules_dir
from checker.rule_tests import load_documents, run_case, run_rule_tests
from checker.rulebook_loader import load_rules, require_rules
from dsl.rulebook import Rulebook

DOCUMENTS = load_documents([rules_dir()])


@cache
def _rulebook() -> Rulebook:
    return require_rules()[0]


CASES = [
    pytest.param(file, document, case, id=f"{document['regle']} — {case['nom']}")
    for file, document in DOCUMENTS
    for case in document["cas"]
]


def test_the_rulebook_has_no_error_and_no_warning() -> None:
    loaded = load_rules()
    assert loaded.rulebook is not None
    assert [d.render() for d in loaded.diagnostics] == []


@pytest.mark.parametrize(("file", "document", "case"), CASES)
def test_rule_case(file: str, document: dict[str, object], case: dict[str, object]) -> None:
    outcome = run_case(_rulebook(), document, case, file)  # type: ignore[arg-type]
    assert outcome.failures == []


@pytest.mark.postgres
@pytest.mark.parametrize(("file", "document", "case"), CASES)
def test_rule_case_on_postgresql(
    file: str, document: dict[str, object], case: dict[str, object]
) -> None:
    from tests.conftest import _postgres_database

    rulebook = _rulebook()
    database = _postgres_database()
    url = next(database)
    try:
        outcome = run_case(rulebook, document, case, file, url)  # type: ignore[arg-type]
    finally:
        next(database, None)
    assert outcome.failures == []


@pytest.mark.parametrize("version", [0, 1, 2])
def test_each_versions_qpv_exclusion_is_tested(tmp_path: Path, version: int) -> None:
    """Dropping the QPV exclusion from one version only (the later versions take the
    population over from the first, « reprend la version précédente ») fails a case."""
    rules = tmp_path / "regles"
    shutil.copytree(rules_dir(), rules)
    path = rules / "national" / "q1_hors_qpv.regles"
    text = path.read_text(encoding="utf-8")
    reprend = "    reprend la version précédente\n"
    pieces = text.split(reprend)
    assert len(pieces) == 3 and text.count("bail_signe et non en_qpv") == 1
    if version == 0:  # the first version's own population; the later ones keep the original
        pieces[0] = pieces[0].replace("bail_signe et non en_qpv", "bail_signe")
        for later in (1, 2):
            pieces[later] = (
                "    parmi les attributions où bail_signe et non en_qpv\n" + pieces[later]
            )
    else:
        pieces[version] = "    parmi les attributions où bail_signe\n" + pieces[version]
    path.write_text(reprend.join(pieces), encoding="utf-8")
    loaded = load_rules([rules])
    assert loaded.rulebook is not None, [d.message for d in loaded.diagnostics if d.is_error]
    assert any(not outcome.ok for outcome in run_rule_tests(loaded.rulebook, [rules]))


@pytest.mark.parametrize(
    ("file", "before", "after"),
    [
        ("q1_hors_qpv.regles", "du 29/01/2017 : 25 %", "du 29/01/2017 : 20 %"),
        ("q1_hors_qpv.regles", "du 29/01/2017 : 25 %", "du 29/01/2017 : 30 %"),
        ("q1_hors_qpv.regles", "version du 23/02/2022", "version du 24/02/2022"),
        ("q1_hors_qpv.regles", "au 22/02/2022", "au 23/02/2022"),
        (
            "definitions.regles",
            "revenu_annuel_par_uc < seuil_q1",
            "revenu_annuel_par_uc <= seuil_q1",
        ),
        ("definitions.regles", "relogement dans (anru, orcod)", "relogement dans (anru)"),
        # Each version names its deadline once (« soit date_limite »): moved by a day.
        ("gestion_en_flux.regles", "date_limite = 24/11/2021", "date_limite = 25/11/2021"),
        ("gestion_en_flux.regles", "date_limite = 24/11/2023", "date_limite = 25/11/2023"),
        # The 3DS version applying from 2022 instead of its deadline.
        (
            "gestion_en_flux.regles",
            "    soit date_limite = 24/11/2023\n",
            "    soit date_limite = 24/11/2023\n    s'applique si date_controle >= 01/01/2022\n",
        ),
        (
            "gestion_en_flux.regles",
            "securite_interieure)",
            "securite_interieure, etablissement_sante)",
        ),
        ("gestion_en_flux.regles", ", etablissement_sante)", ")"),
        ("gestion_en_flux.regles", "sinon faux", "sinon vrai"),
        (
            "examen_occupation.regles",
            "echeance_examen >= 26/06/2019",
            "echeance_examen >= 25/06/2019",
        ),
        (
            "examen_occupation.regles",
            "date_dernier_examen > debut_cycle",
            "date_dernier_examen >= debut_cycle",
        ),
        ("examen_occupation.regles", "zone_abc dans (Abis, A, B1)", "zone_abc dans (Abis, A)"),
        (
            "examen_occupation.regles",
            "date_transmission_caleol >= date_dernier_examen",
            "date_transmission_caleol > date_dernier_examen",
        ),
        # ELAN's version counting only the first quartile, not the rehoused households.
        (
            "q1_hors_qpv.regles",
            "    exiger une part d'au moins taux_q1_hors_qpv vérifiant premier_quartile ou relogement_urbain\n",
            "    exiger une part d'au moins taux_q1_hors_qpv vérifiant premier_quartile\n",
        ),
    ],
)
def test_an_altered_rule_fails_its_tests(
    tmp_path: Path, file: str, before: str, after: str
) -> None:
    rules = tmp_path / "regles"
    shutil.copytree(rules_dir(), rules)
    path = rules / "national" / file
    text = path.read_text(encoding="utf-8")
    assert before in text, "the alteration no longer applies: update this test"
    path.write_text(text.replace(before, after, 1), encoding="utf-8")
    loaded = load_rules([rules])
    if loaded.rulebook is None:  # an alteration that no longer checks is caught too
        return
    # A rule file's own tests suffice to catch its alteration; shared files need them all.
    own_tests = rules / "national" / "tests" / file.replace(".regles", ".tests.yaml")
    outcomes = run_rule_tests(loaded.rulebook, [own_tests if own_tests.exists() else rules])
    assert any(not outcome.ok for outcome in outcomes)


def test_an_expression_sql_cannot_compute_is_refused_at_load_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from checker.evaluate import sqlcompile

    def refuse(self: sqlcompile.SqlCompiler, expr: object) -> object:
        raise sqlcompile.UnsupportedConstruct("fonction sans traduction SQL", expr)  # type: ignore[arg-type]

    monkeypatch.setattr(sqlcompile.SqlCompiler, "_call", refuse)
    # The compiler is altered in this process only: a cached rulebook would not show it.
    monkeypatch.setenv("MIXITE_CACHE", "0")
    loaded = load_rules()
    assert loaded.rulebook is None
    e601 = [d for d in loaded.diagnostics if d.code == "E601"]
    assert e601 and all(d.span is not None and d.span.file.endswith(".regles") for d in e601)


def test_one_rules_cases_only_and_the_same_outcomes_in_parallel() -> None:
    rule = "R441-3.CALEOL-TROIS-CANDIDATS"
    alone = run_rule_tests(_rulebook(), [rules_dir()], rule, jobs=2)
    assert alone and {outcome.rule for outcome in alone} == {rule}
    # Two rules' files: split between two processes, file by file, outcomes in file order.
    tests = rules_dir() / "national" / "tests"
    files = [tests / "contingent_etat.tests.yaml", tests / "travailleurs_essentiels.tests.yaml"]
    sequential = run_rule_tests(_rulebook(), files, jobs=1)
    parallel = run_rule_tests(_rulebook(), files, jobs=2)
    assert len({outcome.rule for outcome in sequential}) == 2 and len(sequential) >= 8
    assert [(o.rule, o.name, o.failures) for o in parallel] == [
        (o.rule, o.name, o.failures) for o in sequential
    ]


@pytest.mark.parametrize("engine", ["sql", "reference"])
def test_each_engine_alone_judges_the_cases(tmp_path: Path, engine: str) -> None:
    # An altered threshold is caught by either engine alone.
    rules = tmp_path / "regles"
    shutil.copytree(rules_dir(), rules)
    path = rules / "national" / "caleol_trois_candidats.regles"
    text = path.read_text(encoding="utf-8")
    before = "nb_candidatures >= nb_min_candidatures_caleol"
    assert before in text, "the alteration no longer applies: update this test"
    path.write_text(text.replace(before, "nb_candidatures >= 4"), encoding="utf-8")
    loaded = load_rules([rules])
    assert loaded.rulebook is not None
    outcomes = run_rule_tests(loaded.rulebook, [rules], "R441-3.CALEOL-TROIS-CANDIDATS",
                              engines=(engine,), jobs=1)  # fmt: skip
    assert any(not outcome.ok for outcome in outcomes)


MISSPELT = """\
regle: L441-1.Q1-HORS-QPV
cas:
  - nom: un cas
    annee: 2024
    logements:
      - {rpls_id: L1, bailleur_siren: "910000017"}
    attributions:
      - {rpls_id: L1, date_bail: 2024-03-01, nb_enfants: 2, revenus_mensuels: 500}
    atendu:
      - {statut: conforme}
"""


def test_misspelt_keys_in_a_rule_test_are_located_errors(tmp_path: Path) -> None:
    from checker.rule_tests import RuleTestError

    file = tmp_path / "faute.tests.yaml"
    file.write_text(MISSPELT, encoding="utf-8")
    with pytest.raises(RuleTestError) as refused:
        load_documents([file])
    lines = refused.value.message.splitlines()
    assert lines[0].startswith(
        f"{file.as_posix()}:8:46 : clé inconnue « nb_enfants » dans une attribution"
    )
    assert lines[1].startswith(
        f"{file.as_posix()}:9:5 : clé inconnue « atendu » dans un cas ; vouliez-vous dire "
        "« attendu » ?"
    )
    assert len(lines) == 2


_MERGED = """regle: L441-1.Q1-HORS-QPV
defauts: &base
  dalo: oui
  nb_enfant: 2
cas:
  - nom: "Fusion"
    annee: 2024
    attributions:
      - <<: *base
    attendu:
      - {statut: conforme}
  - nom: "Fusion sans faute"
    annee: 2024
    attributions:
      - <<: *base
    attendu:
      - {statut: conforme}
"""


def test_a_test_file_is_read_once_with_the_same_document_and_located_keys(tmp_path: Path) -> None:
    """The test file is composed once for both the key check and the document: merge keys
    (`<<`) give the document yaml.load gives, and the check sees the keys as written (a key
    of the anchor once, where it is written)."""
    import yaml

    from checker.rule_tests import RuleTestError, case_key_problems

    file = tmp_path / "fusion.tests.yaml"
    file.write_text(_MERGED, encoding="utf-8")
    expected = case_key_problems(file.as_posix(), _MERGED)
    assert len(expected) == 1 and "nb_enfant" in expected[0]
    with pytest.raises(RuleTestError) as refused:
        load_documents([file])
    assert refused.value.message.splitlines() == expected
    file.write_text(_MERGED.replace("  nb_enfant: 2\n", ""), encoding="utf-8")
    ((_, document),) = load_documents([file])
    assert document == yaml.safe_load(file.read_text(encoding="utf-8"))
    assert document["cas"][0]["attributions"] == [{"dalo": "oui"}]


_INSCRIT_RULE = """règle TEST.INSCRIT
  titre "Essai"
  source "Essai" url "https://example.org"
  version du 01/01/2024
    source "Essai" url "https://example.org"
    {clause}
    parmi les attributions où {population}
    exiger une part d'au moins 25 % vérifiant dalo
"""


@pytest.mark.parametrize(
    ("clause", "population", "code", "words"),
    [
        # Read once per EPCI by the applicability: not a condition on records (no SQL for it).
        ("", "inscrit(seuil_q1[epci: epci.siren_arrete])", "E601", "« s'applique si »"),
        # A list is the keys of a keyed parameter: a parameter without keys lists nothing.
        ("s'applique si inscrit(taux_q1_hors_qpv)", "bail_signe", "E204", "paramètre à clés"),
    ],
)
def test_inscrit_outside_the_applicability_or_without_keys_is_refused(
    tmp_path: Path, clause: str, population: str, code: str, words: str
) -> None:
    extra = tmp_path / "inscrit.regles"
    extra.write_text(_INSCRIT_RULE.format(clause=clause, population=population), encoding="utf-8")
    loaded = load_rules([rules_dir(), extra])
    assert loaded.rulebook is None
    found = [d for d in loaded.diagnostics if d.code == code]
    assert len(found) == 1 and words in found[0].message, loaded.diagnostics
