"""The rulebook's SQL and results on the demo, for every rule and year 2017–2026, are those
recorded in tests/golden/sql/empreintes.json. A change of the rules or of the evaluator that
changes them on purpose re-records it: `python -m tests.sql_snapshot --write` (and says why in
its commit); a rewrite that only changes how the rules are written must not."""

from __future__ import annotations

import json

from tests import sql_snapshot


def test_sql_and_results_are_those_recorded() -> None:
    recorded = json.loads(sql_snapshot.GOLDEN.read_text(encoding="utf-8"))
    taken = sql_snapshot.digests(sql_snapshot.snapshot())
    found = sql_snapshot.differences(recorded, taken)
    assert found == [], (
        "SQL ou résultats changés :\n"
        + "\n".join(found)
        + "\nSi c'est voulu : python -m tests.sql_snapshot --write"
    )


def test_the_snapshot_covers_every_rule_and_year() -> None:
    recorded = json.loads(sql_snapshot.GOLDEN.read_text(encoding="utf-8"))
    assert len(recorded) >= 11
    for years in recorded.values():
        assert sorted(years) == [str(year) for year in sql_snapshot.YEARS]
    # The statements really are there: a year where the rule is in force sends some.
    assert recorded["L441-1.Q1-HORS-QPV"]["2024"]["requetes"] >= 1


def test_a_changed_rule_is_caught(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The snapshot notices a change of one threshold in the text of a rule."""
    import shutil

    rules = tmp_path / "rules"
    shutil.copytree(sql_snapshot.ROOT / "rules", rules)
    path = rules / "national" / "q1_hors_qpv.regles"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("vérifiant premier_quartile ou relogement_urbain",
                                 "vérifiant premier_quartile"), encoding="utf-8")  # fmt: skip
    paths = [rules, *sql_snapshot.RULE_PATHS[1:]]
    recorded = json.loads(sql_snapshot.GOLDEN.read_text(encoding="utf-8"))
    found = sql_snapshot.differences(recorded, sql_snapshot.digests(sql_snapshot.snapshot(paths)))
    assert "L441-1.Q1-HORS-QPV 2024 : SQL différent(s)" in found
    assert all(line.startswith("L441-1.Q1-HORS-QPV") for line in found)
