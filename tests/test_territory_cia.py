"""The territory knows its CIA: declared in territoire.yaml, stored with the territory at import
(a new version when its text changes), applied by `mixite check` without --rules, named with
its digest in the receipt and the report."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import create_engine

from checker.errors import MixiteError
from checker.ingest.importer import import_bundle
from checker.territory_cia import latest_versions
from tests import bundles
from tests.bundles import BAILLEUR_B, EPCI
from tests.test_cli import mixite
from tests.test_evaluate import ATTRIBUTIONS, DWELLINGS

CIA = f"""engagement CIA-TEST-2024
  titre "CIA de test"
  source "CIA signée le 01/01/2024" url "https://exemple.invalid/cia.pdf"
  territoire "{EPCI}"
  signataires "Préfet", "EPCI"
  du 01/01/2024 au 31/12/2026
  objectif L441-1.Q1-HORS-QPV pour bailleur = "{BAILLEUR_B}" : 40 %
    source "CIA de test, article 4"
"""


def _bundle(tmp_path: Path, cia: str = CIA) -> Path:
    bundle = bundles.write_bundle(
        tmp_path / "lot", DWELLINGS, ATTRIBUTIONS, bundles.TERRITORY + "cia: [cia.regles]\n"
    )
    (bundle / "cia.regles").write_text(cia, encoding="utf-8")
    return bundle


def _stored(url: str) -> list[tuple[str, int, str]]:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return [(v.epci, v.number, v.sha256) for v in latest_versions(connection)]
    finally:
        engine.dispose()


def test_the_declared_cia_is_stored_once_and_again_when_it_changes(
    db_url: str, tmp_path: Path
) -> None:
    bundle = _bundle(tmp_path)
    first = import_bundle([bundle], db_url)
    assert first.cia is not None and first.cia.number == 1 and first.cia_files == ["cia.regles"]
    again = import_bundle([bundle], db_url)  # same data, same CIA: nothing new
    assert again.already_imported_at is not None and again.cia is None
    (bundle / "cia.regles").write_text(CIA.replace("40 %", "45 %"), encoding="utf-8")
    changed = import_bundle([bundle], db_url)  # same data, CIA edited: a new version
    assert changed.cia is not None and changed.cia.number == 2
    [(epci, number, sha)] = _stored(db_url)
    assert (epci, number, sha) == (EPCI, 2, changed.cia.sha256) and sha != first.cia.sha256


def test_a_declared_cia_with_an_error_is_refused_before_anything_is_imported(
    tmp_path: Path,
) -> None:
    bundle = _bundle(tmp_path, CIA.replace("40 %", "140 %"))
    url = f"sqlite:///{tmp_path / 'base.db'}"
    with pytest.raises(MixiteError, match=r"cia\.regles:7:\d+: erreur E505"):
        import_bundle([bundle], url)
    assert not (tmp_path / "base.db").exists()


def test_a_declared_cia_file_that_is_missing_is_refused(tmp_path: Path) -> None:
    bundle = _bundle(tmp_path)
    (bundle / "cia.regles").unlink()
    with pytest.raises(MixiteError, match=r"cia : fichier « cia\.regles » introuvable"):
        import_bundle([bundle], f"sqlite:///{tmp_path / 'base.db'}")


def test_check_applies_the_stored_cia_without_rules_and_its_receipt_names_it(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'base.db'}"
    bundle = _bundle(tmp_path)
    import_bundle([bundle], url)
    done = mixite("check", "--year", "2024", "--db", url, "--format", "json")
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    [cia] = document["receipt"]["options"]["cia"]
    assert (cia["epci"], cia["version"], cia["fichier"]) == (EPCI, 1, "cia.regles")
    target = next(r for r in document["results"] if r["rule"] == "L441-1.Q1-HORS-QPV"
                  and r["scope"] == {"epci": EPCI, "bailleur": BAILLEUR_B})  # fmt: skip
    assert (target["target"], target["target_source"]) == (0.4, "CIA-TEST-2024")
    (bundle / "cia.regles").write_text(CIA.replace("40 %", "45 %"), encoding="utf-8")
    import_bundle([bundle], url)
    done = mixite("check", "--year", "2024", "--db", url, "--format", "md")
    assert done.returncode == 0, done.stderr
    assert (
        "- CIA appliquée : cia.regles, version 2 (territoire 910000009), empreinte" in done.stdout
    )
    assert cia["sha256"] not in done.stdout


def test_the_demo_applies_its_cil_rules_with_its_cia_and_names_both_in_the_receipt(
    tmp_path: Path,
) -> None:
    """fixtures/demo declares its CIA and its CIL's rules (classification, rehousing charter):
    one stored version, its digest the text of both files, checked without --rules."""
    import hashlib

    from checker.paths import demo_bundle_dir

    demo = demo_bundle_dir()
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    result = import_bundle([demo], url)
    assert result.cia_files == ["cia.regles", "peuplement.regles"]
    text = "\n".join(
        (demo / name).read_text(encoding="utf-8")
        for name in ("cia.regles", "cil/peuplement.regles")
    )
    done = mixite("check", "--year", "2025", "--db", url, "--format", "json")
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    [cia] = document["receipt"]["options"]["cia"]
    assert cia["fichier"] == "cia.regles + peuplement.regles"
    assert cia["sha256"] == hashlib.sha256(text.encode()).hexdigest()
    by_scope = {
        (r["rule"], r["scope"].get("operation")): r["status"]
        for r in document["results"]
        if r["rule"].startswith(("CHARTE-RELOGEMENT-", "CIL-"))
    }
    assert by_scope[("CHARTE-RELOGEMENT-VAL-DE-LIZE.HORS-QPV", "NPNRU-80-HDL-D01")] == "conforme"
    assert by_scope[("CHARTE-RELOGEMENT-VAL-DE-LIZE.LOGEMENT-RECENT", None)] == "non_conforme"
    assert by_scope[("CIL-VAL-DE-LIZE.CLASSEMENT-DECLARE", None)] == "non_conforme"
