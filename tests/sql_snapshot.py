"""A snapshot of what the rulebook does, to prove a rewrite of the rules changes nothing.

For every rule and every year from 2017 to 2026, on the demo territory imported into SQLite:
every SQL statement the evaluator sends to the database (text and parameters, byte for byte),
and the results it draws from them (status, counts, rate, target, version). A rewrite of the
rules that only changes how they are written (versions by difference, sets of letters, a
`soit` value) must leave the snapshot identical; where the SQL legitimately changes, the
results must not (compare the `resultats` digests).

    python -m tests.sql_snapshot --write        # record tests/golden/sql/empreintes.json
    python -m tests.sql_snapshot --check        # compare (what tests/test_sql_snapshot.py does)
    python -m tests.sql_snapshot --dump DIR     # write every statement and result in full

The recorded file holds SHA-256 digests (the statements run to megabytes); `--dump` on two
checkouts, then `diff -r`, shows what changed.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event

ROOT = Path(__file__).resolve().parents[1]
YEARS = range(2017, 2027)
RULE_PATHS = [
    ROOT / "rules",
    ROOT / "fixtures" / "demo" / "cia.regles",
    ROOT / "docs" / "regles" / "exemple",
]
DEMO = ROOT / "fixtures" / "demo"
GOLDEN = ROOT / "tests" / "golden" / "sql" / "empreintes.json"


@contextmanager
def _statements(engine: Any) -> Iterator[list[str]]:
    captured: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        captured.append(f"{statement}\n-- paramètres : {parameters!r}")

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield captured
    finally:
        event.remove(engine, "before_cursor_execute", record)


def _result_lines(results: Sequence[Any]) -> list[str]:
    from checker.report.json_report import results_block

    return [
        json.dumps(entry, ensure_ascii=False, sort_keys=True) for entry in results_block(results)
    ]


def snapshot(rule_paths: Sequence[Path] = RULE_PATHS) -> dict[str, dict[str, dict[str, Any]]]:
    """rule id → year → {"sql": [statements], "resultats": [results as JSON lines]}."""
    from checker.evaluate.run import Evaluator, Period
    from checker.ingest.importer import import_bundle
    from checker.rulebook_loader import require_rules

    rulebook, _ = require_rules(list(rule_paths))
    taken: dict[str, dict[str, dict[str, Any]]] = {}
    with tempfile.TemporaryDirectory() as work:
        os.environ.setdefault("MIXITE_CLE_FICHIER", str(Path(work) / "cle.cle"))
        url = f"sqlite:///{Path(work) / 'demo.db'}"
        import_bundle([DEMO], url)
        engine = create_engine(url)
        try:
            for year in YEARS:
                with engine.connect() as connection:
                    evaluator = Evaluator(connection, rulebook, Period.year(year))
                    for rule_id in sorted(rulebook.rules):
                        with _statements(engine) as sql:
                            results = evaluator.evaluate_rule_results(rule_id)
                        taken.setdefault(rule_id, {})[str(year)] = {
                            "sql": list(sql),
                            "resultats": _result_lines(results),
                        }
        finally:
            engine.dispose()
    return taken


def _digest(lines: Sequence[str]) -> str:
    sha = hashlib.sha256()
    for line in lines:
        sha.update(line.encode() + b"\0")
    return sha.hexdigest()


def digests(taken: dict[str, dict[str, dict[str, Any]]]) -> dict[str, dict[str, dict[str, Any]]]:
    return {
        rule_id: {
            year: {
                "requetes": len(entry["sql"]),
                "sql": _digest(entry["sql"]),
                "resultats": _digest(entry["resultats"]),
            }
            for year, entry in years.items()
        }
        for rule_id, years in taken.items()
    }


def differences(expected: dict[str, Any], actual: dict[str, Any]) -> list[str]:
    """What differs, rule by rule and year by year, in French."""
    found = []
    for rule_id in sorted(set(expected) | set(actual)):
        if rule_id not in actual:
            found.append(f"{rule_id} : règle disparue")
            continue
        if rule_id not in expected:
            found.append(f"{rule_id} : règle nouvelle (absente de l'empreinte enregistrée)")
            continue
        for year in sorted(set(expected[rule_id]) | set(actual[rule_id])):
            before, after = expected[rule_id].get(year, {}), actual[rule_id].get(year, {})
            for what, label in (("sql", "SQL"), ("resultats", "résultats")):
                if before.get(what) != after.get(what):
                    found.append(f"{rule_id} {year} : {label} différent(s)")
    return found


def _dump(taken: dict[str, dict[str, dict[str, Any]]], folder: Path) -> None:
    for rule_id, years in taken.items():
        for year, entry in years.items():
            target = folder / rule_id / f"{year}.sql"
            target.parent.mkdir(parents=True, exist_ok=True)
            text = "\n\n".join(entry["sql"]) + "\n\n-- résultats\n" + "\n".join(entry["resultats"])
            target.write_text(text + "\n", encoding="utf-8")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    action = parser.add_mutually_exclusive_group(required=True)
    action.add_argument("--write", action="store_true")
    action.add_argument("--check", action="store_true")
    action.add_argument("--dump", type=Path)
    arguments = parser.parse_args(argv)
    taken = snapshot()
    if arguments.dump:
        _dump(taken, arguments.dump)
        return 0
    recorded = digests(taken)
    if arguments.write:
        GOLDEN.parent.mkdir(parents=True, exist_ok=True)
        GOLDEN.write_text(json.dumps(recorded, indent=1, sort_keys=True) + "\n", encoding="utf-8")
        return 0
    found = differences(json.loads(GOLDEN.read_text(encoding="utf-8")), recorded)
    print("\n".join(found) or "identique")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
