"""The diagnostic aggregated in the database (checker.diagnostic.compute) gives the same
document as the record-by-record path through the reference interpreter
(checker.diagnostic.reference): on the demo, and on random territories built by the
benchmark's generator, varied here (residences never surveyed or surveyed once, no
respondent, single-parent families, other declared classes, a second EPCI, a bailleur's
filter)."""

from __future__ import annotations

import csv
import importlib.util
import io
import json
import random
import sqlite3
import sys
from fractions import Fraction
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from sqlalchemy import create_engine

from checker.diagnostic import compute, reference, render
from checker.diagnostic.rows import Rows
from checker.ingest.importer import import_bundle
from checker.paths import demo_bundle_dir, rules_dir
from checker.rulebook_loader import require_rules
from dsl.rulebook import Rulebook

ROOT = Path(__file__).resolve().parents[1]
DEMO = demo_bundle_dir()


def _benchmark() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "diagnostic_benchmark", ROOT / "benchmarks" / "diagnostic_benchmark.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("diagnostic_benchmark", module)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def rulebook() -> Rulebook:
    found, _ = require_rules([rules_dir(), DEMO / "cil"])
    return found


def _both(url: str, rulebook: Rulebook, year: int, **options: Any) -> tuple[Any, Any]:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            fast = compute.compute(connection, rulebook, year, **options)
            slow = reference.compute(connection, rulebook, year, **options)
    finally:
        engine.dispose()
    return fast, slow


def _same(fast: dict[str, Any], slow: dict[str, Any]) -> None:
    # The record-by-record path orders its residences by name only; names are unique in
    # these data, so the documents must be equal as they are, key by key for a readable diff.
    assert fast.keys() == slow.keys()
    for key in fast:
        if key == "profils":
            for group in fast[key]:
                assert fast[key][group] == slow[key][group], group
        else:
            assert fast[key] == slow[key], key
    assert fast == slow


def test_the_demo_diagnostic_is_the_same_on_both_paths(db_url: str, rulebook: Rulebook) -> None:
    """On SQLite and PostgreSQL."""
    url = db_url
    import_bundle([DEMO], url)
    fast, slow = _both(url, rulebook, 2024)
    assert fast["classes_calculees"] and fast["entrants"]["residences"]
    _same(fast, slow)
    _same(*_both(url, rulebook, 2023))  # the previous survey, and no entrants


def _vary(db_file: Path, seed: int) -> None:
    """Make the generated territory less regular than the benchmark's."""
    rng = random.Random(seed)
    con = sqlite3.connect(db_file)
    rows = con.execute("SELECT bailleur_siren, residence_id FROM residence").fetchall()
    for owner, ident in rows:
        draw = rng.random()
        if draw < 0.1:  # never surveyed
            con.execute("DELETE FROM occupation WHERE bailleur_siren = ? AND residence_id = ?",
                        (owner, ident))  # fmt: skip
        elif draw < 0.2:  # surveyed in 2022 only
            con.execute("DELETE FROM occupation WHERE bailleur_siren = ? AND residence_id = ? "
                        "AND annee_enquete = 2024", (owner, ident))  # fmt: skip
        elif draw < 0.25:  # nobody answered
            con.execute("UPDATE occupation SET menages_repondants = 0, ressources_inf_20 = 0, "
                        "ressources_20_40 = 0, personnes_seules = 0 WHERE bailleur_siren = ? "
                        "AND residence_id = ?", (owner, ident))  # fmt: skip
        con.execute("UPDATE occupation SET familles_monoparentales = ? * menages_repondants / 10 "
                    "WHERE bailleur_siren = ? AND residence_id = ?",
                    (rng.randrange(5), owner, ident))  # fmt: skip
        if rng.random() < 0.3:
            con.execute("UPDATE residence SET classe_enjeu = ? WHERE bailleur_siren = ? AND "
                        "residence_id = ?", (rng.choice(("tres_fragile", "a_surveiller", None)),
                                             owner, ident))  # fmt: skip
    # A second EPCI holding a fifth of the communes.
    con.execute("INSERT INTO epci (siren, nom, nom_arrete, departement, region, tenu_plh, "
                "competent_habitat) SELECT '980008016', 'Second EPCI', nom_arrete, departement, "
                "region, tenu_plh, competent_habitat FROM epci")  # fmt: skip
    con.execute("UPDATE commune SET epci_siren = '980008016' WHERE CAST(insee AS INTEGER) % 5 = 0")
    con.commit()
    con.close()


@pytest.mark.parametrize("seed", [1, 2])
def test_a_random_territory_gives_the_same_diagnostic_on_both_paths(
    tmp_path: Path, rulebook: Rulebook, seed: int
) -> None:
    db_file = tmp_path / "random.db"
    _benchmark().build(db_file, residences=300, per_residence=10, attributions=600,
                       rehousing=80, seed=seed)  # fmt: skip
    _vary(db_file, seed)
    url = f"sqlite:///{db_file}"
    fast, slow = _both(url, rulebook, 2024)
    assert len(fast["classes"]) == 300 and len(fast["epci"]) == 2
    assert {entry["calculee"] for entry in fast["classes"]} >= {"fragile", "equilibree", None}
    assert any(entry["differe"] for entry in fast["classes"])
    assert any((entry["part_sous_40_entrants"] or 0) > 0
               for entry in fast["entrants"]["residences"])  # fmt: skip
    _same(fast, slow)
    one = fast["classes"][0]["bailleur"]
    _same(*_both(url, rulebook, 2024, epcis=["980008016"], bailleur=one))
    _same(*_both(url, rulebook, 2023))


