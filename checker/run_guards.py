"""Reading stored runs defensively: a receipt or a table altered by hand is reported in French.

`runs replay` and `audit verify` read what the database holds; the database can be edited
outside mixite (that is what the audit is for), so what they read may not be what mixite
wrote. These checks turn such reads into a located French message instead of an internal error.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from sqlalchemy import Connection, inspect

from checker.errors import MixiteError

RUN_TABLE = "run"


def require_run_table(connection: Connection) -> None:
    """The table of run receipts must exist (it is created with the schema)."""
    if not inspect(connection).has_table(RUN_TABLE):
        raise MixiteError(
            f"La table des exécutions (« {RUN_TABLE} ») est absente de cette base : elle a été "
            "supprimée hors de mixite, et aucune exécution ne peut être vérifiée ni refaite.",
            "Restaurez la base depuis une sauvegarde.",
        )


def _altered(run_id: int, what: str) -> MixiteError:
    return MixiteError(
        f"L'exécution n° {run_id} est illisible : {what}. Son reçu a été modifié hors de mixite.",
        "Lancez mixite audit verify pour voir l'étendue des modifications.",
    )


def stored_results(run: Any) -> list[dict[str, Any]]:
    """The results block of a stored run: a JSON list of results, each with a rule and a scope."""
    try:
        results = json.loads(run.results)
    except (TypeError, ValueError):
        raise _altered(run.id, "ses résultats ne sont pas du JSON") from None
    if not isinstance(results, list) or not all(
        isinstance(result, dict) and "rule" in result and "scope" in result for result in results
    ):
        raise _altered(run.id, "ses résultats n'ont pas la forme d'une liste de résultats")
    return results


def stored_options(run: Any) -> dict[str, Any]:
    try:
        options = json.loads(run.options)
    except (TypeError, ValueError):
        raise _altered(run.id, "ses options ne sont pas du JSON") from None
    if not isinstance(options, dict):
        raise _altered(run.id, "ses options n'ont pas la forme attendue")
    return options


def stored_date(run: Any, column: str) -> dt.date | None:
    """A date column of a stored run (AAAA-MM-JJ), None when empty."""
    value = getattr(run, column)
    if value is None or value == "":
        return None
    try:
        return dt.date.fromisoformat(value)
    except (TypeError, ValueError):
        raise _altered(run.id, f"sa date « {column} » ({value!r}) n'est pas une date") from None
