"""French labels shared by the reports."""

from typing import Any

STATUS_LABELS = {
    "conforme": "conforme",
    "non_conforme": "non conforme",
    "non_applicable": "non applicable",
    "donnees_insuffisantes": "données insuffisantes",
    "en_cours": "en cours",
    # Not a status: what a result of a level « pour information » shows where a status would be.
    "information": "pour information",
}

SCOPE_LABELS = {
    "epci": "EPCI",
    "bailleur": "bailleur",
    "contingent": "contingent",
    "reservataire": "réservataire",
    "commune": "commune",
    "qpv": "QPV",
    "financement": "financement",
    "operation": "opération NPNRU",
    "residence": "résidence",
    "classe_residence": "classe de résidence",
}


def scope_text(scope: dict[str, str]) -> str:
    if "epci" not in scope and scope:  # a level counted on the whole flow
        return "tous territoires, " + ", ".join(
            f"{SCOPE_LABELS.get(key, key)} {value}" for key, value in sorted(scope.items())
        )
    return ", ".join(
        f"{SCOPE_LABELS.get(key, key)} {value}" for key, value in sorted(scope.items())
    )


def shown_status(result: Any) -> str:
    """The status a report shows: « pour information » for a figure given without verdict."""
    return "information" if getattr(result, "information", False) else str(result.status)
