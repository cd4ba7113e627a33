"""`fixtures/generate.py --territoire-de N`: the territory the generator builds for N
attributions, with as many attribution rows as asked (the memory benchmark's third bundle)."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import yaml

GENERATE = Path(__file__).resolve().parent.parent / "fixtures" / "generate.py"


def _generate(out: Path, *arguments: str) -> Path:
    subprocess.run([sys.executable, str(GENERATE), "--out", str(out), *arguments],
                   check=True, capture_output=True)  # fmt: skip
    return out


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle, delimiter=";"))


def test_a_larger_bundle_on_a_smaller_territory(tmp_path: Path) -> None:
    small = _generate(tmp_path / "petit", "--attributions", "7000")
    alone = _generate(tmp_path / "seul", "--attributions", "21000")
    kept = _generate(tmp_path / "garde", "--attributions", "21000", "--territoire-de", "7000")
    # The territory, and the réservataires' conventions drawn from it, are the small bundle's.
    for name in ("territoire.yaml", "reservations.csv"):
        assert (kept / name).read_bytes() == (small / name).read_bytes()
    assert (alone / "territoire.yaml").read_bytes() != (small / "territoire.yaml").read_bytes()
    attributions = _rows(kept / "attributions.csv")
    assert len(attributions) == 21000
    territory = yaml.safe_load((kept / "territoire.yaml").read_text(encoding="utf-8"))
    communes = {str(commune["insee"]) for commune in territory["communes"]}
    dwellings = _rows(kept / "logements.csv")
    assert {row["commune_insee"] for row in dwellings} <= communes
    assert len(dwellings) == len(_rows(alone / "logements.csv"))  # the rows grow as asked


def test_without_the_option_the_demo_is_the_one_in_the_repository(tmp_path: Path) -> None:
    demo = GENERATE.parent / "demo"
    made = _generate(tmp_path / "demo")
    for path in sorted(made.glob("*.csv")):
        assert path.read_bytes() == (demo / path.name).read_bytes(), path.name
    # territoire.yaml: the repository's copy adds the rule files of its territory (`cia:`).
    lines = (demo / "territoire.yaml").read_text(encoding="utf-8").splitlines()
    kept = [line for line in lines if not line.startswith("cia: ")]
    assert (made / "territoire.yaml").read_text(encoding="utf-8").splitlines() == kept


def test_territoire_de_must_be_positive(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, str(GENERATE), "--out", str(tmp_path),
                           "--territoire-de", "0"], capture_output=True, text=True)  # fmt: skip
    assert done.returncode == 2
    assert "--territoire-de doit être positif" in done.stderr
