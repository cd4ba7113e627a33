"""Generates the rule catalogue (catalogue/*.md) from rules/ at build time.

One page per rule of the bundled rulebook: title, sources, versions and their dates, local
objective bounds, exceptions, indicators, points of uncertainty, the parameters it uses with
their values over time (a summary and the `mixite param` command for large tables), the
definitions it relies on, its tests, and its text, highlighted. Plus an index and a page of all
parameters. The pages are built in memory: nothing is written to docs/ (never commit them).

The rulebook is loaded with `checker.rulebook_loader.require_rules()`: a rulebook with errors
stops the build with the diagnostics.
"""

from __future__ import annotations

import datetime as dt
import os
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import _commun
from _commun import REPO, fence, log, md_escape
from mkdocs.structure.files import File, InclusionLevel

SECTION = "Catalogue des règles"
FOLDER = "catalogue"
FULL_TABLE_MAX = 40  # a keyed parameter with more values is summarised
EXAMPLE_KEYS = {"epci": "CA Amiens Métropole"}  # the demo territory's thresholds


def slug(rule_id: str) -> str:
    return rule_id.lower().replace(".", "-")


def _date(day: dt.date | None) -> str:
    return day.strftime("%d/%m/%Y") if day else "—"


def _period(start: dt.date | None, end: dt.date | None) -> str:
    if start is None:
        return "—"
    return f"du {_date(start)}" + (f" au {_date(end)}" if end else " (sans date de fin)")


def _source(source: Any) -> str:
    text = md_escape(source.title)
    if source.article:
        text += f", article {md_escape(source.article)}"
    if source.url:
        text += f" — [{_short_url(source.url)}]({source.url})"
    return text


def _short_url(url: str) -> str:
    host = url.split("//", 1)[-1].split("/", 1)[0]
    return host.removeprefix("www.")


@dataclass
class _Rulebook:
    """What the pages need, loaded once per build."""

    rulebook: Any
    tests: dict[str, list[tuple[str, str]]] = field(default_factory=dict)  # rule -> (file, case)
    used_by: dict[str, list[str]] = field(default_factory=dict)  # parameter -> rules


def _load() -> _Rulebook:
    from checker.paths import rules_dir
    from checker.rule_tests import load_documents
    from checker.rulebook_loader import require_rules

    previous = Path.cwd()
    os.chdir(REPO)  # file names as `mixite rules show` prints them from the repository
    try:
        rulebook, _ = require_rules()
        documents = load_documents([rules_dir()])
    finally:
        os.chdir(previous)
    loaded = _Rulebook(rulebook)
    for file, document in documents:
        name = os.path.relpath(file, REPO) if Path(file).is_absolute() else file
        for case in document.get("cas", []):
            loaded.tests.setdefault(str(document["regle"]), []).append((name, str(case.get("nom"))))
    for rule_id in sorted(rulebook.rules):
        for parameter in _used(rulebook, rulebook.rules[rule_id])[0]:
            loaded.used_by.setdefault(parameter, []).append(rule_id)
    return loaded


def in_repository(file: str) -> str:
    """Where a file of the bundled rulebook lives in the repository (`rules/…`), even when
    mixite is installed as a package and reads its copy under site-packages."""
    from checker.paths import rules_dir

    path = Path(file) if Path(file).is_absolute() else (REPO / file)
    path = Path(os.path.normpath(path))
    for root, shown in ((Path(os.path.normpath(rules_dir())), Path("rules")), (REPO, Path())):
        try:
            return (shown / path.relative_to(root)).as_posix()
        except ValueError:
            continue
    return file


def _used(rulebook: Any, rule: Any) -> tuple[list[str], list[tuple[str, str]]]:
    """Parameters and definitions (entity, name) a rule relies on, directly or not, in order."""
    from dsl import ast

    resolutions = rulebook.annotations.resolutions
    parameters: list[str] = []
    definitions: list[tuple[str, str]] = []

    def visit(node: object) -> None:
        resolution = resolutions.get(id(node))
        if resolution is not None:
            if resolution.kind == "parameter" and resolution.name not in parameters:
                parameters.append(resolution.name)
            elif resolution.kind == "definition" and resolution.entity:
                slot = (resolution.entity, resolution.name)
                if slot not in definitions:
                    definitions.append(slot)
                    visit(rulebook.definitions[slot[0]][slot[1]].expr)
        if isinstance(node, tuple):
            for item in node:
                visit(item)
        elif isinstance(node, ast.Node) and not isinstance(node, ast.Source | ast.Metadata):
            for name in node.__dataclass_fields__:
                visit(getattr(node, name))

    visit(rule)
    return parameters, definitions


