"""Time and memory of the web's records pages and CSV (the records behind a result).

    python benchmarks/records_benchmark.py --db FICHIER.sqlite [--regle L441-1.Q1-HORS-QPV]
                                           [--annee 2025] [--epci SIREN]

Works on a copy of FICHIER (the application writes an account, the access log and its secret
into the database): `fixtures/generate.py` then `mixite import` make one, and the key file
beside it (`FICHIER.cle`) must be given by MIXITE_CLE_FICHIER as for any command. An EPCI
account signs in through a `TestClient` (no server process), then reads the first page, the
same page again, page 50, and the CSV of every record. Prints, for each, the status, the size
of the answer, the wall time and the process's peak memory so far (`ru_maxrss`; the test
client holds the CSV's whole body, which a browser would not).
"""

from __future__ import annotations

import argparse
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from fastapi.testclient import TestClient  # noqa: E402

from checker.access import accounts  # noqa: E402
from checker.db.engine import make_engine  # noqa: E402
from checker.web.app import create_app  # noqa: E402
from checker.web.config import WebConfig  # noqa: E402
from tests.web_helpers import PASSWORD, sign_in  # noqa: E402

LOGIN = "mesure-enregistrements"


def _peak_mib() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", type=Path, required=True, help="base SQLite importée (copiée)")
    parser.add_argument("--regle", default="L441-1.Q1-HORS-QPV")
    parser.add_argument("--annee", type=int, default=2025)
    parser.add_argument("--epci", default="980008015", help="SIREN de l'EPCI (celui du générateur)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as work:
        copy = Path(work) / "base.sqlite"
        shutil.copyfile(args.db, copy)
        url = f"sqlite:///{copy}"
        engine = make_engine(url)
        with engine.begin() as connection:
            accounts.create(connection, LOGIN, "epci", PASSWORD, territories=[args.epci])
        engine.dispose()
        client = TestClient(create_app(WebConfig(url)))
        sign_in(client, LOGIN)
        path = f"/resultats/{args.regle}/enregistrements"
        query = f"annee={args.annee}&perimetre=epci%3D{args.epci}"
        for label, target in (
            ("première page", f"{path}?{query}"),
            ("la même, de nouveau", f"{path}?{query}"),
            ("page 50", f"{path}?{query}&page=50"),
            ("CSV de tous les enregistrements", f"{path}.csv?{query}"),
        ):
            start = time.perf_counter()
            answer = client.get(target)
            elapsed = time.perf_counter() - start
            print(f"{label} : {answer.status_code}, {len(answer.content)} octets, "
                  f"{elapsed:.2f} s, pic {_peak_mib()} Mio", flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
