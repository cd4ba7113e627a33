"""The command line as a user meets it: French answers, located errors, no traceback."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def mixite(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "checker", *args], capture_output=True, text=True, check=False,
        cwd=cwd or ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip


def test_quartile_at_the_threshold_is_not_the_first(tmp_path: Path) -> None:
    done = mixite("quartile", "--epci", "CA Amiens Métropole", "--annee", "2024", "--titulaires", "2",
                  "--moins-14", "1", "--revenus-mensuels", "1343,55", "--json")  # fmt: skip
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    assert (answer["quartile"], answer["uc"], answer["revenu_annuel_par_uc"]) == (2, 1.8, 8957.0)
    assert answer["seuils"] == {"seuil_q1": 8957, "seuil_q2": 13152, "seuil_q3": 18471}


@pytest.mark.parametrize(
    # 2024 thresholds: 8 957, 13 152, 18 471 € per UC; each is "strictly below" the next quartile.
    ("income", "expected"),
    [("746,41", 1), ("746,42", 2), ("1095,99", 2), ("1096", 3), ("1539,25", 4), ("1539,24", 3)],
)
def test_quartile_of_a_single_person(income: str, expected: int) -> None:
    done = mixite("quartile", "--epci", "ca amiens metropole", "--annee", "2024",
                  "--revenus-mensuels", income, "--json")  # fmt: skip
    assert json.loads(done.stdout)["quartile"] == expected


def test_unknown_epci_gets_a_suggestion_not_a_traceback() -> None:
    done = mixite(
        "quartile", "--epci", "CA Amien Metropole", "--annee", "2024", "--revenus-mensuels", "1000"
    )
    assert done.returncode == 1
    assert "CA Amiens Métropole" in done.stderr
    assert "Traceback" not in done.stderr + done.stdout


def test_param_answers_with_its_source() -> None:
    done = mixite("param", "plafond_ressources", "--date", "2024-06-01", "--key", "financement=PLUS",
                  "--key", "zone=autres_regions", "--key", "categorie=1", "--json")  # fmt: skip
    assert done.returncode == 0, done.stderr
    plus = json.loads(done.stdout)
    assert plus["source"]["titre"] and plus["en_vigueur_du"] == "2024-01-01"
    done = mixite("param", "plafond_ressources", "--date", "2024-06-01", "--key", "financement=PLS",
                  "--key", "zone=autres_regions", "--key", "categorie=1", "--json")  # fmt: skip
    pls = json.loads(done.stdout)
    assert pls["value"] == plus["value"] * 13 / 10  # PLS ceilings are PLUS ceilings plus 30 %
    assert len(pls["sources"]) == 2  # the derivation's source and the PLUS value's
    done = mixite("param", "taux_q1_hors_qpv", "--date", "2024-06-01", "--json")
    assert json.loads(done.stdout)["value"] == 0.25


def test_no_quartile_threshold_before_2024() -> None:
    # The annexes of the 2020-2023 arrêtés could not be read in full (see
    # rules/national/donnees/PROVENANCE.md): the answer says so, and lists the known periods.
    done = mixite("param", "seuil_q1", "--date", "2023-12-31", "--key", "epci=CA Amiens Métropole")
    assert done.returncode == 1
    assert "aucune valeur en vigueur le 31/12/2023" in done.stderr
    assert "du 01/01/2024 au 31/12/2024" in done.stderr
    assert "Traceback" not in done.stderr
    done = mixite("param", "seuil_q1", "--date", "2024-01-01", "--key", "epci=CA Amiens Métropole",
                  "--json")  # fmt: skip
    answer = json.loads(done.stdout)
    assert (answer["value"], answer["en_vigueur_du"]) == (8957, "2024-01-01")


def test_broken_rules_get_located_french_messages(tmp_path: Path) -> None:
    (tmp_path / "casse.regles").write_text(
        'règle X.Y\n  titre "a"\n  version du 31/02/2024\n', encoding="utf-8"
    )
    done = mixite("rules", "lint", str(tmp_path))
    assert done.returncode == 1
    assert "casse.regles:3:" in done.stderr and "E104" in done.stderr
    assert "Traceback" not in done.stderr


ENGLISH_OS_TEXT = ("codec", "Errno", "No such file", "must be in", "Invalid isoformat")
TAUX_PARAMETER = """paramètre taux_par_commune : pourcentage
  titre "Taux d'exemple par commune"
  source "Exemple" url "https://exemple.invalid"
  clés commune : texte
  table "taux.csv"
