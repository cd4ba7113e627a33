"""Evaluation speed: the whole rulebook against hand-written SQL computing the same indicators.

    python benchmarks/check_benchmark.py [--attributions 500000] [--pg-url URL] [--sans-postgres]

Imports (once per database) the national-scale bundle of fixtures/generate.py, then, in the
same run and on the same database: (1) `mixite check` for one year, the full rulebook, with
run receipt, in a process of its own (time and peak memory), each rule also timed alone;
(2) the hand-written SQL of benchmarks/hand_written_sql.py, one query per rule, computing the
same figures (denominator, numerator, unknown, "aussi" indicators) per scope; best of two runs
on both sides.
Prints both totals, their ratio (objective: at most 1.2, peak memory under 300 MiB), the time
of each rule on both sides (wall and, for SQLite, CPU seconds; best of three), and whether the figures are equal rule by rule, with the
differences. Also times parsing and checking the rulebook. A script, not a test.
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
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from hand_written_sql import Figures, HandRule, figures, hand_rules  # noqa: E402
from import_benchmark import DEFAULT_PG, OUT, _bundle, _pg_database, _pg_drop  # noqa: E402

YEAR = 2024
MAX_RATIO = 1.2  # issue #18
MAX_MEMORY_MIB = 300
MAX_LISTED_DIFFERENCES = 20  # per rule

_MEASURE_CHECK = """
import json, resource, sys, time
from sqlalchemy import create_engine
from checker.rulebook_loader import require_rules
from checker.checking import check_transaction, run_check
from checker.evaluate.run import Evaluator, Options, Period
rulebook, _ = require_rules()
engine = create_engine(sys.argv[1])
period = Period.year(int(sys.argv[2]))
per_rule, per_rule_cpu = {}, {}
with engine.connect() as connection:  # each rule alone, as the hand-written SQL is timed
    evaluator = Evaluator(connection, rulebook, period, Options())
    for _ in range(int(sys.argv[3])):  # the best of as many runs as the hand-written SQL's
        for rule_id in sorted(rulebook.rules):
            start, cpu = time.perf_counter(), time.process_time()
            evaluator.evaluate_rule_results(rule_id)
            per_rule[rule_id] = min(per_rule.get(rule_id, 1e9), time.perf_counter() - start)
            per_rule_cpu[rule_id] = min(per_rule_cpu.get(rule_id, 1e9), time.process_time() - cpu)
def cpu_with_children():  # a SQLite file's content digest is read by a child process
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime
whole = whole_cpu = float("inf")
for _ in range(2):  # the better of two runs, as for the hand-written SQL
    start, cpu = time.perf_counter(), cpu_with_children()
    with check_transaction(engine) as connection:  # the whole rulebook and its receipt, as mixite check
        outcome = run_check(connection, rulebook, period, Options(), None)
    whole = min(whole, time.perf_counter() - start)
    whole_cpu = min(whole_cpu, cpu_with_children() - cpu)
import os
from checker.evaluate.parallel import CONNECTIONS_ENV, connections_wanted
connections = connections_wanted()
os.environ[CONNECTIONS_ENV] = "1"  # the same, every rule on the check's own connection
whole_one = float("inf")
for _ in range(2):
    start = time.perf_counter()
    with check_transaction(engine) as connection:
        run_check(connection, rulebook, period, Options(), None)
    whole_one = min(whole_one, time.perf_counter() - start)
from checker.content_digest import content_digest
digest = float("inf")
for _ in range(2):  # the receipt's content digest alone (run beside the evaluation in run_check)
    start = time.perf_counter()
    with engine.connect() as connection:
        content_digest(connection)
    digest = min(digest, time.perf_counter() - start)
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
figures = [[r.rule, r.scope, r.numerator, r.denominator, r.unknown,
            {k[len("numerator_"):]: v for k, v in r.indicators.items() if k.startswith("numerator_")}]
           for r in outcome.results if r.denominator]
print(json.dumps({"per_rule": per_rule, "per_rule_cpu": per_rule_cpu, "whole": whole,
                  "whole_one_connection": whole_one, "connections": connections,
                  "whole_cpu": whole_cpu, "digest": digest, "peak_mib": peak, "figures": figures}))
