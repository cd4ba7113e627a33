"""Accounts: creating, listing and disabling them, passwords, browser sessions, API tokens.

Passwords are hashed with argon2id (argon2-cffi's defaults, RFC 9106's second recommended
profile: 64 MiB, 3 passes). Session cookies and API tokens are 256-bit random strings; only
their SHA-256 digest is stored, so a copy of the database opens no session.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Connection, delete, insert, select, update

from checker.access.journal import now
from checker.access.models import ROLES, JetonApi, SessionWeb, Utilisateur
from checker.access.roles import Actor
from checker.db import models
from checker.errors import MixiteError

MIN_PASSWORD_LENGTH = 12
TOKEN_PREFIX = "mxt_"
_hasher = PasswordHasher()
# Verifying against this when the login is unknown costs the same time as a real check, so
# that the answer's delay does not tell which logins exist.
_DUMMY_HASH = _hasher.hash("mixite: compte inexistant")


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def _aware(moment: dt.datetime) -> dt.datetime:
    """SQLite returns naive datetimes for what was stored in UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


@dataclass(frozen=True)
class Account:
    id: int
    login: str
    role: str
    bailleur: str | None
    reservataire: str | None
    territories: tuple[str, ...]
    active: bool
    created_at: dt.datetime

    def actor(self) -> Actor:
        return Actor(self.login, self.role, self.bailleur, self.reservataire, self.territories)


def _account(row: Any) -> Account:
    return Account(row.id, row.login, row.role, row.bailleur_siren, row.reservataire_id,
                   tuple(row.territoires or ()), bool(row.actif), _aware(row.cree_le))  # fmt: skip


_USERS = Utilisateur.__table__


def check_role_fields(connection: Connection, role: str, bailleur: str | None,
                      reservataire: str | None, territories: list[str]) -> None:  # fmt: skip
    """Refuse an account whose attachments do not fit its role or name nothing known."""
    if role not in ROLES:
        raise MixiteError(f"Rôle inconnu : « {role} ».", "Rôles : " + ", ".join(ROLES))
    if role == "bailleur" and not bailleur:
        raise MixiteError("Un compte bailleur doit indiquer son bailleur : --bailleur SIREN.")
    if role != "bailleur" and bailleur:
        raise MixiteError(f"--bailleur ne convient qu'au rôle bailleur (pas à « {role} »).")
    if role == "reservataire" and not (reservataire and len(territories) == 1):
        raise MixiteError(
            "Un compte réservataire indique son identifiant et son territoire : "
            "--reservataire ID --epci SIREN."
        )
    if role != "reservataire" and reservataire:
        raise MixiteError(f"--reservataire ne convient qu'au rôle réservataire (pas à « {role} »).")
    if role in ("epci", "etat") and not territories:
        raise MixiteError(f"Un compte {role} indique son ou ses territoires : --epci SIREN.")
    if role == "epci" and len(territories) != 1:
        raise MixiteError("Un compte epci porte sur un seul territoire : un seul --epci.")
    if role == "admin" and territories:
        raise MixiteError("Un compte admin porte sur toute la base : pas de --epci.")
    known_epci = set(connection.scalars(select(models.Epci.siren)))
    for siren in territories:
        if siren not in known_epci:
            raise MixiteError(
                f"EPCI {siren} absent de la base.",
                "EPCI importés : " + (", ".join(sorted(known_epci)) or "aucun"),
            )
    if (
        bailleur
        and connection.scalar(
            select(models.Bailleur.siren).where(models.Bailleur.siren == bailleur)
        )
        is None
    ):
        raise MixiteError(
            f"Bailleur {bailleur} absent de la base.", "Importez d'abord son territoire."
        )
    if (
        reservataire
        and connection.scalar(
            select(models.Reservataire.id).where(
                models.Reservataire.id == reservataire,
                models.Reservataire.epci_siren == territories[0],
            )
        )
        is None
    ):
        raise MixiteError(f"Réservataire « {reservataire} » absent du territoire {territories[0]}.")


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise MixiteError(f"Mot de passe trop court : {MIN_PASSWORD_LENGTH} caractères au moins.")


def create(connection: Connection, login: str, role: str, password: str, *,
           bailleur: str | None = None, reservataire: str | None = None,
           territories: list[str] | None = None) -> Account:  # fmt: skip
    login = login.strip()
    if not login or len(login) > 64 or any(c.isspace() for c in login):
        raise MixiteError(f"Identifiant invalide : « {login} » (1 à 64 caractères, sans espace).")
    if find(connection, login) is not None:
        raise MixiteError(f"Le compte « {login} » existe déjà.")
    territories = list(dict.fromkeys(territories or []))
    check_role_fields(connection, role, bailleur, reservataire, territories)
    check_password(password)
    connection.execute(
        insert(Utilisateur).values(
            login=login,
            role=role,
            bailleur_siren=bailleur,
            reservataire_id=reservataire,
            territoires=territories,
            mot_de_passe=_hasher.hash(password),
            actif=True,
            cree_le=now(),
        )
    )
    account = find(connection, login)
    assert account is not None
    return account


