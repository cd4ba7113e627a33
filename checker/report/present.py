"""How a result reads in every report: the target as a floor or a cap with its provenance
(loi or CIA), the achieved share with its counts, the shortfall in the population's unit."""

from __future__ import annotations

import datetime as dt
from fractions import Fraction
from typing import Any

from checker import frenchfmt
from checker.evaluate.results import EN_COURS, NOUNS, Result, objective_missing
from dsl import ast
from dsl.rulebook import Rulebook

# The unit of each population, singular and plural.
UNITS = {entity: (noun.singular, noun.plural) for entity, noun in NOUNS.items()}


def version_of(rulebook: Rulebook, result: Result) -> ast.Version | None:
    """The version a result was judged by (the one in force at the end of its period)."""
    rule = rulebook.rules.get(result.rule)
    if rule is None:
        return None
    for version in rule.versions:
        if version.start.isoformat() == result.version:
            return version
    return rule.versions[-1] if rule.versions else None


def bound_of(rulebook: Rulebook, result: Result) -> str | None:
    """ "min" (a floor), "max" (a cap) or None (each case, or no requirement)."""
    if result.bound is not None:  # a local objective may cap what the law floors
        return result.bound
    version = version_of(rulebook, result)
    if version is None or version.requirement is None:
        return None
    return version.requirement.bound if version.requirement.kind != "each" else None


def unit_of(rulebook: Rulebook, result: Result) -> tuple[str, str]:
    version = version_of(rulebook, result)
    entity = version.population.entity if version and version.population else "attributions"
    return UNITS.get(entity, (entity, entity))


def count(value: int | None) -> str:
    return "—" if value is None else frenchfmt.number(value, 0)


def percent(value: float | None) -> str:
    return frenchfmt.percent(
        Fraction(value).limit_denominator(10**9) if value is not None else None
    )


def plural(number: int, unit: tuple[str, str]) -> str:
    return f"{count(number)} {unit[0] if number <= 1 else unit[1]}"


def source_label(result: Result) -> str:
    """« loi » or « CIA »: where the result's target comes from."""
    return "loi" if result.target_source in (None, "loi") else "CIA"


def target_reference(result: Result) -> str:
    """Where a convention's target comes from, as cited: the convention and its article
    (« CIA du Val de Lize, article 4 »), else the engagement's identifier; "" for the law's."""
    if result.target is None or source_label(result) == "loi":
        return ""
    return result.target_reference or result.target_source or ""


def target_text(result: Result, bound: str | None, with_source: bool = True) -> str:
    """« ≥ 25 % (loi) », « ≤ 30 % (plafond, loi) », « chaque cas (loi) », « — »."""
    if result.target is None:
        # A rule whose target the CIA must set, and the CIA has not: say so.
        return "à fixer par la CIA" if result.target_source is None and result.denominator else "—"
    source = source_label(result)
    if result.kind == "each":
        return "chaque cas" + (f" ({source})" if with_source else "")
    shown = percent(result.target) if result.kind == "share" else count(int(result.target))
    if result.cumulative:  # a multi-year objective
        shown += f" de {result.cumulative['from']} à {result.cumulative['to']}"
    if bound == "max":
        return f"≤ {shown} (plafond" + (f", {source})" if with_source else ")")
    return f"≥ {shown}" + (f" ({source})" if with_source else "")


def progress_text(result: Result) -> str:
    """A multi-year objective before its end: « 412 sur 672, 61 % du chemin, 2 ans restants »."""
    cumulative = result.cumulative or {}
    left = int(cumulative.get("years_left") or 0)
    way = cumulative.get("progress")
    done = (
        f"{count(result.numerator)} sur {count(int(result.target or 0))}"
        if result.kind == "count"
        else f"{percent(result.rate)} cumulés pour {percent(result.target)}"
    )
    if way is not None:
        done += f", {frenchfmt.percent(Fraction(way).limit_denominator(10**6), 0)} du chemin"
    return f"{done}, {left} an{'s' if left > 1 else ''} restant{'s' if left > 1 else ''}"


def achieved_text(result: Result) -> str:
    """« 20,5 % (386 / 1 886) », or the counts alone when there is no rate or the target is a
    number (« 97 / 106 »)."""
    if result.denominator is None:
        return "—"
    counts = f"{count(result.numerator)} / {count(result.denominator)}"
    if result.rate is None or result.kind == "count":  # a number: a rate is no measure of it
        return counts
    return f"{percent(result.rate)} ({counts})"


def shortfall_text(result: Result, bound: str | None, unit: tuple[str, str]) -> str:
    """The shortfall in words: « 86 attributions », « 12 attributions de trop »,
    « 19 dossiers de CALEOL en défaut », « 0 », « — »."""
    if result.status == EN_COURS:
        return progress_text(result)
    if result.shortfall is None:
        return "—"
    if result.shortfall == 0:
        return "0"
    if result.kind == "each":
        return f"{plural(result.shortfall, unit)} en défaut"
    if bound == "max":
        return f"{plural(result.shortfall, unit)} de trop"
    return plural(result.shortfall, unit)


def gap_phrase(result: Result, bound: str | None, unit: tuple[str, str]) -> str:
    """The shortfall as a phrase: « manque 86 attributions », « 12 attributions de trop »,
    « 19 dossiers de CALEOL en défaut », « cible atteinte », « plafond respecté »."""
    if objective_missing(result.status, result.target, result.target_source, result.denominator):
        return "convention sans l'objectif requis"
    if result.status == EN_COURS:
        return progress_text(result)
    if result.shortfall is None:
        return "manque —"
    if result.shortfall == 0:
        if result.kind == "each":
            return "aucun cas en défaut"
        return "plafond respecté" if bound == "max" else "cible atteinte"
    text = shortfall_text(result, bound, unit)
    return text if result.kind == "each" or bound == "max" else f"manque {text}"


def shortfall_meaning(result: Result, bound: str | None) -> str:
    """What the shortfall column counts, for a table's note."""
    if result.kind == "each":
        return "cas en défaut"
    if bound == "max":
        return "au-delà du plafond"
    return "manquantes pour atteindre la cible"


def qualitative_text(item: ast.Qualitative) -> str:
    """A qualitative commitment in one sentence: what, who owes it, by when, declared done."""
    parts = [item.text]
    if item.owed_by:
        parts.append(f"dû par : {item.owed_by}")
    if item.due:
        parts.append(f"échéance : {item.due:%d/%m/%Y}")
    if item.done:
        reference = "; ".join(source.title for source in item.sources)
        parts.append(
            f"déclaré fait le {item.done:%d/%m/%Y}" + (f" ({reference})" if reference else "")
        )
    else:
        parts.append("non déclaré fait")
    return " — ".join(parts)


def cia_versions(receipt: dict[str, Any]) -> list[str]:
    """The stored CIA versions a run applied (`mixite check` without --rules), for people."""
    return [
        f"{cia['fichier']}, version {cia['version']} (territoire {cia['epci']}), empreinte {cia['sha256']}"
        for cia in (receipt.get("options") or {}).get("cia", [])
    ]


def french_date(value: Any) -> str:
    """A date, an ISO date or an ISO timestamp (UTC) in French."""
    if value is None or value == "":
        return "—"
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value) if "T" in value else dt.date.fromisoformat(value)
    if isinstance(value, dt.datetime):
        return value.strftime("%d/%m/%Y à %H:%M") + (" (UTC)" if value.tzinfo else "")
    return frenchfmt.date(value)
