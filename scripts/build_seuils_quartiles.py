"""Rebuild rules/national/donnees/seuils_quartiles.csv from the transcribed arrêtés
(quartiles_AAAA.json, copied from the URH Hauts-de-France "calculette LEC"), adding each
year's source and period of validity, keyed by the EPCI's SIREN (epci_siren_2024_2026.csv,
same repository's montants_quartiles.xlsx): names change between arrêtés, SIRENs do not.
Each year's name is kept in the `libelle` column, for display.

Run from the repository root: python scripts/build_seuils_quartiles.py
Cleaning, documented in PROVENANCE.md: doubled quotes in an EPCI name ("" → ") are a
transcription artefact (2025: CA ""Saintes - Grandes Rives - L'Agglo""); the same EPCI is
written with single quotes in 2024 and 2026. EPCI listed under several départements appear
once per département with the same values: one row is kept.
"""

import csv
import json
from pathlib import Path

DATA = Path("rules/national/donnees")
SOURCES = {
    2024: ("Arrêté du 13 mai 2024 fixant le seuil de ressources des demandeurs de logement social du "
           "premier quartile (CCH L441-1), transcrit par l'URH Hauts-de-France (calculette LEC)",
           "https://github.com/calculette-lec/calculette-lec.github.io/blob/main/assets/data/quartiles_2024.json"),
    2025: ("Arrêté du 3 juin [2025, année à confirmer] fixant le seuil de ressources des demandeurs de "
           "logement social du premier quartile, en vigueur le 1er janvier 2025, transcrit par l'URH "
           "Hauts-de-France (calculette LEC)",
           "https://github.com/calculette-lec/calculette-lec.github.io/blob/main/assets/data/quartiles_2025.json"),
    2026: ("Arrêté du 23 avril 2026 fixant le seuil de ressources des demandeurs de logement social du "
           "premier quartile, JORF n° 0103 du 2 mai 2026, transcrit par l'URH Hauts-de-France (calculette LEC)",
           "https://www.legifrance.gouv.fr/jorf/id/JORFTEXT000054022378"),
}  # fmt: skip


def main() -> None:
    sirens: dict[tuple[str, int], tuple[str, tuple[int, int, int]]] = {}
    with (DATA / "epci_siren_2024_2026.csv").open(encoding="utf-8", newline="") as handle:
        for entry in csv.DictReader(handle):
            key = (entry["epci"].replace('""', '"'), int(entry["annee"]))
            values = (int(entry["q1"]), int(entry["q2"]), int(entry["q3"]))
            if sirens.setdefault(key, (entry["siren"], values)) != (entry["siren"], values):
                raise SystemExit(f"{key}: two SIRENs or values in epci_siren_2024_2026.csv")
    rows: dict[tuple[str, int], tuple[int, int, int]] = {}
    for year in sorted(SOURCES):
        for entry in json.loads((DATA / f"quartiles_{year}.json").read_text(encoding="utf-8")):
            name = entry["epci"].replace('""', '"')
            values = (entry["q1"], entry["q2"], entry["q3"])
            if rows.setdefault((name, year), values) != values:
                raise SystemExit(
                    f"{name} {year}: two different values {rows[(name, year)]} and {values}"
                )
    with (DATA / "seuils_quartiles.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            [
                "epci",
                "libelle",
                "en_vigueur_du",
                "en_vigueur_au",
                "q1",
                "q2",
                "q3",
                "source_titre",
                "source_url",
            ]
        )
        for (name, year), (q1, q2, q3) in sorted(rows.items()):
            siren, values = sirens[(name, year)]  # KeyError: a name without its SIREN, stop
            if values != (q1, q2, q3):
                raise SystemExit(f"{name} {year}: the SIREN file disagrees with the JSON file")
            writer.writerow(
                [siren, name, f"{year}-01-01", f"{year}-12-31", q1, q2, q3, *SOURCES[year]]
            )
    if len(sirens) != len(rows):
        raise SystemExit(
            f"{len(sirens)} EPCI-years in the SIREN file, {len(rows)} in the JSON files"
        )
    print(f"{len(rows)} rows")


if __name__ == "__main__":
    main()
