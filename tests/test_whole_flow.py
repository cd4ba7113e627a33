"""Priority households judged on each réservataire's whole flow (issue 13, point 6): Action
Logement reserves in two EPCI of the database, at 30 % in one and 20 % in the other, 25 % in
all; L441-1.PRIORITAIRES-25 judges the whole flow (conforme) and gives each EPCI's figure for
information, on SQLite and PostgreSQL, the SQL engine and the reference one alike."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import create_engine

from checker.access import permissions
from checker.access.roles import Actor
from checker.evaluate.explain import explain
from checker.evaluate.reference import ReferenceEvaluator
from checker.evaluate.results import Result
from checker.evaluate.run import Evaluator, Options, Period
from checker.ingest.importer import import_bundle
from checker.paths import rules_dir
from checker.report.json_report import results_block
from checker.report.names import Names
from checker.report.synthesis import synthesis
from checker.rulebook_loader import require_rules
from checker.web.publications import result_of
from tests import bundles
from tests.bundles import BAILLEUR_A, EPCI, dwelling, household

RULE = "L441-1.PRIORITAIRES-25"
OTHER_EPCI = "920000007"
OTHER_TERRITORY = f"""
epci:
  siren: "{OTHER_EPCI}"
  nom: "Communauté voisine"
  siren_arrete: "248000531"
  departement: "80"
  region: "Hauts-de-France"
  tenu_plh: true
  competent_habitat: true
communes:
  - {{insee: "80903", nom: "Voisine", zone_plafonds: autres_regions}}
qpv: []
bailleurs:
  - {{siren: "{BAILLEUR_A}", nom: "Bailleur A"}}
reservataires:
  - {{id: "AL", type: action_logement, nom: "Action Logement Services"}}
