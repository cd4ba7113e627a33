"""Versions written by difference: resolution, diagnostics, display, and the proof that the
national rules, rewritten by difference, evaluate to the very same SQL and results."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from checker.schema import schema
from dsl import ast
from dsl.analysis import load_rulebook
from dsl.diagnostics import Diagnostic
from dsl.formatter import format_module, format_text, unplaced
from dsl.parser import parse
from dsl.versions import rewrite_by_difference
from tests import sql_snapshot
from tests.test_cli import mixite

ROOT = Path(__file__).resolve().parents[1]
HEAD = """règle ESSAI.DIFFERENCE
  titre "Essai"
  source "Texte" url "https://exemple.invalid"

  version du 01/01/2020 au 31/12/2020
    source "Texte 1" url "https://exemple.invalid/1"
    soit limite = 31/12/2021
    s'applique si date_controle >= limite
    parmi les attributions où date_bail est renseignée
    par epci
    par epci, bailleur
    exiger une part d'au moins 25 % vérifiant dalo
    sauf si mutation
    aussi "relogés" : relogement_urbain
"""


def _load(tmp_path: Path, text: str) -> tuple[object, list[Diagnostic]]:
    (tmp_path / "essai.regles").write_text(text, encoding="utf-8")
    return load_rulebook([ROOT / "rules", tmp_path], schema())


def _errors(diagnostics: list[Diagnostic]) -> list[tuple[str, int, str]]:
    return [(d.code, d.span.line if d.span else 0, d.message) for d in diagnostics
            if d.span and d.span.file.endswith("essai.regles")]  # fmt: skip


def test_a_version_by_difference_resolves_to_the_whole_version(tmp_path: Path) -> None:
    by_difference = (
        HEAD
        + """
  version du 01/01/2021
    reprend la version précédente
    source "Texte 2" url "https://exemple.invalid/2"
    soit limite = 31/12/2023
    retirer sauf si mutation
    retirer par epci, bailleur
    sauf si dalo
    aussi "relogés" : relogement = anru
"""
    )
    whole = (
        HEAD
        + """
  version du 01/01/2021
    source "Texte 2" url "https://exemple.invalid/2"
    soit limite = 31/12/2023
    s'applique si date_controle >= limite
    parmi les attributions où date_bail est renseignée
    par epci
    exiger une part d'au moins 25 % vérifiant dalo
    sauf si dalo
    aussi "relogés" : relogement = anru
"""
    )
    rulebook, diagnostics = _load(tmp_path, by_difference)
    assert _errors(diagnostics) == []
    expected, _ = _load(tmp_path, whole)
    resolved = rulebook.rules["ESSAI.DIFFERENCE"].versions[1]  # type: ignore[attr-defined]
    wanted = expected.rules["ESSAI.DIFFERENCE"].versions[1]  # type: ignore[attr-defined]
    assert resolved.amends and not wanted.amends
    assert resolved == ast.Version(**{**wanted.__dict__, "amends": True})
    # Each version reads its own « soit limite »: the inherited condition is a copy.
    first = rulebook.rules["ESSAI.DIFFERENCE"].versions[0]  # type: ignore[attr-defined]
    locals_ = rulebook.annotations.locals  # type: ignore[attr-defined]
    assert locals_[id(first.applicability.right)].value.year == 2021
    assert locals_[id(resolved.applicability.right)].value.year == 2023


@pytest.mark.parametrize(
    ("clauses", "expected"),
    [
        (
            "retirer sauf si dalo",
            [
                (
                    "E409",
                    19,
                    "« retirer » : l'exception « sauf si dalo » n'existe pas dans la version précédente (du 01/01/2020)",
                )
            ],
        ),
        (
            "retirer par bailleur",
            [
                (
                    "E409",
                    19,
                    "« retirer » : le regroupement « par bailleur » n'existe pas dans la version précédente (du 01/01/2020)",
                )
            ],
        ),
        (
            'retirer aussi "dalo"',
            [
                (
                    "E409",
                    19,
                    "« retirer » : l'indicateur « aussi \"dalo\" » n'existe pas dans la version précédente (du 01/01/2020)",
                )
            ],
        ),
        (
            "retirer soit date_limite",
            [
                (
                    "E409",
                    19,
                    "« retirer » : la valeur « soit date_limite » n'existe pas dans la version précédente (du 01/01/2020)",
                )
            ],
        ),
        (
            "sauf si mutation",
            [
                (
                    "W104",
                    19,
                    "l'exception « sauf si mutation » : identique à la version précédente, cette ligne ne change rien",
                )
            ],
        ),
        (
            "exiger une part d'au moins 25 % vérifiant dalo",
            [
                (
                    "W104",
                    19,
                    "l'exigence : identique à la version précédente, cette ligne ne change rien",
                )
            ],
        ),
        (
            "soit mutation = 3",
            [("E202", 19, "« soit mutation » : ce nom est déjà celui d'un champ")],
        ),
    ],
)
def test_a_difference_that_names_nothing_is_located(
    tmp_path: Path, clauses: str, expected: list[tuple[str, int, str]]
) -> None:
    text = (
        HEAD
        + f"""
  version du 01/01/2021
    reprend la version précédente
    source "Texte 2" url "https://exemple.invalid/2"
    {clauses}
