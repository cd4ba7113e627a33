"""The occupation diagnostic at national scale: time and peak memory of `mixite diagnostic`.

    python benchmarks/diagnostic_benchmark.py [--residences 250000] [--logements-par-residence 20]
        [--attributions 250000] [--relogements 20000] [--dossier /tmp/mixite-diagnostic-bench]

Builds (once per database file) a synthetic territory of that size straight into a SQLite
database with mixite's schema — residences, their dwellings, two OPS surveys per residence, a
year of attributions on those dwellings, NPNRU rehousing rows — then runs the diagnostic of
the year in a process of its own, with the national rules and the demo territory's CIL rules
(classes computed by the rules, `logement_recent`), writes the HTML, JSON and CSV to files in
the folder, and prints wall and CPU seconds of the computation and of the whole, peak memory
(VmHWM) and the files' sizes. A script, not a test. The data are written by bulk inserts, not by `mixite import`, whose own
speed benchmarks/import_benchmark.py measures.

Measured on 7 December 2026 (2 cores shared by eight sessions, under `nice`, SQLite), at the
default national scale: the computation 34.4 CPU s (362.5 s wall, mostly waiting for a core),
with the HTML, JSON and CSV 53.2 CPU s (525.1 s wall), peak memory 519 MiB; before the
computation went to SQL it took 682.5 s wall (746.1 s with HTML and JSON) and 3 848 MiB. See
docs/dev/performance.md for the method, the profile and the smaller sizes.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

YEAR = 2024
EPCI = "980008015"
COMMUNES = 100
BAILLEURS = 40

_MEASURE = """
import json, sys, time
from pathlib import Path
from sqlalchemy import create_engine
from checker.diagnostic import render
from checker.diagnostic.compute import compute
from checker.rulebook_loader import require_rules
rulebook, _ = require_rules([Path(sys.argv[2]) / "rules", Path(sys.argv[2]) / "fixtures/demo/cil"])
engine = create_engine(sys.argv[1])
out = Path(sys.argv[4])
start, cpu = time.perf_counter(), time.process_time()
with engine.connect() as connection:
    diagnostic = compute(connection, rulebook, int(sys.argv[3]))
computed, computed_cpu = time.perf_counter() - start, time.process_time() - cpu
(out / "diagnostic.html").write_text(render.to_html(diagnostic), encoding="utf-8")
with (out / "diagnostic.json").open("w", encoding="utf-8") as handle:
    render.write_json(diagnostic, handle)
with (out / "diagnostic.csv").open("w", encoding="utf-8") as handle:
    render.write_csv(diagnostic, handle)
total, total_cpu = time.perf_counter() - start, time.process_time() - cpu
peak = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM"))
sizes = {name: (out / f"diagnostic.{name}").stat().st_size for name in ("html", "json", "csv")}
print(json.dumps({"calcul_s": round(computed, 1), "calcul_cpu_s": round(computed_cpu, 1),
                  "total_s": round(total, 1), "total_cpu_s": round(total_cpu, 1),
                  "vmhwm_mio": round(peak / 1024), "residences": len(diagnostic["classes"]),
                  "octets": sizes}))