"""


def _action_logement(first: int, total: int, priority: int, rpls: str) -> list[dict[str, str]]:
    """`total` Action Logement attributions of 2024, the first `priority` to priority households."""
    rows = []
    for index in range(total):
        row = household(first + index, BAILLEUR_A, rpls, f"{1 + index % 28:02d}/03/2024", "900",
                        criteres="c" if index < priority else "", contingent="action_logement")  # fmt: skip
        row["reservataire_id"] = "AL"
        rows.append(row)
    return rows


def _results(
    db_url: str, tmp_path: Path, here: tuple[int, int], there: tuple[int, int]
) -> list[Result]:
    """PRIORITAIRES-25 in 2024 with (priority, total) Action Logement attributions in each EPCI;
    the two engines must agree."""
    first = bundles.write_bundle(tmp_path / "un", [dwelling("L1", BAILLEUR_A)],
                                 _action_logement(1, here[1], here[0], "L1"))  # fmt: skip
    second = bundles.write_bundle(tmp_path / "deux", [dwelling("L9", BAILLEUR_A, commune="80903")],
                                  _action_logement(500, there[1], there[0], "L9"), OTHER_TERRITORY)  # fmt: skip
    import_bundle([first], db_url)
    import_bundle([second], db_url)
    rulebook, _ = require_rules([rules_dir()])
    engine = create_engine(db_url)
    try:
        with engine.connect() as connection:
            period = Period.year(2024)
            fast = Evaluator(connection, rulebook, period, Options()).evaluate_rule_results(RULE)
            slow = ReferenceEvaluator(
                connection, rulebook, period, Options()
            ).evaluate_rule_results(RULE)
    finally:
        engine.dispose()
    assert results_block(fast) == results_block(slow)
    return fast


def _by_scope(results: list[Result]) -> dict[tuple[tuple[str, str], ...], Result]:
    return {tuple(sorted(r.scope.items())): r for r in results}


WHOLE = (("contingent", "action_logement"), ("reservataire", "AL"))


def _per_epci(epci: str) -> tuple[tuple[str, str], ...]:
    return (("contingent", "action_logement"), ("epci", epci), ("reservataire", "AL"))


def test_whole_flow_at_25_percent_is_conforme_and_each_epci_is_for_information(
    db_url: str, tmp_path: Path
) -> None:
    results = _by_scope(_results(db_url, tmp_path, (3, 10), (2, 10)))
    whole = results[WHOLE]
    assert (whole.status, whole.numerator, whole.denominator, whole.shortfall) == (
        "conforme",
        5,
        20,
        0,
    )
    assert not whole.information and "information" not in whole.as_json()
    here, there = results[_per_epci(EPCI)], results[_per_epci(OTHER_EPCI)]
    assert (here.numerator, here.denominator, there.numerator, there.denominator) == (3, 10, 2, 10)
    for figure in (here, there):
        assert figure.information and figure.as_json()["information"] is True
        assert figure.shortfall is None and figure.message.startswith("pour information")


def test_whole_flow_under_25_percent_is_non_conforme_whatever_one_epci_does(
    db_url: str, tmp_path: Path
) -> None:
    results = _by_scope(_results(db_url, tmp_path, (3, 10), (1, 10)))
    whole = results[WHOLE]
    assert (whole.status, whole.numerator, whole.denominator, whole.shortfall) == (
        "non_conforme",
        4,
        20,
        1,
    )
    assert results[_per_epci(EPCI)].information  # 30 % there: shown, not judged


def test_synthesis_counts_the_whole_flow_not_the_figures_for_information(
    db_url: str, tmp_path: Path
) -> None:
    results = _results(db_url, tmp_path, (3, 10), (1, 10))
    rulebook, _ = require_rules([rules_dir()])
    names = Names(reservataires={"AL": "Action Logement Services"})
    lines = {line.epci: line for line in synthesis(results, rulebook, names)}
    assert lines[""].status == "non_conforme"
    assert [owed.shortfall for owed in lines[""].owed_by] == [1]
    for epci in (EPCI, OTHER_EPCI):  # the per-EPCI lines: for information, nothing owed
        assert lines[epci].status == "information" and lines[epci].owed_by == []


def test_who_sees_a_whole_flow_result_and_its_records() -> None:
    scope = {"contingent": "action_logement", "reservataire": "AL"}
    own = Actor("al", "reservataire", reservataire="AL", territories=(EPCI,))
    other = Actor("commune", "reservataire", reservataire="80901", territories=(EPCI,))
    territorial = Actor("epci", "epci", territories=(EPCI,))
    bailleur = Actor("b", "bailleur", bailleur=BAILLEUR_A, territories=(EPCI,))
    state = Actor("ddets", "etat", territories=(EPCI,))
    admin = Actor("admin", "admin")
    reader = Actor("lecteur", "lecteur", territories=(EPCI,))
    for actor in (own, territorial, bailleur, state, admin):
        assert permissions.can_see_result(actor, scope), actor.role
    for actor in (other, reader):
        assert not permissions.can_see_result(actor, scope), actor.role
    # Records: the actor's own territories only (admin: all of them); never for a bailleur
    # outside its own flow, nor for a reader.
    assert permissions.records_territories(territorial, scope) == (EPCI,)
    assert permissions.records_territories(own, scope) == (EPCI,)
    assert permissions.records_territories(admin, scope) is None
    assert not permissions.can_see_records(bailleur, scope)
    assert not permissions.can_see_records(reader, scope)
    assert permissions.can_see_records(territorial, scope)
    theirs = {"contingent": "non_reserve", "reservataire": "910000025"}  # another bailleur's flow
    assert not permissions.can_see_result(bailleur, theirs)
    assert permissions.can_see_result(bailleur, {**theirs, "reservataire": BAILLEUR_A})
    # A per-EPCI result keeps the territorial rule: another territory's is not shown.
    assert not permissions.can_see_result(territorial, {**scope, "epci": OTHER_EPCI})


def test_a_territorial_account_lists_only_its_own_territory_records_of_a_whole_flow(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'mixite.db'}"
    _results(url, tmp_path, (3, 10), (2, 10))
    rulebook, _ = require_rules([rules_dir()])
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            found = explain(connection, rulebook, RULE, Period.year(2024), dict(WHOLE))
    finally:
        engine.dispose()
    assert found.counted == 20
    mine = found.in_territories((EPCI,))
    assert (mine.counted, mine.qualifying) == (10, 3)
    assert {values["epci"] for values in mine.dimensions} == {EPCI}


def test_a_check_of_one_epci_still_judges_the_whole_flow(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'mixite.db'}"
    _results(url, tmp_path, (3, 10), (1, 10))
    rulebook, _ = require_rules([rules_dir()])
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            one = Evaluator(connection, rulebook, Period.year(2024), Options(epci=EPCI))
            results = _by_scope(one.evaluate_rule_results(RULE))
    finally:
        engine.dispose()
    whole = results[WHOLE]  # 4 of 20 in both EPCI, not 3 of 10 in this one
    assert (whole.status, whole.numerator, whole.denominator) == ("non_conforme", 4, 20)
    assert _per_epci(EPCI) in results and _per_epci(OTHER_EPCI) not in results


def test_a_stored_result_keeps_its_information_flag(tmp_path: Path) -> None:
    """A published run is read back from its JSON: a figure for information stays one."""
    url = f"sqlite:///{tmp_path / 'mixite.db'}"
    for result in _results(url, tmp_path, (3, 10), (2, 10)):
        back = result_of(result.as_json())
        assert back.information == result.information and back.as_json() == result.as_json()
