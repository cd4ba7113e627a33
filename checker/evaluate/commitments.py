"""Engagements (CIA) against the imported data: a territory or a scope value the database does
not know would never be applied, so `mixite check` refuses it (E507) instead of ignoring it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import Connection, select

from checker.db.tables import table
from dsl import ast
from dsl.diagnostics import Diagnostic
from dsl.rulebook import Rulebook

if TYPE_CHECKING:
    from checker.evaluate.run import Period

# Scope dimensions whose values are rows of the database: the table and column, then how a
# reader says « unknown X » and « known Xs ».
_KNOWN_VALUES: dict[str, tuple[str, str, str, str]] = {
    "bailleur": ("bailleur", "siren", "bailleur « {} » inconnu", "bailleurs connus"),
    "commune": ("commune", "insee", "commune « {} » inconnue", "communes connues"),
    "qpv": ("qpv", "code", "QPV « {} » inconnu", "QPV connus"),
    "reservataire": ("reservataire", "id", "réservataire « {} » inconnu", "réservataires connus"),
    "residence": ("residence", "residence_id", "résidence « {} » inconnue", "résidences connues"),
    "classe_residence": (
        "residence",
        "classe_enjeu",
        "classe de résidence « {} » inconnue",
        "classes données aux résidences",
    ),
}


def in_force(commitment: ast.Commitment, period: Period) -> bool:
    """Whether the engagement's period meets the checked period (so it applies to it)."""
    return (
        commitment.start is not None
        and commitment.start <= period.end
        and not (commitment.end and commitment.end < period.start)
    )


def database_diagnostics(
    connection: Connection, rulebook: Rulebook, period: Period
) -> list[Diagnostic]:
    """For each engagement in force during `period`: W505 when the database does not know its
    territory, E507 for each scope value of its objectives the database does not know."""
    known: dict[str, set[str]] = {}

    def values(name: str) -> set[str]:
        if name not in known:
            where, field = ("epci", "siren") if name == "epci" else _KNOWN_VALUES[name][:2]
            column = table(where).c[field]
            known[name] = {
                str(v)
                for v in connection.execute(select(column).distinct()).scalars()
                if v is not None
            }
            if name == "reservataire":  # a bailleur is the réservataire of its own flow
                known[name] |= values("bailleur")
        return known[name]

    diagnostics: list[Diagnostic] = []
    for commitment in sorted(rulebook.commitments.values(), key=lambda c: c.commitment_id):
        if not in_force(commitment, period) or commitment.territory is None:
            continue
        name = commitment.commitment_id
        if commitment.territory not in values("epci"):
            # A rules folder may hold the CIA of several territories, and a database only some
            # of them: a warning (it applies to nothing here), not a refusal.
            diagnostics.append(Diagnostic(
                "W505", f"engagement {name} : territoire « {commitment.territory} » absent de la base, "
                f"l'engagement ne s'applique à rien (EPCI importés : {_listed(values('epci'))})",
                commitment.span,
                hint="vérifiez le SIREN de l'EPCI dans la convention et dans territoire.yaml"))  # fmt: skip
            continue
        for objective in commitment.objectives:
            for item in objective.scope:
                if item.name not in _KNOWN_VALUES or item.value in values(item.name):
                    continue
                _, _, unknown, known_ones = _KNOWN_VALUES[item.name]
                diagnostics.append(Diagnostic(
                    "E507", f"engagement {name} : {unknown.format(item.value)} de la base "
                    f"({known_ones} : {_listed(values(item.name))})", item.span))  # fmt: skip
    return diagnostics


def _listed(values: set[str], limit: int = 12) -> str:
    if not values:
        return "aucun"
    shown = sorted(values)[:limit]
    return ", ".join(shown) + (" …" if len(values) > limit else "")