def _excerpt(rulebook: Any, span: Any) -> str:
    lines = rulebook.sources.get(span.file, "").splitlines()
    return "\n".join(lines[span.line - 1 : span.end_line]).rstrip()


def _value(value: Any, type_: Any) -> str:
    from checker import frenchfmt

    return md_escape(frenchfmt.value(value, type_))


# ---------------------------------------------------------------------------------- parameters
def _parameter_section(rulebook: Any, name: str, level: str, used_by: list[str]) -> list[str]:
    parameter = rulebook.parameters[name]
    decl = parameter.decl
    out = [f"{level} `{name}`", ""]
    if decl.meta.title:
        out += [md_escape(decl.meta.title), ""]
    keys = ", ".join(f"`{key}` ({type_})" for key, type_ in parameter.keys)
    out.append(f"- Type : {parameter.type}" + (f" ; clés : {keys}" if keys else ""))
    for source in decl.meta.sources:
        out.append(f"- Source : {_source(source)}")
    for table in decl.tables:
        column = f", colonne `{table.value_column}`" if table.value_column else ""
        path = in_repository(os.path.normpath(Path(decl.span.file).parent / table.path))
        out.append(f"- Valeurs lues dans la table `{path}`{column}")
    for derivation in decl.derivations:
        text = _excerpt(rulebook, derivation.span).splitlines()[0].strip()
        out.append(f"- Valeurs dérivées : `{md_escape(text)}`")
    out.append(f"- Déclaré dans `{decl.span.file}`, ligne {decl.span.line}")
    if used_by:
        out.append("- Utilisé par : " + ", ".join(f"[{r}]({slug(r)}.md)" for r in used_by))
    out.append("")
    for text in decl.meta.uncertain:
        out += ['!!! warning "Point incertain"', f"    {text}", ""]
    for text in decl.meta.notes:
        out += ['!!! note "Note"', f"    {text}", ""]
    values = sorted(parameter.values, key=lambda v: (v.key, v.start))
    if not parameter.keys:
        out += ["| en vigueur | valeur | source |", "| --- | --- | --- |"]
        for value in values:
            sources = "<br>".join(_source(s) for s in value.sources)
            out.append(
                f"| {_period(value.start, value.end)} | {_value(value.value, parameter.type)} | {sources} |"
            )
        out.append("")
    elif len(values) <= FULL_TABLE_MAX:
        header = " | ".join(key for key, _ in parameter.keys)
        out += [f"| {header} | en vigueur | valeur | source |",
                "| " + " | ".join("---" for _ in parameter.keys) + " | --- | --- | --- |"]  # fmt: skip
        for value in values:
            cells = " | ".join(md_escape(part) for part in value.key)
            sources = "<br>".join(_source(s) for s in value.sources)
            out.append(
                f"| {cells} | {_period(value.start, value.end)} | {_value(value.value, parameter.type)} | {sources} |"
            )
        out.append("")
    else:
        out += _summary(parameter, values, name)
    return out


def _summary(parameter: Any, values: list[Any], name: str) -> list[str]:
    keys = sorted({value.key for value in values})
    starts = sorted({value.start for value in values})
    derived = sum(1 for value in values if value.derived_from)
    out = [
        f"Table de **{len(values)} valeurs** ({len(keys)} combinaisons de clés"
        + (f", dont {derived} valeurs dérivées" if derived else "")
        + f"), en vigueur à partir des dates : {', '.join(_date(d) for d in starts)}.",
        "",
    ]
    per_key = [name for name, _ in parameter.keys]
    for position, key_name in enumerate(per_key):
        distinct = sorted({value.key[position] for value in values})
        shown = ", ".join(f"`{md_escape(v)}`" for v in distinct[:12])
        more = f" … ({len(distinct)} au total)" if len(distinct) > 12 else ""
        out.append(f"- `{key_name}` : {shown}{more}")
    out.append("")
    example = _example_key(parameter, values)
    if example is not None:
        series = [value for value in values if value.key == example]
        labels = ", ".join(f"{k} = {v}" for k, v in zip(per_key, example, strict=True))
        out += [f"Par exemple, pour {md_escape(labels)} :", "",
                "| en vigueur | valeur | source |", "| --- | --- | --- |"]  # fmt: skip
        for value in series:
            sources = "<br>".join(_source(s) for s in value.sources)
            out.append(
                f"| {_period(value.start, value.end)} | {_value(value.value, parameter.type)} | {sources} |"
            )
        out.append("")
        day = series[-1].start
        command = f"mixite param {name} --date {day.isoformat()} " + " ".join(
            f'--key {k}="{v}"' for k, v in zip(per_key, example, strict=True)
        )
        out += ["Pour lire une autre valeur, avec sa source et la ligne de la table qui la porte :", "",
                fence(command, "bash")]  # fmt: skip
    return out


