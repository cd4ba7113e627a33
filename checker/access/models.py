"""Tables of accounts, sessions, API tokens, the access log and the CIA versions uploaded.

Secrets are never stored: passwords as argon2id hashes, session cookies and API tokens as
their SHA-256 digest (they are long random strings, so a plain digest suffices).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from checker.db.models import Base

ROLES = ("admin", "epci", "etat", "bailleur", "reservataire", "lecteur")


class Utilisateur(Base):
    """A person's account. `territoires` lists the EPCI SIRENs the account is given."""

    __tablename__ = "utilisateur"
    __table_args__ = (
        CheckConstraint("role IN (" + ", ".join(f"'{r}'" for r in ROLES) + ")", name="role"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    login: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(20))
    bailleur_siren: Mapped[str | None] = mapped_column(String(9))
    reservataire_id: Mapped[str | None] = mapped_column(String(40))
    territoires: Mapped[list[str]] = mapped_column(JSON)
    mot_de_passe: Mapped[str] = mapped_column(Text)  # argon2id hash
    actif: Mapped[bool] = mapped_column(Boolean)
    cree_le: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class SessionWeb(Base):
    """A browser session: expires after a period of inactivity and after an absolute limit."""

    __tablename__ = "session_web"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    empreinte: Mapped[str] = mapped_column(String(64), unique=True)
    utilisateur_id: Mapped[int] = mapped_column(ForeignKey("utilisateur.id"), index=True)
    creee_le: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    expire_le: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    fin_absolue: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class JetonApi(Base):
    """A token for scripts (`Authorization: Bearer …`), shown once when created."""

    __tablename__ = "jeton_api"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    empreinte: Mapped[str] = mapped_column(String(64), unique=True)
    utilisateur_id: Mapped[int] = mapped_column(ForeignKey("utilisateur.id"), index=True)
    cree_le: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    expire_le: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class JournalAcces(Base):
    """Every access to records, every change and every sign-in attempt, in order."""

    __tablename__ = "journal_acces"
    __table_args__ = (Index("ix_journal_acces_action_moment", "action", "moment"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    moment: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    login: Mapped[str | None] = mapped_column(String(64))
    role: Mapped[str | None] = mapped_column(String(20))
    canal: Mapped[str] = mapped_column(String(8))  # web, api, cli
    action: Mapped[str] = mapped_column(String(40))
    ressource: Mapped[str] = mapped_column(Text)
    issue: Mapped[str] = mapped_column(String(10))  # autorise, refuse, echec
    adresse: Mapped[str | None] = mapped_column(String(64))


class VersionCia(Base):
    """One uploaded version of a territory's CIA or local rules file; every version is kept."""

    __tablename__ = "version_cia"
    __table_args__ = (UniqueConstraint("epci_siren", "numero", name="uq_version_cia_numero"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    epci_siren: Mapped[str] = mapped_column(ForeignKey("epci.siren"))
    numero: Mapped[int] = mapped_column(Integer)
    nom_fichier: Mapped[str] = mapped_column(String(200))
    texte: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    deposee_le: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    deposee_par: Mapped[str] = mapped_column(String(64))


class Publication(Base):
    """A run whose report the EPCI published: what a `lecteur` account reads."""

    __tablename__ = "publication"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("run.id"), unique=True)
    publiee_le: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    publiee_par: Mapped[str] = mapped_column(String(64))