def test_a_share_of_counts_is_rounded_as_an_exact_fraction() -> None:
    rng = random.Random(3)
    for _ in range(20_000):
        whole = rng.randrange(0, 5000)
        part = rng.randrange(0, whole + 1)
        assert compute.percent(part, whole) == compute.percent(Fraction(part), whole)
    assert compute.percent(1, 8) == 12.5 and compute.percent(1, 16) == 6.3  # half up
    assert compute.percent(1, 3) == 33.3 and compute.percent(2, 3) == 66.7
    assert compute.percent(0, 0) is None


@pytest.fixture(scope="module")
def large(tmp_path_factory: pytest.TempPathFactory, rulebook: Rulebook) -> dict[str, Any]:
    """A territory of 300 residences: more than the HTML shows one by one."""
    db_file = tmp_path_factory.mktemp("grand") / "random.db"
    _benchmark().build(db_file, residences=300, per_residence=10, attributions=600,
                       rehousing=80, seed=3)  # fmt: skip
    _vary(db_file, 3)
    engine = create_engine(f"sqlite:///{db_file}")
    with engine.connect() as connection:
        found = compute.compute(connection, rulebook, 2024)
    engine.dispose()
    return found


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list | Rows):
        return [_plain(item) for item in value]
    return value


def test_the_json_is_the_whole_document_and_keeps_its_layout(large: dict[str, Any]) -> None:
    plain = _plain(large)
    assert isinstance(large["classes"], Rows) and len(large["classes"]) == 300
    assert large["classes"] == plain["classes"] and large["classes"][1:3] == plain["classes"][1:3]
    text = render.to_json(large)
    assert json.loads(text) == {"version_schema": render.SCHEMA_VERSION, **plain}
    # One line per residence in the long lists; elsewhere the layout of json.dumps(indent=2).
    assert sum(1 for line in text.splitlines() if line.startswith('    {"residence":')) == 300
    expected = json.dumps({"version_schema": render.SCHEMA_VERSION, **plain}, indent=2,
                          ensure_ascii=False) + "\n"  # fmt: skip
    assert render.to_json(plain) == expected


def test_beyond_200_residences_the_html_shows_those_at_stake_and_says_so(
    large: dict[str, Any], tmp_path: Path
) -> None:
    page = render.to_html(large)
    assert "300 résidences : ce tableau montre les " in page
    assert "La liste complète est dans les exports XLSX, CSV et JSON" in page
    classes = {entry["nom"]: entry for entry in large["classes"]}
    at_stake = [name for name, entry in classes.items()
                if entry["differe"] or {entry["calculee"], entry["declaree"]} & {"tres_fragile",
                                                                                 "fragile"}]  # fmt: skip
    assert 0 < len(at_stake) < 300
    shown = [name for name in classes if f"<td>{name}</td>" in page]
    assert shown and set(shown) <= set(at_stake)
    differing = [name for name, entry in classes.items() if entry["differe"]]
    assert f"dont {len(differing)} dont la classe calculée diffère" in page
    # The full lists: every residence in the CSV and the workbook.
    rows = list(csv.reader(io.StringIO(render.to_csv(large)), delimiter=";"))
    assert len({row[3] for row in rows if row[2] == "residences"}) == sum(
        1 for entry in large["profils"]["residences"] if entry["profil"] is not None
    )
    from openpyxl import load_workbook

    target = tmp_path / "diagnostic.xlsx"
    target.write_bytes(render.to_xlsx(large))
    workbook = load_workbook(target, read_only=True)
    assert workbook.sheetnames == ["Profils", "Classes", "Entrants", "Relogements"]
    assert sum(1 for _ in workbook["Classes"].iter_rows()) == 301


def test_long_rehousing_lists_are_cut_in_the_html_to_the_largest(large: dict[str, Any]) -> None:
    assert len(large["relogements"]) == 80
    page = render.to_html(large)
    paths = page.split("<h2>Parcours de relogement NPNRU</h2>")[1].split("</svg>")[0]
    assert "Les 40 opérations et bailleurs qui comptent le plus de ménages, sur 80." in paths
    assert paths.count('<text x="0"') == 40
    many = dict(large, relogements=[dict(item, operation=f"OP{i:04d}", menages=i)
                                    for i, item in enumerate(large["relogements"] * 4)])  # fmt: skip
    text = render.to_markdown(many)
    assert "320 opérations et bailleurs : ce tableau montre les 200 qui comptent le plus" in text
    table = text.split("## Relogements NPNRU")[1]
    shown = {line.split(" | ")[0].strip("| ") for line in table.splitlines() if "| OP" in line}
    assert shown == {f"OP{i:04d}" for i in range(120, 320)}
