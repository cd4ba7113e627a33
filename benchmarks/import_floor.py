"""How fast could an import of attributions.csv be on this machine? Floors, in one run.

    pip install pyarrow adbc-driver-sqlite   # not mixite's dependencies: this script only
    python benchmarks/import_floor.py [--bundle benchmarks/out/lot-100000] [--repeat 3]

Issue #18 asks for 250 000 validated rows per second on SQLite, and at most twice the time of
SQLite's own loader on the same file. This script measures, on the bundle's attributions.csv
(best of `--repeat`, wall time, nothing else running in the process):

1. `sqlite3 .import` of the file into a bare table of text columns (the baseline of the
   feedback benchmark): no types, no checks, no key, no index;
2. the floor of an importer that hands rows to Python's `sqlite3` module: `executemany` of
   rows already typed and in memory into a table with `attribution`'s columns, its CHECKs
   not evaluated per row and its two indexes created after the load, as mixite's first load
   does (it then verifies the CHECKs in one query, not counted here);
3. the floor of a columnar importer that never makes a Python object per row: pyarrow's
   multi-threaded CSV reader, every column's distinct values computed (what a validation of
   each distinct text needs), the numéro unique pseudonymised (HMAC-SHA-256, the one step per
   row that stays in Python), the table written by the ADBC SQLite driver into a staging
   file, then `INSERT … SELECT` into `attribution`'s columns with the casts a typed load
   needs, then the two indexes. No reference, duplicate or date check is made: any real
   importer does more.

Prints each as seconds and rows per second, and the ratio to `.import`; writes
benchmarks/out/import-floor-<rows>.json. A script, not a test: timings depend on the machine.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import os
import platform
import sqlite3
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "benchmarks" / "out"

# attribution's columns as the table stores them (checker/db/models.py), without the foreign
# keys (the floors load into a file that has no dwellings).
ATTRIBUTION_DDL = """
CREATE TABLE attribution (
    id INTEGER PRIMARY KEY, menage VARCHAR(64) NOT NULL, bailleur_siren VARCHAR(9) NOT NULL,
    rpls_id VARCHAR(10) NOT NULL, date_decision DATE NOT NULL, date_bail DATE,
    contingent VARCHAR(20) NOT NULL, reservataire_id VARCHAR(40), mutation BOOLEAN NOT NULL,
    dalo BOOLEAN NOT NULL, criteres_prioritaires VARCHAR(40) NOT NULL, relogement VARCHAR(8),
    travailleur_essentiel BOOLEAN NOT NULL, nb_titulaires INTEGER NOT NULL,
    nb_personnes_14_plus INTEGER NOT NULL, nb_moins_14 INTEGER NOT NULL,
    revenus_mensuels_centimes BIGINT, rfr_n2_centimes BIGINT, rfr_n1_centimes BIGINT,
    categorie_menage INTEGER, derogation_plafonds TEXT, batch_id INTEGER NOT NULL,
    age_demandeur INTEGER, situation_professionnelle VARCHAR(30), logement_actuel VARCHAR(30),
    CHECK (nb_titulaires >= 1),
    CHECK (relogement IS NULL OR relogement IN ('anru', 'orcod')),
    CHECK (contingent IN ('etat_prioritaires', 'etat_fonctionnaires', 'action_logement',
                          'collectivite', 'autre', 'non_reserve')),
    CHECK (nb_personnes_14_plus >= 0 AND nb_moins_14 >= 0),
    CHECK (age_demandeur IS NULL OR age_demandeur BETWEEN 16 AND 120)
)
"""
INDEXES = (
    "CREATE INDEX ix_attribution_date_bail ON attribution (date_bail)",
    "CREATE UNIQUE INDEX uq_attribution_cle ON attribution (rpls_id, menage, date_decision)",
)
COLUMNS = (
    "menage, bailleur_siren, rpls_id, date_decision, date_bail, contingent, reservataire_id, "
    "mutation, dalo, criteres_prioritaires, relogement, travailleur_essentiel, nb_titulaires, "
    "nb_personnes_14_plus, nb_moins_14, revenus_mensuels_centimes, rfr_n2_centimes, "
    "rfr_n1_centimes, categorie_menage, derogation_plafonds, batch_id, age_demandeur, "
    "situation_professionnelle, logement_actuel"
)
# From the staging table of text columns to attribution's types (dates JJ/MM/AAAA to ISO).
_ISO = "substr({0}, 7, 4) || '-' || substr({0}, 4, 2) || '-' || substr({0}, 1, 2)"
SELECT_TYPED = f"""
SELECT menage, bailleur_siren, rpls_id, {_ISO.format("date_decision")},
       CASE WHEN date_bail = '' THEN NULL ELSE {_ISO.format("date_bail")} END, contingent,
       NULLIF(reservataire_id, ''), mutation = 'oui', dalo = 'oui', criteres_prioritaires,
       NULLIF(relogement, ''), travailleur_essentiel = 'oui', CAST(nb_titulaires AS INTEGER),
       CAST(nb_personnes_14_plus AS INTEGER), CAST(nb_moins_14 AS INTEGER),
       CAST(ROUND(CAST(REPLACE(revenus_mensuels, ',', '.') AS REAL) * 100) AS INTEGER),
       CAST(rfr_n2 AS INTEGER) * 100, CAST(NULLIF(rfr_n1, '') AS INTEGER) * 100,
       CAST(NULLIF(categorie_menage, '') AS INTEGER), NULLIF(derogation_plafonds, ''), 1,
       CAST(NULLIF(age_demandeur, '') AS INTEGER), NULLIF(situation_professionnelle, ''),
       NULLIF(logement_actuel, '')
