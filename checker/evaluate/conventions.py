"""The population of reservation conventions: one row per bailleur × réservataire pair.

A pair is in the population when a convention between them was signed on or before the
control date, or when the bailleur signed leases in the period on that réservataire's flow:
a réservataire served without any convention is exactly what the gestion en flux rule must
see. The convention in force is the latest signed on or before the control date.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Date, FromClause, Subquery, and_, case, exists, func, literal, select, union
from sqlalchemy.sql.elements import ColumnElement

from checker.db.codes import LINK_PREFIX
from checker.db.tables import table


def conventions_reservation(epci_sirens: list[str], period: tuple[dt.date, dt.date],
                            count_served: bool = True) -> Subquery:  # fmt: skip
    """`count_served`: `nb_attributions` is read (a listing shows it), and counted for every
    pair at once by a grouped join; otherwise it is a count correlated with each pair, which
    the database drops from a statement that does not read it (a check's statement: the join
    would count the period's leases for nothing)."""
    convention = table("convention_reservation")
    attribution = table("attribution")
    logement = table("logement")
    commune = table("commune")
    reservataire = table("reservataire")
    epci = table("epci")
    control = literal(period[1], Date)

    served = (
        select(commune.c.epci_siren, attribution.c.bailleur_siren, attribution.c.reservataire_id)
        .select_from(
            attribution.join(logement, logement.c.rpls_id == attribution.c.rpls_id).join(
                commune, commune.c.insee == logement.c.commune_insee
            )
        )
        .where(
            attribution.c.date_bail.between(period[0], period[1]),
            attribution.c.reservataire_id.is_not(None),
        )
    )
    signed = select(
        convention.c.epci_siren, convention.c.bailleur_siren, convention.c.reservataire_id
    ).where(convention.c.date_signature <= control)
    pairs = union(signed, served).subquery("couples")
    pair_epci, pair_bailleur, pair_reservataire = pairs.c

    def of_pair(table: FromClause) -> ColumnElement[bool]:
        columns = table.c
        return and_(
            columns.epci_siren == pair_epci,
            columns.bailleur_siren == pair_bailleur,
            columns.reservataire_id == pair_reservataire,
        )

    earlier = convention.alias("conventions_signees")
    latest_date = (
        select(func.max(earlier.c.date_signature))
        .where(of_pair(earlier), earlier.c.date_signature <= control)
        .scalar_subquery()
    )
    flux = convention.alias("conventions_flux")
    first_flux = (
        select(func.min(flux.c.date_signature))
        .where(of_pair(flux), flux.c.mode == "flux", flux.c.date_signature <= control)
        .scalar_subquery()
    )
    other = convention.alias("conventions_du_bailleur")
    bailleur_has_some = exists(
        select(other.c.id).where(
            other.c.epci_siren == pair_epci,
            other.c.bailleur_siren == pair_bailleur,
            other.c.date_signature <= control,
        )
    )
    # The leases of the period per pair. Counted with a subquery correlated with each pair,
    # a listing of every pair read the period's leases once per pair (3 060 pairs over
    # 100 000 attributions: 193 s on SQLite, 41 s on PostgreSQL; docs/dev/performance.md).
    counted = attribution.alias("attributions_du_flux")
    counted_logement = logement.alias("logements_du_flux")
    counted_commune = commune.alias("communes_du_flux")
    leases_counted = counted.join(
        counted_logement, counted_logement.c.rpls_id == counted.c.rpls_id
    ).join(counted_commune, counted_commune.c.insee == counted_logement.c.commune_insee)
    in_period = counted.c.date_bail.between(period[0], period[1])
    served_counts = (
        select(
            counted_commune.c.epci_siren,
            counted.c.bailleur_siren,
            counted.c.reservataire_id,
            func.count().label("nb"),
        )
        .select_from(leases_counted)
        .where(in_period, counted.c.reservataire_id.is_not(None))
        .group_by(counted_commune.c.epci_siren, counted.c.bailleur_siren, counted.c.reservataire_id)
        .subquery("attributions_par_couple")
    )
    served_count: ColumnElement[Any] = (
        func.coalesce(served_counts.c.nb, 0)
        if count_served
        else select(func.count())
        .select_from(leases_counted)
        .where(
            counted_commune.c.epci_siren == pair_epci,
            counted.c.bailleur_siren == pair_bailleur,
            counted.c.reservataire_id == pair_reservataire,
            in_period,
        )
        .scalar_subquery()
    )
    in_force = convention.alias("convention_en_vigueur")
    source = (
        pairs.join(epci, epci.c.siren == pair_epci)
        .join(
            reservataire,
            and_(reservataire.c.epci_siren == pair_epci, reservataire.c.id == pair_reservataire),
        )
        .outerjoin(in_force, and_(of_pair(in_force), in_force.c.date_signature == latest_date))
    )
    if count_served:
        source = source.outerjoin(served_counts, of_pair(served_counts))
    query = (
        select(
            pair_epci.label("epci"),
            pair_bailleur.label("bailleur"),
            pair_reservataire.label("reservataire"),
            reservataire.c.type.label("type_reservataire"),
            in_force.c.mode.label("mode"),
            in_force.c.date_signature.label("date_signature"),
            in_force.c.motif_stock.label("motif_stock"),
            first_flux.label("flux_depuis"),
            case(
                (in_force.c.id.is_not(None), literal(True)),
                (bailleur_has_some, literal(False)),
                else_=None,
            ).label("convention_connue"),
            served_count.label("nb_attributions"),
            control.label("date_controle"),
            control.label("fact_date"),
            *(column.label(LINK_PREFIX + column.name) for column in epci.c),
        )
        .select_from(source)
        .where(pair_epci.in_(epci_sirens))
    )
    return query.subquery("conventions_reservation")
