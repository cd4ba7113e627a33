"""The access log: every access to records, every change, every sign-in attempt."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Connection, func, insert, select

from checker.access.models import JournalAcces
from checker.access.roles import Actor

ACTION_LABELS = {
    "connexion": "connexion",
    "deconnexion": "déconnexion",
    "consulter_resultats": "consultation des résultats",
    "consulter_enregistrements": "consultation des enregistrements",
    "telecharger_rapport": "téléchargement d'un rapport",
    "importer": "import d'un lot",
    "deposer_cia": "dépôt d'une version de la CIA",
    "consulter_cia": "consultation de la CIA",
    "verifier_caleol": "vérification d'un dossier CALEOL",
    "enregistrer_execution": "enregistrement d'une exécution",
    "rejouer_execution": "réexécution d'un reçu",
    "verifier_chaine": "vérification de la chaîne des reçus",
    "consulter_executions": "consultation des exécutions",
    "publier_rapport": "publication d'un rapport",
    "telecharger_publication": "téléchargement d'un rapport publié",
    "creer_utilisateur": "création d'un compte",
    "desactiver_utilisateur": "désactivation d'un compte",
    "creer_jeton": "création d'un jeton d'API",
    "consulter_utilisateurs": "consultation des comptes",
    "consulter_diagnostic": "consultation du diagnostic de l'occupation",
}
OUTCOME_LABELS = {"autorise": "autorisé", "refuse": "refusé", "echec": "échec"}


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def record(connection: Connection, actor: Actor | None, action: str, resource: str,
           outcome: str = "autorise", channel: str = "web", address: str | None = None,
           login: str | None = None) -> None:  # fmt: skip
    """Append one entry (inside the caller's transaction)."""
    assert action in ACTION_LABELS, action
    connection.execute(
        insert(JournalAcces).values(
            moment=now(),
            login=actor.login if actor else login,
            role=actor.role if actor else None,
            canal=channel,
            action=action,
            ressource=resource[:2000],
            issue=outcome,
            adresse=address,
        )
    )


def recent_failures(connection: Connection, login: str, address: str | None,
                    since: dt.datetime) -> int:  # fmt: skip
    """Failed sign-ins since `since`, for this login or from this address."""
    who = JournalAcces.login == login
    if address:
        who = who | (JournalAcces.adresse == address)
    query = select(func.count()).where(
        JournalAcces.action == "connexion",
        JournalAcces.issue == "echec",
        JournalAcces.moment >= since,
        who,
    )
    return int(connection.scalar(query) or 0)


@dataclass(frozen=True)
class Entry:
    moment: dt.datetime
    login: str | None
    role: str | None
    channel: str
    action: str
    resource: str
    outcome: str
    address: str | None


def entries(connection: Connection, since: dt.datetime | None = None, login: str | None = None,
            limit: int | None = None) -> list[Entry]:  # fmt: skip
    table = JournalAcces.__table__
    query = select(table).order_by(table.c.id)
    if since is not None:
        query = query.where(table.c.moment >= since)
    if login is not None:
        query = query.where(table.c.login == login)
    rows = list(connection.execute(query))
    if limit is not None:
        rows = rows[-limit:]
    return [
        Entry(
            row.moment if row.moment.tzinfo else row.moment.replace(tzinfo=dt.UTC),
            row.login,
            row.role,
            row.canal,
            row.action,
            row.ressource,
            row.issue,
            row.adresse,
        )
        for row in rows
    ]