FROM staging.brut
"""


def _best(repeat: int, run: Callable[[Path], float]) -> float:
    times = []
    for _ in range(repeat):
        with tempfile.TemporaryDirectory() as work:
            times.append(run(Path(work)))
    return min(times)


def sqlite_import(csv_path: Path) -> Callable[[Path], float]:
    header = csv_path.open(encoding="utf-8").readline().strip().split(";")
    columns = ", ".join(f'"{name}" TEXT' for name in header)
    script = f".separator ;\nCREATE TABLE brut ({columns});\n.import --skip 1 '{csv_path}' brut\n"

    def run(work: Path) -> float:
        start = time.perf_counter()
        subprocess.run(["sqlite3", str(work / "brut.db")], input=script, text=True, check=True)
        return time.perf_counter() - start

    return run


def _typed_rows(csv_path: Path) -> list[tuple[object, ...]]:
    """The file's rows as the values a typed load binds (made before the clock starts)."""
    import csv

    def iso(text: str) -> str | None:
        return f"{text[6:10]}-{text[3:5]}-{text[0:2]}" if text else None

    def cents(text: str) -> int | None:
        return round(float(text.replace(",", ".")) * 100) if text else None

    def integer(text: str) -> int | None:
        return int(text) if text else None

    rows = []
    with csv_path.open(encoding="utf-8", newline="") as handle:
        for r in csv.DictReader(handle, delimiter=";"):
            rows.append((
                r["numero_unique"] * 3, r["bailleur_siren"], r["rpls_id"], iso(r["date_decision"]),
                iso(r["date_bail"]), r["contingent"], r["reservataire_id"] or None,
                r["mutation"] == "oui", r["dalo"] == "oui", r["criteres_prioritaires"],
                r["relogement"] or None, r["travailleur_essentiel"] == "oui",
                int(r["nb_titulaires"]), int(r["nb_personnes_14_plus"]), int(r["nb_moins_14"]),
                cents(r["revenus_mensuels"]), cents(r["rfr_n2"]), cents(r["rfr_n1"]),
                integer(r["categorie_menage"]), r["derogation_plafonds"] or None, 1,
                integer(r["age_demandeur"]), r["situation_professionnelle"] or None,
                r["logement_actuel"] or None,
            ))  # fmt: skip
    return rows


def _indexed_and_committed(connection: sqlite3.Connection, start: float) -> float:
    """The indexes created after the load, the transaction committed: the seconds since
    `start`."""
    for index in INDEXES:
        connection.execute(index)
    connection.execute("COMMIT")
    elapsed = time.perf_counter() - start
    connection.close()
    return elapsed


