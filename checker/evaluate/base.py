"""The rows each population is made of, as SQL: one subquery per entity, with every field
the rule language knows (see `checker.schema`) as a column of the same name."""

from __future__ import annotations

import datetime as dt
import threading
from collections import OrderedDict
from typing import Any, Generic, TypeVar

from sqlalchemy import (
    Connection,
    Date,
    Select,
    Subquery,
    and_,
    case,
    func,
    literal,
    null,
    or_,
    select,
)

from checker.db.codes import LINK_PREFIX
from checker.db.tables import table

# Fields of an attribution read from the residence of its dwelling (joined only when read).
RESIDENCE_FIELDS = frozenset({"residence", "classe_residence"})
# Columns of the dwelling selected only for the rules that read them (same SQL for the others).
DWELLING_FIELDS = frozenset({"subvention_etat"})
# The applicant's optional fields (age, professional situation, housing before), selected only
# when read: rules that do not read them get the same SQL as before they existed.
APPLICANT_FIELDS = frozenset({"age_demandeur", "situation_professionnelle", "logement_actuel"})

_K = TypeVar("_K")
_V = TypeVar("_V")


class StatementMemo(Generic[_K, _V]):
    """Statements already built, by what they were built from; the least recently used are
    dropped beyond `size`.

    Building a statement with SQLAlchemy (its subqueries, their columns, CASE expressions of
    parameters) costs more Python time than a small database takes to run it; a statement
    built again from the same inputs is the same statement, sent with the same SQL. A process
    that evaluates the same rules many times (the rule tests: case after case) builds each
    once.
    """

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[_K, _V] = OrderedDict()
        self._lock = threading.Lock()  # the web application evaluates in several threads

    def get(self, key: _K) -> _V | None:
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
            return found

    def put(self, key: _K, value: _V) -> _V:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)
            return value


# The statements of `qpv_list_fixed` and `epci_rows`, by period (every evaluator sends both).
_BY_PERIOD: StatementMemo[tuple[str, dt.date, dt.date], Any] = StatementMemo(64)


def qpv_list_fixed(connection: Connection, period: tuple[dt.date, dt.date]) -> bool:
    """Whether every QPV on the list at some day of the period is on it for the whole period.

    The usual case (lists change on 1 January): a dwelling's QPV situation is then the same on
    every day of the period, and is looked up by dwelling alone (see `_qpv_at_lease`).
    """
    key = ("qpv_list_fixed", period[0], period[1])
    partly = _BY_PERIOD.get(key)
    if partly is None:
        q = table("qpv")
        start, end = literal(period[0], Date), literal(period[1], Date)
        partly = _BY_PERIOD.put(key, (
            select(q.c.code)
            .where(
                q.c.valide_du <= end,
                or_(q.c.valide_au.is_(None), q.c.valide_au >= start),
                or_(q.c.valide_du > start, and_(q.c.valide_au.is_not(None), q.c.valide_au < end)),
            )
            .limit(1)
        ))  # fmt: skip
    return connection.execute(partly).first() is None


def _qpv_at_lease(period: tuple[dt.date, dt.date] | None, list_fixed: bool) -> tuple[Subquery, Any]:
    """The QPV of each attribution's dwelling on the list in force at the lease date (the
    smallest code if several), as a subquery to left-join, and the join condition.

    A join, not a lookup per row: PostgreSQL runs a correlated subquery once per attribution
    (0.5 s for 250 000), a join as one hash join. When the list is fixed over the period
    (`qpv_list_fixed`), the subquery is keyed by dwelling, read once; otherwise by attribution,
    each lease matched with the QPV in force on its date.
    """
    a = table("attribution")
    lq = table("logement_qpv")
    q = table("qpv")
    if list_fixed and period is not None:
        start, end = literal(period[0], Date), literal(period[1], Date)
        by_dwelling = (
            select(lq.c.rpls_id.label("rpls_id"), func.min(q.c.code).label("qpv"))
            .select_from(lq.join(q, q.c.code == lq.c.qpv_code))
            .where(q.c.valide_du <= start, or_(q.c.valide_au.is_(None), q.c.valide_au >= end))
            .group_by(lq.c.rpls_id)
            .subquery("qpv_du_logement")
        )
        return by_dwelling, by_dwelling.c.rpls_id == a.c.rpls_id
    in_force_at_lease = and_(
        q.c.code == lq.c.qpv_code,
        q.c.valide_du <= a.c.date_bail,
        or_(q.c.valide_au.is_(None), q.c.valide_au >= a.c.date_bail),
    )
    query = (
        select(a.c.id.label("attribution_id"), func.min(q.c.code).label("qpv"))
        .select_from(a.join(lq, lq.c.rpls_id == a.c.rpls_id).join(q, in_force_at_lease))
        .group_by(a.c.id)
    )
    if period is not None:
        query = query.where(a.c.date_bail.between(period[0], period[1]))
    by_lease = query.subquery("qpv_au_bail")
    return by_lease, by_lease.c.attribution_id == a.c.id


