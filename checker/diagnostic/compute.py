"""The occupation diagnostic of a year: OPS profiles, classes, entrants, NPNRU rehousing.

Figures come from the database (residences, OPS surveys, attributions, rehousing); the computed
class of a residence and the entrants' resources come from the rules, through the reference
interpreter: a class is computed when the rules define a boolean definition `sur residences`
named after it (`tres_fragile`, `fragile`…), and an entrant's resources and ceiling are the
national definitions `ressources_retenues` and `plafond_applicable`.

Shares are on respondents (the OPS base) and given in percent with one decimal; the number of
respondents who did not answer on resources is given beside them.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from sqlalchemy import Connection, and_, case, func, literal, null, select

from checker.db import models
from checker.diagnostic.rows import Rows
from checker.diagnostic.rules_sql import compile_definitions
from checker.evaluate import base
from checker.evaluate.interpret import Interpreter
from checker.evaluate.sqlcompile import Num, _common
from checker.schema import schema
from dsl.rulebook import Rulebook

# The profile's indicators: (key, French label, counts summed for the numerator).
INDICATORS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("sous_20", "ressources sous 20 % des plafonds", ("ressources_inf_20",)),
    ("sous_40", "ressources sous 40 % des plafonds", ("ressources_inf_20", "ressources_20_40")),
    ("sous_60", "ressources sous 60 % des plafonds",
     ("ressources_inf_20", "ressources_20_40", "ressources_40_60")),
    ("monoparentales", "familles monoparentales", ("familles_monoparentales",)),
    ("personnes_seules", "personnes seules", ("personnes_seules",)),
    ("familles_nombreuses", "familles nombreuses", ("familles_nombreuses",)),
    ("moins_30", "titulaires de moins de 30 ans", ("titulaires_moins_30",)),
    ("plus_65", "titulaires de plus de 65 ans", ("titulaires_plus_65",)),
    ("aide_logement", "bénéficiaires d'une aide au logement", ("beneficiaires_aide_logement",)),
    ("emploi_stable", "titulaires en emploi stable", ("titulaires_emploi_stable",)),
)  # fmt: skip
BRACKETS = (
    "ressources_inf_20",
    "ressources_20_40",
    "ressources_40_60",
    "ressources_60_100",
    "ressources_sup_100",
)
COUNTS = tuple(
    dict.fromkeys(("menages_repondants", *BRACKETS, *(c for _, _, cs in INDICATORS for c in cs)))
)
CLASSES = ("tres_fragile", "fragile", "a_surveiller", "equilibree")
CLASS_LABELS = {
    "tres_fragile": "très fragile",
    "fragile": "fragile",
    "a_surveiller": "à surveiller",
    "equilibree": "équilibrée",
}


def percent(part: Fraction | int, whole: int) -> float | None:
    """A share in percent, one decimal, rounded half up; None on no base."""
    if not whole:
        return None
    if isinstance(part, int):  # integer arithmetic: Fractions took half the diagnostic's time
        return ((part * 2000 + whole) // (2 * whole)) / 10
    value = Fraction(part) * 1000 / whole
    return float((value.numerator * 2 + value.denominator) // (2 * value.denominator)) / 10


@dataclass
class Residence:
    bailleur: str
    ident: str
    nom: str
    commune: str
    epci: str
    qpv: str  # codes joined with "|", "" when none
    declared: str | None
    operation: str | None


def _profile(counts: dict[str, int] | None) -> dict[str, Any] | None:
    if counts is None:
        return None
    respondents = counts["menages_repondants"]
    # Once per residence and survey (500 000 times at national scale): integer shares inline,
    # as `percent` computes them.
    shares: dict[str, float | None] = {}
    for key, _, columns in INDICATORS:
        part = 0
        for column in columns:
            part += counts[column]
        shares[key] = (
            ((part * 2000 + respondents) // (2 * respondents)) / 10 if respondents else None
        )
    answered = sum(counts[c] for c in BRACKETS)
    return {
        "repondants": respondents,
        "sans_reponse_ressources": respondents - answered,
        "parts": shares,
    }


def _sum(rows: Iterable[dict[str, int]]) -> dict[str, int] | None:
    total: dict[str, int] = defaultdict(int)
    seen = False
    for row in rows:
        seen = True
        for column in COUNTS:
            total[column] += row[column]
    return dict(total) if seen else None


def _difference(
    now: dict[str, Any] | None, then: dict[str, Any] | None
) -> dict[str, float | None] | None:
    if now is None or then is None:
        return None
    result: dict[str, float | None] = {}
    for key, _, _ in INDICATORS:
        a, b = now["parts"][key], then["parts"][key]
        result[key] = None if a is None or b is None else round(a - b, 1)
    return result


def _scope(query: Any, epcis: list[str], bailleur: str | None) -> Any:
    r = models.Residence.__table__
    commune = models.Commune.__table__
    query = query.where(commune.c.epci_siren.in_(epcis))
    return query.where(r.c.bailleur_siren == bailleur) if bailleur else query


def _qpv_group(codes: str | None, in_force: set[str]) -> str:
    """The QPV a residence is counted in: the smallest of its codes in force, "" when none."""
    found = sorted(code for code in (codes or "").split("|") if code in in_force)
    return found[0] if found else ""


def _group_sums(
    connection: Connection,
    epcis: list[str],
    bailleur: str | None,
    years: list[int],
    in_force: set[str],
) -> dict[str, dict[tuple[str, int], dict[str, int]]]:
    """The OPS counts summed per EPCI, bailleur, commune and QPV for each of `years`, in the
    database: one row per (bailleur, commune, QPV codes, year), merged here into the groups."""
    r = models.Residence.__table__
    commune = models.Commune.__table__
    o = models.Occupation.__table__
    sums: dict[str, dict[tuple[str, int], dict[str, int]]] = {
        "epci": {}, "bailleur": {}, "commune": {}, "qpv": {},
    }  # fmt: skip
    if not years:
        return sums
    query = _scope(
        select(
            r.c.bailleur_siren, r.c.commune_insee, commune.c.epci_siren, r.c.qpv_code,
            o.c.annee_enquete, *(func.sum(o.c[name]) for name in COUNTS),
        ).select_from(
            o.join(r, and_(r.c.bailleur_siren == o.c.bailleur_siren,
                           r.c.residence_id == o.c.residence_id))
            .join(commune, commune.c.insee == r.c.commune_insee)
        ).where(o.c.annee_enquete.in_(years)),
        epcis, bailleur,
    ).group_by(r.c.bailleur_siren, r.c.commune_insee, commune.c.epci_siren, r.c.qpv_code,
               o.c.annee_enquete)  # fmt: skip
    for owner, town, epci, qpv, at, *values in connection.execute(query):
        for kind, code in (("epci", epci), ("bailleur", owner), ("commune", town),
                           ("qpv", _qpv_group(qpv, in_force))):  # fmt: skip
            total = sums[kind].setdefault((code, at), dict.fromkeys(COUNTS, 0))
            for column, value in zip(COUNTS, values, strict=True):
                total[column] += int(value)
    return sums


def territory_names(connection: Connection) -> dict[str, dict[str, str]]:
    """The names shown in place of codes: EPCI, communes, bailleurs and QPV."""
    epci_table = models.Epci.__table__
    commune = models.Commune.__table__
    return {
        "epci": dict(connection.execute(select(epci_table.c.siren, epci_table.c.nom)).all()),
        "communes": dict(connection.execute(select(commune.c.insee, commune.c.nom)).all()),
        "bailleurs": dict(
            connection.execute(select(models.Bailleur.siren, models.Bailleur.nom)).all()
        ),
        "qpv": dict(connection.execute(select(models.Qpv.code, models.Qpv.nom)).all()),
    }


def qpv_in_force(connection: Connection, year: int) -> set[str]:
    """The QPV of the list in force at the end of the year (a quarter that left the list is
    "hors QPV" that year; a dwelling on both lists is counted in the one in force)."""
    end = dt.date(year, 12, 31)
    return {
        code
        for code, start, stop in connection.execute(
            select(models.Qpv.code, models.Qpv.valide_du, models.Qpv.valide_au)
        )
        if start <= end and (stop is None or stop >= end)
    }


def compute(
    connection: Connection,
    rulebook: Rulebook,
    year: int,
    epcis: list[str] | None = None,
    bailleur: str | None = None,
) -> dict[str, Any]:
    """The diagnostic of `year`, aggregated in the database: group profiles by GROUP BY, classes
    and entrants' resources through the SQL compiler, residences streamed one row each."""
    r = models.Residence.__table__
    commune = models.Commune.__table__
    o = models.Occupation.__table__
    names = territory_names(connection)
    in_force = qpv_in_force(connection, year)
    if not epcis:
        epcis = sorted(names["epci"])
    residence_join = r.join(commune, commune.c.insee == r.c.commune_insee)
    years = sorted(
        at
        for (at,) in connection.execute(
            _scope(
                select(o.c.annee_enquete).distinct().select_from(
                    o.join(r, and_(r.c.bailleur_siren == o.c.bailleur_siren,
                                   r.c.residence_id == o.c.residence_id))
                    .join(commune, commune.c.insee == r.c.commune_insee)
                ).where(o.c.annee_enquete <= year),
                epcis, bailleur,
            )
        )
    )  # fmt: skip
    survey = years[-1] if years else None
    previous = years[-2] if len(years) > 1 else None
    sums = _group_sums(connection, epcis, bailleur, years[-2:], in_force)

    def group_profile(kind: str, code: str, at: int | None) -> dict[str, Any] | None:
        return None if at is None else _profile(sums[kind].get((code, at)))

    epci_profiles = {code: group_profile("epci", code, survey) for code in epcis}
    period = (dt.date(year, 1, 1), dt.date(year, 12, 31))
    computed = _computed_classes(connection, rulebook, epcis, period)
    tallies = _entrant_tallies(connection, rulebook, epcis, period)

    # One pass over the residences in scope, by name, each with its two surveys' counts.
    now = o.alias("enquete")
    then = o.alias("enquete_precedente")

    def survey_join(alias: Any, at: int | None) -> Any:
        return and_(alias.c.bailleur_siren == r.c.bailleur_siren,
                    alias.c.residence_id == r.c.residence_id,
                    alias.c.annee_enquete == (at if at is not None else -1))  # fmt: skip

    query = _scope(
        select(
            r.c.bailleur_siren, r.c.residence_id, r.c.nom, r.c.commune_insee,
            commune.c.epci_siren, r.c.qpv_code, r.c.classe_enjeu, r.c.operation_npnru,
            now.c.annee_enquete, *(now.c[c] for c in COUNTS),
            then.c.annee_enquete, *(then.c[c] for c in COUNTS),
        ).select_from(
            residence_join.outerjoin(now, survey_join(now, survey))
            .outerjoin(then, survey_join(then, previous))
        ),
        epcis, bailleur,
    ).order_by(r.c.nom, r.c.bailleur_siren, r.c.residence_id)  # fmt: skip
    width = len(COUNTS)
    # One entry per residence in each: kept as compact JSON (see rows.py).
    residence_entries, class_entries, entrant_entries = Rows(), Rows(), Rows()
    by_class: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0, 0, 0])
    codes: dict[str, set[str]] = {"epci": set(), "bailleur": set(), "commune": set(),
                                  "qpv": set()}  # fmt: skip
    for row in connection.execute(query.execution_options(stream_results=True, yield_per=2000)):
        res = Residence(*row[:8])
        key = (res.bailleur, res.ident)
        counts_now = dict(zip(COUNTS, row[9 : 9 + width], strict=True)) if row[8] else None
        counts_then = dict(zip(COUNTS, row[10 + width :], strict=True)) if row[9 + width] else None
        codes["epci"].add(res.epci)
        codes["bailleur"].add(res.bailleur)
        codes["commune"].add(res.commune)
        codes["qpv"].add(_qpv_group(res.qpv, in_force))
        profile_now, profile_then = _profile(counts_now), _profile(counts_then)
        average = epci_profiles.get(res.epci)
        residence_entries.append({
            "code": res.ident, "nom": res.nom, "profil": profile_now,
            "evolution": _difference(profile_now, profile_then),
            "ecart_epci": _difference(profile_now, average) if average is not None else None,
            "bailleur": res.bailleur, "commune": res.commune, "qpv": res.qpv,
            "classe_declaree": res.declared,
        })  # fmt: skip
        found = computed.get(key)
        class_entries.append({
            "residence": res.ident, "nom": res.nom, "bailleur": res.bailleur,
            "declaree": res.declared, "calculee": found,
            "differe": res.declared is not None and found is not None and res.declared != found,
        })  # fmt: skip
        tally = tallies.get(key)
        if tally is None:
            continue
        signed, known, poor = tally
        klass = res.declared or found or "non_classee"
        entrant_entries.append({
            "residence": res.ident, "nom": res.nom, "bailleur": res.bailleur, "classe": klass,
            "entrants": signed, "entrants_ressources_connues": known,
            "part_sous_40_entrants": percent(poor, known),
            "part_sous_40_occupants": profile_now["parts"]["sous_40"] if profile_now else None,
        })  # fmt: skip
        group = by_class[klass]
        group[0] += signed
        group[1] += known
        group[2] += poor
        if counts_now is not None:
            group[3] += 1
            group[4] += counts_now["ressources_inf_20"] + counts_now["ressources_20_40"]
            group[5] += counts_now["menages_repondants"]
    classes_of_entrants = [
        {
            "classe": klass, "entrants": signed, "entrants_ressources_connues": known,
            "part_sous_40_entrants": percent(poor, known),
            "part_sous_40_occupants": percent(occupants_poor, respondents) if surveyed else None,
        }
        for klass, (signed, known, poor, surveyed, occupants_poor, respondents)
        in sorted(by_class.items())
    ]  # fmt: skip

    def entry(kind: str, code: str, name: str, epci: str) -> dict[str, Any]:
        profile_now = group_profile(kind, code, survey)
        profile_then = group_profile(kind, code, previous)
        average = epci_profiles.get(epci)
        gap = _difference(profile_now, average) if average is not None else None
        return {"code": code, "nom": name, "profil": profile_now,
                "evolution": _difference(profile_now, profile_then), "ecart_epci": gap}  # fmt: skip

    one_epci = epcis[0] if len(epcis) == 1 else ""
    profiles = {
        "residences": residence_entries,
        "qpv": [
            entry("qpv", code, names["qpv"].get(code, "hors QPV") if code else "hors QPV",
                  one_epci)
            for code in sorted(codes["qpv"])
        ],
        "communes": [
            entry("commune", code, names["communes"].get(code, code), one_epci)
            for code in sorted(codes["commune"])
        ],
        "bailleurs": [
            entry("bailleur", code, names["bailleurs"].get(code, code), one_epci)
            for code in sorted(codes["bailleur"])
        ],
        "epci": [
            entry("epci", code, names["epci"].get(code, code), code)
            for code in sorted(codes["epci"])
        ],
    }  # fmt: skip
    return {
        "annee": year,
        "enquete": survey,
        "enquete_precedente": previous,
        "epci": [{"siren": code, "nom": names["epci"].get(code, code)} for code in epcis],
        "bailleur": bailleur,
        "indicateurs": [{"cle": key, "libelle": label} for key, label, _ in INDICATORS],
        "profils": profiles,
        "classes": class_entries,
        "classes_calculees": bool(computed),
        "entrants": {"residences": entrant_entries, "classes": classes_of_entrants},
        "relogements": _rehousing(connection, rulebook, epcis, period, bailleur, names),
    }