def _example_key(parameter: Any, values: list[Any]) -> tuple[str, ...] | None:
    names = [name for name, _ in parameter.keys]
    keys = sorted({value.key for value in values})
    for key in keys:
        if all(EXAMPLE_KEYS.get(n, v) == v for n, v in zip(names, key, strict=True)) and any(
            n in EXAMPLE_KEYS for n in names
        ):
            return key
    # the key with the longest history, first in order
    counts: dict[tuple[str, ...], int] = defaultdict(int)
    for value in values:
        counts[value.key] += 1
    return max(keys, key=lambda k: (counts[k], [-ord(c) for c in "".join(k)[:1]])) if keys else None


# ---------------------------------------------------------------------------------- rule pages
def rule_page(loaded: _Rulebook, rule_id: str) -> str:
    rulebook = loaded.rulebook
    rule = rulebook.rules[rule_id]
    file = in_repository(rulebook.rule_files[rule_id])
    parameters, definitions = _used(rulebook, rule)
    out = [f"# {rule_id}", ""]
    if rule.meta.title:
        out += [f"**{md_escape(rule.meta.title)}**", ""]
    out += [
        '!!! info "Page générée"',
        f"    Cette page est produite à partir de `{file}` à chaque construction du site. Pour la",
        "    modifier, modifiez la règle (voir [Modifier une règle](../regles/modifier.md)). Dans un",
        f"    terminal : `mixite rules show {rule_id}`.",
        "",
        "## Sources",
        "",
    ]
    out += [f"- {_source(s)}" for s in rule.meta.sources] + [""]
    out += ["## Versions", "",
            "Chaque attribution (ou dossier) est jugée par la version en vigueur à sa date : la date "
            "de signature du bail pour une attribution, la date de la commission pour un dossier de "
            "CALEOL, la fin de la période contrôlée pour un EPCI.", "",
            "| version | en vigueur | sources |", "| --- | --- | --- |"]  # fmt: skip
    for version in rule.versions:
        sources = "<br>".join(_source(s) for s in version.meta.sources)
        out.append(
            f"| `{version.start.isoformat()}` | {_period(version.start, version.end)} | {sources} |"
        )
    out.append("")
    if rule.local_bounds is not None:
        out += ["## Objectif local", ""]
        bounds = []
        for bound, label in (
            (rule.local_bounds.lower, "au moins"),
            (rule.local_bounds.upper, "au plus"),
        ):
            if bound is not None:
                bounds.append(f"{label} `{_excerpt_expr(rulebook, bound)}`")
        if bounds:
            out.append("Une convention intercommunale d'attribution (CIA) peut fixer la cible de cette "
                       f"règle, par EPCI ou par bailleur ; la loi la borne : {' et '.join(bounds)}. "
                       "Un objectif hors de ces bornes est refusé (diagnostic "
                       "[E501](../regles/diagnostics.md#e501)).")  # fmt: skip
        else:
            out.append("Une convention intercommunale d'attribution (CIA) peut fixer la cible de cette "
                       "règle, par EPCI ou par bailleur, sans borne déclarée.")  # fmt: skip
        out += ["", "Voir [Écrire une CIA](../regles/ecrire-une-cia.md).", ""]
    exceptions = [(v, e) for v in rule.versions for e in v.exceptions]
    if exceptions:
        out += ["## Exceptions", "", "| versions | sauf si | sources |", "| --- | --- | --- |"]
        grouped: dict[str, tuple[list[str], Any]] = {}
        for version, exception in exceptions:
            text = _excerpt_expr(rulebook, exception.condition)
            slot = grouped.setdefault(text, ([], exception))
            slot[0].append(f"`{version.start.isoformat()}`")
        for text, (versions, exception) in grouped.items():
            sources = "<br>".join(_source(s) for s in exception.sources) or "—"
            out.append(f"| {', '.join(versions)} | `{md_escape(text)}` | {sources} |")
        out.append("")
    also = {a.label: _excerpt_expr(rulebook, a.condition) for v in rule.versions for a in v.also}
    if also:
        out += ["## Indicateurs rapportés", "",
                "Comptés en plus du résultat, sans être jugés (champs `numerator_<nom>` et "
                "`rate_<nom>` du [rapport JSON](../reference/rapport-json.md)) :", ""]  # fmt: skip
        out += [f"- `{label}` : `{md_escape(text)}`" for label, text in also.items()] + [""]
    uncertain = [(None, t) for t in rule.meta.uncertain] + [
        (v, t) for v in rule.versions for t in v.meta.uncertain
    ]
    out += ["## Points incertains", ""]
    if uncertain:
        for version, text in uncertain:
            where = f" (version du {_date(version.start)})" if version else ""
            out += [f'!!! warning "Point incertain{where}"', f"    {text}", ""]
    else:
        out += ["Aucun point incertain déclaré par la règle elle-même.", ""]
    notes = list(rule.meta.notes) + [t for v in rule.versions for t in v.meta.notes]
    for text in notes:
        out += ['!!! note "Note"', f"    {text}", ""]
    if parameters:
        out += ["## Paramètres", "",
                "Valeurs datées et sourcées ; une attribution prend la valeur en vigueur à sa date.", ""]  # fmt: skip
        for name in parameters:
            out += _parameter_section(rulebook, name, "###", loaded.used_by.get(name, []))
    if definitions:
        out += ["## Définitions utilisées", ""]
        for entity, name in definitions:
            definition = rulebook.definitions[entity][name]
            out += [f"### `{name}`", "", fence(_excerpt(rulebook, definition.span))]
            for text in definition.meta.uncertain:
                out += ['!!! warning "Point incertain"', f"    {text}", ""]
    tests = loaded.tests.get(rule_id, [])
    out += ["## Tests", ""]
    if tests:
        out.append(
            f"{len(tests)} cas de test, exécutés sur les deux moteurs par `mixite rules test` :"
        )
        out.append("")
        out += [f"- {md_escape(name)} (`{file}`)" for file, name in tests]
        out.append("")
    else:
        out += ["Aucun cas de test.", ""]
    out += ["## Texte de la règle", "", f"Extrait de `{file}`, ligne {rule.span.line} :", "",
            fence(_excerpt(rulebook, rule.span), "mixite", Path(file).name)]  # fmt: skip
    return "\n".join(out) + "\n"