"""

Key = tuple[str, str]  # rule, scope as sorted JSON
Counted = dict[str, Any]  # numerator, denominator, unknown, indicators


RUNS_PER_RULE = 3  # each rule alone: the best of three runs on both sides


def _mixite_check(url: str) -> dict[str, Any]:
    done = subprocess.run([sys.executable, "-c", _MEASURE_CHECK, url, str(YEAR), str(RUNS_PER_RULE)],
                          check=True, capture_output=True, text=True, cwd=ROOT)  # fmt: skip
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def _hand_written(
    url: str, rules: list[HandRule]
) -> tuple[dict[str, float], dict[str, float], list[Figures]]:
    """Wall and CPU seconds of each query (CPU of this process: SQLite's work, not
    PostgreSQL's, which is done in the server), and the figures found."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    seconds: dict[str, float] = {}
    cpu_seconds: dict[str, float] = {}
    found: list[Figures] = []
    with engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql("SET LOCAL jit = off")  # the evaluator's own setting
        for rule in rules:
            start, cpu = time.perf_counter(), time.process_time()
            found.extend(figures(rule, connection.execute(text(rule.sql))))
            seconds[rule.rule] = time.perf_counter() - start
            cpu_seconds[rule.rule] = time.process_time() - cpu
    engine.dispose()
    return seconds, cpu_seconds, found


def _rules_for(url: str) -> list[HandRule]:
    """The hand-written queries, parameter values written in (read before the clock starts)."""
    from sqlalchemy import create_engine, text

    from checker.rulebook_loader import require_rules

    rulebook, _ = require_rules()
    engine = create_engine(url)
    dialect = engine.dialect.name
    with engine.connect() as connection:
        epcis = [(str(row.siren), str(row.siren_arrete or row.siren))
                 for row in connection.execute(text("SELECT siren, siren_arrete FROM epci"))]  # fmt: skip
    engine.dispose()
    return hand_rules(rulebook, YEAR, epcis, dialect)


def _keyed(rows: list[list[Any]]) -> dict[Key, Counted]:
    return {
        (rule, json.dumps(scope, sort_keys=True)): {"numerator": num, "denominator": den,
                                                     "unknown": unknown, "indicators": extra}
        for rule, scope, num, den, unknown, extra in rows
        if den  # an empty scope (no record) has nothing to compare
    }  # fmt: skip


def _compare(mixite: dict[Key, Counted], hand: dict[Key, Counted], rule: str) -> dict[str, Any]:
    keys = sorted(k for k in set(mixite) | set(hand) if k[0] == rule)
    differences = [
        {"perimetre": json.loads(key[1]), "mixite": mixite.get(key), "sql_a_la_main": hand.get(key)}
        for key in keys
        if mixite.get(key) != hand.get(key)
    ]
    return {
        "perimetres": len(keys),
        "memes_chiffres": not differences,
        "nb_differences": len(differences),
        "differences": differences[:MAX_LISTED_DIFFERENCES],
    }


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


def _measure(url: str, bundle: Path, key: Path) -> dict[str, Any]:
    env = {**os.environ, "MIXITE_CLE_FICHIER": str(key)}
    subprocess.run([sys.executable, "-m", "checker", "import", str(bundle), "--db", url],
                   check=True, capture_output=True, env=env, cwd=ROOT)  # fmt: skip
    rules = _rules_for(url)
    first, first_cpu, hand_figures = _hand_written(url, rules)
    check = _mixite_check(url)
    runs = [(first, first_cpu)]
    for _ in range(RUNS_PER_RULE - 1):  # warm cache for both: take the best run
        seconds, cpu_seconds, _ = _hand_written(url, rules)
        runs.append((seconds, cpu_seconds))
    hand = min(sum(seconds.values()) for seconds, _ in runs)
    hand_cpu = min(sum(cpu_seconds.values()) for _, cpu_seconds in runs)
    whole = float(check["whole"])
    mixite = _keyed(check["figures"])
    by_hand = _keyed([[f.rule, f.scope, f.numerator, f.denominator, f.unknown, f.indicators]
                      for f in hand_figures])  # fmt: skip
    per_rule: dict[str, Any] = {}
    for rule in sorted(set(check["per_rule"]) | set(first)):
        mixite_s = check["per_rule"].get(rule)
        mixite_cpu = check["per_rule_cpu"].get(rule)
        hand_s = min(seconds[rule] for seconds, _ in runs) if rule in first else None
        hand_cpu_s = min(cpu[rule] for _, cpu in runs) if rule in first else None
        per_rule[rule] = {
            "mixite_s": None if mixite_s is None else round(mixite_s, 3),
            "sql_a_la_main_s": None if hand_s is None else round(hand_s, 3),
            "mixite_cpu_s": None if mixite_cpu is None else round(mixite_cpu, 3),
            "sql_a_la_main_cpu_s": None if hand_cpu_s is None else round(hand_cpu_s, 3),
            **(_compare(mixite, by_hand, rule) if hand_s is not None and mixite_s is not None
               else {"memes_chiffres": None}),
        }  # fmt: skip
    missing = sorted(rule for rule in check["per_rule"] if rule not in first)
    ratio = whole / hand
    memory = float(check["peak_mib"])
    rules_alone = sum(r["mixite_s"] for r in per_rule.values() if r["sql_a_la_main_s"] is not None)
    return {
        "mixite_regles_completes_s": round(whole, 2),
        "sql_a_la_main_s": round(hand, 2),
        "sql_a_la_main_essais_s": [round(sum(seconds.values()), 2) for seconds, _ in runs],
        "ratio": round(ratio, 2),
        # PostgreSQL reads the rules on `connexions` connections at once (MIXITE_CONNEXIONS);
        # the hand-written SQL on one. The same check on one connection, for comparison.
        "connexions": int(check["connections"]) if url.startswith("postgresql") else 1,
        "mixite_une_connexion_s": round(float(check["whole_one_connection"]), 2),
        "ratio_une_connexion": round(float(check["whole_one_connection"]) / hand, 2),
        # The rules alone (no receipt, no content digest), each the best of its runs.
        "mixite_somme_des_regles_s": round(rules_alone, 2),
        "ratio_somme_des_regles": round(rules_alone / hand, 2),
        # The receipt's content digest alone: run_check computes it beside the evaluation, so
        # the whole check takes at least this long whatever the rules' SQL.
        "empreinte_du_contenu_s": round(float(check["digest"]), 2),
        # CPU of the measuring processes: on SQLite the statements' own work (meaningful on a
        # loaded machine, where wall times are inflated); on PostgreSQL the client's only.
        "mixite_regles_completes_cpu_s": round(float(check["whole_cpu"]), 2),
        "sql_a_la_main_cpu_s": round(hand_cpu, 2),
        "ratio_cpu": round(float(check["whole_cpu"]) / hand_cpu, 2) if hand_cpu else None,
        "memoire_max_mio": round(memory),
        "objectif_atteint": ratio <= MAX_RATIO and memory < MAX_MEMORY_MIB and not missing,
        # A rule of the rulebook without hand-written SQL makes the comparison unfair.
        "regles_sans_sql_a_la_main": missing,
        "memes_chiffres": all(r["memes_chiffres"] for r in per_rule.values()),
        "par_regle": per_rule,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--attributions", type=int, default=500_000)
    parser.add_argument("--pg-url", default=os.environ.get("MIXITE_TEST_PG_URL", DEFAULT_PG))
    parser.add_argument("--sans-postgres", action="store_true")
    args = parser.parse_args()
    bundle = _bundle(args.attributions)
    results: dict[str, object] = {"attributions": args.attributions, "annee": YEAR,
                                  "chargement_des_regles_s": round(_rulebook_load_time(), 3),
                                  "objectif": {"ratio_max": MAX_RATIO,
                                               "memoire_max_mio": MAX_MEMORY_MIB}}  # fmt: skip
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
    for database in ("sqlite", "postgresql"):
        if database in results:
            _print_summary(database, results[database])  # type: ignore[arg-type]


def _print_summary(database: str, measured: dict[str, Any]) -> None:
    print(f"\n{database}: mixite {measured['mixite_regles_completes_s']} s, à la main "
          f"{measured['sql_a_la_main_s']} s, ratio {measured['ratio']} (règles seules "
          f"×{measured['ratio_somme_des_regles']}, CPU ×{measured['ratio_cpu']}, empreinte du "
          f"contenu seule {measured['empreinte_du_contenu_s']} s), mémoire "
          f"{measured['memoire_max_mio']} Mio, mêmes chiffres : {measured['memes_chiffres']}")  # fmt: skip
    for rule, row in measured["par_regle"].items():
        print(f"  {rule:32} mixite {row['mixite_s']!s:>6} s ({row['mixite_cpu_s']!s:>6} CPU)  "
              f"à la main {row['sql_a_la_main_s']!s:>6} s ({row['sql_a_la_main_cpu_s']!s:>6} CPU)  "
              f"mêmes chiffres : {row['memes_chiffres']}")  # fmt: skip


if __name__ == "__main__":
    main()
