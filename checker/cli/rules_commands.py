"""`mixite rules …` and `mixite param`: checking, listing and showing the rulebook."""

from __future__ import annotations

import datetime as dt
import json
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from checker.cli.console import err, out, styled
from checker.cli.options import RulesOption
from checker.errors import MixiteError

# Parsing and checking rules (Lark, the schema, SQLAlchemy) is imported inside the commands:
# every command of `mixite` would otherwise pay for it at start-up (tests/test_startup.py).
if TYPE_CHECKING:
    from dsl import ast
    from dsl.rulebook import CheckedParameter, ParameterValue, Rulebook

app = typer.Typer(help="Les règles : vérifier, lister, afficher, tester.", no_args_is_help=True)

PathsArgument = Annotated[
    list[Path] | None,
    typer.Argument(help="Fichiers ou dossiers de règles (par défaut : les règles livrées)."),
]
__all__ = ["RulesOption", "app", "register_param"]


@app.command("lint")
def lint_command(paths: PathsArgument = None) -> None:
    """Vérifie les règles : syntaxe, noms, types et unités, dates, sources, engagements."""
    from checker.rulebook_loader import load_rules

    loaded = load_rules(paths)
    for diagnostic in loaded.diagnostics:
        err.print(diagnostic.render(loaded.sources), markup=False, highlight=False)
        err.print()
    errors = sum(1 for d in loaded.diagnostics if d.is_error)
    warnings = len(loaded.diagnostics) - errors
    summary = f"{errors} erreur(s), {warnings} avertissement(s)"
    if errors:
        err.print(styled("[bold red]{summary}[/]", summary=summary))
        raise typer.Exit(1)
    rules = len(loaded.rulebook.rules) if loaded.rulebook else 0
    out.print(f"Règles valides ({rules} règle(s)) — {summary}.")


@app.command("list")
def list_command(rules: RulesOption = None) -> None:
    """Liste les règles, avec leurs versions."""
    from rich.table import Table

    from checker.rulebook_loader import require_rules

    rulebook, _ = require_rules(rules)
    table = Table(title="Règles", title_justify="left")
    table.add_column("Identifiant", no_wrap=True)
    table.add_column("Intitulé")
    table.add_column("Versions")
    table.add_column("Fichier")
    for rule_id in sorted(rulebook.rules):
        rule = rulebook.rules[rule_id]
        periods = ", ".join(_period(v.start, v.end) for v in rule.versions)
        table.add_row(rule_id, rule.meta.title or "", periods, rulebook.rule_files[rule_id])
    out.print(table)


def _period(start: dt.date, end: dt.date | None) -> str:
    from checker import frenchfmt

    return f"du {frenchfmt.date(start)}" + (f" au {frenchfmt.date(end)}" if end else "")


def _source_line(source: ast.Source) -> str:
    parts = [source.title]
    if source.article:
        parts.append(f"art. {source.article}")
    if source.url:
        parts.append(source.url)
    return " — ".join(parts)


def _excerpt(sources: dict[str, str], span: ast.Span) -> str:
    lines = sources.get(span.file, "").splitlines()[span.line - 1 : span.end_line]
    return "\n".join(lines)


@app.command("show")
def show_command(
    rule_id: Annotated[str, typer.Argument(help="Identifiant, ex. L441-1.Q1-HORS-QPV")],
    date: Annotated[str | None, typer.Option("--date", metavar="DATE", help="Date (JJ/MM/AAAA ou AAAA-MM-JJ) : affiche la règle telle qu'en vigueur ce jour-là, en entier (versions écrites par différence résolues).")] = None,
    rules: RulesOption = None,
) -> None:  # fmt: skip
    """Affiche une règle : ses sources, ses versions et leurs dates, ses paramètres."""
    from checker.rulebook_loader import require_rules

    rulebook, _ = require_rules(rules)
    rule = rulebook.rules.get(rule_id)
    if rule is None:
        import difflib

        close = difflib.get_close_matches(rule_id, list(rulebook.rules), n=1)
        raise MixiteError(
            f"Règle inconnue : {rule_id}.",
            f"Vouliez-vous dire {close[0]} ?" if close else "Voir : mixite rules list",
        )
    if date is not None:
        _show_in_force(rulebook, rule, parse_day(date))
        return
    out.print(styled("[bold]{id}[/] — {title}", id=rule.rule_id, title=rule.meta.title or ""))
    out.print(f"Fichier : {rulebook.rule_files[rule_id]}")
    for source in rule.meta.sources:
        out.print(f"Source : {_source_line(source)}", soft_wrap=True)
    for text in rule.meta.uncertain:
        out.print(styled("[yellow]Incertain :[/] {text}", text=text), soft_wrap=True)
    for text in rule.meta.notes:
        out.print(f"Note : {text}", soft_wrap=True)
    for version in rule.versions:
        out.print()
        out.print(styled("[bold]Version {p}[/]", p=_period(version.start, version.end)))
        if version.amends:
            out.print(
                "  Écrite par différence avec la version précédente : "
                f"mixite rules show {rule_id} --date {version.start.isoformat()} l'affiche en entier.",
                soft_wrap=True,
            )
        for source in version.meta.sources:
            out.print(f"  Source : {_source_line(source)}", soft_wrap=True)
        out.print(_excerpt(rulebook.sources, version.span), markup=False, highlight=False)
    names = sorted(_parameters_used(rule, rulebook.annotations.resolutions))
    if names:
        out.print()
        out.print("Paramètres : " + ", ".join(names) + " (détail : mixite param NOM)")


