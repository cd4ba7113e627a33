"""Load test of the web application on 127.0.0.1 only: readers and one importer at once.

    python benchmarks/web_load.py [--utilisateurs 20] [--requetes 30] [--pg-url URL]

A fresh PostgreSQL database gets the demo territory and one account per simulated person
(EPCI, État, each bailleur, réservataires, lecteur); `mixite serve` runs in a process of its own
(--workers 2). Each reader signs in, then reads in turn its home page, the results of 2025 and
2024, and the records behind one of its results; meanwhile one EPCI agent imports a new extract
of the demo's attributions (some rows changed) by the import page, twice, which invalidates
every cached result. Bounded: each reader makes a fixed number of requests and the whole run
stops after --limite seconds. Report: benchmarks/out/web-load.json and the terminal.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from checker.access import accounts  # noqa: E402
from checker.db.engine import make_engine  # noqa: E402
from checker.ingest.importer import import_bundle  # noqa: E402
from checker.paths import demo_bundle_dir  # noqa: E402

DEFAULT_PG = os.environ.get(
    "MIXITE_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
PASSWORD = "charge-mot-de-passe-1"
_CSRF = re.compile(r'name="csrf_token" value="([0-9a-f]+)"')
_RECORDS = re.compile(r'href="(/resultats/[^"]+/enregistrements\?[^"]+)"')
BUNDLE_FILES = ("territoire.yaml", "logements.csv", "attributions.csv", "caleol.csv",
                "reservations.csv", "baux.csv")  # fmt: skip
DEMO_EPCI = "980008015"
DEMO_BAILLEURS = ("912000007", "912000379", "912000742", "912001112")
DEMO_RESERVATAIRES = ("AL", "ETAT", "80901", "CD80")


@dataclass
class Person:
    login: str
    role: str
    bailleur: str | None = None
    reservataire: str | None = None
    territories: tuple[str, ...] = ()


@dataclass
class Timings:
    by_page: dict[str, list[float]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, page: str, seconds: float, status: int, expected: int = 200) -> None:
        with self.lock:
            self.by_page.setdefault(page, []).append(seconds)
            if status != expected:
                self.errors.append(f"{page}: HTTP {status}")


def demo_people(readers: int, epci: str = DEMO_EPCI, bailleurs: tuple[str, ...] = DEMO_BAILLEURS,
                reservataires: tuple[str, ...] = DEMO_RESERVATAIRES) -> list[Person]:  # fmt: skip
    """`readers` readers of every role, in turn, and the importing EPCI agent last."""
    kinds: list[Person] = []
    for index in range(readers):
        slot = index % 5
        if slot == 0:
            kinds.append(Person(f"epci-{index}", "epci", territories=(epci,)))
        elif slot == 1:
            kinds.append(Person(f"etat-{index}", "etat", territories=(epci,)))
        elif slot in (2, 3):
            kinds.append(
                Person(f"bailleur-{index}", "bailleur", bailleur=bailleurs[index % len(bailleurs)])
            )
        else:
            kinds.append(Person(f"reservataire-{index}", "reservataire", territories=(epci,),
                                reservataire=reservataires[index % len(reservataires)]))  # fmt: skip
    kinds.append(Person("importateur", "epci", territories=(epci,)))
    return kinds


def prepare(url: str, bundle: Path, people: list[Person]) -> None:
    import_bundle([bundle], url)
    engine = make_engine(url)
    with engine.begin() as connection:
        for person in people:
            accounts.create(connection, person.login, person.role, PASSWORD, bailleur=person.bailleur,
                            reservataire=person.reservataire, territories=list(person.territories))  # fmt: skip
    engine.dispose()


def _sign_in(client: httpx.Client, login: str, timings: Timings) -> None:
    started = time.perf_counter()
    page = client.get("/connexion")
    token = _CSRF.search(page.text)
    answer = client.post("/connexion", data={"identifiant": login, "mot_de_passe": PASSWORD,
                                              "csrf_token": token.group(1) if token else "",
                                              "suite": "/"})  # fmt: skip
    timings.add("connexion", time.perf_counter() - started, answer.status_code)


def reader(base: str, person: Person, requests: int, deadline: float, timings: Timings) -> None:
    with httpx.Client(base_url=base, timeout=120, follow_redirects=True) as client:
        _sign_in(client, person.login, timings)
        records: str | None = None
        pages = [
            ("accueil", "/"),
            ("resultats 2025", "/resultats?annee=2025"),
            ("resultats 2024", "/resultats?annee=2024"),
            ("enregistrements", None),
        ]
        for number in range(requests):
            if time.monotonic() > deadline:
                return
            label, path = pages[number % len(pages)]
            if path is None:
                if records is None:
                    label, path = "resultats 2025", "/resultats?annee=2025"
                else:
                    path = records
            started = time.perf_counter()
            try:
                answer = client.get(path)
            except httpx.HTTPError as error:
                timings.add(label, time.perf_counter() - started, 0)
                timings.errors.append(f"{label}: {error!r}")
                continue
            timings.add(label, time.perf_counter() - started, answer.status_code)
            if records is None and path.startswith("/resultats?"):
                found = _RECORDS.search(answer.text)
                records = found.group(1).replace("&amp;", "&") if found else None


def importer(
    base: str, person: Person, bundles: list[Path], deadline: float, timings: Timings
) -> None:
    with httpx.Client(base_url=base, timeout=600, follow_redirects=True) as client:
        _sign_in(client, person.login, timings)
        for bundle in bundles:
            if time.monotonic() > deadline:
                return
            token = _CSRF.search(client.get("/import").text)
            files = [
                ("fichiers", (path.name, path.read_bytes(), "text/csv"))
                for path in sorted(bundle.iterdir())
            ]
            started = time.perf_counter()
            answer = client.post(
                "/import", data={"csrf_token": token.group(1) if token else ""}, files=files
            )
            timings.add("import", time.perf_counter() - started, answer.status_code)
            if "réussi" not in answer.text:
                timings.errors.append("import: pas de « réussi » dans la page")


def changed_extracts(work: Path, bundle: Path, count: int, step: int = 7) -> list[Path]:
    """New extracts of the demo's attributions (the last rows left out, as an earlier export
    would): each has a new digest, so each import is a new batch, the data digest changes and
    every cached result is computed again."""
    made = []
    lines = (bundle / "attributions.csv").read_text(encoding="utf-8").splitlines()
    for index in range(count):
        folder = work / f"extrait-{index + 1}"
        folder.mkdir()
        kept = lines[: len(lines) - step * (index + 1)]
        (folder / "attributions.csv").write_text("\n".join(kept) + "\n", encoding="utf-8")
        made.append(folder)
    return made


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered) + 0.5) - 1))]


def run(
    base: str, people: list[Person], requests: int, extracts: list[Path], limit: float
) -> dict[str, Any]:
    timings = Timings()
    deadline = time.monotonic() + limit
    threads = [threading.Thread(target=reader, args=(base, p, requests, deadline, timings))
               for p in people[:-1]]  # fmt: skip
    threads.append(
        threading.Thread(target=importer, args=(base, people[-1], extracts, deadline, timings))
    )
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    reads = [s for page, values in timings.by_page.items() if page not in ("import", "connexion")
             for s in values]  # fmt: skip
    return {
        "lecteurs": len(people) - 1,
        "requetes_lues": len(reads),
        "erreurs": timings.errors,
        "duree_s": round(elapsed, 1),
        "p50_s": round(statistics.median(reads), 3) if reads else None,
        "p95_s": round(percentile(reads, 0.95), 3) if reads else None,
        "max_s": round(max(reads), 3) if reads else None,
        "pages": {
            page: {
                "n": len(v),
                "p50_s": round(statistics.median(v), 3),
                "p95_s": round(percentile(v, 0.95), 3),
                "max_s": round(max(v), 3),
            }
            for page, v in sorted(timings.by_page.items())
        },
    }


def _serve(url: str, key: Path, workers: int) -> tuple[subprocess.Popen[bytes], str]:
    with __import__("socket").socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "MIXITE_CLE_FICHIER": str(key), "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen([sys.executable, "-m", "checker", "serve", "--db", url, "--host", "127.0.0.1",
                                "--port", str(port), "--workers", str(workers)], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(base + "/connexion", timeout=5).status_code == 200:
                return process, base
        except httpx.HTTPError:
            time.sleep(0.5)
    process.terminate()
    raise SystemExit("le serveur ne répond pas")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--utilisateurs", type=int, default=20)
    parser.add_argument("--requetes", type=int, default=30, help="requêtes par lecteur")
    parser.add_argument("--imports", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--limite", type=float, default=900, help="durée maximale (s)")
    parser.add_argument("--pg-url", default=DEFAULT_PG)
    options = parser.parse_args()
    admin = create_engine(options.pg_url, isolation_level="AUTOCOMMIT")
    name = f"mixite_charge_{uuid.uuid4().hex[:8]}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(options.pg_url).set(database=name).render_as_string(hide_password=False)
    work = Path(tempfile.mkdtemp(prefix="mixite-charge-"))
    process = None
    try:
        key = work / "cle.cle"
        os.environ["MIXITE_CLE_FICHIER"] = str(key)
        people = demo_people(options.utilisateurs)
        prepared = time.perf_counter()
        prepare(url, demo_bundle_dir(), people)
        print(f"Base {name} prête ({time.perf_counter() - prepared:.1f} s)")
        process, base = _serve(url, key, options.workers)
        report = run(base, people, options.requetes,
                     changed_extracts(work, demo_bundle_dir(), options.imports), options.limite)  # fmt: skip
        report.update(
            {
                "base": "PostgreSQL",
                "workers": options.workers,
                "requetes_par_lecteur": options.requetes,
            }
        )
        out = ROOT / "benchmarks" / "out"
        out.mkdir(parents=True, exist_ok=True)
        (out / "web-load.json").write_text(
            json.dumps(report, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
        )
        print(json.dumps(report, ensure_ascii=False, indent=2))
    finally:
        if process is not None:
            process.terminate()
            process.wait(timeout=60)
        shutil.rmtree(work, ignore_errors=True)
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


if __name__ == "__main__":
    main()
