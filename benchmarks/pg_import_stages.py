"""Where a PostgreSQL import of attributions spends its writing time, stage by stage.

    python benchmarks/pg_import_stages.py [--attributions 100000] [--cas premier|suivant|modifie]
                                          [--pg-url URL]

Imports the benchmark's bundle (fixtures/generate.py, as benchmarks/import_benchmark.py) into a
new database (`mixite_etapes_…`, dropped after): the territory, dwellings and other files first, then the
attributions, timed. `--cas premier`: every attribution into the empty table (the bulk load of
bulk_load.py); `suivant`: the decisions before 2025 first, then those of 2025 into the filled
table (a later year); `modifie`: the whole file, then again with every unsigned lease signed
(a later extract of the same year: rows found, compared, a few thousand replaced).

For each writer stage (`_settle`, of which `_bulk_insert`, index and key rebuilding, ANALYZE,
commit) it prints the wall time, the CPU of the importing thread, and the CPU of the server
process serving the import's session, read from /proc/<pid>/stat: so the server must run on
this machine. The server's CPU is what the COPY costs PostgreSQL; on a loaded machine the wall
times mostly measure the wait for a core. A script, not a test.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from import_benchmark import DEFAULT_PG, _bundle, _pg_drop  # noqa: E402

_TICK = os.sysconf("SC_CLK_TCK")
_REFERENCE = ("territoire.yaml", "logements.csv", "reservations.csv", "baux.csv",
              "residences.csv", "occupation.csv", "relogements.csv")  # fmt: skip


class _Stages:
    """Wall, thread CPU and server CPU per stage; the server process is the import session's."""

    def __init__(self) -> None:
        self.figures: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0, 0])
        self.pid: int | None = None

    def server_cpu(self) -> float:
        if self.pid is None:
            return 0.0
        with Path(f"/proc/{self.pid}/stat").open(encoding="ascii") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / _TICK

    def timed(self, name: str, function: Callable[..., Any],
              connection_of: Callable[..., Any]) -> Callable[..., Any]:  # fmt: skip
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if self.pid is None:
                self.pid = connection_of(*args).connection.driver_connection.info.backend_pid
            wall, cpu, server = time.perf_counter(), time.thread_time(), self.server_cpu()
            try:
                return function(*args, **kwargs)
            finally:
                entry = self.figures[name]
                entry[0] += time.perf_counter() - wall
                entry[1] += time.thread_time() - cpu
                entry[2] += self.server_cpu() - server
                entry[3] += 1

        return wrapper


def _instrument(stages: _Stages) -> None:
    import psycopg

    from checker.ingest import importer

    def own(self: Any, *_: Any) -> Any:
        return self.connection

    def given(connection: Any, *_: Any) -> Any:
        return connection

    cls = importer._Importer
    cls._settle = stages.timed("_settle (dont _bulk_insert)", cls._settle, own)  # type: ignore[method-assign]
    cls._bulk_insert = stages.timed("_bulk_insert (COPY)", cls._bulk_insert, own)  # type: ignore[method-assign]
    for name in ("drop_foreign_keys", "restore_foreign_keys", "pg_drop_indexes",
                 "pg_restore_indexes", "_refresh_statistics"):  # fmt: skip
        if hasattr(importer, name):
            setattr(importer, name, stages.timed(name, getattr(importer, name), given))
    commit = psycopg.Connection.commit

    def timed_commit(connection: Any) -> None:
        if connection.info.backend_pid != stages.pid:
            return commit(connection)
        wall, server = time.perf_counter(), stages.server_cpu()
        commit(connection)
        entry = stages.figures["commit"]
        entry[0] += time.perf_counter() - wall
        entry[2] += stages.server_cpu() - server
        entry[3] += 1

    psycopg.Connection.commit = timed_commit  # type: ignore[method-assign, assignment]


def _database(admin_url: str, prefix: str) -> str:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = f"{prefix}{uuid.uuid4().hex[:8]}"
    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False)


def _write(path: Path, lines: list[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(lines), encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--attributions", type=int, default=100_000)
    parser.add_argument("--cas", choices=("premier", "suivant", "modifie"), default="premier")
    parser.add_argument("--pg-url", default=os.environ.get("MIXITE_TEST_PG_URL", DEFAULT_PG))
    parser.add_argument("--prefixe-base", default="mixite_etapes_",
                        help="début du nom de la base créée pour la mesure, puis supprimée")  # fmt: skip
    args = parser.parse_args()

    from sqlalchemy.engine import make_url

    from checker.ingest.importer import import_bundle

    bundle = _bundle(args.attributions)
    admin = make_url(args.pg_url).set(database="postgres").render_as_string(hide_password=False)
    url = _database(admin, args.prefixe_base)
    work = Path(tempfile.mkdtemp(prefix="mixite-etapes-"))
    os.environ["MIXITE_CLE_FICHIER"] = str(work / "cle")
    try:
        reference = work / "reference"
        reference.mkdir()
        for name in _REFERENCE:
            if (bundle / name).exists():
                shutil.copy(bundle / name, reference / name)
        lines = (bundle / "attributions.csv").read_text(encoding="utf-8").splitlines(True)
        header, rows = lines[0], lines[1:]
        before: list[str] = []
        if args.cas == "premier":
            measured = rows
        elif args.cas == "suivant":
            before = [line for line in rows if line.split(";")[3][6:10] != "2025"]
            measured = [line for line in rows if line.split(";")[3][6:10] == "2025"]
        else:
            before = rows
            measured = []
            for line in rows:
                cells = line.split(";")
                if cells[4] == "":  # the lease signed the day of the decision
                    cells[4] = cells[3]
                measured.append(";".join(cells))
        _write(work / "avant" / "attributions.csv", [header, *before])
        _write(work / "mesure" / "attributions.csv", [header, *measured])
        import_bundle([reference], url)
        if before:
            import_bundle([work / "avant"], url)
        stages = _Stages()
        _instrument(stages)
        wall, cpu = time.perf_counter(), time.process_time()
        result = import_bundle([work / "mesure"], url)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        counts = vars(result.counts["attributions"])
        print(f"{len(measured)} attributions ({args.cas}) : {wall:.2f} s, {cpu:.2f} s de CPU du "
              f"processus principal, charge {os.getloadavg()[0]:.1f} ; {counts}")  # fmt: skip
        print(f"{'étape':32} {'mur s':>7} {'CPU client':>11} {'CPU serveur':>12} {'appels':>7}")
        for name, (stage_wall, client, server, calls) in stages.figures.items():
            print(f"{name:32} {stage_wall:7.2f} {client:11.2f} {server:12.2f} {int(calls):7}")
    finally:
        _pg_drop(admin, url)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
