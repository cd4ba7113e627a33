"""Loading the rulebook for the CLI: the bundled rules unless `--rules` says otherwise."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from checker.errors import MixiteError
from checker.paths import rules_dir
from dsl.diagnostics import Diagnostic, sort_key
from dsl.rulebook import Rulebook

TEST_SUFFIX = ".tests.yaml"


@dataclass
class LoadedRules:
    rulebook: Rulebook | None
    diagnostics: list[Diagnostic]
    sources: dict[str, str]  # for rendering diagnostics with their excerpt
    paths: list[Path]


def rule_test_files(paths: Sequence[Path]) -> list[Path]:
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(sorted(path.rglob(f"*{TEST_SUFFIX}")))
        elif path.name.endswith(TEST_SUFFIX):
            found.append(path)
    return found


def tested_rule_ids(paths: Sequence[Path]) -> set[str]:
    """The rules that have at least one test file naming them (`regle: ID`)."""
    import yaml

    tested: set[str] = set()
    for path in rule_test_files(paths):
        try:
            document = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError):
            continue  # reported when the tests are run
        if isinstance(document, dict) and isinstance(document.get("regle"), str):
            tested.add(document["regle"])
    return tested


def sql_diagnostics(rulebook: Rulebook) -> list[Diagnostic]:
    """E601 for every expression the SQL compiler cannot translate, found at load time by
    compiling each version against the populations' SQL (no database needed)."""
    import datetime as dt

    from checker.evaluate import base
    from checker.evaluate.sqlcompile import CompileContext, SqlCompiler, UnsupportedConstruct
    from checker.schema import schema

    found: list[Diagnostic] = []
    # Structure is what matters here: an empty key domain keeps the parameter CASEs empty.
    period = (dt.date(2024, 1, 1), dt.date(2024, 12, 31))
    for rule in rulebook.rules.values():
        for version in rule.versions:
            if version.population is None or version.requirement is None:
                continue
            entity = schema().entities[version.population.entity]
            row = base.population(entity.name, ["000000000"], period)
            compiler = SqlCompiler(
                CompileContext(rulebook, entity, row, period, lambda _expr: set())
            )
            expressions = [version.requirement.condition, *(e.condition for e in version.exceptions),
                           *(a.condition for a in version.also)]  # fmt: skip
            if version.population.where is not None:
                expressions.append(version.population.where)
            for expression in expressions:
                try:
                    compiler.compile(expression)
                except UnsupportedConstruct as problem:
                    span = problem.node.span if problem.node is not None else expression.span
                    found.append(Diagnostic("E601", f"{rule.rule_id} : {problem.reason}", span,
                                            hint="réécrivez l'expression avec des constructions traduisibles en SQL"))  # fmt: skip
    return found


def load_rules(
    paths: Sequence[Path] | None = None, texts: Mapping[Path, str] | None = None
) -> LoadedRules:
    """The rulebook under `paths` (the bundled rules by default) with every diagnostic of
    `mixite rules lint`; `texts`: unsaved texts of files, as an editor holds them."""
    chosen = list(paths) if paths else [rules_dir()]
    for path in chosen:
        if not path.exists():
            raise MixiteError(f"{path} : fichier ou dossier de règles introuvable.")
    if texts:  # an editor's unsaved texts: checked afresh each time
        return _check_rules(chosen, texts)
    # A command that finds its rules in the cache does not even import the parser.
    from checker import rulebook_cache

    key = rulebook_cache.cache_key(chosen)
    cached = rulebook_cache.read(key, chosen) if key else None
    if cached is not None:
        return cached
    loaded = _check_rules(chosen, None)
    if key:
        rulebook_cache.write(key, loaded)
    return loaded


def _check_rules(chosen: list[Path], texts: Mapping[Path, str] | None) -> LoadedRules:
    from checker.schema import schema
    from dsl.analysis import display_name, load_rulebook, rule_files

    if not rule_files(chosen) and not texts:
        raise MixiteError(
            f"Aucun fichier de règles (*.regles) dans : {', '.join(map(str, chosen))}."
        )
    rulebook, diagnostics = load_rulebook(
        chosen, schema(), tested=tested_rule_ids(chosen), texts=texts
    )
    if rulebook is not None:
        untranslatable = sql_diagnostics(rulebook)
        if untranslatable:
            diagnostics = sorted([*diagnostics, *untranslatable], key=sort_key)
            sources_for_errors = dict(rulebook.sources)
            return LoadedRules(None, diagnostics, sources_for_errors, chosen)
    sources: dict[str, str] = dict(rulebook.sources) if rulebook else {}
    if rulebook is None:
        for file in rule_files(chosen):
            try:
                sources[display_name(file)] = file.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                continue
        for file, text in (texts or {}).items():
            sources[display_name(file)] = text
    return LoadedRules(rulebook, diagnostics, sources, chosen)


def require_rules(paths: Sequence[Path] | None = None) -> tuple[Rulebook, LoadedRules]:
    """The rulebook, or a clear refusal listing the errors (warnings pass)."""
    loaded = load_rules(paths)
    if loaded.rulebook is None:
        errors = [d for d in loaded.diagnostics if d.is_error]
        rendered = "\n\n".join(d.render(loaded.sources) for d in errors[:20])
        raise MixiteError(
            f"Les règles contiennent {len(errors)} erreur(s) :\n\n{rendered}",
            "Corrigez-les (mixite rules lint) avant de continuer.",
        )
    return loaded.rulebook, loaded
