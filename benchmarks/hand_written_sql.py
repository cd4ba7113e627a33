"""Hand-written SQL for every rule of the national rulebook, as an analyst would write it.

The baseline of benchmarks/check_benchmark.py, and an independent check of the evaluator: one
query per rule, for the versions in force during one calendar year, computing per scope the
figures mixite reports (denominator, numerator, unknown, and each "aussi" indicator).

Written from the rule texts (`rules/national/*.regles`), not from the compiler: plain SQL that
runs unchanged on SQLite and PostgreSQL, but for one function written per dialect: a date
as the integer yyyymmdd (`_yyyymmdd`, for the anniversaries of leases). Parameter values in
force during the year are read once (scalars from the loaded rulebook, income ceilings from
the CSV table, PLS derived here) and written into the SQL as literals. Money is compared in
integer cents, households' weights in integer multiples, so that every comparison is exact.

Each query returns one row per scope with the columns `niveau` (the scope's dimensions, e.g.
"epci,bailleur"), `epci`, `bailleur`, `contingent`, `reservataire` (NULL when not part of the
scope), `den`, `num`, `inconnus`, then one column `e0`, `e1`, … per indicator.
"""

from __future__ import annotations

import csv
import datetime as dt
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

from dsl.rulebook import Rulebook

TABLES = Path(__file__).resolve().parent.parent / "rules" / "national" / "donnees"
DIMENSIONS = ("epci", "bailleur", "contingent", "reservataire")


@dataclass(frozen=True)
class HandRule:
    rule: str
    sql: str
    indicators: tuple[str, ...] = ()  # "aussi" labels, in the order of columns e0, e1, …


@dataclass(frozen=True)
class Figures:
    rule: str
    scope: dict[str, Any]
    numerator: int
    denominator: int
    unknown: int
    indicators: dict[str, int] = field(default_factory=dict)


# ---------------------------------------------------------------------- parameter values


def _in_force(rulebook: Rulebook, name: str, start: dt.date, end: dt.date,
              key: dict[str, object] | None = None) -> Fraction | None:  # fmt: skip
    """The value in force for the whole period; an error if it changes within the period."""
    parameter = rulebook.parameters[name]
    first, last = parameter.value_at(start, key), parameter.value_at(end, key)
    if first is not last:
        raise ValueError(f"{name} {key or ''} change entre le {start} et le {end}")
    if first is None:
        return None
    assert isinstance(first.value, Fraction)
    return first.value


def _cents(euros: Fraction) -> int:
    cents = euros * 100
    if cents.denominator != 1:
        raise ValueError(f"montant non exprimable en centimes : {euros}")
    return cents.numerator


def _ceilings(start: dt.date, end: dt.date) -> dict[tuple[str, str, str], int]:
    """Income ceilings (cents) in force for the whole period, by (financing, zone, category):
    the CSV table of the arrêté du 29 juillet 1987, PLS being PLUS × 130 % (same arrêté)."""
    found: dict[tuple[str, str, str], int] = {}
    with (TABLES / "plafonds_ressources.csv").open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            du = dt.date.fromisoformat(row["en_vigueur_du"])
            au = dt.date.fromisoformat(row["en_vigueur_au"]) if row["en_vigueur_au"] else None
            if du > end or (au is not None and au < start):
                continue
            if du > start or (au is not None and au < end):
                raise ValueError(f"plafond qui change pendant la période : {row}")
            key = (row["financement"], row["zone"], row["categorie"])
            found[key] = _cents(Fraction(row["montant_euros"]))
    for (financing, zone, category), cents in list(found.items()):
        if financing == "PLUS" and ("PLS", zone, category) not in found:
            found[("PLS", zone, category)] = _cents(Fraction(cents, 100) * Fraction(130, 100))
    return found


# ---------------------------------------------------------------------- SQL pieces