def attributions(
    epci_sirens: list[str] | None = None,
    period: tuple[dt.date, dt.date] | None = None,
    qpv_list_fixed: bool = False,
    with_qpv: bool = True,
    with_residence: bool = True,
    with_applicant: bool = True,
    with_dwelling: bool = True,
    *,
    in_qpv_only: bool = False,
    count_served: bool = True,
) -> Subquery:
    """One row per attribution, with its dwelling, commune, EPCI and dated QPV situation.

    With a period, only the leases signed in it: rules judge nothing else, and filtering here
    lets the database use the index on date_bail and skip the QPV look-ups of other years.
    Without `with_qpv`, `en_qpv` and `qpv` are NULL and the QPV look-up is left out: SQLite
    computes a joined subquery even when no column of it is read. Without
    `with_residence`, the columns `residence` and `classe_residence` (the residence of the
    dwelling and the class the CIA or CIL gave it) are left out, and the residence is not
    joined: rules that do not read them get the same SQL as before they existed.
    With `in_qpv_only` (a population that keeps only leases in a QPV, see
    `checker.evaluate.definitions.requires_field`), the QPV look-up is an inner join: the
    leases outside any QPV are not read at all.
    """
    a = table("attribution")
    logement = table("logement")
    commune = table("commune")
    epci = table("epci")
    at_lease, at_lease_join = _qpv_at_lease(period, qpv_list_fixed)
    joined = (
        a.join(logement, logement.c.rpls_id == a.c.rpls_id)
        .join(commune, commune.c.insee == logement.c.commune_insee)
        .join(epci, epci.c.siren == commune.c.epci_siren)
    )
    if with_qpv and in_qpv_only:
        joined = joined.join(at_lease, at_lease_join)
    elif with_qpv:
        joined = joined.outerjoin(at_lease, at_lease_join)
    residence = table("residence")
    if with_residence:
        joined = joined.outerjoin(
            residence,
            and_(
                residence.c.bailleur_siren == logement.c.bailleur_siren,
                residence.c.residence_id == logement.c.residence_id,
            ),
        )
    query = select(
        a.c.id.label("id"),
        a.c.menage.label("menage"),
        a.c.rpls_id.label("rpls_id"),
        a.c.date_decision.label("date_decision"),
        a.c.date_bail.label("date_bail"),
        a.c.date_bail.label("fact_date"),
        a.c.bailleur_siren.label("bailleur"),
        logement.c.commune_insee.label("commune"),
        commune.c.zone_plafonds.label("zone_plafonds"),
        logement.c.financement.label("financement"),
        commune.c.epci_siren.label("epci"),
        (
            case((a.c.date_bail.is_(None), None), else_=at_lease.c.qpv.is_not(None))
            if with_qpv
            else null()
        ).label("en_qpv"),
        (at_lease.c.qpv if with_qpv else null()).label("qpv"),
        a.c.contingent.label("contingent"),
        func.coalesce(
            a.c.reservataire_id,
            case((a.c.contingent == "non_reserve", a.c.bailleur_siren), else_=None),
        ).label("reservataire"),
        a.c.mutation.label("mutation"),
        a.c.dalo.label("dalo"),
        a.c.criteres_prioritaires.label("criteres_prioritaires"),
        a.c.relogement.label("relogement"),
        a.c.travailleur_essentiel.label("travailleur_essentiel"),
        a.c.nb_titulaires.label("nb_titulaires"),
        a.c.nb_personnes_14_plus.label("nb_personnes_14_plus"),
        a.c.nb_moins_14.label("nb_moins_14"),
        a.c.revenus_mensuels_centimes.label("revenus_mensuels_centimes"),
        a.c.rfr_n2_centimes.label("rfr_n2_centimes"),
        a.c.rfr_n1_centimes.label("rfr_n1_centimes"),
        a.c.categorie_menage.label("categorie_menage"),
        a.c.derogation_plafonds.label("derogation_plafonds"),
        *(
            (
                a.c.age_demandeur.label("age_demandeur"),
                a.c.situation_professionnelle.label("situation_professionnelle"),
                a.c.logement_actuel.label("logement_actuel"),
            )
            if with_applicant
            else ()
        ),
        *((logement.c.subvention_etat.label("subvention_etat"),) if with_dwelling else ()),
        *(
            (
                residence.c.residence_id.label("residence"),
                residence.c.classe_enjeu.label("classe_residence"),
            )
            if with_residence
            else ()
        ),
        *(column.label(LINK_PREFIX + column.name) for column in epci.c),
    ).select_from(joined)
    if epci_sirens:
        query = query.where(commune.c.epci_siren.in_(epci_sirens))
    if period is not None:
        query = query.where(a.c.date_bail.between(period[0], period[1]))
    return query.subquery("attributions")


