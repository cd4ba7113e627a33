"""Import throughput: mixite against the databases' own bulk loaders, in the same run.

    python benchmarks/import_benchmark.py [--attributions 500000] [--pg-url URL]

Generates (once) a national-scale bundle with fixtures/generate.py, then for SQLite and
PostgreSQL: imports territory, dwellings, reservation conventions and leases, and times the
import of attributions.csv alone (validation, reference checks, pseudonymisation, writing),
next to loading the very same CSV with the bulk loader (`sqlite3 .import`, `COPY`) into a
bare table of text columns, which validates nothing. Prints rows/s and the ratio; writes the
figures to benchmarks/out/. This is a script, not a test: timings depend on the machine.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "benchmarks" / "out"
DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"

_MEASURE_IMPORT = """
import json, resource, sys, time
from pathlib import Path
from checker.ingest.importer import import_bundle
start = time.perf_counter()
import_bundle([Path(sys.argv[1])], sys.argv[2])
elapsed = time.perf_counter() - start
own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
peak_kib = max(own.ru_maxrss, children.ru_maxrss)
# CPU of the process and of its reading process (Python start-up and imports included): on a
# loaded machine, the wall time measures the others' work too.
cpu = own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime
print(json.dumps({"seconds": elapsed, "peak_mib": peak_kib / 1024, "cpu_s": cpu}))
"""


def _bundle(rows: int, territory_of: int | None = None) -> Path:
    """The generated bundle of `rows` attributions, kept in benchmarks/out; on the territory
    the generator builds for `territory_of` attributions when given (`--territoire-de`)."""
    target = OUT / (
        f"lot-{rows}" if territory_of is None else f"lot-{rows}-territoire-{territory_of}"
    )
    if not (target / "attributions.csv").exists():
        on = "" if territory_of is None else f" sur le territoire de {territory_of}"
        print(f"Génération d'un lot de {rows} attributions{on}…", flush=True)
        territory = [] if territory_of is None else ["--territoire-de", str(territory_of)]
        subprocess.run(
            [sys.executable, str(ROOT / "fixtures" / "generate.py"), "--out", str(target),
             "--attributions", str(rows), *territory],
            check=True,
        )  # fmt: skip
    return target


def _split(bundle: Path, work: Path) -> tuple[Path, Path]:
    """The reference part (territory, dwellings, and the optional reservation conventions and
    leases when the bundle has them) and the attributions, as two bundles. Conventions and
    leases go with the reference part: they refer to dwellings and réservataires only, and
    without them the database would hold nothing for L441-1.GESTION-EN-FLUX and
    L442-5-2.EXAMEN-OCCUPATION to judge."""
    reference, attributions = work / "reference", work / "attributions"
    reference.mkdir()
    attributions.mkdir()
    for name in ("territoire.yaml", "logements.csv"):
        shutil.copy(bundle / name, reference / name)
    # Optional files of a bundle: conventions, leases, and the peuplement files (dwellings name
    # their residence, so residences.csv must come with logements.csv).
    for name in ("reservations.csv", "baux.csv", "residences.csv", "occupation.csv",
                 "relogements.csv"):  # fmt: skip
        if (bundle / name).exists():
            shutil.copy(bundle / name, reference / name)
    shutil.copy(bundle / "attributions.csv", attributions / "attributions.csv")
    return reference, attributions


def _mixite_import(path: Path, url: str, key_file: Path) -> dict[str, float]:
    env = {**os.environ, "MIXITE_CLE_FICHIER": str(key_file)}
    done = subprocess.run(
        [sys.executable, "-c", _MEASURE_IMPORT, str(path), url],
        check=True, capture_output=True, text=True, env=env, cwd=ROOT,
    )  # fmt: skip
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def _header(csv_path: Path) -> list[str]:
    with csv_path.open(encoding="utf-8") as handle:
        return handle.readline().strip().split(";")


def _sqlite_bulk(csv_path: Path, database: Path) -> float:
    columns = ", ".join(f'"{name}" TEXT' for name in _header(csv_path))
    script = f".separator ;\nCREATE TABLE brut ({columns});\n.import --skip 1 '{csv_path}' brut\n"
    start = time.perf_counter()
    subprocess.run(["sqlite3", str(database)], input=script, text=True, check=True)
    return time.perf_counter() - start


def _pg_database(admin_url: str) -> str:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = f"mixite_bench_{uuid.uuid4().hex[:8]}"
    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False)


def _pg_drop(admin_url: str, url: str) -> None:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)'))
    engine.dispose()


def _pg_copy(csv_path: Path, url: str) -> float:
    import psycopg
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    columns = ", ".join(f'"{name}" TEXT' for name in _header(csv_path))
    with psycopg.connect(
        host=parsed.host, port=parsed.port or 5432, user=parsed.username, dbname=parsed.database
    ) as connection:
        connection.execute(f"CREATE TABLE brut ({columns})")
        start = time.perf_counter()
        with (
            connection.cursor() as cursor,
            cursor.copy(
                "COPY brut FROM STDIN WITH (FORMAT csv, DELIMITER ';', HEADER true)"
            ) as copy,
            csv_path.open("rb") as handle,
        ):
            while block := handle.read(1 << 20):
                copy.write(block)
        connection.commit()
        return time.perf_counter() - start


def _pg_copy_same_table(url: str, table: str = "attribution") -> float:
    """The server's own COPY of the very rows mixite wrote, into the same table as the import
    found it (emptied, with its keys, unique key and indexes): what loading those rows costs the
    server with no validation at all. Run after mixite's import, in a transaction rolled back."""
    import psycopg
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    with psycopg.connect(
        host=parsed.host, port=parsed.port or 5432, user=parsed.username, dbname=parsed.database
    ) as connection:
        columns = ", ".join(
            name
            for (name,) in connection.execute(
                "SELECT attname FROM pg_attribute WHERE attrelid = %s::regclass AND attnum > 0 "
                "AND NOT attisdropped AND attname <> 'id' ORDER BY attnum",
                (table,),
            )
        )
        rows = bytearray()
        with connection.cursor().copy(f"COPY {table} ({columns}) TO STDOUT") as copy:
            for block in copy:
                rows += block
        connection.execute(f"TRUNCATE {table}")
        start = time.perf_counter()
        with connection.cursor().copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
            view = memoryview(rows)
            for offset in range(0, len(view), 1 << 20):
                copy.write(view[offset : offset + (1 << 20)])
        elapsed = time.perf_counter() - start
        connection.rollback()
        return elapsed