def parse_day(text: str, option: str = "--date") -> dt.date:
    from checker.cli.dates import parse_day as parse

    return parse(text, option)


def _show_in_force(rulebook: Rulebook, rule: ast.Rule, day: dt.date) -> None:
    """The rule as in force on `day`: the one version that applies, written in full."""
    from checker import frenchfmt
    from dsl.formatter import format_rule_in_force

    version = rulebook.version_at(rule.rule_id, day)
    if version is None:
        periods = "; ".join(_period(v.start, v.end) for v in rule.versions)
        raise MixiteError(
            f"{rule.rule_id} : aucune version en vigueur le {frenchfmt.date(day)}.",
            f"Versions : {periods}.",
        )
    out.print(styled("[bold]{id}[/] en vigueur le {day} : version {period}{amends}",
                     id=rule.rule_id, day=frenchfmt.date(day), period=_period(version.start, version.end),
                     amends=" (écrite par différence, résolue ici)" if version.amends else ""),
              soft_wrap=True)  # fmt: skip
    out.print(f"Fichier : {rulebook.rule_files[rule.rule_id]}")
    out.print()
    out.print(format_rule_in_force(rule, version), markup=False, highlight=False, end="")
    names = sorted(_parameters_used(version, rulebook.annotations.resolutions))
    if not names:
        return
    out.print()
    out.print(f"Paramètres le {frenchfmt.date(day)} :")
    for name in names:
        parameter = rulebook.parameters[name]
        if parameter.keys:
            keys = " ".join(f'--key {key}="…"' for key, _ in parameter.keys)
            out.print(f"  {name} : une valeur par {', '.join(k for k, _ in parameter.keys)} "
                      f"(mixite param {name} --date {day.isoformat()} {keys})", soft_wrap=True)  # fmt: skip
            continue
        found = parameter.value_at(day)
        if found is None:
            out.print(f"  {name} : aucune valeur en vigueur", soft_wrap=True)
            continue
        value = frenchfmt.value(found.value, parameter.type)
        source = _source_line(found.sources[0]) if found.sources else "sans source"
        out.print(f"  {name} = {value} (depuis le {frenchfmt.date(found.start)} ; {source})",
                  soft_wrap=True, markup=False, highlight=False)  # fmt: skip


def _parameters_used(rule: ast.Node, resolutions: dict[int, Any]) -> set[str]:
    from dsl import ast

    used: set[str] = set()

    def visit(node: object) -> None:
        resolution = resolutions.get(id(node))
        if resolution is not None and resolution.kind == "parameter":
            used.add(resolution.name)
        for child in ast.children(node):
            visit(child)

    visit(rule)
    return used


def _parse_keys(parameter: CheckedParameter, raw: list[str]) -> dict[str, str]:
    given: dict[str, str] = {}
    for item in raw:
        name, sep, value = item.partition("=")
        if not sep:
            raise MixiteError(f"Clé mal écrite : « {item} ».", "Forme attendue : --key nom=valeur")
        value = value.strip()
        if len(value) > 1 and value[0] == value[-1] == '"':  # quoted once more by a shell
            value = value[1:-1]
        given[name.strip()] = value
    expected = [name for name, _ in parameter.keys]
    if set(given) != set(expected):
        listed = ", ".join(f"{name}=…" for name in expected) or "aucune clé"
        raise MixiteError(
            f"Le paramètre {parameter.name} se consulte avec : {listed}.",
            f"Exemple : mixite param {parameter.name} "
            + " ".join(f'--key {name}="…"' for name in expected),
        )
    return given