def _subject_epci(start: dt.date, end: dt.date) -> str:
    """EPCI subject to the attribution reform (the « s'applique si » of several rules):
    bound to have a PLH, or competent for housing with at least one QPV listed during the
    period in one of their communes."""
    return f"""
soumis AS (
  SELECT e.siren FROM epci e
  WHERE e.tenu_plh OR (e.competent_habitat AND EXISTS (
    SELECT 1 FROM qpv_commune qc
    JOIN qpv q ON q.code = qc.qpv_code
    JOIN commune cq ON cq.insee = qc.commune_insee
    WHERE cq.epci_siren = e.siren AND q.valide_du <= '{end}'
      AND (q.valide_au IS NULL OR q.valide_au >= '{start}')))
)"""


# The dwelling lies in a QPV on the list in force at the lease date.
_IN_QPV = """EXISTS (
      SELECT 1 FROM logement_qpv lq JOIN qpv q ON q.code = lq.qpv_code
      WHERE lq.rpls_id = t.rpls_id AND q.valide_du <= t.date_bail
        AND (q.valide_au IS NULL OR q.valide_au >= t.date_bail))"""


def _levels(levels: Sequence[tuple[str, ...]], n_indicators: int) -> str:
    """Counts per group of the finest scope (`g`), then summed per scope level."""
    finest = [d for d in DIMENSIONS if any(d in level for level in levels)]
    indicators = [f"e{i}" for i in range(n_indicators)]
    sums = "".join(f", SUM({e}) AS {e}" for e in indicators)
    grouped = f"""
g AS (
  SELECT {", ".join(finest)}, COUNT(*) AS den, SUM(ok) AS num,
         SUM(CASE WHEN ok IS NULL THEN 1 ELSE 0 END) AS inconnus{sums}
  FROM rec GROUP BY {", ".join(finest)}
)"""
    selects = []
    for level in levels:
        columns = ", ".join(d if d in level else f"NULL AS {d}" for d in DIMENSIONS)
        totals = "".join(
            f", SUM({name}) AS {name}" for name in ("den", "num", "inconnus", *indicators)
        )
        selects.append(f"SELECT '{','.join(level)}' AS niveau, {columns}{totals}\n"
                       f"FROM g GROUP BY {', '.join(level)}")  # fmt: skip
    return grouped + "\n" + "\nUNION ALL\n".join(selects)


_ATTRIBUTIONS = """
  FROM attribution t
  JOIN logement l ON l.rpls_id = t.rpls_id
  JOIN commune c ON c.insee = l.commune_insee"""


# ---------------------------------------------------------------------- the rules


def _first_quartile(rulebook: Rulebook, start: dt.date, end: dt.date,
                    epcis: Iterable[tuple[str, str]]) -> str:  # fmt: skip
    """1/0/NULL: yearly income per consumption unit below the EPCI's first-quartile threshold.

    revenus_mensuels × 12 / UC < seuil, with UC = w1 + w2 × (nb_titulaires − 1 + 14 ans et
    plus) + w3 × moins de 14 ans; multiplied out by UC (positive: nb_titulaires ≥ 1) and by
    the common denominator of the weights. Unknown income or threshold: unknown.
    """
    weights = [_in_force(rulebook, name, start, end)
               for name in ("uc_premier_adulte", "uc_autre_personne_14_plus", "uc_enfant_moins_14")]  # fmt: skip
    if any(w is None for w in weights):
        return "NULL"
    w1, w2, w3 = (w for w in weights if w is not None)
    scale = math.lcm(w1.denominator, w2.denominator, w3.denominator)
    uc = (f"({w1 * scale} + {w2 * scale} * (t.nb_titulaires - 1 + t.nb_personnes_14_plus)"
          f" + {w3 * scale} * t.nb_moins_14)")  # fmt: skip
    thresholds = []
    for siren, siren_arrete in epcis:  # thresholds are keyed by the arrêté's SIREN
        threshold = _in_force(rulebook, "seuil_q1", start, end, {"epci": siren_arrete})
        if threshold is not None:
            thresholds.append(f"WHEN '{siren}' THEN {_cents(threshold)}")
    seuil = f"CASE c.epci_siren {' '.join(thresholds)} END" if thresholds else "NULL"
    return f"""CASE WHEN t.revenus_mensuels_centimes IS NULL OR {seuil} IS NULL THEN NULL
              WHEN t.revenus_mensuels_centimes * {12 * scale} < {seuil} * {uc} THEN 1
              ELSE 0 END"""


