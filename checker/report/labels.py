"""French labels shared by the reports."""

STATUS_LABELS = {
    "conforme": "conforme",
    "non_conforme": "non conforme",
    "non_applicable": "non applicable",
    "donnees_insuffisantes": "données insuffisantes",
    "en_cours": "en cours",
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
    return ", ".join(
        f"{SCOPE_LABELS.get(key, key)} {value}" for key, value in sorted(scope.items())
    )
