"""`mixite rules new regle|engagement`: scaffolds a local rule or a CIA engagement, with its
tests file (see checker.scaffold). Options, or questions when run in a terminal."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from checker.cli.console import out, styled
from checker.errors import MixiteError

# The scaffold (YAML, the rule tests' territory) is imported inside the commands: a help screen
# must stay light (tests/test_startup.py).
CRITERIA = ("mutation", "dalo", "travailleur_essentiel")  # checker.scaffold.CRITERIA's keys

app = typer.Typer(help="Crée une règle locale ou un engagement (CIA), avec son fichier de tests.",
                  no_args_is_help=True)  # fmt: skip

_T = TypeVar("_T")
_RULE_ID_PATTERN = r"[A-Z][A-Z0-9]*(-[A-Z0-9]+)*\.[A-Z0-9]+(-[A-Z0-9]+)*"


def _in_a_terminal() -> bool:
    return sys.stdin.isatty()


class _Answers:
    """Each missing value asked in a terminal; elsewhere, the missing options are refused."""

    def __init__(self) -> None:
        self.interactive = _in_a_terminal()
        self.missing: list[str] = []

    def get(self, value: str | None, option: str, question: str, default: str | None = None,
            check: Callable[[str], _T] | None = None) -> str:  # fmt: skip
        while value is None:
            if not self.interactive:
                if default is not None:
                    return default
                self.missing.append(option)
                return ""
            value = typer.prompt(question, default=default)
            if check is not None:
                try:
                    check(value)
                except MixiteError as problem:
                    out.print(styled("[red]{m}[/]", m=problem.message))
                    value = None
        return value

    def done(self) -> None:
        if self.missing:
            raise MixiteError("Options manquantes : " + ", ".join(self.missing) + ".",
                              "Donnez-les, ou lancez la commande dans un terminal : elle vous les demandera.")  # fmt: skip


def _write(folder: Path, name: str, rules_text: str, tests_text: str) -> tuple[Path, Path]:
    from dsl.formatter import format_text

    canonical, problems = format_text(rules_text, f"{name}.regles")
    if canonical is None:  # a title or a source the language cannot hold as written
        rendered = "\n".join(problem.render({f"{name}.regles": rules_text}) for problem in problems)
        raise MixiteError(f"Le texte produit n'est pas lisible :\n{rendered}")
    rules_text = canonical
    folder.mkdir(parents=True, exist_ok=True)
    rules_path, tests_path = folder / f"{name}.regles", folder / f"{name}.tests.yaml"
    for path in (rules_path, tests_path):
        if path.exists():
            raise MixiteError(f"{path} existe déjà : rien n'a été écrit.",
                              "Choisissez un autre identifiant ou un autre dossier (--dossier).")  # fmt: skip
    rules_path.write_text(rules_text, encoding="utf-8")
    tests_path.write_text(tests_text, encoding="utf-8")
    return rules_path, tests_path


def _check_rule_id(value: str) -> str:
    import re

    if not re.fullmatch(_RULE_ID_PATTERN, value):
        raise MixiteError(f"Identifiant de règle mal formé : « {value} ».",
                          "Forme attendue : TEXTE.NOM en majuscules, ex. CIA-LIZE.MUTATIONS")  # fmt: skip
    return value


def _check_siren(value: str) -> str:
    if not (len(value) == 9 and value.isdigit()):
        raise MixiteError(f"SIREN de l'EPCI mal formé : « {value} » (9 chiffres attendus).")
    return value


def parse_day(text: str) -> Any:
    from checker.scaffold import parse_day as parse

    return parse(text)


def parse_percent(text: str) -> Any:
    from checker.scaffold import parse_percent as parse

    return parse(text)


def _check_criterion(value: str) -> str:
    if value not in CRITERIA:
        raise MixiteError(f"Critère inconnu : « {value} ».", "Critères : " + ", ".join(CRITERIA))
    return value


def _next_steps(rules_path: Path, tests_path: Path) -> None:
    out.print(f"Créé : {rules_path}")
    out.print(f"Créé : {tests_path}")
    out.print("Ensuite : complétez-les, puis")
    out.print(f"  mixite rules lint rules {rules_path.parent}")
    out.print(f"  mixite rules test rules {rules_path.parent}")


FolderOption = Annotated[
    Path | None,
    typer.Option(
        "--dossier", help="Dossier où écrire les deux fichiers (par défaut : le dossier courant)."
    ),
]
SourceOption = Annotated[
    str | None,
    typer.Option("--source", help="Texte qui fonde la règle (délibération, convention, article)."),
]
UrlOption = Annotated[str | None, typer.Option("--url", help="Adresse du texte.")]
TerritoryOption = Annotated[str | None, typer.Option("--territoire", help="SIREN de l'EPCI.")]
TitleOption = Annotated[str | None, typer.Option("--titre", help="Intitulé, en français.")]
StartOption = Annotated[str | None, typer.Option("--du", help="Date de début JJ/MM/AAAA.")]


@app.command("regle")
def new_rule(
    rule_id: Annotated[str | None, typer.Argument(help="Identifiant, ex. CIA-LIZE.MUTATIONS")] = None,
    titre: TitleOption = None,
    territoire: TerritoryOption = None,
    critere: Annotated[str | None, typer.Option("--critere", help="Champ oui/non des attributions compté : " + ", ".join(CRITERIA))] = None,
    taux: Annotated[str | None, typer.Option("--taux", help="Part minimale, ex. 25 %")] = None,
    du: StartOption = None,
    source: SourceOption = None,
    url: UrlOption = None,
    dossier: FolderOption = None,
) -> None:  # fmt: skip
    """Une règle locale : une part minimale des attributions d'un EPCI, avec ses tests."""
    ask = _Answers()
    rule_id = ask.get(
        rule_id,
        "IDENTIFIANT",
        "Identifiant de la règle (ex. CIA-LIZE.MUTATIONS)",
        check=_check_rule_id,
    )
    titre = ask.get(titre, "--titre", "Intitulé")
    territoire = ask.get(territoire, "--territoire", "SIREN de l'EPCI", check=_check_siren)
    critere = ask.get(
        critere,
        "--critere",
        f"Critère compté ({', '.join(CRITERIA)})",
        "mutation",
        _check_criterion,
    )
    taux = ask.get(taux, "--taux", "Part minimale (en %)", check=parse_percent)
    du = ask.get(du, "--du", "En vigueur à partir du (JJ/MM/AAAA)", check=parse_day)
    source = ask.get(source, "--source", "Texte qui la fonde")
    url = ask.get(url, "--url", "Adresse de ce texte")
    ask.done()
    from checker.scaffold import LocalRule, slug

    rule = LocalRule(_check_rule_id(rule_id), titre, _check_siren(territoire), _check_criterion(critere),
                     parse_percent(taux), parse_day(du), source, url)  # fmt: skip
    paths = _write(dossier or Path.cwd(), slug(rule.rule_id), rule.rules_text(), rule.tests_text())
    _next_steps(*paths)


