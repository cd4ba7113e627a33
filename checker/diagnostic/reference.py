"""The occupation diagnostic computed record by record through the reference interpreter.

This is the diagnostic's first implementation, kept as the oracle of the SQL path
(checker.diagnostic.compute), as the reference interpreter is the oracle of the SQL compiler:
tests/test_diagnostic_sql.py checks that both give the same document. It loads every survey
row and evaluates the classification and the entrants' resources record by record, which took
minutes at national scale (docs/dev/performance.md); nothing but that test calls it.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from fractions import Fraction
from typing import Any

from sqlalchemy import Connection, select

from checker.db import models
from checker.diagnostic.compute import (
    CLASSES,
    COUNTS,
    INDICATORS,
    Residence,
    _difference,
    _profile,
    _rehousing,
    _sum,
    percent,
    qpv_in_force,
    territory_names,
)
from checker.evaluate import base
from checker.evaluate.interpret import Interpreter
from checker.schema import schema
from dsl.rulebook import Rulebook


def compute(
    connection: Connection,
    rulebook: Rulebook,
    year: int,
    epcis: list[str] | None = None,
    bailleur: str | None = None,
) -> dict[str, Any]:
    r = models.Residence.__table__
    commune = models.Commune.__table__
    names = territory_names(connection)
    in_force = qpv_in_force(connection, year)
    if not epcis:
        epcis = sorted(names["epci"])
    query = select(
        r.c.bailleur_siren, r.c.residence_id, r.c.nom, r.c.commune_insee, commune.c.epci_siren,
        r.c.qpv_code, r.c.classe_enjeu, r.c.operation_npnru,
    ).select_from(r.join(commune, commune.c.insee == r.c.commune_insee)).where(
        commune.c.epci_siren.in_(epcis)
    )  # fmt: skip
    if bailleur:
        query = query.where(r.c.bailleur_siren == bailleur)
    residences = {
        (row[0], row[1]): Residence(*row) for row in connection.execute(query.order_by(r.c.nom))
    }
    o = models.Occupation.__table__
    surveys: dict[tuple[str, str, int], dict[str, int]] = {}
    for row in connection.execute(select(o).where(o.c.annee_enquete <= year)).mappings():
        key = (row["bailleur_siren"], row["residence_id"])
        if key in residences:
            surveys[(*key, row["annee_enquete"])] = {c: row[c] for c in COUNTS}
    years = sorted({key[2] for key in surveys})
    survey = years[-1] if years else None
    previous = years[-2] if len(years) > 1 else None

    def profile_of(keys: Iterable[tuple[str, str]], at: int | None) -> dict[str, Any] | None:
        if at is None:
            return None
        return _profile(_sum(surveys[(*k, at)] for k in keys if (*k, at) in surveys))

    groups: dict[str, dict[str, list[tuple[str, str]]]] = {
        "epci": defaultdict(list),
        "bailleur": defaultdict(list),
        "commune": defaultdict(list),
        "qpv": defaultdict(list),
    }
    for key, residence in residences.items():
        groups["epci"][residence.epci].append(key)
        groups["bailleur"][residence.bailleur].append(key)
        groups["commune"][residence.commune].append(key)
        codes = sorted(code for code in residence.qpv.split("|") if code in in_force)
        groups["qpv"][codes[0] if codes else ""].append(key)
    epci_profiles = {code: profile_of(keys, survey) for code, keys in groups["epci"].items()}

    def entry(code: str, name: str, keys: list[tuple[str, str]], epci: str) -> dict[str, Any]:
        now, then = profile_of(keys, survey), profile_of(keys, previous)
        average = epci_profiles.get(epci)
        gap = _difference(now, average) if average is not None else None
        return {"code": code, "nom": name, "profil": now, "evolution": _difference(now, then),
                "ecart_epci": gap}  # fmt: skip

    one_epci = epcis[0] if len(epcis) == 1 else ""
    profiles = {
        "residences": [
            {
                **entry(res.ident, res.nom, [key], res.epci),
                "bailleur": res.bailleur,
                "commune": res.commune,
                "qpv": res.qpv,
                "classe_declaree": res.declared,
            }
            for key, res in residences.items()
        ],
        "qpv": [
            entry(code, names["qpv"].get(code, "hors QPV") if code else "hors QPV", keys, one_epci)
            for code, keys in sorted(groups["qpv"].items())
        ],
        "communes": [
            entry(code, names["communes"].get(code, code), keys, one_epci)
            for code, keys in sorted(groups["commune"].items())
        ],
        "bailleurs": [
            entry(code, names["bailleurs"].get(code, code), keys, one_epci)
            for code, keys in sorted(groups["bailleur"].items())
        ],
        "epci": [
            entry(code, names["epci"].get(code, code), keys, code)
            for code, keys in sorted(groups["epci"].items())
        ],
    }
    period = (dt.date(year, 1, 1), dt.date(year, 12, 31))
    computed = _computed_classes(connection, rulebook, epcis, period)
    classes = []
    for key, res in residences.items():
        found = computed.get(key)
        classes.append({
            "residence": res.ident, "nom": res.nom, "bailleur": res.bailleur,
            "declaree": res.declared, "calculee": found,
            "differe": res.declared is not None and found is not None and res.declared != found,
        })  # fmt: skip
    entrants = _entrants(connection, rulebook, epcis, period, residences, computed, profile_of,
                         survey)  # fmt: skip
    return {
        "annee": year,
        "enquete": survey,
        "enquete_precedente": previous,
        "epci": [{"siren": code, "nom": names["epci"].get(code, code)} for code in epcis],
        "bailleur": bailleur,
        "indicateurs": [{"cle": key, "libelle": label} for key, label, _ in INDICATORS],
        "profils": profiles,
        "classes": classes,
        "classes_calculees": bool(computed),
        "entrants": entrants,
        "relogements": _rehousing(connection, rulebook, epcis, period, bailleur, names),
    }


def _computed_classes(
    connection: Connection, rulebook: Rulebook, epcis: list[str], period: tuple[dt.date, dt.date]
) -> dict[tuple[str, str], str]:
    definitions = rulebook.definitions.get("residences", {})
    named = [name for name in CLASSES if name in definitions]
    if not named:
        return {}
    entity = schema().entities["residences"]
    interpreter = Interpreter(rulebook, entity, period)
    row = base.population("residences", epcis, period)
    found: dict[tuple[str, str], str] = {}
    for mapping in connection.execute(select(row)).mappings():
        record = dict(mapping)
        for name in named:
            if interpreter.eval(definitions[name].expr, record) is True:
                found[(record["bailleur"], record["residence"])] = name
                break
    return found


def _entrants(
    connection: Connection,
    rulebook: Rulebook,
    epcis: list[str],
    period: tuple[dt.date, dt.date],
    residences: dict[tuple[str, str], Residence],
    computed: dict[tuple[str, str], str],
    profile_of: Any,
    survey: int | None,
) -> dict[str, Any]:
    """The year's entrants (leases signed in the year) against the occupants, per residence
    and per class: the share under 40 % of the ceiling of the dwelling's financing."""
    definitions = rulebook.definitions.get("attributions", {})
    needed = ("ressources_retenues", "plafond_applicable")
    if not all(name in definitions for name in needed):
        return {"residences": [], "classes": []}
    entity = schema().entities["attributions"]
    interpreter = Interpreter(rulebook, entity, period)
    row = base.population("attributions", epcis, period)
    tallies: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0, 0])
    for mapping in connection.execute(select(row)).mappings():
        record = dict(mapping)
        key = (record["bailleur"], record["residence"])
        if record["residence"] is None or key not in residences:
            continue
        income = interpreter.eval(definitions["ressources_retenues"].expr, record)
        ceiling = interpreter.eval(definitions["plafond_applicable"].expr, record)
        tally = tallies[key]
        tally[0] += 1
        if isinstance(income, Fraction) and isinstance(ceiling, Fraction) and ceiling > 0:
            tally[1] += 1
            tally[2] += income * 100 < ceiling * 40
    by_residence = []
    by_class: dict[str, list[Any]] = defaultdict(lambda: [0, 0, 0, []])
    for key, (signed, known, poor) in sorted(tallies.items(), key=lambda kv: residences[kv[0]].nom):
        res = residences[key]
        occupants = profile_of([key], survey)
        klass = res.declared or computed.get(key) or "non_classee"
        by_residence.append({
            "residence": res.ident, "nom": res.nom, "bailleur": res.bailleur, "classe": klass,
            "entrants": signed, "entrants_ressources_connues": known,
            "part_sous_40_entrants": percent(poor, known),
            "part_sous_40_occupants": occupants["parts"]["sous_40"] if occupants else None,
        })  # fmt: skip
        group = by_class[klass]
        group[0] += signed
        group[1] += known
        group[2] += poor
        group[3].append(key)
    classes = []
    for klass, (signed, known, poor, keys) in sorted(by_class.items()):
        occupants = profile_of(keys, survey)
        classes.append({
            "classe": klass, "entrants": signed, "entrants_ressources_connues": known,
            "part_sous_40_entrants": percent(poor, known),
            "part_sous_40_occupants": occupants["parts"]["sous_40"] if occupants else None,
        })  # fmt: skip
    return {"residences": by_residence, "classes": classes}
