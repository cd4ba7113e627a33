"""Generates « Ce qui change chaque année » (changements/*.md) from rules/ at build time.

One page per year since 2017: what `mixite rules diff --du 31/12/(A-1) --au 31/12/A` says,
that is every change of the encoded rules that takes effect during year A (versions,
clauses, parameter values, deadlines), rule by rule with its sources; plus an index. Built in
memory, never written to docs/.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Any

import _commun
from _commun import REPO, log
from mkdocs.structure.files import File, InclusionLevel

SECTION = "Ce qui change chaque année"
FOLDER = "changements"
FIRST_YEAR = 2017


def _years() -> range:
    return range(FIRST_YEAR, max(dt.date.today().year, 2026) + 1)


def _changes() -> dict[int, Any]:
    from checker.rulebook_loader import require_rules
    from checker.rules_diff import changes_between

    previous = Path.cwd()
    os.chdir(REPO)
    try:
        rulebook, _ = require_rules()
    finally:
        os.chdir(previous)
    return {
        year: changes_between(rulebook, dt.date(year - 1, 12, 31), rulebook, dt.date(year, 12, 31))
        for year in _years()
    }


def year_page(year: int, changes: Any) -> str:
    from checker.rules_diff import as_markdown

    return "\n".join([
        f"# {year} : ce qui change dans les règles",
        "",
        f"Les changements des règles encodées dans mixite qui prennent effet **du 01/01/{year} "
        f"au 31/12/{year}** : une version de règle ou une valeur de paramètre qui commence ce "
        "jour-là ou plus tard dans l'année, une échéance écrite dans une règle qui tombe dans "
        "l'année (le lendemain de l'échéance, l'obligation est due). Chaque changement donne "
        "ses sources. La même liste, pour deux dates quelconques :",
        "",
        "```bash",
        f"mixite rules diff --du {year - 1}-12-31 --au {year}-12-31",
        "```",
        "",
        "Cette page est calculée à partir des règles livrées : elle ne dit que ce qui y est "
        "encodé, avec les points incertains que signale chaque règle (voir le "
        "[catalogue](../catalogue/index.md)).",
        "",
        as_markdown(changes),
    ])  # fmt: skip


def index_page(by_year: dict[int, Any]) -> str:
    lines = [
        "# Ce qui change chaque année",
        "",
        "Avant le contrôle d'une année, la première question : qu'est-ce qui a changé dans les "
        "règles ? Une page par année, calculée à partir des règles livrées avec mixite "
        "(`mixite rules diff`).",
        "",
        "| Année | Règles concernées | Paramètres changés |",
        "| --- | --- | --- |",
    ]
    for year, changes in by_year.items():
        rules = ", ".join(rule.rule_id for rule in changes.rules) or "—"
        lines.append(f"| [{year}]({year}.md) | {rules} | {len(changes.parameters) or '—'} |")
    return "\n".join(lines) + "\n"


_CACHE: dict[str, dict[int, Any]] = {}


def _loaded() -> dict[int, Any]:
    if "changes" not in _CACHE:
        _CACHE["changes"] = _changes()
    return _CACHE["changes"]


def on_config(config: Any) -> Any:
    _CACHE.clear()
    entries: list[Any] = [{"Vue d'ensemble": f"{FOLDER}/index.md"}]
    entries += [{str(year): f"{FOLDER}/{year}.md"} for year in _years()]
    for item in config["nav"] or []:
        if isinstance(item, dict) and SECTION in item:
            item[SECTION] = entries
            break
    else:
        log.warning(f"mkdocs.yml: no '{SECTION}' section in nav for the yearly changes")
    return config


def on_files(files: Any, config: Any) -> Any:
    by_year = _loaded()
    pages = {f"{FOLDER}/index.md": index_page(by_year)}
    for year, changes in by_year.items():
        pages[f"{FOLDER}/{year}.md"] = year_page(year, changes)
    for path, content in pages.items():
        files.append(
            File.generated(config, path, content=content, inclusion=InclusionLevel.INCLUDED)
        )
    return files


__all__ = ["_commun", "on_config", "on_files"]