def epci_rows(year_start: dt.date, year_end: dt.date) -> Select[Any]:
    """EPCI with the number of their QPV on the list at some point of the year."""
    key = ("epci_rows", year_start, year_end)
    built = _BY_PERIOD.get(key)
    if built is None:
        built = _BY_PERIOD.put(key, _epci_rows(year_start, year_end))
    statement: Select[Any] = built
    return statement


def _epci_rows(year_start: dt.date, year_end: dt.date) -> Select[Any]:
    epci = table("epci")
    commune = table("commune")
    qc = table("qpv_commune")
    q = table("qpv")
    nb_qpv = (
        select(func.count(func.distinct(q.c.code)))
        .select_from(
            q.join(qc, qc.c.qpv_code == q.c.code).join(
                commune, commune.c.insee == qc.c.commune_insee
            )
        )
        .where(
            commune.c.epci_siren == epci.c.siren,
            q.c.valide_du <= literal(year_end, Date),
            or_(q.c.valide_au.is_(None), q.c.valide_au >= literal(year_start, Date)),
        )
        .scalar_subquery()
    )
    return select(*epci.c, nb_qpv.label("nb_qpv")).order_by(epci.c.siren)


def epci_population(period_start: dt.date, period_end: dt.date, epci_sirens: list[str]) -> Subquery:
    """EPCI as a population (structural obligations): one row each, judged at the period's end."""
    rows = epci_rows(period_start, period_end).subquery("epci_annee")
    query = select(
        rows.c.siren.label("epci"),
        *(rows.c[name] for name in ("siren", "nom", "nom_arrete", "siren_arrete", "departement", "region", "tenu_plh",
                                    "competent_habitat", "cotation_adoptee_le", "cia_signee_le", "nb_qpv")),
        literal(period_end, Date).label("date_controle"),
        literal(period_end, Date).label("fact_date"),
        *(rows.c[name].label(LINK_PREFIX + name) for name in ("siren", "nom", "nom_arrete", "siren_arrete")),
    ).where(rows.c.siren.in_(epci_sirens))  # fmt: skip
    return query.subquery("epci_population")