"""


def _siren(number: int) -> str:
    """A fictional SIREN starting with 9 with a valid Luhn key."""
    body = f"9{number:07d}"
    for key in range(10):
        digits = [int(c) for c in body + str(key)]
        total = sum(d if i % 2 == 0 else (d * 2 - 9 if d * 2 > 9 else d * 2)
                    for i, d in enumerate(digits))  # fmt: skip
        if total % 10 == 0:
            return body + str(key)
    raise AssertionError


def build(db_file: Path, residences: int, per_residence: int, attributions: int,
          rehousing: int, seed: int = 2024) -> None:  # fmt: skip
    from checker.db.engine import ensure_schema, make_engine

    engine = make_engine(f"sqlite:///{db_file}")
    ensure_schema(engine)
    engine.dispose()
    rng = random.Random(seed)
    con = sqlite3.connect(db_file)
    con.execute("PRAGMA journal_mode = OFF")
    con.execute("PRAGMA synchronous = OFF")
    con.execute("INSERT INTO import_batch (id, imported_at, bundle_sha256, epci_siren, files, "
                "summary) VALUES (1, '2025-01-01', 'bench', ?, '[]', '{}')", (EPCI,))  # fmt: skip
    con.execute("INSERT INTO epci (siren, nom, nom_arrete, departement, region, tenu_plh, "
                "competent_habitat) VALUES (?, 'EPCI de mesure', 'CA Amiens Métropole', '80', "
                "'Hauts-de-France', 1, 1)", (EPCI,))  # fmt: skip
    communes = [f"{80000 + i:05d}" for i in range(COMMUNES)]
    con.executemany("INSERT INTO commune (insee, epci_siren, nom, zone_plafonds, zone_abc) "
                    "VALUES (?, ?, ?, 'autres_regions', 'B1')",
                    [(c, EPCI, f"Commune {c}") for c in communes])  # fmt: skip
    qpv = [(f"QN{i:06d}", communes[i]) for i in range(0, COMMUNES, 4)]
    con.executemany("INSERT INTO qpv (code, nom, valide_du, valide_au) "
                    "VALUES (?, ?, '2024-01-01', NULL)",
                    [(code, f"Quartier {code}") for code, _ in qpv])  # fmt: skip
    con.executemany("INSERT INTO qpv_commune (qpv_code, commune_insee) VALUES (?, ?)", qpv)
    bailleurs = [_siren(i + 1) for i in range(BAILLEURS)]
    con.executemany("INSERT INTO bailleur (siren, nom) VALUES (?, ?)",
                    [(s, f"Bailleur {s}") for s in bailleurs])  # fmt: skip
    qpv_of = dict((c, code) for code, c in qpv)
    residence_rows, dwelling_rows, link_rows, survey_rows = [], [], [], []
    dwellings: list[tuple[str, str, str]] = []  # rpls, bailleur, commune
    number = 0
    for index in range(residences):
        bailleur = bailleurs[index % BAILLEURS]
        commune = communes[rng.randrange(COMMUNES)]
        code = qpv_of.get(commune) if rng.random() < 0.5 else None
        ident = f"R{index:08d}"
        built = rng.randrange(1950, 2024)
        residence_rows.append((bailleur, ident, f"Résidence {index}", commune, code or "",
                               f"{built}-09-01", rng.choice(("", "equilibree", "fragile")),
                               None, 1))  # fmt: skip
        for _ in range(per_residence):
            number += 1
            rpls = f"B{number:09d}"
            dwelling_rows.append((rpls, bailleur, commune, "PLUS", 3, 60.0, built, ident))
            dwellings.append((rpls, bailleur, commune))
            if code:
                link_rows.append((rpls, code))
        respondents = max(1, per_residence * 4 // 5)
        for year in (2022, 2024):
            poor = rng.randrange(respondents // 2 + 1)
            survey_rows.append((bailleur, ident, year, respondents, poor // 2, poor - poor // 2,
                                0, 0, 0, rng.randrange(respondents // 3 + 1), 0, 0, 0, 0, 0, 0,
                                0, 1))  # fmt: skip
    con.executemany("INSERT INTO residence (bailleur_siren, residence_id, nom, commune_insee, "
                    "qpv_code, date_mise_en_service, classe_enjeu, operation_npnru, batch_id) "
                    "VALUES (?, ?, ?, ?, ?, ?, NULLIF(?, ''), ?, ?)", residence_rows)  # fmt: skip
    con.executemany("INSERT INTO logement (rpls_id, bailleur_siren, commune_insee, financement, "
                    "nb_pieces, surface_m2, annee_construction, residence_id) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?)", dwelling_rows)  # fmt: skip
    con.executemany("INSERT INTO logement_qpv (rpls_id, qpv_code) VALUES (?, ?)", link_rows)
    con.executemany("INSERT INTO occupation (bailleur_siren, residence_id, annee_enquete, "
                    "menages_repondants, ressources_inf_20, ressources_20_40, ressources_40_60, "
                    "ressources_60_100, ressources_sup_100, familles_monoparentales, "
                    "personnes_seules, familles_nombreuses, titulaires_moins_30, "
                    "titulaires_plus_65, beneficiaires_aide_logement, titulaires_emploi_stable, "
                    "emmenages_recents, batch_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
                    "?, ?, ?, ?, ?, ?)", survey_rows)  # fmt: skip
    del residence_rows, dwelling_rows, link_rows, survey_rows
    start = dt.date(YEAR, 1, 1).toordinal()
    attribution_rows = []
    for index in range(attributions):
        rpls, bailleur, _ = dwellings[rng.randrange(len(dwellings))]
        day = dt.date.fromordinal(start + rng.randrange(365)).isoformat()
        attribution_rows.append((f"{index:064d}", bailleur, rpls, day, day, "non_reserve",
                                 False, False, "", False, 1, 0, rng.randrange(3),
                                 rng.randrange(50_000, 250_000), rng.randrange(500_000, 3_000_000),
                                 1))  # fmt: skip
    con.executemany("INSERT INTO attribution (menage, bailleur_siren, rpls_id, date_decision, "
                    "date_bail, contingent, mutation, dalo, criteres_prioritaires, "
                    "travailleur_essentiel, nb_titulaires, nb_personnes_14_plus, nb_moins_14, "
                    "revenus_mensuels_centimes, rfr_n2_centimes, batch_id) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", attribution_rows)  # fmt: skip
    del attribution_rows
    rehousing_rows = []
    for index in range(rehousing):
        origin, owner, _ = dwellings[rng.randrange(len(dwellings))]
        target = dwellings[rng.randrange(len(dwellings))][0]
        rehoused = rng.random() < 0.6
        entered = dt.date(2021, 1, 1) + dt.timedelta(days=rng.randrange(900))
        when = entered + dt.timedelta(days=rng.randrange(60, 900)) if rehoused else None
        rehousing_rows.append((f"OP{index % 400:04d}", f"{index:064d}", owner, origin,
                               entered.isoformat(),
                               "reloge_definitif" if rehoused else "a_reloger",
                               when.isoformat() if when else None,
                               target if rehoused else None, None, 50_000, 52_000, 20_000,
                               21_000, 1))  # fmt: skip
    con.executemany("INSERT INTO relogement (operation_npnru, menage, bailleur_siren, "
                    "rpls_id_origine, date_entree_operation, statut, date_relogement, "
                    "rpls_id_destination, menage_sne, loyer_charges_avant_centimes, "
                    "loyer_charges_apres_centimes, aide_logement_avant_centimes, "
                    "aide_logement_apres_centimes, batch_id) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rehousing_rows)  # fmt: skip
    con.commit()
    con.execute("ANALYZE")
    con.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--residences", type=int, default=250_000)
    parser.add_argument("--logements-par-residence", type=int, default=20)
    parser.add_argument("--attributions", type=int, default=250_000)
    parser.add_argument("--relogements", type=int, default=20_000)
    parser.add_argument("--dossier", type=Path, default=Path("/tmp/mixite-diagnostic-bench"))
    args = parser.parse_args()
    args.dossier.mkdir(parents=True, exist_ok=True)
    db_file = args.dossier / (f"diag-{args.residences}-{args.logements_par_residence}-"
                              f"{args.attributions}-{args.relogements}.db")  # fmt: skip
    if not db_file.exists():
        began = time.perf_counter()
        partial = db_file.with_suffix(".partiel")
        partial.unlink(missing_ok=True)
        build(partial, args.residences, args.logements_par_residence, args.attributions,
              args.relogements)  # fmt: skip
        partial.rename(db_file)
        print(f"Base construite en {time.perf_counter() - began:.0f} s : {db_file}")
    done = subprocess.run(
        [sys.executable, "-c", _MEASURE, f"sqlite:///{db_file}", str(ROOT), str(YEAR),
         str(args.dossier)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        print(done.stderr, file=sys.stderr)
        return 1
    figures = json.loads(done.stdout)
    print(json.dumps({
        "residences": args.residences,
        "logements": args.residences * args.logements_par_residence,
        "lignes_ops": args.residences * 2,
        "attributions": args.attributions,
        "relogements": args.relogements,
        **figures,
    }, ensure_ascii=False))  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