def _computed_classes(
    connection: Connection, rulebook: Rulebook, epcis: list[str], period: tuple[dt.date, dt.date]
) -> dict[tuple[str, str], str]:
    """The class computed by the rules for each residence: the first of CLASSES, in order,
    whose definition is true (an unknown one is not), as one CASE in the database."""
    definitions = rulebook.definitions.get("residences", {})
    named = [name for name in CLASSES if name in definitions]
    if not named:
        return {}
    compiled = compile_definitions(connection, rulebook, "residences", named,
                                   ["bailleur", "residence"], epcis, period)  # fmt: skip
    conditions = []
    for name in named:
        condition = compiled.values[name]
        assert not isinstance(condition, Num)  # a boolean definition
        conditions.append((condition, literal(name)))
    klass = case(*conditions, else_=null())
    row = compiled.row
    query = select(row.c.bailleur, row.c.residence, klass.label("classe")).select_from(row)
    return {
        (owner, ident): found
        for owner, ident, found in connection.execute(query)
        if found is not None
    }


def _entrant_tallies(
    connection: Connection, rulebook: Rulebook, epcis: list[str], period: tuple[dt.date, dt.date]
) -> dict[tuple[str, str], tuple[int, int, int]]:
    """The year's entrants (leases signed in the year) per residence, counted in the database:
    how many, how many with known resources and ceiling, how many under 40 % of the ceiling
    of the dwelling's financing (`ressources_retenues` and `plafond_applicable` of the rules)."""
    definitions = rulebook.definitions.get("attributions", {})
    needed = ["ressources_retenues", "plafond_applicable"]
    if not all(name in definitions for name in needed):
        return {}
    compiled = compile_definitions(connection, rulebook, "attributions", needed,
                                   ["bailleur", "residence"], epcis, period)  # fmt: skip
    income, ceiling = (compiled.values[name] for name in needed)
    assert isinstance(income, Num) and isinstance(ceiling, Num)
    known = and_(income.n.is_not(None), ceiling.n.is_not(None), ceiling.n > 0)
    # income < 40 % of the ceiling, exactly: income × 100 < ceiling × 40 over a common
    # denominator (both denominators are positive when the numerators are known).
    lhs, rhs, _ = _common(Num(income.n * 100, income.d), Num(ceiling.n * 40, ceiling.d))
    row = compiled.row
    query = (
        select(
            row.c.bailleur, row.c.residence, func.count(),
            func.sum(case((known, 1), else_=0)), func.sum(case((and_(known, lhs < rhs), 1),
                                                               else_=0)),
        )
        .select_from(row)
        .where(row.c.residence.is_not(None))
        .group_by(row.c.bailleur, row.c.residence)
    )  # fmt: skip
    return {
        (owner, ident): (int(signed), int(known_count), int(poor))
        for owner, ident, signed, known_count, poor in connection.execute(query)
    }