@app.command("engagement")
def new_engagement(
    commitment_id: Annotated[str | None, typer.Argument(help="Identifiant, ex. CIA-LIZE-2025")] = None,
    titre: TitleOption = None,
    territoire: TerritoryOption = None,
    regle: Annotated[str | None, typer.Option("--regle", help="Règle nationale visée, ex. L441-1.Q1-HORS-QPV")] = None,
    objectif: Annotated[str | None, typer.Option("--objectif", help="Objectif pour tout l'EPCI, ex. 30 %")] = None,
    du: StartOption = None,
    au: Annotated[str | None, typer.Option("--au", help="Date de fin JJ/MM/AAAA (facultative).")] = None,
    signataire: Annotated[list[str] | None, typer.Option("--signataire", help="Un signataire (répétez l'option).")] = None,
    source: SourceOption = None,
    url: UrlOption = None,
    dossier: FolderOption = None,
) -> None:  # fmt: skip
    """Un engagement (CIA) : l'objectif qu'une convention fixe sur une règle nationale."""
    ask = _Answers()
    commitment_id = ask.get(
        commitment_id, "IDENTIFIANT", "Identifiant de l'engagement (ex. CIA-LIZE-2025)"
    )
    titre = ask.get(titre, "--titre", "Intitulé de la convention")
    territoire = ask.get(territoire, "--territoire", "SIREN de l'EPCI", check=_check_siren)
    regle = ask.get(regle, "--regle", "Règle nationale visée", "L441-1.Q1-HORS-QPV", _check_rule_id)
    objectif = ask.get(
        objectif, "--objectif", "Objectif pour tout l'EPCI (en %)", check=parse_percent
    )
    du = ask.get(du, "--du", "Signée / en vigueur à partir du (JJ/MM/AAAA)", check=parse_day)
    names = signataire or [ask.get(None, "--signataire", "Signataires, séparés par des virgules")]
    source = ask.get(source, "--source", "Le document signé")
    url = ask.get(url, "--url", "Adresse du document")
    ask.done()
    signatories = tuple(name.strip() for item in names for name in item.split(",") if name.strip())
    from checker.scaffold import Engagement, slug

    engagement = Engagement(commitment_id, titre, _check_siren(territoire), _check_rule_id(regle),
                            parse_percent(objectif), parse_day(du), parse_day(au) if au else None,
                            signatories, source, url)  # fmt: skip
    paths = _write(
        dossier or Path.cwd(), slug(commitment_id), engagement.rules_text(), engagement.tests_text()
    )
    _next_steps(*paths)