def _subject_leases(rulebook: Rulebook, start: dt.date, end: dt.date,
                    epcis: Iterable[tuple[str, str]], where: str) -> str:  # fmt: skip
    """The CTEs `soumis` and `a`: the leases signed in the period in subject EPCI that meet
    `where` (in or out of a QPV), each with its first-quartile verdict (`q1`, 1/0/NULL) and
    whether it rehouses an ANRU or ORCOD household (`reloge`)."""
    return f"""{_subject_epci(start, end)},
a AS (
  SELECT c.epci_siren AS epci, t.bailleur_siren AS bailleur,
         {_first_quartile(rulebook, start, end, epcis)} AS q1,
         CASE WHEN t.relogement IN ('anru', 'orcod') THEN 1 ELSE 0 END AS reloge
  {_ATTRIBUTIONS}
  JOIN soumis s ON s.siren = c.epci_siren
  WHERE t.date_bail BETWEEN '{start}' AND '{end}' AND {where}
)"""


def q1_hors_qpv(rulebook: Rulebook, start: dt.date, end: dt.date,
                epcis: list[tuple[str, str]]) -> HandRule:  # fmt: skip
    """L441-1.Q1-HORS-QPV (3DS): leases signed outside any QPV in force at the lease date;
    first quartile or rehoused (ANRU, ORCOD); also the first quartile alone."""
    sql = f"""
WITH {_subject_leases(rulebook, start, end, epcis, f"NOT {_IN_QPV}")},
rec AS (
  SELECT epci, bailleur,
         CASE WHEN reloge = 1 OR q1 = 1 THEN 1 WHEN q1 = 0 THEN 0 END AS ok,
         CASE WHEN q1 = 1 THEN 1 ELSE 0 END AS e0
  FROM a
),{_levels([("epci",), ("epci", "bailleur")], 1)}"""
    return HandRule("L441-1.Q1-HORS-QPV", sql, ("without_relogement",))


def qpv_hors_q1(rulebook: Rulebook, start: dt.date, end: dt.date,
                epcis: list[tuple[str, str]]) -> HandRule:  # fmt: skip
    """L441-1-5.QPV-HORS-Q1: leases signed in a QPV in force at the lease date; not first
    quartile; also: neither first quartile nor rehoused."""
    sql = f"""
WITH {_subject_leases(rulebook, start, end, epcis, _IN_QPV)},
rec AS (
  SELECT epci, bailleur, 1 - q1 AS ok,
         CASE WHEN q1 = 0 AND reloge = 0 THEN 1 ELSE 0 END AS e0
  FROM a
),{_levels([("epci",), ("epci", "bailleur")], 1)}"""
    return HandRule("L441-1-5.QPV-HORS-Q1", sql, ("without_relogement",))


