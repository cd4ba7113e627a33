"""SIGKILL during an import on PostgreSQL: nothing of it survives, nothing waits, nothing is half
written (#12).

The bundle is large enough for the attributions to be parsed in a second process, which shares
the import's database connection: left alive, it kept the PostgreSQL session (in COPY) and its
locks. Bounded: a few kills at random moments, then one import to the end (well under 60 s).
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text

from checker.ingest.importer import import_bundle
from checker.ingest.parsing import WORKER_THRESHOLD_ROWS
from tests.conftest import DATA, _postgres_database

ROWS = WORKER_THRESHOLD_ROWS + 5_000
KILLS = 3


def _large_bundle(target: Path) -> Path:
    shutil.copytree(DATA / "mini", target)
    for name in ("caleol.csv", "reservations.csv", "baux.csv"):
        (target / name).unlink()
    lines = (target / "attributions.csv").read_text(encoding="utf-8").splitlines()
    cells = lines[1].split(";")
    rows = [lines[0]]
    for number in range(ROWS):
        cells[0] = f"08001240{number:07d}KIL01"
        rows.append(";".join(cells))
    (target / "attributions.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    return target


def _processes_reading(path: Path) -> list[int]:
    """Live processes whose command line names the bundle (the import and its forked worker)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if str(path).encode() in command:
            found.append(int(entry.name))
    return found


def _wait_for_worker(bundle: Path, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while len(_processes_reading(bundle)) < 2 and process.poll() is None:
        assert time.monotonic() < deadline, "le processus de lecture n'a pas démarré"
        time.sleep(0.05)


def _attributions(url: str) -> int:
    """Attributions stored; 0 when the schema is not (completely) there yet: a kill during the
    first import's schema creation leaves the data old (empty), and the next import completes
    the schema."""
    engine = create_engine(url)
    try:
        tables = set(inspect(engine).get_table_names())
        if "attribution" not in tables:
            return 0
        with engine.connect() as connection:
            return int(connection.scalar(text("SELECT count(*) FROM attribution")) or 0)
    finally:
        engine.dispose()


@pytest.mark.postgres
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="lit /proc (Linux)")
def test_killed_imports_leave_no_process_no_lock_and_an_old_or_new_database(
    tmp_path: Path,
) -> None:
    databases = _postgres_database()
    url = next(databases)
    try:
        bundle = _large_bundle(tmp_path / "lot-a-tuer")
        environment = dict(os.environ)  # with the test's own key file (conftest)
        command = [sys.executable, "-m", "checker", "import", str(bundle), "--db", url]
        chance = random.Random()
        seed = chance.randrange(1 << 30)
        chance.seed(seed)
        for kill in range(KILLS):
            process = subprocess.Popen(
                command, env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
            )
            if kill == 0:  # anywhere: schema, territory, dwellings…
                time.sleep(chance.uniform(0.3, 4.0))
            else:  # while the reading process runs (it shares the COPY's session)
                _wait_for_worker(bundle, process)
                time.sleep(chance.uniform(0.0, 1.0))
            process.send_signal(signal.SIGKILL)
            process.wait()
            deadline = time.monotonic() + 5
            while _processes_reading(bundle) and time.monotonic() < deadline:
                time.sleep(0.1)
            assert _processes_reading(bundle) == [], f"kill {kill + 1}, graine {seed}"
            assert _attributions(url) in (0, ROWS), f"kill {kill + 1}, graine {seed}"
        started = time.monotonic()
        result = import_bundle([bundle], url)  # neither waits nor meets a lock held by the dead
        assert time.monotonic() - started < 45
        assert result.already_imported_at is not None or result.counts["attributions"].added
        assert _attributions(url) == ROWS
    finally:
        next(databases, None)