def dossiers_caleol(epci_sirens: list[str], period: tuple[dt.date, dt.date]) -> Subquery:
    """One row per dwelling examined by a commission (date_commission, rpls_id) in the period:
    how many applications, and whether an exemption from the three-application rule applies."""
    examen = table("caleol_examen")
    logement = table("logement")
    commune = table("commune")
    epci = table("epci")
    attribution_decisions = ("attribution", "attribution_rang", "attribution_sous_condition")

    def any_of(condition: Any) -> Any:
        return func.max(case((condition, 1), else_=0))

    dockets = (
        select(
            examen.c.date_commission,
            examen.c.rpls_id,
            func.min(examen.c.bailleur_siren).label("bailleur"),
            func.count().label("nb_candidatures"),
            any_of(examen.c.designation_dalo).label("dalo"),
            any_of(examen.c.motif_moins_de_trois == "insuffisance").label("insuffisance"),
            any_of(examen.c.decision.in_(attribution_decisions)).label("attribue"),
        )
        .where(examen.c.date_commission.between(period[0], period[1]))
        .group_by(examen.c.date_commission, examen.c.rpls_id)
        .subquery("dossiers")
    )
    query = (
        select(
            dockets.c.date_commission.label("date_commission"),
            dockets.c.date_commission.label("fact_date"),
            dockets.c.rpls_id.label("rpls_id"),
            dockets.c.bailleur.label("bailleur"),
            dockets.c.nb_candidatures.label("nb_candidatures"),
            # Booleans as comparisons: PostgreSQL wants a boolean where a condition stands.
            # "> 0", not "= 1": PostgreSQL guesses that an equality on an aggregate keeps a
            # few hundred dockets of 250 000 and nests the joins that follow (1.8 s, not 1 s).
            (dockets.c.dalo > 0).label("designation_dalo"),
            (dockets.c.insuffisance > 0).label("motif_insuffisance"),
            (dockets.c.attribue > 0).label("attribue"),
            logement.c.financement.label("financement"),
            logement.c.commune_insee.label("commune"),
            commune.c.epci_siren.label("epci"),
            *(column.label(LINK_PREFIX + column.name) for column in epci.c),
        )
        .select_from(
            dockets.join(logement, logement.c.rpls_id == dockets.c.rpls_id)
            .join(commune, commune.c.insee == logement.c.commune_insee)
            .join(epci, epci.c.siren == commune.c.epci_siren)
        )
        .where(commune.c.epci_siren.in_(epci_sirens))
    )
    return query.subquery("dossiers_caleol")


def population(
    entity: str,
    epci_sirens: list[str],
    period: tuple[dt.date, dt.date],
    qpv_list_fixed: bool = False,
    with_qpv: bool = True,
    with_residence: bool = True,
    with_applicant: bool = True,
    with_dwelling: bool = True,
    *,
    in_qpv_only: bool = False,
    count_served: bool = True,
) -> Subquery:
    """The rows of a population over the period. `qpv_list_fixed`: see `qpv_list_fixed()`;
    `with_qpv`, `with_residence`, `with_applicant` and `in_qpv_only`: see `attributions()`;
    `with_dwelling`: the columns of DWELLING_FIELDS; `count_served`: see
    `conventions_reservation`."""
    if entity == "attributions":
        return attributions(
            epci_sirens, period, qpv_list_fixed, with_qpv, with_residence, with_applicant,
            with_dwelling, in_qpv_only=in_qpv_only,
        )  # fmt: skip
    if entity == "dossiers_caleol":
        return dossiers_caleol(epci_sirens, period)
    if entity == "epci":
        return epci_population(period[0], period[1], epci_sirens)
    # Imported here: both modules build on this one's LINK_PREFIX.
    from checker.evaluate.conventions import conventions_reservation
    from checker.evaluate.leases import baux

    if entity == "conventions_reservation":
        return conventions_reservation(epci_sirens, period, count_served)
    if entity == "baux":
        return baux(epci_sirens, period)
    from checker.evaluate import peuplement

    if entity == "residences":
        return peuplement.residences(epci_sirens, period)
    if entity == "occupations":
        return peuplement.occupations(epci_sirens, period)
    if entity == "relogements":
        return peuplement.relogements(epci_sirens, period)
    raise ValueError(entity)