def prioritaires_25(start: dt.date, end: dt.date) -> HandRule:
    """L441-1.PRIORITAIRES-25 (version of 09/02/2022): leases of the local authorities',
    the bailleur's own and Action Logement's flows, per réservataire (the bailleur for its
    non-reserved dwellings) over every EPCI of the database, and per EPCI for information;
    DALO or at least one priority criterion a) to m); also DALO."""
    if start < dt.date(2022, 2, 9):
        raise ValueError("écrit pour la version du 09/02/2022 (critères a à m) seulement")
    # The import accepts only the letters a to m: any letter is a criterion of the list.
    sql = f"""
WITH rec AS (
  SELECT c.epci_siren AS epci, t.contingent AS contingent,
         COALESCE(t.reservataire_id,
                  CASE WHEN t.contingent = 'non_reserve' THEN t.bailleur_siren END) AS reservataire,
         CASE WHEN t.dalo OR t.criteres_prioritaires <> '' THEN 1 ELSE 0 END AS ok,
         CASE WHEN t.dalo THEN 1 ELSE 0 END AS e0
  {_ATTRIBUTIONS}
  WHERE t.date_bail BETWEEN '{start}' AND '{end}'
    AND t.contingent IN ('collectivite', 'non_reserve', 'action_logement')
),{_levels([("contingent", "reservataire"), ("epci", "contingent", "reservataire")], 1)}"""
    return HandRule("L441-1.PRIORITAIRES-25", sql, ("dalo",))


def contingent_etat(start: dt.date, end: dt.date) -> HandRule:
    """R441-5-2.CONTINGENT-ETAT: every lease of the annual flow (internal mutations and urban
    renewal rehousing taken out), per bailleur; on the prefect's reservations (priority
    households or State agents); also the State agents alone."""
    sql = f"""
WITH rec AS (
  SELECT c.epci_siren AS epci, t.bailleur_siren AS bailleur,
         CASE WHEN t.contingent IN ('etat_prioritaires', 'etat_fonctionnaires') THEN 1 ELSE 0 END AS ok,
         CASE WHEN t.contingent = 'etat_fonctionnaires' THEN 1 ELSE 0 END AS e0
  {_ATTRIBUTIONS}
  WHERE t.date_bail BETWEEN '{start}' AND '{end}'
    AND NOT t.mutation AND (t.relogement IS NULL OR t.relogement NOT IN ('anru', 'orcod'))
),{_levels([("epci", "bailleur")], 1)}"""
    return HandRule("R441-5-2.CONTINGENT-ETAT", sql, ("state_agents",))


def caleol_trois_candidats(rulebook: Rulebook, start: dt.date, end: dt.date) -> HandRule:
    """R441-3.CALEOL-TROIS-CANDIDATS: each dwelling attributed by a commission (one docket per
    commission date and dwelling) had at least three applications examined, unless one bears
    the « insuffisance » motive, a DALO designee was examined, or the dwelling is PLAI adapté."""
    minimum = _in_force(rulebook, "nb_min_candidatures_caleol", start, end)
    assert minimum is not None
    sql = f"""
WITH dossiers AS (
  SELECT x.date_commission, x.rpls_id, MIN(x.bailleur_siren) AS bailleur,
         COUNT(*) AS nb_candidatures,
         MAX(CASE WHEN x.designation_dalo THEN 1 ELSE 0 END) AS dalo,
         MAX(CASE WHEN x.motif_moins_de_trois = 'insuffisance' THEN 1 ELSE 0 END) AS insuffisance,
         MAX(CASE WHEN x.decision IN ('attribution', 'attribution_rang',
                                      'attribution_sous_condition') THEN 1 ELSE 0 END) AS attribue
  FROM caleol_examen x
  WHERE x.date_commission BETWEEN '{start}' AND '{end}'
  GROUP BY x.date_commission, x.rpls_id
),
rec AS (
  SELECT c.epci_siren AS epci, d.bailleur,
         CASE WHEN d.insuffisance = 1 OR d.dalo = 1 OR l.financement = 'PLAI_ADAPTE' THEN 1
              WHEN d.nb_candidatures >= {minimum} THEN 1 ELSE 0 END AS ok
  FROM dossiers d
  JOIN logement l ON l.rpls_id = d.rpls_id
  JOIN commune c ON c.insee = l.commune_insee
  -- "> 0", not "= 1": for an equality on an aggregate PostgreSQL guesses a few hundred
  -- dockets and nests the joins (5 s instead of 1.3 s on 500 000 attributions).
  WHERE d.attribue > 0
),{_levels([("epci",), ("epci", "bailleur")], 0)}"""
    return HandRule("R441-3.CALEOL-TROIS-CANDIDATS", sql)