"""
    )
    _, diagnostics = _load(tmp_path, text)
    assert _errors(diagnostics) == expected


def test_reprend_on_the_first_version_and_retirer_without_reprend(tmp_path: Path) -> None:
    text = (
        HEAD.replace("    soit limite", "    reprend la version précédente\n    soit limite")
        + """
  version du 01/01/2021
    source "Texte 2" url "https://exemple.invalid/2"
    retirer sauf si mutation
    parmi les attributions
    exiger une part d'au moins 25 % vérifiant dalo
"""
    )
    rulebook, diagnostics = _load(tmp_path, text)
    assert rulebook is None
    assert [(code, line) for code, line, _ in _errors(diagnostics)] == [("E409", 5), ("E409", 19)]


def test_rules_show_date_prints_the_resolved_version() -> None:
    rules = ["--rules", str(ROOT / "rules"), "--rules", str(ROOT / "docs/regles/exemple")]
    result = mixite("rules", "show", "EXEMPLE.MUTATIONS", "--date", "2025-03-01", *rules)
    assert result.returncode == 0, result.stderr
    assert "version du 01/01/2025 (écrite par différence, résolue ici)" in result.stdout
    assert "reprend" not in result.stdout.split("règle EXEMPLE.MUTATIONS")[1]
    for clause in ("s'applique si cia_signee_le est renseignée", "parmi les attributions où bail_signe",
                   "par epci, bailleur", "sauf si relogement_urbain", 'aussi "dalo" : dalo'):  # fmt: skip
        assert clause in result.stdout
    assert "taux_mutations_exemple = 25 %" in result.stdout
    earlier = mixite("rules", "show", "EXEMPLE.MUTATIONS", "--date", "2024-06-01", *rules)
    assert "sauf si" not in earlier.stdout and "taux_mutations_exemple = 20 %" in earlier.stdout
    none = mixite("rules", "show", "EXEMPLE.MUTATIONS", "--date", "2023-06-01", *rules)
    assert none.returncode == 1 and "aucune version en vigueur le 01/06/2023" in none.stderr
    assert "Traceback" not in none.stderr


def _rewritten_national_rules(target: Path) -> int:
    """Copy rules/ into `target` with every version written by difference; how many were."""
    shutil.copytree(ROOT / "rules", target)
    count = 0
    for path in sorted(target.rglob("*.regles")):
        module, _ = parse(path.read_text(encoding="utf-8"), path.name)
        assert module is not None
        declarations = []
        for declaration in module.declarations:
            if isinstance(declaration, ast.Rule):
                declaration = rewrite_by_difference(declaration)
                count += sum(version.amends for version in declaration.versions)
            declarations.append(declaration)
        canonical = unplaced(ast.Module(module.file, tuple(declarations)))
        assert isinstance(canonical, ast.Module)
        text = format_module(canonical, "")
        assert format_text(text, path.name)[0] == text
        path.write_text(text, encoding="utf-8")
    return count


def test_the_national_rules_rewritten_by_difference_give_the_same_sql(tmp_path: Path) -> None:
    """What the later rewrite of rules/national must keep: byte-identical SQL and results for
    every rule and every year 2017–2026 on the demo (tests/golden/sql/empreintes.json)."""
    rewritten = tmp_path / "rules"
    assert _rewritten_national_rules(rewritten) >= 5
    q1 = (rewritten / "national" / "q1_hors_qpv.regles").read_text(encoding="utf-8")
    # ELAN's version changes the requirement (ORCOD rehousing counted): two « exiger ».
    assert q1.count("reprend la version précédente") == 2 and q1.count("exiger") == 2
    paths = [rewritten, ROOT / "fixtures/demo/cia.regles", ROOT / "docs/regles/exemple"]
    taken = sql_snapshot.digests(sql_snapshot.snapshot(paths))
    recorded = sql_snapshot.GOLDEN.read_text(encoding="utf-8")
    import json

    assert sql_snapshot.differences(json.loads(recorded), taken) == []


def test_a_rule_not_applicable_names_its_soit_value(tmp_path: Path) -> None:
    """« non applicable » quotes the condition with the « soit » value it names written in its
    place: the same words as the rule written without the name."""
    from sqlalchemy import create_engine

    from checker.evaluate.run import Evaluator, Options, Period
    from checker.ingest.importer import import_bundle
    from checker.rulebook_loader import require_rules
    from tests import bundles
    from tests.test_evaluate import ATTRIBUTIONS, DWELLINGS

    (tmp_path / "regles").mkdir()
    (tmp_path / "regles" / "essai.regles").write_text(HEAD.replace("31/12/2021", "31/12/2099"),
                                                       encoding="utf-8")  # fmt: skip
    rulebook, _ = require_rules([ROOT / "rules", tmp_path / "regles"])
    url = f"sqlite:///{tmp_path / 'essai.db'}"
    import_bundle([bundles.write_bundle(tmp_path / "lot", DWELLINGS, ATTRIBUTIONS)], url)
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            evaluator = Evaluator(connection, rulebook, Period.year(2020), Options())
            results = evaluator.evaluate_rule_results("ESSAI.DIFFERENCE")
    finally:
        engine.dispose()
    assert [(r.status, r.message) for r in results] == [
        ("non_applicable", "condition d'application non remplie : "
         "s'applique si date_controle >= 31/12/2099"),
    ]  # fmt: skip


def _mapped(node: object, change: object) -> object:
    """`node` rebuilt bottom-up, each node passed through `change` (a function)."""
    import dataclasses

    if isinstance(node, tuple):
        return tuple(_mapped(item, change) for item in node)
    if isinstance(node, ast.Node) and not isinstance(node, ast.Source | ast.Metadata):
        fields = {name: _mapped(getattr(node, name), change)
                  for name in node.__dataclass_fields__ if name != "span"}  # fmt: skip
        return change(dataclasses.replace(node, **fields))  # type: ignore[operator]
    return node


def _as_set(node: object) -> object:
    """« X contient "a" ou X contient "b" ou … » → « X contient l'un de ("a", "b", …) »."""
    if not isinstance(node, ast.Or):
        return node
    parts = []
    for side in (node.left, node.right):
        if isinstance(side, ast.Contains):
            parts.append((side.operand, (ast.LetterRange(side.item, side.item),)))
        elif isinstance(side, ast.ContainsAny):
            parts.append((side.operand, side.choices))
        else:
            return node
    if parts[0][0] != parts[1][0]:
        return node
    return ast.ContainsAny(parts[0][0], parts[0][1] + parts[1][1], span=node.span)