def _rehousing(
    connection: Connection,
    rulebook: Rulebook,
    epcis: list[str],
    period: tuple[dt.date, dt.date],
    bailleur: str | None,
    names: dict[str, dict[str, str]],
) -> list[dict[str, Any]]:
    entity = schema().entities["relogements"]
    interpreter = Interpreter(rulebook, entity, period)
    recent = rulebook.definitions.get("relogements", {}).get("logement_recent")
    row = base.population("relogements", epcis, period)
    groups: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for mapping in connection.execute(select(row)).mappings():
        record = dict(mapping)
        if bailleur and record["bailleur"] != bailleur:
            continue
        groups[(record["operation"], record["bailleur"])].append(record)
    result = []
    for (operation, owner), records in sorted(groups.items()):
        rehoused = [rec for rec in records if rec["reloge"]]
        definitive = [rec for rec in rehoused if rec["reloge_definitif"]]
        statuses: dict[str, int] = defaultdict(int)
        for rec in records:
            statuses[rec["statut"]] += 1
        delays = [
            (_day(rec["date_relogement"]) - _day(rec["date_entree_operation"])).days
            for rec in rehoused
        ]
        before = [rec["reste_a_charge_avant_centimes"] for rec in definitive
                  if rec["reste_a_charge_avant_centimes"] is not None
                  and rec["reste_a_charge_apres_centimes"] is not None]  # fmt: skip
        after = [rec["reste_a_charge_apres_centimes"] for rec in definitive
                 if rec["reste_a_charge_avant_centimes"] is not None
                 and rec["reste_a_charge_apres_centimes"] is not None]  # fmt: skip
        recent_count = (
            sum(1 for rec in definitive if interpreter.eval(recent.expr, rec) is True)
            if recent is not None
            else None
        )
        result.append({
            "operation": operation,
            "bailleur": owner,
            "bailleur_nom": names["bailleurs"].get(owner, owner),
            "menages": len(records),
            "a_reloger": sum(1 for rec in records if not rec["reloge"]
                             and rec["statut"] not in ("sorti_parc_social", "autre_sortie")),
            "reloges_definitifs": len(definitive),
            "reloges_temporaires": len(rehoused) - len(definitive),
            "sortis_parc_social": statuses["sorti_parc_social"],
            "autres_sorties": statuses["autre_sortie"],
            "par_attribution": sum(1 for rec in definitive if rec["par_attribution"]),
            "part_hors_qpv": percent(
                sum(1 for rec in definitive if rec["destination_en_qpv"] is False), len(definitive)
            ),
            "part_logement_recent": None if recent_count is None
            else percent(recent_count, len(definitive)),
            "part_autre_commune": percent(
                sum(1 for rec in definitive if rec["autre_commune"] is True), len(definitive)
            ),
            "reste_a_charge_avant_moyen": _mean_euros(before),
            "reste_a_charge_apres_moyen": _mean_euros(after),
            "delai_moyen_jours": round(sum(delays) / len(delays)) if delays else None,
        })  # fmt: skip
    return result


def _day(value: Any) -> dt.date:
    return dt.date.fromisoformat(value) if isinstance(value, str) else value


def _mean_euros(cents: list[int]) -> float | None:
    if not cents:
        return None
    return round(sum(cents) / len(cents) / 100, 2)