def plafonds_ressources(rulebook: Rulebook, start: dt.date, end: dt.date) -> HandRule:
    """R441-1.PLAFONDS-RESSOURCES: each lease of a PLAI, PLAI adapté, PLUS or PLS dwelling
    has retained resources (N-1 income when at least 10 % below N-2's, else N-2's) at most
    the ceiling of its financing (PLAI for PLAI adapté), zone and household category (given,
    or deduced from the household: people, plus one for a single holder with dependants,
    capped at 6, each further person adding the per-person amount); exempt with a prefectoral
    derogation, or in a PLUS dwelling of an operation subsidised by the State with resources
    at most 120 % of the ceiling (R331-12); also: category deduced, and R331-12's exemption
    used (resources above the ceiling)."""
    drop = _in_force(rulebook, "baisse_minimale_revenus_n1", start, end)
    assert drop is not None
    kept = 1 - drop  # rfr_n1 <= rfr_n2 × kept, multiplied out
    excess = _in_force(rulebook, "depassement_plafond_plus", start, end)
    assert excess is not None
    allowed = 1 + excess  # resources <= ceiling × allowed, multiplied out
    ceilings = _ceilings(start, end)
    per_category = ",\n    ".join(f"('{f}', '{z}', {c}, {cents})"
                                   for (f, z, c), cents in sorted(ceilings.items()) if c.isdigit())  # fmt: skip
    per_person = ",\n    ".join(f"('{f}', '{z}', {cents})" for (f, z, c), cents
                                in sorted(ceilings.items()) if c == "personne_supplementaire")  # fmt: skip
    sql = f"""
WITH plafonds(financement, zone, categorie, centimes) AS (VALUES
    {per_category}),
supplement(financement, zone, centimes) AS (VALUES
    {per_person}),
foyer AS (
  SELECT c.epci_siren AS epci, t.bailleur_siren AS bailleur, c.zone_plafonds AS zone,
         CASE WHEN l.financement = 'PLAI_ADAPTE' THEN 'PLAI' ELSE l.financement END AS bareme,
         t.derogation_plafonds, t.categorie_menage,
         CASE WHEN l.financement = 'PLUS' AND l.subvention_etat THEN 1 ELSE 0 END AS plus_subventionne,
         t.nb_titulaires + t.nb_personnes_14_plus + t.nb_moins_14
           + CASE WHEN t.nb_titulaires = 1
                   AND t.nb_titulaires + t.nb_personnes_14_plus + t.nb_moins_14 > 1
                  THEN 1 ELSE 0 END AS personnes,
         CASE WHEN t.rfr_n1_centimes IS NOT NULL AND t.rfr_n2_centimes IS NULL THEN NULL
              WHEN t.rfr_n1_centimes * {kept.denominator}
                   <= t.rfr_n2_centimes * {kept.numerator} THEN t.rfr_n1_centimes
              ELSE t.rfr_n2_centimes END AS ressources
  {_ATTRIBUTIONS}
  WHERE t.date_bail BETWEEN '{start}' AND '{end}'
    AND l.financement IN ('PLAI', 'PLAI_ADAPTE', 'PLUS', 'PLS')
),
menage AS (
  SELECT f.*,
         COALESCE(f.categorie_menage, CASE WHEN f.personnes > 6 THEN 6 ELSE f.personnes END)
           AS categorie
  FROM foyer f
),
plafond AS (
  SELECT m.*,
         p.centimes + CASE WHEN m.categorie = 6 AND m.personnes > 6
                           THEN (m.personnes - 6) * s.centimes ELSE 0 END AS plafond
  FROM menage m
  LEFT JOIN plafonds p
    ON p.financement = m.bareme AND p.zone = m.zone AND p.categorie = m.categorie
  LEFT JOIN supplement s ON s.financement = m.bareme AND s.zone = m.zone
),
r331 AS (
  SELECT x.*,
         CASE WHEN x.plus_subventionne = 1 AND x.ressources * {allowed.denominator}
                   <= x.plafond * {allowed.numerator} THEN 1 ELSE 0 END AS permis
  FROM plafond x
),
rec AS (
  SELECT x.epci, x.bailleur,
         CASE WHEN x.derogation_plafonds IS NOT NULL OR x.permis = 1 THEN 1
              WHEN x.ressources IS NULL OR x.plafond IS NULL THEN NULL
              WHEN x.ressources <= x.plafond THEN 1
              ELSE 0 END AS ok,
         CASE WHEN x.categorie_menage IS NULL THEN 1 ELSE 0 END AS e0,
         CASE WHEN x.permis = 1 AND x.ressources > x.plafond THEN 1 ELSE 0 END AS e1
  FROM r331 x
),{_levels([("epci",), ("epci", "bailleur")], 2)}"""
    return HandRule("R441-1.PLAFONDS-RESSOURCES", sql, ("derived_category", "depassement_r331_12"))