def python_executemany(csv_path: Path) -> Callable[[Path], float]:
    rows = _typed_rows(csv_path)
    marks = ", ".join("?" * 24)

    def run(work: Path) -> float:
        connection = sqlite3.connect(work / "floor.db", isolation_level=None)
        connection.execute(ATTRIBUTION_DDL)
        start = time.perf_counter()
        connection.execute("BEGIN")
        connection.execute("PRAGMA ignore_check_constraints = ON")  # mixite checks them after
        connection.executemany(f"INSERT INTO attribution ({COLUMNS}) VALUES ({marks})", rows)
        return _indexed_and_committed(connection, start)

    return run


def columnar(csv_path: Path) -> Callable[[Path], float]:
    import adbc_driver_sqlite.dbapi as adbc
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pcsv

    header = csv_path.open(encoding="utf-8").readline().strip().split(";")
    key = os.urandom(32)

    def run(work: Path) -> float:
        connection = sqlite3.connect(work / "floor.db", isolation_level=None)
        connection.execute(ATTRIBUTION_DDL)
        start = time.perf_counter()
        table = pcsv.read_csv(
            csv_path,
            parse_options=pcsv.ParseOptions(delimiter=";"),
            convert_options=pcsv.ConvertOptions(
                column_types=dict.fromkeys(header, pa.string()), strings_can_be_null=False
            ),
        )
        for name in table.column_names:  # what validating each distinct text needs
            pc.unique(table.column(name))
        numbers = table.column("numero_unique").to_pylist()
        pseudonyms = pa.array(
            [hmac.new(key, n.encode(), hashlib.sha256).hexdigest() for n in numbers]
        )
        table = table.set_column(0, "menage", pseudonyms)
        with adbc.connect(str(work / "staging.db")) as staging:
            with staging.cursor() as cursor:
                cursor.adbc_ingest("brut", table, mode="create")
            staging.commit()
        connection.execute(f"ATTACH '{work / 'staging.db'}' AS staging")
        connection.execute("BEGIN")
        connection.execute("PRAGMA ignore_check_constraints = ON")
        connection.execute(f"INSERT INTO attribution ({COLUMNS}) {SELECT_TYPED}")
        connection.execute("PRAGMA ignore_check_constraints = OFF")
        return _indexed_and_committed(connection, start)

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bundle", type=Path, default=OUT / "lot-100000")
    parser.add_argument("--repeat", type=int, default=3)
    arguments = parser.parse_args()
    csv_path = arguments.bundle / "attributions.csv"
    rows = sum(1 for _ in csv_path.open(encoding="utf-8")) - 1
    measures = {
        "sqlite3_import": sqlite_import(csv_path),
        "python_executemany": python_executemany(csv_path),
        "colonnes_pyarrow_adbc": columnar(csv_path),
    }
    found = {"machine": {"processeur": platform.processor() or platform.machine(),
                         "coeurs": os.cpu_count(), "python": platform.python_version(),
                         "charge_au_depart": list(os.getloadavg())},
             "lignes": rows}  # fmt: skip
    for name, run in measures.items():
        seconds = _best(arguments.repeat, run)
        found[name] = {"s": round(seconds, 3), "lignes_par_s": round(rows / seconds)}
    baseline = found["sqlite3_import"]["s"]
    found["machine"]["charge_a_la_fin"] = list(os.getloadavg())
    print(f"{rows} lignes de {csv_path}")
    for name in measures:
        entry = found[name]
        entry["ratio_au_chargeur"] = round(entry["s"] / baseline, 2)
        print(f"  {name:24} {entry['s']:7.3f} s  {entry['lignes_par_s']:>9} lignes/s  "
              f"×{entry['ratio_au_chargeur']:.2f}")  # fmt: skip
    OUT.mkdir(parents=True, exist_ok=True)
    target = OUT / f"import-floor-{rows}.json"
    target.write_text(json.dumps(found, indent=2, ensure_ascii=False), encoding="utf-8")
    print(f"Détail : {target.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