def _json_value(value: object) -> object:
    if isinstance(value, Fraction):
        return value.numerator if value.denominator == 1 else float(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def _source_json(source: ast.Source) -> dict[str, str | None]:
    return {"titre": source.title, "article": source.article, "url": source.url}


def register_param(root: typer.Typer) -> None:
    @root.command("param")
    def param_command(
        name: Annotated[str, typer.Argument(help="Nom du paramètre, ex. seuil_q1")],
        date: Annotated[
            str | None,
            typer.Option(
                "--date",
                metavar="DATE",
                help="Date, JJ/MM/AAAA ou AAAA-MM-JJ (par défaut : aujourd'hui).",
            ),
        ] = None,
        key: Annotated[
            list[str] | None,
            typer.Option("--key", help='Clé, ex. --key epci="CA Amiens Métropole"'),
        ] = None,
        as_json: Annotated[bool, typer.Option("--json", help="Sortie JSON.")] = False,
        rules: RulesOption = None,
    ) -> None:
        """La valeur d'un paramètre en vigueur à une date, et sa source."""
        from checker import frenchfmt
        from checker.rulebook_loader import require_rules

        rulebook, _ = require_rules(rules)
        parameter = rulebook.parameters.get(name)
        if parameter is None:
            import difflib

            close = difflib.get_close_matches(name, list(rulebook.parameters), n=1)
            raise MixiteError(
                f"Paramètre inconnu : {name}.",
                f"Vouliez-vous dire {close[0]} ?" if close else
                "Paramètres : " + ", ".join(sorted(rulebook.parameters)),
            )  # fmt: skip
        day = parse_day(date) if date else dt.date.today()
        keys = _parse_keys(parameter, key or [])
        if [k for k, _ in parameter.keys] == ["epci"] and parameter.labels():
            from checker.epci_keys import resolve

            keys["epci"] = resolve(parameter, keys["epci"], day).siren  # a name or a SIREN
        found = parameter.value_at(day, keys)
        if found is None:
            known = parameter.series(keys)
            periods = (
                "; ".join(_period(v.start, v.end) for v in known) or "aucune valeur pour ces clés"
            )
            raise MixiteError(
                f"{name} : aucune valeur en vigueur le {frenchfmt.date(day)}"
                + (f" pour {', '.join(f'{k} = {v}' for k, v in keys.items())}" if keys else "")
                + ".",
                f"Valeurs connues : {periods}.",
            )
        if as_json:
            out.print_json(json.dumps(_param_json(parameter, found, day, keys), ensure_ascii=False))
            return
        _print_param(parameter, found, day, keys)


def _param_json(parameter: CheckedParameter, found: ParameterValue, day: dt.date,
                keys: dict[str, str]) -> dict[str, object]:  # fmt: skip
    return {
        "parametre": parameter.name,
        "date": day.isoformat(),
        "cles": keys,
        "type": str(parameter.type),
        "value": _json_value(found.value),
        "en_vigueur_du": found.start.isoformat(),
        "en_vigueur_au": found.end.isoformat() if found.end else None,
        "source": _source_json(found.sources[0]),
        "sources": [_source_json(source) for source in found.sources],
        "origine": found.origin,
        "libelle": found.label,
        "fourni_localement": found.local,
        "derive_de": list(found.derived_from) if found.derived_from else None,
    }


def _print_param(parameter: CheckedParameter, found: ParameterValue, day: dt.date,
                 keys: dict[str, str]) -> None:  # fmt: skip
    from checker import frenchfmt

    label = parameter.decl.meta.title or parameter.name
    where = ", ".join(f"{k} = {v}" for k, v in keys.items())
    out.print(styled("[bold]{name}[/] — {label}", name=parameter.name, label=label), soft_wrap=True)
    out.print(styled("Le {day}{where} : [bold]{value}[/]", day=frenchfmt.date(day),
                     where=f" ({where})" if where else "",
                     value=frenchfmt.value(found.value, parameter.type)))  # fmt: skip
    out.print(f"En vigueur {_period(found.start, found.end)}")
    if found.local:
        out.print(
            "[bold]Valeur fournie localement[/] (fichier de paramètres locaux, pas les règles nationales)"
        )
    if found.label:
        out.print(f"Nom dans ce texte : {found.label}", soft_wrap=True)
    for source in found.sources:
        out.print(f"Source : {_source_line(source)}", soft_wrap=True)
    out.print(f"Écrit dans : {found.origin}")
    for text in parameter.decl.meta.uncertain:
        out.print(styled("[yellow]Incertain :[/] {text}", text=text), soft_wrap=True)


@app.command("test")
def test_command(
    paths: PathsArgument = None,
    regle: Annotated[str | None, typer.Option("--regle", help="Seulement les cas de cette règle, ex. L441-1.Q1-HORS-QPV.", metavar="IDENTIFIANT")] = None,
    moteur: Annotated[str | None, typer.Option("--moteur", help="sql ou reference (par défaut : les deux, qui doivent concorder).", metavar="MOTEUR")] = None,
    processus: Annotated[int | None, typer.Option("--processus", help="Nombre de processus (par défaut : un par processeur).", metavar="N", min=1)] = None,
) -> None:  # fmt: skip
    """Lance les tests des règles (fichiers *.tests.yaml) sur les deux moteurs."""
    from checker.cli.rules_test_output import run_tests

    code = run_tests(paths, regle, moteur, processus)
    if code:
        raise typer.Exit(code)


@app.command("fmt")
def fmt_command(
    paths: PathsArgument = None,
    check: Annotated[bool, typer.Option("--check", help="Vérifie sans écrire : échec si un fichier n'est pas au format canonique.")] = False,
) -> None:  # fmt: skip
    """Met les fichiers de règles au format canonique (ou vérifie qu'ils le sont)."""
    import difflib

    from checker.paths import rules_dir
    from dsl.analysis import display_name, rule_files
    from dsl.formatter import format_text

    files = rule_files(paths or [rules_dir()])
    if not files:
        raise MixiteError("Aucun fichier de règles (*.regles) à formater.")
    unformatted, broken = [], 0
    for path in files:
        name = display_name(path)
        text = path.read_text(encoding="utf-8")
        formatted, diagnostics = format_text(text, name)
        if formatted is None:
            broken += 1
            for diagnostic in diagnostics:
                err.print(diagnostic.render({name: text}), markup=False)
            continue
        if formatted == text:
            continue
        unformatted.append(name)
        if check:
            diff = difflib.unified_diff(
                text.splitlines(), formatted.splitlines(), name, f"{name} (canonique)", lineterm=""
            )
            err.print("\n".join(list(diff)[:40]), markup=False)
        else:
            path.write_text(formatted, encoding="utf-8")
            out.print(f"Formaté : {name}")
    if broken:
        raise MixiteError(
            f"{broken} fichier(s) illisible(s) : corrigez-les d'abord (mixite rules lint)."
        )
    if check and unformatted:
        err.print(f"{len(unformatted)} fichier(s) à reformater : mixite rules fmt")
        raise typer.Exit(1)
    if not unformatted:
        out.print(f"{len(files)} fichier(s) déjà au format canonique.")


@app.command("diff")
def diff_command(
    du: Annotated[str | None, typer.Option("--du", help="Date de départ JJ/MM/AAAA ou AAAA-MM-JJ (par défaut : la date --au).")] = None,
    au: Annotated[str | None, typer.Option("--au", help="Date d'arrivée AAAA-MM-JJ (par défaut : aujourd'hui).")] = None,
    depuis: Annotated[str | None, typer.Option("--depuis", help="Révision git du dossier de règles à comparer avec son état actuel (ex. HEAD~3, v0.1.0).")] = None,
    markdown: Annotated[bool, typer.Option("--markdown", help="Sortie en Markdown.")] = False,
    rules: RulesOption = None,
) -> None:  # fmt: skip
    """Ce qui change dans les règles entre deux dates (ou depuis une révision) : versions,
    clauses, paramètres et échéances, règle par règle, avec leurs sources."""
    from checker import frenchfmt
    from checker.rulebook_loader import require_rules
    from checker.rules_diff import as_markdown, as_text, changes_between
    from checker.rules_history import rules_at_revision

    after = parse_day(au, "--au") if au else dt.date.today()
    before = parse_day(du, "--du") if du else after
    if du is None and depuis is None:
        raise MixiteError("Indiquez --du (et --au), ou --depuis.",
                          "Exemple : mixite rules diff --du 2023-12-31 --au 2024-01-01")  # fmt: skip
    if before > after:
        raise MixiteError(
            f"--du ({frenchfmt.date(before)}) est après --au ({frenchfmt.date(after)})."
        )
    new_book, loaded = require_rules(rules)
    label_before = label_after = None
    old_book = new_book
    if depuis is not None:
        with rules_at_revision(loaded.paths, depuis) as old_paths:
            old_book, _ = require_rules(old_paths)
        label_before = f"la révision {depuis} (au {frenchfmt.date(before)})"
        label_after = f"l'état actuel (au {frenchfmt.date(after)})"
    changes = changes_between(old_book, before, new_book, after, label_before, label_after)
    text = as_markdown(changes) if markdown else as_text(changes, out.width)
    out.print(text.rstrip("\n"), markup=False, highlight=False, soft_wrap=True)


def register_lsp(root: typer.Typer) -> None:
    @root.command("lsp")
    def lsp_command() -> None:
        """Serveur de langage pour les éditeurs (VS Code…) : diagnostics pendant la frappe,
        survol d'un paramètre, aller à la définition, complétion. Parle sur l'entrée et la
        sortie standard : c'est l'éditeur qui le lance."""
        from checker.lsp import serve

        serve()