def cotation(start: dt.date, end: dt.date) -> HandRule:
    """L441-2-8.COTATION (3DS): each subject EPCI adopted its scoring system by 31/12/2023,
    or in a year before the checked one; judged from the deadline on (checked at period end)."""
    deadline = dt.date(2023, 12, 31)
    if end < dt.date(2022, 2, 23):
        raise ValueError("écrit pour la version du 23/02/2022 seulement")
    judged = "1 = 1" if end >= deadline else "1 = 0"
    sql = f"""
WITH {_subject_epci(start, end)}
SELECT 'epci' AS niveau, e.siren AS epci, NULL AS bailleur, NULL AS contingent,
       NULL AS reservataire, 1 AS den,
       CASE WHEN e.cotation_adoptee_le IS NOT NULL
             AND (e.cotation_adoptee_le <= '{deadline}'
                  OR e.cotation_adoptee_le < '{end.year}-01-01') THEN 1 ELSE 0 END AS num,
       0 AS inconnus
FROM epci e JOIN soumis s ON s.siren = e.siren
WHERE {judged}"""
    return HandRule("L441-2-8.COTATION", sql)


def travailleurs_essentiels(start: dt.date, end: dt.date) -> HandRule:
    """L441-1.TRAVAILLEURS-ESSENTIELS (3DS): leases signed in subject EPCI; essential worker."""
    sql = f"""
WITH {_subject_epci(start, end)},
rec AS (
  SELECT c.epci_siren AS epci, t.bailleur_siren AS bailleur,
         CASE WHEN t.travailleur_essentiel THEN 1 ELSE 0 END AS ok
  {_ATTRIBUTIONS}
  JOIN soumis s ON s.siren = c.epci_siren
  WHERE t.date_bail BETWEEN '{start}' AND '{end}'
),{_levels([("epci",), ("epci", "bailleur")], 0)}"""
    return HandRule("L441-1.TRAVAILLEURS-ESSENTIELS", sql)