def _figures(rows: int, reference: dict[str, float], run: dict[str, float], loader: str,
             native_s: float) -> dict[str, object]:  # fmt: skip
    """One database's line of the report: mixite's import of the attributions next to the
    bulk loader's."""
    return {
        "reference_s": round(reference["seconds"], 2),
        "mixite_s": round(run["seconds"], 2),
        "mixite_lignes_par_s": round(rows / run["seconds"]),
        "memoire_max_mio": round(run["peak_mib"]),
        "chargeur_natif": loader,
        "natif_s": round(native_s, 2),
        "ratio_mixite_sur_natif": round(run["seconds"] / native_s, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--attributions", type=int, default=500_000)
    parser.add_argument("--pg-url", default=os.environ.get("MIXITE_TEST_PG_URL", DEFAULT_PG))
    parser.add_argument("--sans-postgres", action="store_true", help="SQLite seulement")
    args = parser.parse_args()

    bundle = _bundle(args.attributions)
    csv_path = bundle / "attributions.csv"
    rows = sum(1 for _ in csv_path.open(encoding="utf-8")) - 1
    results: dict[str, object] = {
        "attributions": rows,
        "machine": f"{platform.machine()}, {os.cpu_count()} cœurs, Python {platform.python_version()}",
    }
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        reference, attributions = _split(bundle, work)
        key = work / "bench.cle"

        database = work / "mixite.db"
        url = f"sqlite:///{database}"
        ref = _mixite_import(reference, url, key)
        run = _mixite_import(attributions, url, key)
        bulk = _sqlite_bulk(csv_path, work / "brut.db")
        results["sqlite"] = _figures(rows, ref, run, "sqlite3 .import", bulk)
        if not args.sans_postgres:
            pg_url = _pg_database(args.pg_url)
            try:
                ref = _mixite_import(reference, pg_url, key)
                run = _mixite_import(attributions, pg_url, key)
                copy = _pg_copy(csv_path, pg_url)
            finally:
                _pg_drop(args.pg_url, pg_url)
            results["postgresql"] = _figures(rows, ref, run, "COPY", copy)
    OUT.mkdir(parents=True, exist_ok=True)
    report = OUT / f"import-{rows}.json"
    report.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(json.dumps(results, indent=2, ensure_ascii=False))
    print(f"Résultats écrits dans {report}")


if __name__ == "__main__":
    main()