def _deadline_named(version: ast.Version) -> ast.Version:
    """The one date written in a version's conditions, named once: « soit date_limite = … »."""
    import dataclasses

    dates: set[object] = set()
    _mapped((version.applicability, version.requirement), lambda n: dates.add(n.value)
            if isinstance(n, ast.DateLiteral) else None)  # fmt: skip
    if len(dates) != 1:
        return version
    (day,) = dates

    def named(node: object) -> object:
        if isinstance(node, ast.DateLiteral) and node.value == day:
            return ast.Name("date_limite", span=node.span)
        return node

    return dataclasses.replace(
        version,
        applicability=_mapped(version.applicability, named),
        requirement=_mapped(version.requirement, named),
        lets=(*version.lets, ast.Let("date_limite", ast.DateLiteral(day))),  # type: ignore[arg-type]
    )


def test_sets_and_named_deadlines_in_the_national_rules_give_the_same_sql(tmp_path: Path) -> None:
    """Every « contient … ou contient … » chain of the national rules written as a set, every
    version's single deadline named with « soit », then every version by difference: the SQL
    and the results stay those recorded, byte for byte."""
    import dataclasses
    import json

    rewritten = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", rewritten)
    sets = deadlines = 0
    for path in sorted(rewritten.rglob("*.regles")):
        module, _ = parse(path.read_text(encoding="utf-8"), path.name)
        assert module is not None
        declarations = []
        for declaration in module.declarations:
            if isinstance(declaration, ast.Definition):
                declaration = _mapped(declaration, _as_set)  # type: ignore[assignment]
                sets += isinstance(declaration.expr, ast.ContainsAny)
            if isinstance(declaration, ast.Rule):
                versions = tuple(_deadline_named(v) for v in declaration.versions)
                deadlines += sum(bool(v.lets) for v in versions)
                declaration = rewrite_by_difference(
                    dataclasses.replace(declaration, versions=versions)
                )
            declarations.append(declaration)
        canonical = unplaced(ast.Module(module.file, tuple(declarations)))
        assert isinstance(canonical, ast.Module)
        path.write_text(format_module(canonical, ""), encoding="utf-8")
    assert sets >= 2 and deadlines >= 4
    definitions = (rewritten / "national" / "definitions.regles").read_text(encoding="utf-8")
    assert 'criteres_prioritaires contient l\'un de ("a", "b", "c"' in definitions
    paths = [rewritten, ROOT / "fixtures/demo/cia.regles", ROOT / "docs/regles/exemple"]
    taken = sql_snapshot.digests(sql_snapshot.snapshot(paths))
    recorded = json.loads(sql_snapshot.GOLDEN.read_text(encoding="utf-8"))
    assert sql_snapshot.differences(recorded, taken) == []


def test_the_national_rules_are_written_by_difference() -> None:
    """The shipped rules themselves use the language's economy (issue #19): a version that
    repeats its predecessor's body says `reprend la version précédente`, a deadline is named
    once with `soit date_limite`, the priority criteria are a set."""
    national = ROOT / "rules" / "national"
    expected_reprises = {"q1_hors_qpv.regles": 2, "caleol_trois_candidats.regles": 2,
                         "cotation.regles": 3, "gestion_en_flux.regles": 1}  # fmt: skip
    for name, count in expected_reprises.items():
        text = (national / name).read_text(encoding="utf-8")
        assert text.count("reprend la version précédente") == count, name
    for name in ("cotation.regles", "gestion_en_flux.regles"):
        assert "soit date_limite = " in (national / name).read_text(encoding="utf-8"), name
    definitions = (national / "definitions.regles").read_text(encoding="utf-8")
    assert "contient l'un de (" in definitions and 'contient "a" ou' not in definitions