def _excerpt_expr(rulebook: Any, expr: Any) -> str:
    span = expr.span
    lines = rulebook.sources.get(span.file, "").splitlines()
    if span.line == span.end_line:
        return lines[span.line - 1][span.column - 1 : span.end_column - 1].strip()
    piece = lines[span.line - 1 : span.end_line]
    piece[0] = piece[0][span.column - 1 :]
    piece[-1] = piece[-1][: span.end_column - 1]
    return " ".join(part.strip() for part in piece)


def index_page(loaded: _Rulebook) -> str:
    rulebook = loaded.rulebook
    out = [
        "# Catalogue des règles",
        "",
        '!!! info "Pages générées"',
        "    Le catalogue est produit à partir du dossier `rules/` à chaque construction du site :",
        "    il décrit exactement les règles livrées avec cette version de mixite. Dans un terminal,",
        "    `mixite rules list` et `mixite rules show IDENTIFIANT` donnent les mêmes informations.",
        "",
        "Une règle = une obligation, identifiée par l'article qui la fonde et un nom court "
        "(`L441-1.Q1-HORS-QPV`). Chacune a ses sources, ses versions datées, ses paramètres "
        "sourcés, ses points incertains et ses tests. Ce qu'elles signifient pour vous est expliqué "
        "dans [Lire un résultat](../guide/lire-un-resultat.md#les-obligations-verifiees).",
        "",
        "| règle | intitulé | versions | points incertains | tests |",
        "| --- | --- | --- | ---: | ---: |",
    ]
    for rule_id in sorted(rulebook.rules):
        rule = rulebook.rules[rule_id]
        versions = "<br>".join(_period(v.start, v.end) for v in rule.versions)
        uncertain = len(rule.meta.uncertain) + sum(len(v.meta.uncertain) for v in rule.versions)
        out.append(
            f"| [{rule_id}]({slug(rule_id)}.md) | {md_escape(rule.meta.title or '')} | {versions} "
            f"| {uncertain} | {len(loaded.tests.get(rule_id, []))} |"
        )
    out += [
        "",
        "Les paramètres (taux, seuils, plafonds) ont leur propre page : [Paramètres](parametres.md).",
        "",
    ]
    if rulebook.commitments:
        out += ["## Engagements locaux livrés", ""]
        for commitment_id, commitment in sorted(rulebook.commitments.items()):
            out.append(f"- `{commitment_id}` — {md_escape(commitment.meta.title or '')}")
        out.append("")
    return "\n".join(out) + "\n"