def gestion_en_flux(start: dt.date, end: dt.date) -> HandRule:
    """L441-1.GESTION-EN-FLUX: each bailleur × réservataire pair with a convention signed by
    the control date (31 December), or served in the period (leases imputed to that
    réservataire); the convention in force, the latest signed, is a flux convention and the
    pair's first flux convention was signed by the deadline or in a year before the checked
    one; exempt: kept in stock for an excepted motive. A pair without a convention is judged
    non-compliant when the bailleur has conventions with other réservataires in the EPCI,
    unknown otherwise. Judged from the deadline on."""
    if end >= dt.date(2022, 2, 23):  # 3DS: deadline postponed, public health establishments
        deadline = dt.date(2023, 11, 24)
        motives = "'defense_nationale', 'securite_interieure', 'etablissement_sante'"
    elif end >= dt.date(2018, 11, 25):  # ELAN
        deadline = dt.date(2021, 11, 24)
        motives = "'defense_nationale', 'securite_interieure'"
    else:
        raise ValueError("aucune version de la règle en vigueur à la date de contrôle")
    judged = "1 = 1" if end >= deadline else "1 = 0"  # s'applique si date_controle >= …
    same_pair = """{a}.epci_siren = {b}.epci_siren AND {a}.bailleur_siren = {b}.bailleur_siren
        AND {a}.reservataire_id = {b}.reservataire_id"""
    sql = f"""
WITH signees AS (
  SELECT * FROM convention_reservation WHERE date_signature <= '{end}'
),
couples AS (
  SELECT epci_siren, bailleur_siren, reservataire_id FROM signees
  UNION
  SELECT c.epci_siren, t.bailleur_siren, t.reservataire_id
  {_ATTRIBUTIONS}
  WHERE t.date_bail BETWEEN '{start}' AND '{end}' AND t.reservataire_id IS NOT NULL
),
par_couple AS (
  SELECT epci_siren, bailleur_siren, reservataire_id, MAX(date_signature) AS derniere,
         MIN(CASE WHEN mode = 'flux' THEN date_signature END) AS flux_depuis
  FROM signees
  GROUP BY epci_siren, bailleur_siren, reservataire_id
),
bailleurs_avec_conventions AS (
  SELECT DISTINCT epci_siren, bailleur_siren FROM signees
),
rec AS (
  SELECT p.epci_siren AS epci, p.bailleur_siren AS bailleur,
         CASE WHEN v.id IS NOT NULL THEN
                CASE WHEN v.mode = 'stock' AND v.motif_stock IN ({motives}) THEN 1
                     WHEN v.mode = 'flux' AND (d.flux_depuis <= '{deadline}'
                                               OR d.flux_depuis < '{end.year}-01-01') THEN 1
                     ELSE 0 END
              WHEN b.bailleur_siren IS NOT NULL THEN 0
         END AS ok
  FROM couples p
  -- Réservataires are declared per EPCI: a pair is one of the EPCI's réservataires.
  JOIN reservataire r ON r.epci_siren = p.epci_siren AND r.id = p.reservataire_id
  LEFT JOIN par_couple d ON {same_pair.format(a="d", b="p")}
  -- The convention in force: the latest signed.
  LEFT JOIN signees v ON {same_pair.format(a="v", b="d")} AND v.date_signature = d.derniere
  LEFT JOIN bailleurs_avec_conventions b
    ON b.epci_siren = p.epci_siren AND b.bailleur_siren = p.bailleur_siren
  WHERE {judged}
),{_levels([("epci",), ("epci", "bailleur")], 0)}"""
    return HandRule("L441-1.GESTION-EN-FLUX", sql)


def _yyyymmdd(column: str, dialect: str) -> str:
    """A date as the integer yyyymmdd. The one piece of SQL written per dialect: SQLite keeps
    dates as ISO text and has no EXTRACT, PostgreSQL has no strftime."""
    if dialect == "sqlite":
        return f"CAST(strftime('%Y%m%d', {column}) AS INTEGER)"
    if dialect == "postgresql":
        return f"CAST(to_char({column}, 'YYYYMMDD') AS INTEGER)"
    raise ValueError(f"dialecte non prévu : {dialect}")


def _anniversary(year: str) -> str:
    """The lease's anniversary in `year` (an SQL expression), as yyyymmdd, from the column
    `mois_jour`, the signature's month and day as mmdd: 29 February falls on 1 March in a
    common year."""
    leap = f"(({year}) % 4 = 0 AND ({year}) % 100 <> 0 OR ({year}) % 400 = 0)"
    return (f"({year}) * 10000 + CASE WHEN mois_jour = 229 AND NOT {leap} THEN 301"
            f" ELSE mois_jour END")  # fmt: skip