def find(connection: Connection, login: str) -> Account | None:
    row = connection.execute(select(_USERS).where(_USERS.c.login == login)).first()
    return _account(row) if row is not None else None


def all_accounts(connection: Connection) -> list[Account]:
    return [_account(row) for row in connection.execute(select(_USERS).order_by(_USERS.c.login))]


def require(connection: Connection, login: str) -> Account:
    account = find(connection, login)
    if account is None:
        raise MixiteError(f"Aucun compte « {login} ».", "Voir : mixite users list")
    return account


def disable(connection: Connection, login: str) -> Account:
    """Disable an account and end its sessions and tokens at once."""
    account = require(connection, login)
    connection.execute(update(Utilisateur).where(Utilisateur.id == account.id).values(actif=False))
    connection.execute(delete(SessionWeb).where(SessionWeb.utilisateur_id == account.id))
    connection.execute(delete(JetonApi).where(JetonApi.utilisateur_id == account.id))
    return require(connection, login)


def authenticate(connection: Connection, login: str, password: str) -> Account | None:
    """The active account whose password this is, or None (same cost either way)."""
    row = connection.execute(select(_USERS).where(_USERS.c.login == login)).first()
    try:
        _hasher.verify(row.mot_de_passe if row is not None else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return None
    if row is None or not row.actif:
        return None
    return _account(row)


# ---------------------------------------------------------------------- sessions
@dataclass(frozen=True)
class SessionPolicy:
    idle: dt.timedelta = dt.timedelta(minutes=30)
    absolute: dt.timedelta = dt.timedelta(hours=10)


def open_session(connection: Connection, account: Account, policy: SessionPolicy) -> str:
    """A new session; returns the cookie value (never stored)."""
    secret = secrets.token_urlsafe(32)
    moment = now()
    connection.execute(
        insert(SessionWeb).values(
            empreinte=digest(secret),
            utilisateur_id=account.id,
            creee_le=moment,
            expire_le=moment + policy.idle,
            fin_absolue=moment + policy.absolute,
        )
    )
    return secret


def session_account(connection: Connection, secret: str, policy: SessionPolicy) -> Account | None:
    """The account of a live session, whose idle deadline moves forward; None when expired."""
    sessions = SessionWeb.__table__
    row = connection.execute(
        select(sessions, _USERS.c.actif)
        .join(_USERS, _USERS.c.id == sessions.c.utilisateur_id)
        .where(sessions.c.empreinte == digest(secret))
    ).first()
    if row is None:
        return None
    moment = now()
    if not row.actif or _aware(row.expire_le) <= moment or _aware(row.fin_absolue) <= moment:
        connection.execute(delete(SessionWeb).where(SessionWeb.id == row.id))
        return None
    renewed = min(moment + policy.idle, _aware(row.fin_absolue))
    # Written at most once a minute per session: reading pages should not mean writing.
    if renewed - _aware(row.expire_le) > dt.timedelta(minutes=1):
        connection.execute(
            update(SessionWeb).where(SessionWeb.id == row.id).values(expire_le=renewed)
        )
    account = connection.execute(select(_USERS).where(_USERS.c.id == row.utilisateur_id)).first()
    return _account(account)


def close_session(connection: Connection, secret: str) -> None:
    connection.execute(delete(SessionWeb).where(SessionWeb.empreinte == digest(secret)))


# ---------------------------------------------------------------------- API tokens
def issue_token(connection: Connection, login: str, days: int) -> tuple[str, dt.datetime]:
    """A new API token for an active account; returns (token, expiry). Shown once."""
    account = require(connection, login)
    if not account.active:
        raise MixiteError(f"Le compte « {login} » est désactivé.")
    if not 1 <= days <= 366:
        raise MixiteError("Durée d'un jeton : de 1 à 366 jours.")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    expiry = now() + dt.timedelta(days=days)
    connection.execute(
        insert(JetonApi).values(
            empreinte=digest(token), utilisateur_id=account.id, cree_le=now(), expire_le=expiry
        )
    )
    return token, expiry


def token_account(connection: Connection, token: str) -> Account | None:
    tokens = JetonApi.__table__
    row = connection.execute(
        select(tokens.c.expire_le, _USERS)
        .join(_USERS, _USERS.c.id == tokens.c.utilisateur_id)
        .where(tokens.c.empreinte == digest(token))
    ).first()
    if row is None or not row.actif or _aware(row.expire_le) <= now():
        return None
    return _account(row)