def parameters_page(loaded: _Rulebook) -> str:
    rulebook = loaded.rulebook
    out = [
        "# Paramètres",
        "",
        '!!! info "Page générée"',
        "    Produite à partir de `rules/` à chaque construction du site. Dans un terminal :",
        "    `mixite param NOM --date AAAA-MM-JJ [--key clé=valeur]`.",
        "",
        "Chaque valeur est datée (« en vigueur du … au … ») et porte sa source. Une attribution "
        "prend la valeur en vigueur à la date de son bail.",
        "",
        "| paramètre | intitulé | type | valeurs |",
        "| --- | --- | --- | ---: |",
    ]
    names = sorted(rulebook.parameters)
    for name in names:
        parameter = rulebook.parameters[name]
        anchor = name.replace("_", "_")
        out.append(f"| [`{name}`](#{anchor}) | {md_escape(parameter.decl.meta.title or '')} "
                   f"| {parameter.type} | {len(parameter.values)} |")  # fmt: skip
    out.append("")
    for name in names:
        out += _parameter_section(rulebook, name, "##", loaded.used_by.get(name, []))
    return "\n".join(out) + "\n"


# ---------------------------------------------------------------------------------- mkdocs
_CACHE: dict[str, _Rulebook] = {}


def _loaded() -> _Rulebook:
    if "rules" not in _CACHE:
        _CACHE["rules"] = _load()
    return _CACHE["rules"]


def on_config(config: Any) -> Any:
    _CACHE.clear()  # a rebuild (mkdocs serve) reloads the rules
    loaded = _loaded()
    entries: list[Any] = [{"Vue d'ensemble": f"{FOLDER}/index.md"}]
    entries += [
        {rule_id: f"{FOLDER}/{slug(rule_id)}.md"} for rule_id in sorted(loaded.rulebook.rules)
    ]
    entries.append({"Paramètres": f"{FOLDER}/parametres.md"})
    for item in config["nav"] or []:
        if isinstance(item, dict) and SECTION in item:
            item[SECTION] = entries
            break
    else:
        log.warning(f"mkdocs.yml: no '{SECTION}' section in nav for the generated catalogue")
    return config


def on_files(files: Any, config: Any) -> Any:
    loaded = _loaded()
    pages = {
        f"{FOLDER}/index.md": index_page(loaded),
        f"{FOLDER}/parametres.md": parameters_page(loaded),
    }
    for rule_id in sorted(loaded.rulebook.rules):
        pages[f"{FOLDER}/{slug(rule_id)}.md"] = rule_page(loaded, rule_id)
    for path, content in pages.items():
        files.append(
            File.generated(config, path, content=content, inclusion=InclusionLevel.INCLUDED)
        )
    return files


SUMMARY_PAGE = "guide/lire-un-resultat.md"


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    """The user guide summarises each rule by hand: say which rules it does not cover yet."""
    if page.file.src_uri == SUMMARY_PAGE:
        missing = [
            rule_id for rule_id in sorted(_loaded().rulebook.rules) if rule_id not in markdown
        ]
        if missing:
            log.info(f"{SUMMARY_PAGE}: no summary section yet for {', '.join(missing)}")
    return markdown


__all__ = ["_commun", "on_config", "on_files", "on_page_markdown"]
