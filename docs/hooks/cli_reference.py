"""Generates reference/cli.md from the Typer application, at build time: every command and
sub-command, its arguments and options with their French help, as `mixite … --help` shows them.
"""

from __future__ import annotations

import typing
from pathlib import Path
from typing import Any

import _commun
from _commun import md_escape
from mkdocs.structure.files import File, InclusionLevel

PAGE = "reference/cli.md"

INTRO = """\
# Ligne de commande

!!! info "Page générée"
    Cette page est produite à chaque construction du site à partir du code de la commande
    `mixite` elle-même : elle décrit toujours la version documentée. Chaque commande affiche la
    même aide avec `--help` (`mixite check --help`).

Toutes les commandes qui lisent ou écrivent des données choisissent la base avec `--db ADRESSE`,
sinon la variable `MIXITE_DB`, sinon le fichier `mixite.db` du dossier courant (voir
[Installer mixite](../guide/installation.md#choisir-la-base-de-donnees)). La clé de
pseudonymisation vient de `MIXITE_CLE`, de `MIXITE_CLE_FICHIER` ou du fichier `.cle` à côté de
la base (voir [Importer ses données](../guide/importer.md#pseudonymisation-et-cle)). Les
commandes qui lisent les règles prennent les règles livrées avec mixite, ou celles que désigne
`--rules` (l'option se répète : `--rules rules --rules ma-cia.regles`).

Codes de retour communs : `0` réussite ; `1` refus ou non-conformité signalée (fichier refusé,
règles en erreur, test en échec, chaîne d'audit rompue…) ; `2` commande mal écrite ; `3` problème
de base de données ; `70` erreur interne (le message donne le fichier journal) ; `130`
interruption (Ctrl+C).
"""


def _default(param: Any) -> str:
    value = param.default
    if param.param_type_name == "argument" or value is None or value == () or value == []:
        return "—"
    if isinstance(value, bool):
        return "—" if value is False and getattr(param, "is_flag", False) else str(value)
    if isinstance(value, Path):
        return f"`{value.as_posix()}`"
    return f"`{value}`"


_LABELS = {int: "entier", str: "texte", Path: "chemin", float: "nombre", bool: "oui/non"}


def _value(param: Any) -> str:
    if getattr(param, "is_flag", False):
        return "—"
    annotation = getattr(getattr(param, "type_descriptor", None), "annotation", str)
    several = typing.get_origin(annotation) is list
    if several:
        annotation = typing.get_args(annotation)[0]
    label = _LABELS.get(annotation, "texte")
    if several:
        return label + (
            " (répétable)" if param.param_type_name == "option" else ", un ou plusieurs"
        )
    return label


def _params(command: Any) -> list[str]:
    rows = []
    for param in command.params:
        if param.name == "help":
            continue
        if param.param_type_name == "argument":
            name = f"`{param.name.upper()}`" + ("…" if param.nargs == -1 else "")
            kind = "argument"
        else:
            name = ", ".join(f"`{opt}`" for opt in (*param.opts, *param.secondary_opts))
            kind = "option"
        required = " **(obligatoire)**" if param.required else ""
        help_text = md_escape(getattr(param, "help", None) or "")
        rows.append(
            f"| {name} | {kind} | {_value(param)} | {_default(param)} | {help_text}{required} |"
        )
    if not rows:
        return []
    return [
        "| nom | sorte | valeur | par défaut | description |",
        "| --- | --- | --- | --- | --- |",
        *rows,
    ]


def _usage(path: str, command: Any) -> str:
    parts = [path]
    if any(p.param_type_name == "option" and p.name != "help" for p in command.params):
        parts.append("[OPTIONS]")
    for param in command.params:
        if param.param_type_name == "argument":
            word = param.name.upper() + ("…" if param.nargs == -1 else "")
            parts.append(word if param.required else f"[{word}]")
    if getattr(command, "commands", None):
        parts.append(
            "[COMMANDE]" if getattr(command, "invoke_without_command", False) else "COMMANDE"
        )
    return " ".join(parts)


def _walk(path: str, command: Any, level: int, lines: list[str]) -> None:
    lines.append(f"{'#' * level} {path}")
    lines.append("")
    text = (command.help or "").strip()
    if text:
        lines.append(text)
        lines.append("")
    lines.append(f"```text\n{_usage(path, command)}\n```")
    lines.append("")
    table = _params(command)
    if table:
        lines.extend(table)
        lines.append("")
    subcommands = getattr(command, "commands", None) or {}
    if subcommands and level > 1:
        listed = ", ".join(f"[`{name}`](#{(path + ' ' + name).replace(' ', '-').lower()})"
                           for name in subcommands)  # fmt: skip
        lines.append(f"Sous-commandes : {listed}.")
        lines.append("")
    for name, sub in subcommands.items():
        _walk(f"{path} {name}", sub, min(level + 1, 3) if level > 1 else 2, lines)


def generate() -> str:
    import typer.main

    from checker.cli.app import app

    root = typer.main.get_command(app)
    lines = [INTRO]
    commands = getattr(root, "commands", {})
    lines.append("## Vue d'ensemble")
    lines.append("")
    lines.append("| commande | rôle |")
    lines.append("| --- | --- |")
    for name, command in commands.items():
        anchor = f"mixite-{name}"
        lines.append(
            f"| [`mixite {name}`](#{anchor}) | {md_escape((command.help or '').strip().splitlines()[0] if command.help else '')} |"
        )
    lines.append("")
    lines.append("Option générale : `mixite --version` affiche la version installée.")
    lines.append("")
    for name, command in commands.items():
        _walk(f"mixite {name}", command, 2, lines)
    return "\n".join(lines) + "\n"


def on_files(files: Any, config: Any) -> Any:
    files.append(
        File.generated(config, PAGE, content=generate(), inclusion=InclusionLevel.INCLUDED)
    )
    return files


__all__ = ["_commun", "on_files"]