def examen_occupation(end: dt.date, dialect: str) -> HandRule:
    """L442-5-2.EXAMEN-OCCUPATION: each lease in progress at the control date (31 December)
    of a dwelling in zone A bis, A or B1 whose last third anniversary (3, 6, 9… years after
    signature) on or before the control date falls on or after 26/06/2019; reviewed after
    the anniversary before it (the signature, for the first), and, when situations were
    found, sent to the CALEOL on or after the review; also: reviewed, situation found."""
    if end < dt.date(2019, 6, 26):
        raise ValueError("aucune version de la règle en vigueur à la date de contrôle")
    # 31 December: every anniversary of the year is reached, full years = year - signed year.
    sql = f"""
WITH encours AS (
  SELECT c.epci_siren AS epci, l.bailleur_siren AS bailleur,
         {_yyyymmdd("b.date_signature", dialect)} AS signe,
         {_yyyymmdd("b.date_dernier_examen", dialect)} AS examen,
         b.date_dernier_examen, NULLIF(b.situations, '') AS situations,
         b.date_transmission_caleol
  FROM bail b
  JOIN logement l ON l.rpls_id = b.rpls_id
  JOIN commune c ON c.insee = l.commune_insee
  WHERE c.zone_abc IN ('Abis', 'A', 'B1')
    AND b.date_signature <= '{end}' AND (b.date_fin IS NULL OR b.date_fin >= '{end}')
),
cycles AS (
  SELECT e.*, signe / 10000 + ({end.year} - signe / 10000) / 3 * 3 AS annee_echeance,
         signe % 10000 AS mois_jour
  FROM encours e
),
echeances AS (
  SELECT k.*, {_anniversary("annee_echeance")} AS echeance,
         {_anniversary("annee_echeance - 3")} AS debut_cycle
  FROM cycles k
  WHERE annee_echeance > signe / 10000
),
rec AS (
  SELECT epci, bailleur,
         CASE WHEN examen > debut_cycle AND (situations IS NULL
                   OR date_transmission_caleol >= date_dernier_examen) THEN 1 ELSE 0 END AS ok,
         CASE WHEN examen > debut_cycle THEN 1 ELSE 0 END AS e0,
         CASE WHEN situations IS NOT NULL THEN 1 ELSE 0 END AS e1
  FROM echeances
  WHERE echeance >= 20190626
),{_levels([("epci",), ("epci", "bailleur")], 2)}"""
    return HandRule("L442-5-2.EXAMEN-OCCUPATION", sql, ("examen_a_jour", "situation_constatee"))


def hand_rules(rulebook: Rulebook, year: int, epcis: list[tuple[str, str]],
               dialect: str) -> list[HandRule]:  # fmt: skip
    """Every rule of the national rulebook, for the calendar year. `epcis`: (siren, name in
    the arrêtés) of the EPCI in the database, for the first-quartile thresholds; `dialect`:
    "sqlite" or "postgresql", for the one date function that differs (see `_yyyymmdd`)."""
    start, end = dt.date(year, 1, 1), dt.date(year, 12, 31)
    return [
        q1_hors_qpv(rulebook, start, end, epcis),
        qpv_hors_q1(rulebook, start, end, epcis),
        prioritaires_25(start, end),
        contingent_etat(start, end),
        caleol_trois_candidats(rulebook, start, end),
        plafonds_ressources(rulebook, start, end),
        cotation(start, end),
        travailleurs_essentiels(start, end),
        gestion_en_flux(start, end),
        examen_occupation(end, dialect),
    ]


def figures(rule: HandRule, rows: Iterable[Any]) -> list[Figures]:
    """The rows of a rule's query as figures, scopes keyed as mixite keys them."""
    found = []
    for row in rows:
        values = row._mapping
        level = str(values["niveau"]).split(",")
        found.append(Figures(
            rule.rule, {d: values[d] for d in level}, int(values["num"] or 0),
            int(values["den"]), int(values["inconnus"] or 0),
            {label: int(values[f"e{i}"] or 0) for i, label in enumerate(rule.indicators)},
        ))  # fmt: skip
    return found