"""


def test_a_rules_file_not_in_utf8_is_located_in_french(tmp_path: Path) -> None:
    (tmp_path / "ansi.regles").write_bytes('# ok\nrègle X.Y\n  titre "é"\n'.encode("cp1252"))
    done = mixite("rules", "lint", str(tmp_path))
    assert done.returncode == 1
    assert "ansi.regles:2:2: erreur E105" in done.stderr
    assert "n'est pas encodé en UTF-8 (octet 0xE8 en ligne 2, colonne 2" in done.stderr
    assert not any(text in done.stderr for text in ENGLISH_OS_TEXT), done.stderr


def test_a_missing_or_bad_table_is_located_in_french(tmp_path: Path) -> None:
    (tmp_path / "p.regles").write_text(TAUX_PARAMETER, encoding="utf-8")
    done = mixite("rules", "lint", str(tmp_path))
    assert "p.regles:5:3: erreur E407: table « taux.csv » illisible : fichier introuvable" in (
        done.stderr
    )
    (tmp_path / "taux.csv").write_text(
        "commune,en_vigueur_du,valeur,source_titre\n"
        "80901,2024-13-01,20,Délibération\n"
        "80902,2024-01-01,abc,Délibération\n",
        encoding="utf-8",
    )
    done = mixite("rules", "lint", str(tmp_path))
    assert done.returncode == 1
    assert (
        "taux.csv:2:7: erreur E407: colonne en_vigueur_du : « 2024-13-01 » n'est pas une date "
        "AAAA-MM-JJ existante" in done.stderr
    )
    assert "taux.csv:3:18: erreur E407: colonne valeur : « abc » n'est pas un nombre" in done.stderr
    assert not any(text in done.stderr for text in ENGLISH_OS_TEXT), done.stderr
    assert "Traceback" not in done.stderr


def test_a_failing_command_exits_non_zero(tmp_path: Path) -> None:
    done = mixite("audit", "verify", "--db", f"sqlite:///{tmp_path / 'vide.db'}")
    assert done.returncode != 0


def test_check_without_data_says_what_to_do(tmp_path: Path) -> None:
    done = mixite("check", "--year", "2024", "--db", f"sqlite:///{tmp_path / 'vide.db'}")
    assert done.returncode != 0
    assert "Base introuvable : lancez d'abord mixite import." in done.stderr
    assert not (tmp_path / "vide.db").exists()
    assert "Traceback" not in done.stderr


def test_caleol_docket_check_flags_two_applications_and_shows_effects(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    env_key = {"MIXITE_CLE_FICHIER": str(tmp_path / "k.cle")}
    done = subprocess.run(
        [sys.executable, "-m", "checker", "import", str(ROOT / "fixtures" / "demo"), "--db", url],
        capture_output=True, text=True, check=False, cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT), **env_key},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    done = mixite(
        "caleol", "check", str(ROOT / "fixtures" / "exemples" / "dossier-caleol.csv"), "--db", url
    )
    assert done.returncode == 0, done.stderr
    blocks = {block.split(" ", 1)[0]: block for block in done.stdout.split("\nLogement ")[1:]}
    two = blocks["8012000040"]
    assert "2 candidature(s)" in two and "R441-3.CALEOL-TROIS-CANDIDATS : non conforme" in two
    assert two.count("L441-1.Q1-HORS-QPV (bailleur)") == 2  # the effect of each applicant
    assert "cette attribution compte ; encore" in two
    assert "exemption : financement = PLAI adapté" in blocks["8012000317"]
    assert "(PLAI adapté, en QPV)" in blocks["8012000317"] and "PLAI_ADAPTE" not in done.stdout
    assert "R441-3.CALEOL-TROIS-CANDIDATS : conforme" in blocks["8012000005"]
    assert "0801025900001GUI01" not in done.stdout  # applicants shown by the end of their number
    for fmt in ("html", "xlsx"):
        target = tmp_path / f"dossier.{fmt}"
        done = mixite("caleol", "check", str(ROOT / "fixtures" / "exemples" / "dossier-caleol.csv"),
                      "--db", url, "--format", fmt, "--out", str(target))  # fmt: skip
        assert done.returncode == 0 and target.stat().st_size > 0
    page = (tmp_path / "dossier.html").read_text(encoding="utf-8")
    assert "8012000040" in page and "non conforme" in page and "<script" not in page
    assert "PLAI adapté" in page and "PLAI_ADAPTE" not in page


def test_a_bad_docket_gets_located_messages(tmp_path: Path) -> None:
    docket = tmp_path / "dossier.csv"
    docket.write_text(
        "date_commission;bailleur_siren;rpls_id;numero_unique;nb_titulaires;revenus_mensuels;rfr_n2\n"
        "31/02/2025;912000007;8012000040;X1;0;950;11000\n",
        encoding="utf-8",
    )
    done = mixite("caleol", "check", str(docket), "--db", f"sqlite:///{tmp_path / 'x.db'}")
    assert done.returncode != 0
    assert "dossier.csv:2:1: date_commission" in done.stderr
    assert "dossier.csv:2:5: nb_titulaires" in done.stderr
    assert "Traceback" not in done.stderr


def test_help_is_in_french() -> None:
    done = mixite("import", "--help")
    assert done.returncode == 0
    assert "Affiche cette aide et s'arrête." in done.stdout
    assert "[par défaut : 200]" in done.stdout
    for english in ("Show this message", "[default:", "[required]"):
        assert english not in done.stdout
    done = mixite("--help")
    assert "Commandes" in done.stdout and "Commands" not in done.stdout


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        (
            ("check", "--yeer", "2024"),
            "Erreur : Option inconnue : --yeer (vouliez-vous dire --year ?).",
        ),
        (("import",), "Erreur : Argument manquant : paths."),
        (
            ("check", "--year", "abc"),
            "Erreur : Valeur refusée pour --year : année illisible « abc » (forme attendue : AAAA, "
            "répétée, ou un intervalle AAAA-AAAA).",
        ),
        (("chek",), "Erreur : Commande inconnue : chek (vouliez-vous dire check ?)."),
        (("check", "--year", "2024", "en-trop"), "Erreur : Argument(s) en trop : en-trop."),
    ],
)
def test_command_line_mistakes_are_told_in_french(
    arguments: tuple[str, ...], expected: str
) -> None:
    done = mixite(*arguments)
    assert done.returncode == 2
    assert expected in done.stderr, done.stderr
    assert "Conseil : voir mixite" in done.stderr
    for english in ("Error:", "Try '", "No such", "Missing", "Usage:"):
        assert english not in done.stderr, done.stderr


def test_user_text_is_never_read_as_markup_or_emoji(tmp_path: Path) -> None:
    # A file name with markup and an emoji code: printed as written, not styled or replaced.
    bundle = tmp_path / "lot"
    shutil.copytree(ROOT / "tests" / "data" / "mini", bundle)
    odd = "[red]notes:100:.txt"
    (bundle / odd).write_text("rien\n", encoding="utf-8")
    done = mixite("import", str(bundle), "--db", f"sqlite:///{tmp_path / 'm.db'}")
    assert done.returncode == 0, done.stderr
    assert f"Fichier ignoré (hors format d'import) : {odd}" in done.stdout
    assert "💯" not in done.stdout + done.stderr
    # A rules file whose error is at line 100, column 1: no emoji for « :100: ».
    rules = tmp_path / "regles"
    rules.mkdir()
    (rules / "ligne100.regles").write_text("\n" * 99 + "???\n", encoding="utf-8")
    done = mixite("rules", "lint", str(rules))
    assert "ligne100.regles:100:1" in done.stderr and "💯" not in done.stderr, done.stderr


def test_a_check_while_another_command_writes_the_sqlite_file_says_so_in_french(
    tmp_path: Path,
) -> None:
    """Another connection holds the file's write lock (an import, a check recording its
    receipt) longer than the driver waits: a French message, no « erreur interne », and no
    receipt recorded."""
    import sqlite3

    database = tmp_path / "mixite.db"
    done = mixite("import", str(ROOT / "fixtures" / "demo"), "--db", f"sqlite:///{database}",
                  cwd=tmp_path)  # fmt: skip
    assert done.returncode == 0, done.stderr
    writer = sqlite3.connect(database, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")  # the write lock, as an import running holds it
    try:
        done = mixite("check", "--year", "2025", "--db", f"sqlite:///{database}", cwd=tmp_path)
    finally:
        writer.execute("ROLLBACK")
    count = writer.execute("SELECT count(*) FROM run").fetchone()[0]
    writer.close()
    assert done.returncode == 3, done.stderr
    assert "La base est occupée" in done.stderr
    assert "interne" not in done.stderr and "Traceback" not in done.stderr
    assert count == 0
