"""The populations of the peuplement half: residences, OPS surveys, NPNRU rehousing.

- `occupations`: one row per residence and OPS survey, judged on the survey's date (1 January
  of its year), with the survey's counts and the same counts summed over the EPCI for that
  survey (`<count>_epci`), so that a rule can compare a residence with the EPCI's average.
- `residences`: one row per residence, judged at the end of the period, with the latest survey
  on or before the period's year (its counts, or unknown when the residence was never surveyed)
  and the EPCI's sums for that survey.
- `relogements`: one row per household and NPNRU operation entered by the end of the period,
  judged at the end of the period, with what is derived from the destination: its QPV at the
  rehousing date, its age (full years since its residence's first letting), another commune,
  the reste-à-charge before and after (rent and charges minus housing benefit).

Every count is an integer and every amount integer cents: the rules compute the shares, with
the exact arithmetic both engines share, and the thresholds stay parameters of the rules.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    Date,
    Integer,
    Subquery,
    and_,
    case,
    cast,
    exists,
    extract,
    func,
    literal,
    null,
    or_,
    select,
)

from checker.db.codes import LINK_PREFIX, OPS_COUNTS, STATUTS_RELOGES
from checker.db.tables import table
from checker.evaluate.leases import _day_from_parts

RELOGES = STATUTS_RELOGES


def _part(field: str, day: Any) -> Any:
    return cast(extract(field, day), Integer)


def full_years(start: Any, end: Any) -> Any:
    """Whole years from `start` to `end` (birthday-style), the same on SQLite and PostgreSQL."""
    before_anniversary = (_part("month", end) * 100 + _part("day", end)) < (
        _part("month", start) * 100 + _part("day", start)
    )
    return _part("year", end) - _part("year", start) - case((before_anniversary, 1), else_=0)


def _qpv_of_residences(control: Any) -> Subquery:
    """The QPV (smallest code) in force at `control` of each residence, from its dwellings."""
    logement = table("logement")
    lq = table("logement_qpv")
    q = table("qpv")
    return (
        select(
            logement.c.bailleur_siren.label("bailleur_siren"),
            logement.c.residence_id.label("residence_id"),
            func.min(q.c.code).label("qpv"),
            func.count(func.distinct(logement.c.rpls_id)).label("nb_logements_qpv"),
        )
        .select_from(
            logement.join(lq, lq.c.rpls_id == logement.c.rpls_id).join(q, q.c.code == lq.c.qpv_code)
        )
        .where(
            logement.c.residence_id.is_not(None),
            q.c.valide_du <= control,
            or_(q.c.valide_au.is_(None), q.c.valide_au >= control),
        )
        .group_by(logement.c.bailleur_siren, logement.c.residence_id)
        .subquery("qpv_des_residences")
    )


def _dwellings_of_residences() -> Subquery:
    logement = table("logement")
    return (
        select(
            logement.c.bailleur_siren.label("bailleur_siren"),
            logement.c.residence_id.label("residence_id"),
            func.count().label("nb_logements"),
        )
        .where(logement.c.residence_id.is_not(None))
        .group_by(logement.c.bailleur_siren, logement.c.residence_id)
        .subquery("logements_des_residences")
    )


def _epci_sums(epci_sirens: list[str]) -> Subquery:
    """Each OPS count summed per EPCI (of the residence's commune) and survey year."""
    o = table("occupation")
    r = table("residence")
    commune = table("commune")
    return (
        select(
            commune.c.epci_siren.label("epci"),
            o.c.annee_enquete.label("annee_enquete"),
            *(func.sum(o.c[name]).label(f"{name}_epci") for name in OPS_COUNTS),
        )
        .select_from(
            o.join(
                r,
                and_(
                    r.c.bailleur_siren == o.c.bailleur_siren,
                    r.c.residence_id == o.c.residence_id,
                ),
            ).join(commune, commune.c.insee == r.c.commune_insee)
        )
        .where(commune.c.epci_siren.in_(epci_sirens))
        .group_by(commune.c.epci_siren, o.c.annee_enquete)
        .subquery("enquetes_epci")
    )


def _residence_columns(r: Any, commune: Any, qpv: Any, dwellings: Any) -> list[Any]:
    """The residence's own columns; `qpv` and `dwellings` (the look-ups over every dwelling)
    may be None, their columns then NULL (see `residences`)."""
    return [
        r.c.residence_id.label("residence"),
        r.c.nom.label("nom"),
        r.c.bailleur_siren.label("bailleur"),
        r.c.commune_insee.label("commune"),
        commune.c.epci_siren.label("epci"),
        (qpv.c.qpv if qpv is not None else null()).label("qpv"),
        (qpv.c.qpv.is_not(None) if qpv is not None else null()).label("en_qpv"),
        r.c.classe_enjeu.label("classe_declaree"),
        r.c.operation_npnru.label("operation"),
        r.c.date_mise_en_service.label("date_mise_en_service"),
        (func.coalesce(dwellings.c.nb_logements, 0) if dwellings is not None else null()).label(
            "nb_logements"
        ),
    ]


def _with_lookups(joined: Any, r: Any, qpv: Subquery | None, dwellings: Subquery | None) -> Any:
    for lookup in (qpv, dwellings):
        if lookup is not None:
            joined = joined.outerjoin(
                lookup,
                and_(
                    lookup.c.bailleur_siren == r.c.bailleur_siren,
                    lookup.c.residence_id == r.c.residence_id,
                ),
            )
    return joined


def occupations(
    epci_sirens: list[str],
    period: tuple[dt.date, dt.date],
    with_qpv: bool = True,
    with_dwellings: bool = True,
) -> Subquery:
    """Without `with_qpv` or `with_dwellings` (see `residences`), `qpv` and `en_qpv`, or
    `nb_logements`, are NULL."""
    o = table("occupation")
    r = table("residence")
    commune = table("commune")
    epci = table("epci")
    control = literal(period[1], Date)
    qpv = _qpv_of_residences(control) if with_qpv else None
    dwellings = _dwellings_of_residences() if with_dwellings else None
    sums = _epci_sums(epci_sirens)
    survey_day = _day_from_parts(o.c.annee_enquete, 1, 1)  # the survey is as of 1 January
    query = (
        select(
            *_residence_columns(r, commune, qpv, dwellings),
            o.c.annee_enquete.label("annee_enquete"),
            *(o.c[name].label(name) for name in OPS_COUNTS),
            *(sums.c[f"{name}_epci"].label(f"{name}_epci") for name in OPS_COUNTS),
            survey_day.label("date_enquete"),
            survey_day.label("fact_date"),
            *(column.label(LINK_PREFIX + column.name) for column in epci.c),
        )
        .select_from(
            _with_lookups(
                o.join(
                    r,
                    and_(
                        r.c.bailleur_siren == o.c.bailleur_siren,
                        r.c.residence_id == o.c.residence_id,
                    ),
                )
                .join(commune, commune.c.insee == r.c.commune_insee)
                .join(epci, epci.c.siren == commune.c.epci_siren),
                r,
                qpv,
                dwellings,
            ).join(
                sums,
                and_(
                    sums.c.epci == commune.c.epci_siren,
                    sums.c.annee_enquete == o.c.annee_enquete,
                ),
            )
        )
        .where(
            commune.c.epci_siren.in_(epci_sirens),
            o.c.annee_enquete.between(period[0].year, period[1].year),
        )
    )
    return query.subquery("occupations")


def residences(
    epci_sirens: list[str],
    period: tuple[dt.date, dt.date],
    with_qpv: bool = True,
    with_dwellings: bool = True,
) -> Subquery:
    """Without `with_qpv`, `qpv` and `en_qpv` are NULL; without `with_dwellings`,
    `nb_logements` is: each is a look-up over every dwelling (5 million at national scale),
    which SQLite computes even when no column of it is read. For callers that know which
    columns their rules read (checker.diagnostic.rules_sql)."""
    o = table("occupation")
    r = table("residence")
    commune = table("commune")
    epci = table("epci")
    control = literal(period[1], Date)
    qpv = _qpv_of_residences(control) if with_qpv else None
    dwellings = _dwellings_of_residences() if with_dwellings else None
    sums = _epci_sums(epci_sirens)
    latest = (
        select(
            o.c.bailleur_siren.label("bailleur_siren"),
            o.c.residence_id.label("residence_id"),
            func.max(o.c.annee_enquete).label("annee_enquete"),
        )
        .where(o.c.annee_enquete <= period[1].year)
        .group_by(o.c.bailleur_siren, o.c.residence_id)
        .subquery("derniere_enquete")
    )
    key = and_(
        r.c.bailleur_siren == latest.c.bailleur_siren, r.c.residence_id == latest.c.residence_id
    )
    query = (
        select(
            *_residence_columns(r, commune, qpv, dwellings),
            latest.c.annee_enquete.label("annee_enquete"),
            *(o.c[name].label(name) for name in OPS_COUNTS),
            *(sums.c[f"{name}_epci"].label(f"{name}_epci") for name in OPS_COUNTS),
            control.label("date_controle"),
            control.label("fact_date"),
            *(column.label(LINK_PREFIX + column.name) for column in epci.c),
        )
        .select_from(
            _with_lookups(
                r.join(commune, commune.c.insee == r.c.commune_insee).join(
                    epci, epci.c.siren == commune.c.epci_siren
                ),
                r,
                qpv,
                dwellings,
            )
            .outerjoin(latest, key)
            .outerjoin(
                o,
                and_(
                    o.c.bailleur_siren == latest.c.bailleur_siren,
                    o.c.residence_id == latest.c.residence_id,
                    o.c.annee_enquete == latest.c.annee_enquete,
                ),
            )
            .outerjoin(
                sums,
                and_(
                    sums.c.epci == commune.c.epci_siren,
                    sums.c.annee_enquete == latest.c.annee_enquete,
                ),
            )
        )
        .where(commune.c.epci_siren.in_(epci_sirens))
    )
    return query.subquery("residences")


def relogements(epci_sirens: list[str], period: tuple[dt.date, dt.date]) -> Subquery:
    rl = table("relogement")
    origin = table("logement").alias("logement_origine")
    target = table("logement").alias("logement_destination")
    home = table("residence").alias("residence_destination")
    commune = table("commune")
    epci = table("epci")
    lq = table("logement_qpv")
    q = table("qpv")
    a = table("attribution")
    control = literal(period[1], Date)
    rehoused = and_(rl.c.statut.in_(RELOGES), rl.c.date_relogement <= control)
    # The destination's QPV on the list in force on the day of the rehousing.
    in_qpv = exists(
        select(lq.c.qpv_code)
        .select_from(lq.join(q, q.c.code == lq.c.qpv_code))
        .where(
            lq.c.rpls_id == rl.c.rpls_id_destination,
            q.c.valide_du <= rl.c.date_relogement,
            or_(q.c.valide_au.is_(None), q.c.valide_au >= rl.c.date_relogement),
        )
    )
    through_attribution = exists(
        select(a.c.id).where(a.c.menage == rl.c.menage_sne, a.c.rpls_id == rl.c.rpls_id_destination)
    )
    has_destination = and_(rehoused, target.c.rpls_id.is_not(None))

    def rest(rent: Any, benefit: Any) -> Any:
        return rent - benefit  # NULL when either is unknown

    query = (
        select(
            rl.c.operation_npnru.label("operation"),
            rl.c.menage.label("menage"),
            rl.c.bailleur_siren.label("bailleur"),
            rl.c.rpls_id_origine.label("rpls_id"),
            origin.c.commune_insee.label("commune"),
            commune.c.epci_siren.label("epci"),
            rl.c.statut.label("statut"),
            rl.c.date_entree_operation.label("date_entree_operation"),
            case((rehoused, rl.c.date_relogement), else_=None).label("date_relogement"),
            rehoused.label("reloge"),
            and_(rehoused, rl.c.statut == "reloge_definitif").label("reloge_definitif"),
            case((has_destination, target.c.rpls_id), else_=None).label("logement_destination"),
            case((has_destination, target.c.bailleur_siren), else_=None).label(
                "bailleur_destination"
            ),
            case((has_destination, target.c.commune_insee), else_=None).label(
                "commune_destination"
            ),
            case(
                (has_destination, target.c.commune_insee != origin.c.commune_insee), else_=None
            ).label("autre_commune"),
            case((has_destination, in_qpv), else_=None).label("destination_en_qpv"),
            case(
                (
                    and_(has_destination, home.c.date_mise_en_service.is_not(None)),
                    full_years(home.c.date_mise_en_service, rl.c.date_relogement),
                ),
                else_=None,
            ).label("anciennete_destination"),
            and_(rl.c.menage_sne.is_not(None), through_attribution).label("par_attribution"),
            rest(rl.c.loyer_charges_avant_centimes, rl.c.aide_logement_avant_centimes).label(
                "reste_a_charge_avant_centimes"
            ),
            case(
                (
                    rehoused,
                    rest(rl.c.loyer_charges_apres_centimes, rl.c.aide_logement_apres_centimes),
                ),
                else_=None,
            ).label("reste_a_charge_apres_centimes"),
            control.label("date_controle"),
            control.label("fact_date"),
            *(column.label(LINK_PREFIX + column.name) for column in epci.c),
        )
        .select_from(
            rl.join(origin, origin.c.rpls_id == rl.c.rpls_id_origine)
            .join(commune, commune.c.insee == origin.c.commune_insee)
            .join(epci, epci.c.siren == commune.c.epci_siren)
            .outerjoin(target, target.c.rpls_id == rl.c.rpls_id_destination)
            .outerjoin(
                home,
                and_(
                    home.c.bailleur_siren == target.c.bailleur_siren,
                    home.c.residence_id == target.c.residence_id,
                ),
            )
        )
        .where(commune.c.epci_siren.in_(epci_sirens), rl.c.date_entree_operation <= control)
    )
    return query.subquery("relogements")
