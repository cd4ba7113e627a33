"""Bringing data in through the web: import by upload (page and API), the CIA and its versions,
the CALEOL pre-check; each refused with located problems and nothing written."""

from __future__ import annotations

import io
import shutil
import zipfile
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from checker.access import accounts
from checker.db import models
from checker.db.engine import make_engine
from checker.web.app import create_app
from checker.web.config import WebConfig
from tests.conftest import DATA
from tests.web_helpers import PASSWORD, csrf_of, sign_in

EPCI = "910000009"
A, B = "910000017", "910000025"


def _zip(folder: Path, only: tuple[str, ...] | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path in sorted(folder.iterdir()):
            if only is None or path.name in only:
                archive.write(path, path.name)
    return buffer.getvalue()


def _site(url: str, tmp_path: Path) -> tuple[TestClient, dict[str, str]]:
    """The mini bundle imported once (the CLI's import), then accounts; an app on it."""
    from checker.ingest.importer import import_bundle

    import_bundle([DATA / "mini"], url)
    engine = make_engine(url)
    tokens = {}
    with engine.begin() as connection:
        for login, role, bailleur, territories in (
            ("epci", "epci", None, [EPCI]), ("bailleur-a", "bailleur", A, []),
            ("etat", "etat", None, [EPCI]),
        ):  # fmt: skip
            accounts.create(connection, login, role, PASSWORD, bailleur=bailleur,
                            territories=territories)  # fmt: skip
            tokens[login] = accounts.issue_token(connection, login, 5)[0]
    engine.dispose()
    return TestClient(create_app(WebConfig(url))), tokens


def _count(url: str) -> int:
    engine = make_engine(url)
    with engine.connect() as connection:
        total = connection.scalar(select(func.count()).select_from(models.Attribution))
    engine.dispose()
    return int(total or 0)


def test_import_by_api_all_or_nothing(db_url: str, tmp_path: Path) -> None:
    client, tokens = _site(db_url, tmp_path)
    headers = {"Authorization": f"Bearer {tokens['epci']}"}
    again = client.post("/api/imports", headers=headers,
                        files={"bundle": ("lot.zip", _zip(DATA / "mini"), "application/zip")})  # fmt: skip
    assert again.status_code == 200 and again.json()["already_imported"] is True
    broken = tmp_path / "casse"
    shutil.copytree(DATA / "mini", broken)
    lines = (broken / "attributions.csv").read_text(encoding="utf-8").splitlines()
    lines[2] = lines[2].replace("05/03/2024", "31/02/2024")
    lines.append(lines[1].replace("080012400000001GUI01", "080012400000009GUI01"))
    (broken / "attributions.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    before = _count(db_url)
    refused = client.post("/api/imports", headers=headers,
                          files={"bundle": ("lot.zip", _zip(broken), "application/zip")})  # fmt: skip
    assert refused.status_code == 422
    problem = refused.json()["problems"][0]
    assert (problem["file"], problem["line"], problem["column"]) == ("attributions.csv", 3, 4)
    assert "rien n'a été écrit" in refused.json()["detail"]
    assert _count(db_url) == before


def test_import_page_shows_the_located_errors(db_url: str, tmp_path: Path) -> None:
    client, _ = _site(db_url, tmp_path)
    sign_in(client, "epci")
    token = csrf_of(client.get("/import").text)
    bad = "numero_unique;bailleur_siren;rpls_id\n080012400000001GUI01;910000017;L000000001\n"
    page = client.post("/import", data={"csrf_token": token},
                       files=[("fichiers", ("attributions.csv", bad.encode(), "text/csv"))])  # fmt: skip
    assert page.status_code == 422
    assert "Import refusé" in page.text and "attributions.csv" in page.text
    assert "rien n'a été écrit" in page.text
    alone = client.post("/import", data={"csrf_token": token},
                        files=[("fichiers", ("cia.regles", b"# CIA", "text/plain"))])  # fmt: skip
    assert alone.status_code == 400 and "la page CIA" in alone.text
    unknown = client.post("/import", data={"csrf_token": token},
                          files=[("fichiers", ("truc.csv", b"a;b\n", "text/csv"))])  # fmt: skip
    assert "truc.csv : fichier non reconnu" in unknown.text
    assert "mixite-import-" not in unknown.text  # the server's scratch folder is not shown


def test_a_bailleur_imports_its_rows_only(db_url: str, tmp_path: Path) -> None:
    client, tokens = _site(db_url, tmp_path)
    headers = {"Authorization": f"Bearer {tokens['bailleur-a']}"}
    before = _count(db_url)
    refused = client.post("/api/imports", headers=headers, files={
        "bundle": ("lot.zip", _zip(DATA / "mini", ("attributions.csv",)), "application/zip")})  # fmt: skip
    assert refused.status_code == 422
    lines = {(p["line"], p["column"]) for p in refused.json()["problems"]}
    assert lines == {(4, 2), (5, 2)}  # the two rows of bailleur B, at their SIREN cell
    assert all("autre bailleur" in p["message"] for p in refused.json()["problems"])
    assert _count(db_url) == before
    with_territory = client.post("/api/imports", headers=headers, files={
        "bundle": ("lot.zip", _zip(DATA / "mini", ("territoire.yaml",)), "application/zip")})  # fmt: skip
    assert with_territory.status_code == 422
    own = tmp_path / "a"
    own.mkdir()
    rows = (DATA / "mini" / "attributions.csv").read_text(encoding="utf-8").splitlines()
    (own / "attributions.csv").write_text("\n".join([rows[0], rows[1].replace(
        "15/02/2024", "16/02/2024")]) + "\n", encoding="utf-8")  # fmt: skip
    accepted = client.post("/api/imports", headers=headers, files={
        "bundle": ("lot.zip", _zip(own), "application/zip")})  # fmt: skip
    assert accepted.status_code == 201, accepted.text
    assert accepted.json()["counts"]["attributions"]["replaced"] == 1


CIA = """engagement CIA-TEST
  titre "CIA de la communauté de test"
  source "Convention fictive des tests"
  territoire "910000009"
  signataires "Communauté de test", "Office public de test"
  du 01/01/2023 au 31/12/2027
  objectif L441-1.Q1-HORS-QPV pour bailleur = "910000017" : {valeur}
    source "CIA de test, article 4"
"""


def test_cia_upload_keeps_every_version_and_shows_errors_at_their_line(
    db_url: str, tmp_path: Path
) -> None:
    client, _ = _site(db_url, tmp_path)
    sign_in(client, "epci")
    token = csrf_of(client.get("/cia").text)

    def upload(text: str) -> str:
        answer = client.post("/cia", data={"csrf_token": token, "epci": EPCI},
                             files={"fichier": ("cia.regles", text.encode(), "text/plain")})  # fmt: skip
        return f"{answer.status_code}\n{answer.text}"

    first = upload(CIA.format(valeur="30 %"))
    assert first.startswith("200") and "Version n° 1 enregistrée" in first
    wrong = upload(CIA.format(valeur="30 %").replace('    source "CIA de test, article 4"\n', "") +
                   "  objectif INCONNUE.REGLE : 10 %\n")  # fmt: skip
    assert wrong.startswith("422") and "Version refusée" in wrong
    assert (
        'id="ligne-8" class="signalee"' in wrong and "E201" in wrong
    )  # the error is shown at its line
    second = upload(CIA.format(valeur="35 %"))
    assert "Version n° 2 enregistrée" in second
    listing = client.get("/cia").text
    assert "/cia/910000009/1" in listing and "/cia/910000009/2" in listing
    assert "35 %" in client.get("/cia/910000009/2").text
    results = client.get("/resultats?annee=2024").text
    assert "35 %" in results  # the latest version applies
    assert "CIA de test, article 4" in results  # the target cites its convention and article
    etat = TestClient(client.app)
    sign_in(etat, "etat")
    assert etat.get("/cia").status_code == 200
    refused = etat.post("/cia", data={"csrf_token": csrf_of(etat.get("/cia").text), "epci": EPCI},
                        files={"fichier": ("cia.regles", b"x", "text/plain")})  # fmt: skip
    assert refused.status_code == 403


def test_caleol_pre_check_by_form_and_by_file(db_url: str, tmp_path: Path) -> None:
    client, _ = _site(db_url, tmp_path)
    sign_in(client, "bailleur-a")
    token = csrf_of(client.get("/caleol").text)
    form = {"csrf_token": token, "date_commission": "2024-09-12", "rpls_id": "L000000002",
            "numero_unique_1": "080012400000077GUI01", "rang_1": "1", "nb_titulaires_1": "1",
            "nb_personnes_14_plus_1": "0", "nb_moins_14_1": "1", "revenus_mensuels_1": "850",
            "rfr_n2_1": "9800", "contingent_1": "non_reserve"}  # fmt: skip
    page = client.post("/caleol", data=form)
    assert page.status_code == 200, page.text
    assert "Logement L000000002" in page.text and "1 candidature(s)" in page.text
    assert "080012400000077GUI01" not in page.text  # only the end of the numéro unique
    other = client.post("/caleol", data={**form, "rpls_id": "L000000003"})
    assert other.status_code == 403  # a dwelling of bailleur B
    docket = (
        b"date_commission;bailleur_siren;rpls_id;numero_unique;rang;nb_titulaires;"
        b"revenus_mensuels;rfr_n2\n"
        b"12/09/2024;910000017;L000000001;080012400000078GUI01;1;1;900;10000\n"
    )
    by_file = client.post("/caleol", data={"csrf_token": token},
                          files={"fichier": ("dossier.csv", docket, "text/csv")})  # fmt: skip
    assert by_file.status_code == 200, by_file.text[-1500:]
    assert "Logement L000000001" in by_file.text
    unreadable = client.post("/caleol", data={**form, "rfr_n2_1": "beaucoup"})
    assert unreadable.status_code == 422 and "Dossier illisible" in unreadable.text


@pytest.mark.parametrize("role", ["epci"])
def test_disabled_account_loses_session_and_token(db_url: str, tmp_path: Path, role: str) -> None:
    client, tokens = _site(db_url, tmp_path)
    sign_in(client, role)
    engine = make_engine(db_url)
    with engine.begin() as connection:
        accounts.disable(connection, role)
    engine.dispose()
    assert client.get("/", follow_redirects=False).status_code == 303
    answer = client.get("/api/runs", headers={"Authorization": f"Bearer {tokens[role]}"})
    assert answer.status_code == 401


def test_a_published_full_report_keeps_to_the_receipt_once_the_data_changed(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'publie.db'}"
    client, tokens = _site(url, tmp_path)
    sign_in(client, "epci")
    token = csrf_of(client.get("/executions").text)
    recorded = client.post("/executions", data={"annee": "2024", "csrf_token": token},
                           follow_redirects=False)  # fmt: skip
    run_id = int(recorded.headers["location"].rsplit("/", 1)[1])
    # The run's head is kept beside the key, as after mixite check (#12).
    heads = (tmp_path / "cle-de-test.tetes").read_text(encoding="utf-8").splitlines()
    assert heads[-1].startswith(f"{run_id}\t") and heads[-1].endswith("\tsqlite:publie.db")
    client.post(f"/executions/{run_id}/publier", data={"csrf_token": token})
    before = client.get(f"/publications/{run_id}.html").text
    assert f"(exécution n° {run_id})" in before and "données modifiées" not in before
    own = tmp_path / "a"
    own.mkdir()
    rows = (DATA / "mini" / "attributions.csv").read_text(encoding="utf-8").splitlines()
    (own / "attributions.csv").write_text("\n".join([rows[0], rows[1].replace(
        "15/02/2024", "16/02/2024")]) + "\n", encoding="utf-8")  # fmt: skip
    imported = client.post("/api/imports", headers={"Authorization": f"Bearer {tokens['epci']}"},
                           files={"bundle": ("lot.zip", _zip(own), "application/zip")})  # fmt: skip
    assert imported.status_code == 201, imported.text
    after = client.get(f"/publications/{run_id}.html")
    assert after.status_code == 200
    assert "données modifiées depuis : répartitions et qualité des données omises" in after.text
    for fmt in ("xlsx", "docx"):
        assert client.get(f"/publications/{run_id}.{fmt}").content[:2] == b"PK"


def test_an_epci_imports_a_bundle_without_territory_file_for_its_territory_only(
    db_url: str, tmp_path: Path
) -> None:
    import datetime as dt

    from sqlalchemy import insert

    client, tokens = _site(db_url, tmp_path)
    other = "200000172"
    engine = make_engine(db_url)
    with engine.begin() as connection:  # a second territory, with one dwelling of bailleur A
        connection.execute(insert(models.Epci).values(
            siren=other, nom="Autre communauté", nom_arrete="CC Autre", departement="80",
            region="Hauts-de-France", tenu_plh=True, competent_habitat=True))  # fmt: skip
        connection.execute(insert(models.Commune).values(
            insee="80950", epci_siren=other, nom="Ailleurs", zone_plafonds="autres_regions"))  # fmt: skip
        connection.execute(insert(models.Logement).values(
            rpls_id="L900000001", bailleur_siren=A, commune_insee="80950", financement="PLUS"))  # fmt: skip
    headers = {"Authorization": f"Bearer {tokens['epci']}"}
    rows = (DATA / "mini" / "attributions.csv").read_text(encoding="utf-8").splitlines()
    outside = tmp_path / "dehors"
    outside.mkdir()
    (outside / "attributions.csv").write_text("\n".join([
        rows[0], rows[1].replace("15/02/2024", "16/02/2024"),
        rows[2].replace("L000000002", "L900000001")]) + "\n", encoding="utf-8")  # fmt: skip
    (outside / "logements.csv").write_text(
        "rpls_id;bailleur_siren;commune_insee;qpv_code;financement\n"
        "L000000077;910000017;80950;;PLUS\nL900000001;910000017;80901;;PLUS\n", encoding="utf-8")  # fmt: skip
    with engine.begin() as connection:  # and a residence there
        connection.execute(insert(models.Residence).values(
            bailleur_siren=A, residence_id="LOIN", nom="Résidence lointaine",
            commune_insee="80950", qpv_code="", date_mise_en_service=dt.date(1990, 1, 1),
            batch_id=connection.scalar(select(func.max(models.ImportBatch.id)))))  # fmt: skip
    peuplement = DATA / "peuplement"
    residences = (peuplement / "residences.csv").read_text(encoding="utf-8").splitlines()
    (outside / "residences.csv").write_text("\n".join([
        residences[0], residences[1].replace(";80901;QN08001M;", ";80950;;")]) + "\n",
        encoding="utf-8")  # fmt: skip
    occupation = (peuplement / "occupation.csv").read_text(encoding="utf-8").splitlines()
    (outside / "occupation.csv").write_text("\n".join([
        occupation[0], occupation[1].replace(";TIL;", ";LOIN;")]) + "\n", encoding="utf-8")  # fmt: skip
    rehousing = (peuplement / "relogements.csv").read_text(encoding="utf-8").splitlines()
    (outside / "relogements.csv").write_text("\n".join([
        rehousing[0], rehousing[1].replace(";L000000001;", ";L900000001;")]) + "\n",
        encoding="utf-8")  # fmt: skip
    before = _count(db_url)
    refused = client.post("/api/imports", headers=headers,
                          files={"bundle": ("lot.zip", _zip(outside), "application/zip")})  # fmt: skip
    assert refused.status_code == 422, refused.text
    located = {(p["file"], p["line"], p["column"]) for p in refused.json()["problems"]}
    assert located == {("attributions.csv", 3, 3), ("logements.csv", 2, 3),
                       ("logements.csv", 3, 1), ("residences.csv", 2, 4),
                       ("occupation.csv", 2, 3), ("relogements.csv", 2, 4)}  # fmt: skip
    assert all("autre territoire" in p["message"] for p in refused.json()["problems"])
    assert _count(db_url) == before
    # Its own rows, without territoire.yaml, conventions included: the territory is its own,
    # though the database now holds two.
    inside = tmp_path / "dedans"
    inside.mkdir()
    (inside / "attributions.csv").write_text(
        "\n".join([rows[0], rows[1].replace("15/02/2024", "16/02/2024")]) + "\n", encoding="utf-8"
    )
    (inside / "reservations.csv").write_text(
        "bailleur_siren;reservataire_id;mode;date_signature;motif_stock;part_flux\n"
        f"{B};AL;flux;01/01/2024;;10\n", encoding="utf-8")  # fmt: skip
    accepted = client.post("/api/imports", headers=headers,
                           files={"bundle": ("lot.zip", _zip(inside), "application/zip")})  # fmt: skip
    assert accepted.status_code == 201, accepted.text
    with engine.connect() as connection:
        batch = connection.execute(
            select(models.ImportBatch.epci_siren).order_by(models.ImportBatch.id.desc())
        ).scalar()
        conventions = connection.execute(
            select(models.ConventionReservation.epci_siren)
            .where(models.ConventionReservation.bailleur_siren == B,
                   models.ConventionReservation.date_signature == dt.date(2024, 1, 1))
        ).scalars().all()  # fmt: skip
    engine.dispose()
    assert batch == EPCI
    assert conventions == [EPCI], conventions


def test_the_cia_uploaded_in_the_web_is_the_one_mixite_check_applies(tmp_path: Path) -> None:
    import json
    import os
    import subprocess
    import sys

    url = f"sqlite:///{tmp_path / 'cia.db'}"
    client, tokens = _site(url, tmp_path)
    sign_in(client, "epci")
    token = csrf_of(client.get("/cia").text)
    for value in ("30 %", "35 %"):  # the newest version applies
        answer = client.post("/cia", data={"csrf_token": token, "epci": EPCI}, files={
            "fichier": ("cia.regles", CIA.format(valeur=value).encode(), "text/plain")})  # fmt: skip
        assert answer.status_code == 200, answer.text
    root = Path(__file__).resolve().parent.parent
    done = subprocess.run(
        [sys.executable, "-m", "checker", "check", "--db", url, "--year", "2024", "--format",
         "json"], capture_output=True, text=True, check=False, cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(root)},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    scope = {"bailleur": A, "epci": EPCI}
    by_check = [r for r in json.loads(done.stdout)["results"]
                if r["rule"] == "L441-1.Q1-HORS-QPV" and r["scope"] == scope]  # fmt: skip
    by_web = [r for r in client.get("/api/results?year=2024", headers={
        "Authorization": f"Bearer {tokens['epci']}"}).json()["results"]
        if r["rule"] == "L441-1.Q1-HORS-QPV" and r["scope"] == scope]  # fmt: skip
    assert len(by_check) == len(by_web) == 1
    assert by_check[0]["target"] == by_web[0]["target"] == 0.35
    assert by_check[0]["target_source"] == by_web[0]["target_source"] == "CIA-TEST"


def test_cia_upload_shows_the_database_diagnostics_of_mixite_check(
    db_url: str, tmp_path: Path
) -> None:
    """W505 (an engagement whose territory the database does not know) and E507 (a scope value
    it does not know) are found on upload as `mixite check` finds them, at their line: the
    warning is shown with the stored version, the error refuses it."""
    client, _ = _site(db_url, tmp_path)
    sign_in(client, "epci")
    token = csrf_of(client.get("/cia").text)

    def upload(text: str) -> tuple[int, str]:
        answer = client.post("/cia", data={"csrf_token": token, "epci": EPCI},
                             files={"fichier": ("cia.regles", text.encode(), "text/plain")})  # fmt: skip
        return answer.status_code, answer.text

    elsewhere = CIA.format(valeur="30 %") + CIA.format(valeur="20 %").replace(
        "CIA-TEST", "CIA-VOISINE"
    ).replace('territoire "910000009"', 'territoire "999999999"')
    status, page = upload(elsewhere)
    assert status == 200 and "Version n° 1 enregistrée" in page, page
    assert "Avertissements ci-dessous" in page
    assert "W505" in page and "territoire « 999999999 » absent de la base" in page
    assert 'id="ligne-9" class="signalee"' in page  # the engagement CIA-VOISINE, line 9
    unknown = CIA.format(valeur="30 %").replace('bailleur = "910000017"', 'bailleur = "999999998"')
    status, page = upload(unknown)
    assert status == 422 and "Version refusée" in page, page
    assert "E507" in page and "bailleur « 999999998 » inconnu de la base" in page
    assert 'id="ligne-7" class="signalee"' in page
    assert "/cia/910000009/2" not in client.get("/cia").text  # nothing stored


def test_a_receipt_recorded_in_the_web_attests_results_computed_on_the_content_it_digests(
    db_url: str, tmp_path: Path
) -> None:
    """The web keeps results by import (`data_digest`): after a value changed in the database
    without an import, a receipt recorded from those results would attest content they were not
    computed on. Recording a run (page « Exécutions », report download) evaluates again."""
    from sqlalchemy import text

    from checker import runs
    from checker.checking import evaluate
    from checker.evaluate.run import Options, Period
    from checker.report.json_report import results_block
    from checker.rulebook_loader import require_rules

    client, _ = _site(db_url, tmp_path)
    sign_in(client, "epci")
    first = client.get("/rapports/2024.json").json()  # results computed and kept
    engine = make_engine(db_url)
    with engine.begin() as connection:  # every household in the first quartile
        connection.execute(text("UPDATE attribution SET revenus_mensuels_centimes = 0"))
    token = csrf_of(client.get("/executions").text)
    recorded = client.post("/executions", data={"annee": "2024", "csrf_token": token},
                           follow_redirects=False)  # fmt: skip
    run_id = int(recorded.headers["location"].rsplit("/", 1)[1])
    downloaded = client.get("/rapports/2024.json").json()
    with engine.connect() as connection:
        fresh = runs.canonical(results_block(
            evaluate(connection, require_rules()[0], Period.year(2024), Options(), None)))  # fmt: skip
        content = runs.content_digest(connection)
        for stored in (runs.load_run(connection, run_id),
                       runs.load_run(connection, downloaded["receipt"]["run_id"])):  # fmt: skip
            assert stored is not None
            assert stored.results == fresh
            assert stored.content_digest == content
        assert runs.load_run(connection, first["receipt"]["run_id"]).results != fresh
    engine.dispose()
    assert downloaded["results"] != first["results"]


def test_recording_a_run_while_an_import_holds_the_sqlite_file_answers_busy_in_french(
    tmp_path: Path,
) -> None:
    import sqlite3

    url = f"sqlite:///{tmp_path / 'occupee.db'}"
    site, _ = _site(url, tmp_path)
    # As a browser sees it: the error page, not the exception re-raised into the test.
    client = TestClient(site.app, raise_server_exceptions=False)
    sign_in(client, "epci")
    token = csrf_of(client.get("/executions").text)
    writer = sqlite3.connect(tmp_path / "occupee.db", isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")  # the write lock, as an import running holds it
    try:
        answer = client.post("/executions", data={"annee": "2024", "csrf_token": token},
                             follow_redirects=False)  # fmt: skip
    finally:
        writer.execute("ROLLBACK")
    recorded = writer.execute("SELECT count(*) FROM run").fetchone()[0]
    writer.close()
    assert answer.status_code == 503
    assert "La base est occupée" in answer.text and "interne" not in answer.text
    assert recorded == 0


@pytest.mark.postgres
def test_a_run_recorded_in_the_web_reads_one_state_of_the_data(
    pg_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A value changed directly in the database (not an import, which the import digest
    catches) and committed while the web records a run, before the content digest is read:
    the run's results and content digest are both those of the data before the change, as
    with `mixite check` (one snapshot, which the digest's process joins)."""
    from sqlalchemy import text

    from checker import content_digest, runs
    from checker.checking import evaluate
    from checker.evaluate.run import Options, Period
    from checker.report.json_report import results_block
    from checker.rulebook_loader import require_rules

    client, _ = _site(pg_url, tmp_path)
    sign_in(client, "epci")
    engine = make_engine(pg_url)
    with engine.connect() as connection:
        before = runs.canonical(results_block(
            evaluate(connection, require_rules()[0], Period.year(2024), Options(), None)))  # fmt: skip
        content_before = runs.content_digest(connection)
    digest_alone = content_digest._server_process_digest

    def edit_then_digest(*arguments: object) -> str:
        with engine.begin() as connection:  # committed before the digest's process reads
            connection.execute(text("UPDATE attribution SET revenus_mensuels_centimes = 0"))
        return str(digest_alone(*arguments))

    monkeypatch.setattr(content_digest, "_server_process_digest", edit_then_digest)
    token = csrf_of(client.get("/executions").text)
    recorded = client.post("/executions", data={"annee": "2024", "csrf_token": token},
                           follow_redirects=False)  # fmt: skip
    run_id = int(recorded.headers["location"].rsplit("/", 1)[1])
    with engine.connect() as connection:
        stored = runs.load_run(connection, run_id)
        assert runs.content_digest(connection) != content_before  # the edit did land
    engine.dispose()
    assert stored is not None
    assert stored.results == before
    assert stored.content_digest == content_before
