"""SQLAlchemy 2.0 models of the attribution domain.

Money is stored as integer cents (`*_centimes`): the quartile and ceiling tests compare
products of amounts and household weights, and integer arithmetic gives the same answer in
SQLite, PostgreSQL and Python, to the cent, where floating point would not.

Household identifiers are never stored in clear: `menage` holds the HMAC-SHA-256 pseudonym of
the SNE numéro unique (see `checker.ingest.pseudonym`).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# The coded lists live in a module without SQLAlchemy, so that the language's schema (and
# the commands that only need it, such as `mixite quartile`) start without loading it.
from checker.db.codes import (
    AGE_DEMANDEUR_MAX,
    AGE_DEMANDEUR_MIN,
    CONTINGENTS,
    DECISIONS_CALEOL,
    FINANCEMENTS,
    LOGEMENTS_ACTUELS,
    MODES_RESERVATION,
    MOTIFS_STOCK,
    RELOGEMENTS,
    RESERVATAIRE_TYPES,
    SITUATIONS_PROFESSIONNELLES,
    STATUTS_RELOGEMENT,
    ZONES_PLAFONDS,
)

# Stable constraint names, so that Alembic migrations can refer to them on every backend.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def _in(column: str, values: tuple[str, ...]) -> str:
    quoted = ", ".join(f"'{value}'" for value in values)
    return f"{column} IN ({quoted})"


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Meta(Base):
    """Facts about the database itself (e.g. the fingerprint of the pseudonymisation key)."""

    __tablename__ = "mixite_meta"

    cle: Mapped[str] = mapped_column(String(64), primary_key=True)
    valeur: Mapped[str] = mapped_column(Text)


class ImportBatch(Base):
    """One successful import: which files, their digests, what changed."""

    __tablename__ = "import_batch"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    imported_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    bundle_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    epci_siren: Mapped[str | None] = mapped_column(String(9))
    files: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    summary: Mapped[dict[str, Any]] = mapped_column(JSON)


class Epci(Base):
    __tablename__ = "epci"

    siren: Mapped[str] = mapped_column(String(9), primary_key=True)
    nom: Mapped[str] = mapped_column(Text)
    nom_arrete: Mapped[str] = mapped_column(Text)
    # Filled at import (own SIREN by default); nullable only for rows migrated from 0003.
    siren_arrete: Mapped[str | None] = mapped_column(String(9))
    departement: Mapped[str] = mapped_column(String(3))
    region: Mapped[str] = mapped_column(Text)
    # None: the territory file does not say (migration 0010); the Q1/QPV rules then test
    # whether the EPCI is listed in the year's quartile arrêté.
    tenu_plh: Mapped[bool | None] = mapped_column(Boolean)
    competent_habitat: Mapped[bool | None] = mapped_column(Boolean)
    cotation_adoptee_le: Mapped[dt.date | None] = mapped_column(Date)
    cia_signee_le: Mapped[dt.date | None] = mapped_column(Date)


class Commune(Base):
    __tablename__ = "commune"
    __table_args__ = (CheckConstraint(_in("zone_plafonds", ZONES_PLAFONDS), name="zone_plafonds"),)

    insee: Mapped[str] = mapped_column(String(5), primary_key=True)
    epci_siren: Mapped[str] = mapped_column(ForeignKey("epci.siren"), index=True)
    nom: Mapped[str] = mapped_column(Text)
    zone_plafonds: Mapped[str] = mapped_column(String(20))
    zone_abc: Mapped[str | None] = mapped_column(String(4))


class Qpv(Base):
    """A quartier prioritaire, with the period during which it was on the list in force."""

    __tablename__ = "qpv"

    code: Mapped[str] = mapped_column(String(12), primary_key=True)
    nom: Mapped[str] = mapped_column(Text)
    valide_du: Mapped[dt.date] = mapped_column(Date)
    valide_au: Mapped[dt.date | None] = mapped_column(Date)


class QpvCommune(Base):
    __tablename__ = "qpv_commune"

    qpv_code: Mapped[str] = mapped_column(ForeignKey("qpv.code"), primary_key=True)
    commune_insee: Mapped[str] = mapped_column(ForeignKey("commune.insee"), primary_key=True)


class Bailleur(Base):
    __tablename__ = "bailleur"

    siren: Mapped[str] = mapped_column(String(9), primary_key=True)
    nom: Mapped[str] = mapped_column(Text)


class Reservataire(Base):
    __tablename__ = "reservataire"
    __table_args__ = (CheckConstraint(_in("type", RESERVATAIRE_TYPES), name="type"),)

    epci_siren: Mapped[str] = mapped_column(ForeignKey("epci.siren"), primary_key=True)
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    type: Mapped[str] = mapped_column(String(20))
    nom: Mapped[str] = mapped_column(Text)


class Logement(Base):
    __tablename__ = "logement"
    __table_args__ = (CheckConstraint(_in("financement", FINANCEMENTS), name="financement"),)

    rpls_id: Mapped[str] = mapped_column(String(10), primary_key=True)
    bailleur_siren: Mapped[str] = mapped_column(ForeignKey("bailleur.siren"), index=True)
    commune_insee: Mapped[str] = mapped_column(ForeignKey("commune.insee"), index=True)
    financement: Mapped[str] = mapped_column(String(12))
    nb_pieces: Mapped[int | None] = mapped_column(Integer)
    surface_m2: Mapped[float | None] = mapped_column(Numeric(8, 2, asdecimal=False))
    annee_construction: Mapped[int | None] = mapped_column(Integer)
    # The residence (programme) of the same bailleur, in `residence`; checked at import.
    residence_id: Mapped[str | None] = mapped_column(String(40))
    # The dwelling belongs to an operation financed with a State subsidy (CCH R331-15, 2° and
    # 3°): R331-12 then allows a PLUS attribution up to 120 % of the ceiling. None: not said.
    subvention_etat: Mapped[bool | None] = mapped_column(Boolean)


class LogementQpv(Base):
    """A dwelling may lie in a QPV of the 2015 list and in one of the 2024 list."""

    __tablename__ = "logement_qpv"

    rpls_id: Mapped[str] = mapped_column(ForeignKey("logement.rpls_id"), primary_key=True)
    qpv_code: Mapped[str] = mapped_column(ForeignKey("qpv.code"), primary_key=True)


class Attribution(Base):
    """One attribution (SNE radiation for attribution), keyed by dwelling, household, decision."""

    __tablename__ = "attribution"
    __table_args__ = (
        # A named unique index, not a table constraint: SQLite cannot drop the index behind a
        # constraint, and a first import of a large file builds this one after its rows
        # (checker/ingest/sqlite_load.py; migration 0011).
        Index("uq_attribution_cle", "rpls_id", "menage", "date_decision", unique=True),
        CheckConstraint(_in("contingent", CONTINGENTS), name="contingent"),
        CheckConstraint(
            "relogement IS NULL OR " + _in("relogement", RELOGEMENTS), name="relogement"
        ),
        CheckConstraint("nb_titulaires >= 1", name="nb_titulaires"),
        CheckConstraint("nb_personnes_14_plus >= 0 AND nb_moins_14 >= 0", name="nb_personnes"),
        CheckConstraint(
            f"age_demandeur IS NULL OR age_demandeur BETWEEN {AGE_DEMANDEUR_MIN} AND {AGE_DEMANDEUR_MAX}",
            name="age_demandeur",
        ),
        CheckConstraint(
            "situation_professionnelle IS NULL OR "
            + _in("situation_professionnelle", SITUATIONS_PROFESSIONNELLES),
            name="situation_professionnelle",
        ),
        CheckConstraint(
            "logement_actuel IS NULL OR " + _in("logement_actuel", LOGEMENTS_ACTUELS),
            name="logement_actuel",
        ),
        Index("ix_attribution_date_bail", "date_bail"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    menage: Mapped[str] = mapped_column(String(64))
    bailleur_siren: Mapped[str] = mapped_column(ForeignKey("bailleur.siren"))
    # Indexed by the unique key, whose first column it is.
    rpls_id: Mapped[str] = mapped_column(ForeignKey("logement.rpls_id"))
    date_decision: Mapped[dt.date] = mapped_column(Date)
    date_bail: Mapped[dt.date | None] = mapped_column(Date)
    contingent: Mapped[str] = mapped_column(String(20))
    reservataire_id: Mapped[str | None] = mapped_column(String(40))
    mutation: Mapped[bool] = mapped_column(Boolean)
    dalo: Mapped[bool] = mapped_column(Boolean)
    # Letters a–m of CCH L441-1 met by the household, sorted and joined with "|"; "" when none.
    criteres_prioritaires: Mapped[str] = mapped_column(String(40))
    relogement: Mapped[str | None] = mapped_column(String(8))
    travailleur_essentiel: Mapped[bool] = mapped_column(Boolean)
    nb_titulaires: Mapped[int] = mapped_column(Integer)
    nb_personnes_14_plus: Mapped[int] = mapped_column(Integer)
    nb_moins_14: Mapped[int] = mapped_column(Integer)
    revenus_mensuels_centimes: Mapped[int | None] = mapped_column(BigInteger)
    rfr_n2_centimes: Mapped[int | None] = mapped_column(BigInteger)
    rfr_n1_centimes: Mapped[int | None] = mapped_column(BigInteger)
    categorie_menage: Mapped[int | None] = mapped_column(Integer)
    derogation_plafonds: Mapped[str | None] = mapped_column(Text)
    # The applicant's age at the decision (no birth date is stored), professional situation and
    # housing before the attribution, in the SNE's categories; all optional in the export.
    age_demandeur: Mapped[int | None] = mapped_column(Integer)
    situation_professionnelle: Mapped[str | None] = mapped_column(String(30))
    logement_actuel: Mapped[str | None] = mapped_column(String(30))
    batch_id: Mapped[int] = mapped_column(ForeignKey("import_batch.id"))


class CaleolExamen(Base):
    """One application examined by a CALEOL for one dwelling."""

    __tablename__ = "caleol_examen"
    __table_args__ = (
        # A named unique index, as the attributions' key (migration 0012).
        Index("uq_caleol_examen_cle", "date_commission", "rpls_id", "menage", unique=True),
        CheckConstraint(_in("decision", DECISIONS_CALEOL), name="decision"),
        ForeignKeyConstraint(["rpls_id"], ["logement.rpls_id"]),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    date_commission: Mapped[dt.date] = mapped_column(Date)  # leads the unique key
    bailleur_siren: Mapped[str] = mapped_column(ForeignKey("bailleur.siren"))
    rpls_id: Mapped[str] = mapped_column(String(10), index=True)
    menage: Mapped[str] = mapped_column(String(64))
    rang: Mapped[int | None] = mapped_column(Integer)
    decision: Mapped[str] = mapped_column(String(30))
    designation_dalo: Mapped[bool] = mapped_column(Boolean)
    motif_moins_de_trois: Mapped[str | None] = mapped_column(String(20))
    batch_id: Mapped[int] = mapped_column(ForeignKey("import_batch.id"))


class ConventionReservation(Base):
    """A reservation convention between a bailleur and a réservataire, as signed on a date.

    A convention replaced by a newer one (a stock convention converted to flux, a renewal)
    stays, next to its successor: the one in force is the latest signed.
    """

    __tablename__ = "convention_reservation"
    __table_args__ = (
        UniqueConstraint(
            "epci_siren",
            "bailleur_siren",
            "reservataire_id",
            "date_signature",
            name="uq_convention_reservation_cle",
        ),
        ForeignKeyConstraint(
            ["epci_siren", "reservataire_id"], ["reservataire.epci_siren", "reservataire.id"]
        ),
        CheckConstraint(_in("mode", MODES_RESERVATION), name="mode"),
        CheckConstraint(
            "motif_stock IS NULL OR (mode = 'stock' AND " + _in("motif_stock", MOTIFS_STOCK) + ")",
            name="motif_stock",
        ),
        CheckConstraint(
            "part_flux_centiemes IS NULL OR "
            "(mode = 'flux' AND part_flux_centiemes BETWEEN 0 AND 10000)",
            name="part_flux",
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    # The territory whose réservataire signed: réservataire ids are declared per EPCI.
    epci_siren: Mapped[str] = mapped_column(String(9))  # leads the unique key
    bailleur_siren: Mapped[str] = mapped_column(ForeignKey("bailleur.siren"), index=True)
    reservataire_id: Mapped[str] = mapped_column(String(40))
    mode: Mapped[str] = mapped_column(String(5))
    date_signature: Mapped[dt.date] = mapped_column(Date)
    motif_stock: Mapped[str | None] = mapped_column(String(20))
    # Share of the bailleur's yearly flow, in hundredths of a percent: 30,5 % is 3050. Integer,
    # like money, so that sums and comparisons are exact on every backend.
    part_flux_centiemes: Mapped[int | None] = mapped_column(Integer)
    batch_id: Mapped[int] = mapped_column(ForeignKey("import_batch.id"))


class Bail(Base):
    """A lease, for the triennial occupation review (CCH L442-5-2).

    Deliberately without household: the review concerns the dwelling and its lease, and
    nothing here needs to know who lives there.
    """

    __tablename__ = "bail"
    __table_args__ = (
        UniqueConstraint("rpls_id", "date_signature", name="uq_bail_cle"),
        CheckConstraint(
            "date_dernier_examen IS NULL OR date_dernier_examen >= date_signature",
            name="date_dernier_examen",
        ),
        CheckConstraint(
            "date_transmission_caleol IS NULL OR date_transmission_caleol >= date_signature",
            name="date_transmission_caleol",
        ),
        CheckConstraint("date_fin IS NULL OR date_fin >= date_signature", name="date_fin"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    # Indexed by the unique key, whose first column it is.
    rpls_id: Mapped[str] = mapped_column(ForeignKey("logement.rpls_id"))
    date_signature: Mapped[dt.date] = mapped_column(Date)
    date_dernier_examen: Mapped[dt.date | None] = mapped_column(Date)
    # Codes of SITUATIONS_OCCUPATION found at the last review, sorted and joined with "|";
    # "" when none.
    situations: Mapped[str] = mapped_column(String(100))
    date_transmission_caleol: Mapped[dt.date | None] = mapped_column(Date)
    date_fin: Mapped[dt.date | None] = mapped_column(Date)
    batch_id: Mapped[int] = mapped_column(ForeignKey("import_batch.id"))


class Residence(Base):
    """A residence (programme, ensemble immobilier) of a bailleur, with the class the CIA or
    the CIL gave it, if any. Keyed by the bailleur and its own programme code."""

    __tablename__ = "residence"
    __table_args__ = (UniqueConstraint("bailleur_siren", "residence_id", name="uq_residence_cle"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    # Indexed by the unique key, whose first column it is.
    bailleur_siren: Mapped[str] = mapped_column(ForeignKey("bailleur.siren"))
    residence_id: Mapped[str] = mapped_column(String(40))
    nom: Mapped[str] = mapped_column(Text)
    commune_insee: Mapped[str] = mapped_column(ForeignKey("commune.insee"), index=True)
    # QPV codes the residence lies in, sorted and joined with "|"; "" when none.
    qpv_code: Mapped[str] = mapped_column(String(60))
    date_mise_en_service: Mapped[dt.date] = mapped_column(Date)
    # The class given by the CIA or CIL, as an identifier (`tres_fragile`); None = not classed.
    classe_enjeu: Mapped[str | None] = mapped_column(String(40))
    operation_npnru: Mapped[str | None] = mapped_column(String(40))
    batch_id: Mapped[int] = mapped_column(ForeignKey("import_batch.id"))


class Occupation(Base):
    """The OPS survey aggregates of one residence for one survey year (CCH L442-5)."""

    __tablename__ = "occupation"
    __table_args__ = (
        UniqueConstraint(
            "bailleur_siren", "residence_id", "annee_enquete", name="uq_occupation_cle"
        ),
        ForeignKeyConstraint(
            ["bailleur_siren", "residence_id"],
            ["residence.bailleur_siren", "residence.residence_id"],
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    bailleur_siren: Mapped[str] = mapped_column(String(9))  # leads the unique key
    residence_id: Mapped[str] = mapped_column(String(40))
    annee_enquete: Mapped[int] = mapped_column(Integer)
    menages_repondants: Mapped[int] = mapped_column(Integer)
    ressources_inf_20: Mapped[int] = mapped_column(Integer)
    ressources_20_40: Mapped[int] = mapped_column(Integer)
    ressources_40_60: Mapped[int] = mapped_column(Integer)
    ressources_60_100: Mapped[int] = mapped_column(Integer)
    ressources_sup_100: Mapped[int] = mapped_column(Integer)
    familles_monoparentales: Mapped[int] = mapped_column(Integer)
    personnes_seules: Mapped[int] = mapped_column(Integer)
    familles_nombreuses: Mapped[int] = mapped_column(Integer)
    titulaires_moins_30: Mapped[int] = mapped_column(Integer)
    titulaires_plus_65: Mapped[int] = mapped_column(Integer)
    beneficiaires_aide_logement: Mapped[int] = mapped_column(Integer)
    titulaires_emploi_stable: Mapped[int] = mapped_column(Integer)
    emmenages_recents: Mapped[int] = mapped_column(Integer)
    batch_id: Mapped[int] = mapped_column(ForeignKey("import_batch.id"))


class Relogement(Base):
    """One household's NPNRU rehousing in one operation, as of the extract.

    `menage` is the pseudonym of the bailleur's household identifier and `menage_sne` that of
    the demand's numéro unique, computed with the same key as `attribution.menage`: a household
    rehoused through an attribution is the same pseudonym in both tables.
    """

    __tablename__ = "relogement"
    __table_args__ = (
        UniqueConstraint("operation_npnru", "menage", name="uq_relogement_cle"),
        CheckConstraint(_in("statut", STATUTS_RELOGEMENT), name="statut"),
        CheckConstraint(
            "date_relogement IS NULL OR date_relogement >= date_entree_operation",
            name="date_relogement",
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    operation_npnru: Mapped[str] = mapped_column(String(40))  # leads the unique key
    menage: Mapped[str] = mapped_column(String(64))
    bailleur_siren: Mapped[str] = mapped_column(ForeignKey("bailleur.siren"))
    rpls_id_origine: Mapped[str] = mapped_column(ForeignKey("logement.rpls_id"))
    date_entree_operation: Mapped[dt.date] = mapped_column(Date)
    statut: Mapped[str] = mapped_column(String(20))
    date_relogement: Mapped[dt.date | None] = mapped_column(Date)
    # May belong to another bailleur of the territory.
    rpls_id_destination: Mapped[str | None] = mapped_column(ForeignKey("logement.rpls_id"))
    menage_sne: Mapped[str | None] = mapped_column(String(64), index=True)
    loyer_charges_avant_centimes: Mapped[int | None] = mapped_column(BigInteger)
    loyer_charges_apres_centimes: Mapped[int | None] = mapped_column(BigInteger)
    aide_logement_avant_centimes: Mapped[int | None] = mapped_column(BigInteger)
    aide_logement_apres_centimes: Mapped[int | None] = mapped_column(BigInteger)
    surface_avant_m2: Mapped[float | None] = mapped_column(Numeric(8, 2, asdecimal=False))
    surface_apres_m2: Mapped[float | None] = mapped_column(Numeric(8, 2, asdecimal=False))
    batch_id: Mapped[int] = mapped_column(ForeignKey("import_batch.id"))


class Run(Base):
    """A stored check: what was run, on what, and what it found. Hash-chained: each run's
    `hash` covers its content and the previous run's hash, so an edited or deleted run
    breaks the chain (`mixite audit verify`)."""

    __tablename__ = "run"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    created_at: Mapped[str] = mapped_column(String(32))  # ISO 8601, UTC
    tool_version: Mapped[str] = mapped_column(String(40))
    rulebook_digest: Mapped[str] = mapped_column(String(64))
    data_digest: Mapped[str] = mapped_column(String(64))
    # Digest of the data tables' content (runs.content_digest); NULL for runs recorded before
    # it existed, which the chain hash then leaves out.
    content_digest: Mapped[str | None] = mapped_column(String(64))
    period_start: Mapped[str] = mapped_column(String(10))
    period_end: Mapped[str] = mapped_column(String(10))
    as_of: Mapped[str | None] = mapped_column(String(10))
    options: Mapped[str] = mapped_column(Text)  # canonical JSON
    results: Mapped[str] = mapped_column(Text)  # canonical JSON of the results block
    previous_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)


# The access tables (accounts, sessions, tokens, access log, CIA versions) share this metadata,
# so that migrations and schema checks always see the whole schema.
from checker.access import models as _access_models  # noqa: E402, F401
