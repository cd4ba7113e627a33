"""What `mixite import` tells its user: readable French messages, in the bundle's order."""

from __future__ import annotations

import csv
import datetime as dt
import io
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from rich.console import Console

from checker.cli import import_command
from checker.errors import DatabaseError
from checker.ingest.importer import ImportRefused, import_bundle
from checker.ingest.problems import ProblemLog
from checker.ingest.territory import load_territory
from tests.dbdump import content

UNREACHABLE_PG = "postgresql+psycopg://postgres@127.0.0.1:1/x?connect_timeout=2"


def _rewrite(path: Path, edit: Callable[[list[list[str]]], list[list[str]]]) -> None:
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle, delimiter=";"))
    rows = edit(rows)
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle, delimiter=";").writerows(rows)


def _set(
    column: str, value: str, line: int | None = None
) -> Callable[[list[list[str]]], list[list[str]]]:
    """An edit setting `column` to `value` on one line of the file (all data lines if None)."""

    def edit(rows: list[list[str]]) -> list[list[str]]:
        position = rows[0].index(column)
        for number, row in enumerate(rows[1:], start=2):
            if line is None or number == line:
                row[position] = value
        return rows

    return edit


def _refused(bundle: Path, url: str) -> list[str]:
    with pytest.raises(ImportRefused) as refused:
        import_bundle([bundle], url)
    return [problem.render() for problem in refused.value.problems]


# -- booleans ---------------------------------------------------------------------------------


def test_empty_optional_booleans_read_as_non(db_url: str, mini_bundle: Path) -> None:
    _rewrite(mini_bundle / "attributions.csv", _set("travailleur_essentiel", ""))
    _rewrite(mini_bundle / "caleol.csv", _set("designation_dalo", ""))
    import_bundle([mini_bundle], db_url)
    data = content(db_url)
    assert len(data["attribution"]) == 4
    assert len(data["caleol_examen"]) == 3


def test_empty_mutation_and_dalo_read_as_non(db_url: str, mini_bundle: Path) -> None:
    _rewrite(mini_bundle / "attributions.csv", _set("mutation", ""))
    _rewrite(mini_bundle / "attributions.csv", _set("dalo", ""))
    result = import_bundle([mini_bundle], db_url)
    assert result.counts["attributions"].added == 4


# -- amounts ----------------------------------------------------------------------------------


def test_an_ambiguous_amount_is_refused_with_its_two_readings(
    db_url: str, mini_bundle: Path
) -> None:
    _rewrite(mini_bundle / "attributions.csv", _set("revenus_mensuels", "1.500", line=2))
    rendered = _refused(mini_bundle, db_url)
    assert rendered == [
        "attributions.csv:2:16: revenus_mensuels : « 1.500 » est ambigu : écrivez 1500 ou 1,50"
    ]


# -- refused dwellings ------------------------------------------------------------------------


def test_rows_citing_a_refused_dwelling_are_not_reported_again(
    db_url: str, mini_bundle: Path
) -> None:
    # L000000001 is refused for its financing; L000000004 for its commune, unknown.
    _rewrite(mini_bundle / "logements.csv", _set("financement", "HLM", line=2))
    _rewrite(mini_bundle / "logements.csv", _set("commune_insee", "80999", line=5))
    _rewrite(mini_bundle / "attributions.csv", _set("rpls_id", "L000000099", line=3))
    rendered = _refused(mini_bundle, db_url)
    assert len(rendered) == 3, rendered
    assert rendered[0].startswith("logements.csv:2:5: financement : « HLM »")
    assert rendered[1].startswith("logements.csv:5:3: commune 80999 inconnue")
    assert rendered[2] == (
        "attributions.csv:3:3: logement « L000000099 » inconnu (absent de logements et de la base)"
    )


def test_problems_follow_the_order_of_the_bundle(db_url: str, mini_bundle: Path) -> None:
    _rewrite(mini_bundle / "caleol.csv", _set("rang", "zéro", line=2))
    _rewrite(mini_bundle / "attributions.csv", _set("nb_titulaires", "0", line=2))
    _rewrite(mini_bundle / "logements.csv", _set("surface", "-3", line=3))
    rendered = _refused(mini_bundle, db_url)
    assert [text.split(":")[0] for text in rendered] == [
        "logements.csv",
        "attributions.csv",
        "caleol.csv",
    ], rendered


# -- unreachable server -----------------------------------------------------------------------


def test_an_unreachable_server_is_a_database_error_naming_the_host(mini_bundle: Path) -> None:
    with pytest.raises(DatabaseError) as refused:
        import_bundle([mini_bundle], UNREACHABLE_PG)
    assert "127.0.0.1:1" in refused.value.message
    assert refused.value.hint
    assert "serveur" in refused.value.hint


def test_the_cli_reports_an_unreachable_server_without_internal_error(
    mini_bundle: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from checker.cli.app import main

    monkeypatch.setattr(sys, "argv", ["mixite", "import", str(mini_bundle), "--db", UNREACHABLE_PG])
    with pytest.raises(SystemExit) as exited:
        main()
    assert exited.value.code == DatabaseError.exit_code
    error = capsys.readouterr().err
    assert "Erreur interne" not in error
    assert "127.0.0.1" in error


# -- territoire.yaml --------------------------------------------------------------------------


def _territory(tmp_path: Path, text: str) -> tuple[object, list[str]]:
    path = tmp_path / "territoire.yaml"
    path.write_text(text, encoding="utf-8")
    problems = ProblemLog()
    spec, _ = load_territory(path, problems)
    return spec, [problem.render() for problem in problems.problems]


FRENCH_TERRITORY = """\
epci:
  siren: 910000009
  nom: Communauté de test
  nom_arrete: Communauté de test
  departement: 01
  region: Auvergne-Rhône-Alpes
  tenu_plh: oui
  competent_habitat: non
  cotation_adoptee_le: 29/06/2023
  cia_signee_le: ~
communes:
  - {insee: 01053, nom: Bourg-en-Bresse, zone_plafonds: autres_regions, zone_abc: B2}
  - {insee: 01004, nom: Ambérieu-en-Bugey, zone_plafonds: autres_regions, zone_abc: null}
qpv:
  - {code: QN00101M, nom: Les Vennes, communes: [01053], valide_du: 01/01/2024, valide_au: }
bailleurs:
  - {siren: 910000017, nom: Office de test}
"""


def test_territory_reads_french_dates_booleans_and_leading_zeros(tmp_path: Path) -> None:
    spec, rendered = _territory(tmp_path, FRENCH_TERRITORY)
    assert rendered == []
    assert spec is not None
    epci = spec.epci  # type: ignore[attr-defined]
    assert epci.departement == "01"
    assert (epci.tenu_plh, epci.competent_habitat) == (True, False)
    assert epci.cotation_adoptee_le == dt.date(2023, 6, 29)
    assert epci.cia_signee_le is None
    communes = spec.communes  # type: ignore[attr-defined]
    assert [commune.insee for commune in communes] == ["01053", "01004"]
    assert communes[1].zone_abc is None
    qpv = spec.qpv[0]  # type: ignore[attr-defined]
    assert (qpv.communes, qpv.valide_du, qpv.valide_au) == (["01053"], dt.date(2024, 1, 1), None)


def test_territory_messages_are_french_and_count_from_one(tmp_path: Path) -> None:
    text = (
        FRENCH_TERRITORY.replace("29/06/2023", "juin 2023")
        .replace("tenu_plh: oui", "tenu_plh: peut-être")
        .replace("insee: 01004", "insee: 1004")
        .replace("communes: [01053]", "communes: 01053")
    )
    spec, rendered = _territory(tmp_path, text)
    assert spec is None
    lines = text.splitlines()

    def line_of(fragment: str) -> int:
        return next(number for number, line in enumerate(lines, 1) if fragment in line)

    expected = {
        line_of("juin 2023"): "epci.cotation_adoptee_le : « juin 2023 » n'est pas une date",
        line_of("peut-être"): "epci.tenu_plh : « peut-être » n'est pas une valeur oui/non",
        line_of("insee: 1004"): "communes n° 2, insee : « 1004 » n'est pas un code commune",
        line_of("communes: 01053"): "qpv n° 1, communes : « 01053 » : une liste est attendue",
    }
    for line, message in expected.items():
        assert any(r.startswith(f"territoire.yaml:{line}:") and message in r for r in rendered), (
            message,
            rendered,
        )
    assert len(rendered) == len(expected), rendered
    assert not any("Input should" in r or "valid" in r for r in rendered), rendered


def test_territory_missing_and_unknown_keys_are_french(tmp_path: Path) -> None:
    text = FRENCH_TERRITORY.replace("  region: Auvergne-Rhône-Alpes\n", "  regoin: ARA\n")
    text = text.replace("bailleurs:\n  - {siren: 910000017, nom: Office de test}\n", "bailleurs:\n")
    _, rendered = _territory(tmp_path, text)
    assert any("epci.region : clé obligatoire absente" in r for r in rendered), rendered
    assert any("epci.regoin : clé inconnue" in r for r in rendered), rendered
    assert any("bailleurs : " in r and "au moins" in r for r in rendered), rendered
    assert not any("Input should" in r for r in rendered), rendered


def test_a_yaml_syntax_error_is_explained_in_french_without_pyyaml_text(
    tmp_path: Path,
) -> None:
    text = FRENCH_TERRITORY.replace("  nom: Communauté de test\n", "  nom: Communauté: de test\n")
    _, rendered = _territory(tmp_path, text)
    assert len(rendered) == 1, rendered
    assert rendered[0].startswith("territoire.yaml:3:")
    assert rendered[0].endswith(
        "structure YAML invalide : vérifiez l'indentation, les deux-points et les guillemets "
        "(deux-points inattendu : une valeur qui contient « : » s'écrit entre guillemets, ou "
        "l'indentation de cette ligne est décalée)"
    )
    assert "mapping values" not in rendered[0]


# -- small messages ---------------------------------------------------------------------------


def test_an_empty_household_number_has_no_empty_quotes(db_url: str, mini_bundle: Path) -> None:
    _rewrite(mini_bundle / "attributions.csv", _set("numero_unique", "", line=2))
    assert _refused(mini_bundle, db_url) == [
        "attributions.csv:2:1: numero_unique : valeur obligatoire manquante"
    ]


def test_caleol_accepts_the_aliases_shared_with_attributions(
    db_url: str, mini_bundle: Path
) -> None:
    def rename(rows: list[list[str]]) -> list[list[str]]:
        names = {
            "bailleur_siren": "SIREN du bailleur",
            "rpls_id": "RPLS",
            "numero_unique": "Num unique",
        }
        rows[0] = [names.get(name, name) for name in rows[0]]
        return rows

    _rewrite(mini_bundle / "caleol.csv", rename)
    result = import_bundle([mini_bundle], db_url)
    assert result.counts["examens CALEOL"].added == 3


def _printed(result: object, monkeypatch: pytest.MonkeyPatch) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    monkeypatch.setattr(import_command, "out", Console(file=out, width=200))
    monkeypatch.setattr(import_command, "err", Console(file=err, width=200))
    import_command._print_result(result)  # type: ignore[arg-type]
    return out.getvalue(), err.getvalue()


def test_the_summary_names_encodings_for_humans(
    mini_bundle: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    caleol = mini_bundle / "caleol.csv"
    caleol.write_bytes(b"\xef\xbb\xbf" + caleol.read_bytes())
    logements = mini_bundle / "logements.csv"
    lines = logements.read_text(encoding="utf-8").splitlines()
    lines = [lines[0] + ";Remarque", *(line + ";à revoir" for line in lines[1:])]
    logements.write_bytes("\n".join(lines).encode("cp1252"))
    result = import_bundle([mini_bundle], f"sqlite:///{tmp_path / 'm.db'}")
    printed, _ = _printed(result, monkeypatch)
    rows = {line.split("│")[1].strip(): line for line in printed.splitlines() if "│" in line}
    assert "UTF-8 (BOM)" in rows["caleol.csv"]
    assert "Windows-1252" in rows["logements.csv"]
    assert "UTF-8" in rows["attributions.csv"] and "BOM" not in rows["attributions.csv"]
    assert "utf-8-sig" not in printed and "cp1252" not in printed
    territoire = rows["territoire.yaml"].split("│")
    assert territoire[2].strip() == "—"
    assert rows["reservations.csv"].split("│")[2].strip() == "6"
    assert rows["baux.csv"].split("│")[2].strip() == "5"
    assert "conventions de réservation" in rows and "baux" in rows


def test_already_imported_time_is_paris_time(
    mini_bundle: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'm.db'}"
    import_bundle([mini_bundle], url, now=lambda: dt.datetime(2024, 7, 1, 8, 30, tzinfo=dt.UTC))
    again = import_bundle([mini_bundle], url)
    printed, _ = _printed(again, monkeypatch)
    assert "01/07/2024 à 10:30" in printed, printed


def test_the_key_creation_message_says_where_to_keep_it(
    mini_bundle: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = import_bundle([mini_bundle], f"sqlite:///{tmp_path / 'm.db'}")
    _, said = _printed(result, monkeypatch)
    said = " ".join(said.split())
    assert "copie" in said and "lieu sûr" in said, said
    assert "jamais" in said and "avec la base" in said, said


def test_refused_dwellings_are_known_to_the_reading_process_too(
    mini_bundle: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from checker.ingest import parsing

    monkeypatch.setattr(parsing, "WORKER_THRESHOLD_ROWS", 0)
    _rewrite(mini_bundle / "logements.csv", _set("surface", "grande", line=2))
    assert _refused(mini_bundle, f"sqlite:///{tmp_path / 'm.db'}") == [
        "logements.csv:2:7: surface : « grande » n'est pas un nombre"
    ]


def test_a_refused_dwellings_file_does_not_make_every_dwelling_unknown(
    mini_bundle: Path, tmp_path: Path
) -> None:
    _rewrite(mini_bundle / "logements.csv", lambda rows: [row[:4] + row[5:] for row in rows])
    rendered = _refused(mini_bundle, f"sqlite:///{tmp_path / 'm.db'}")
    assert len(rendered) == 1, rendered
    assert rendered[0].startswith("logements.csv: colonne(s) obligatoire(s) absente(s)")


def test_a_key_given_twice_in_the_territory_is_refused(tmp_path: Path) -> None:
    text = FRENCH_TERRITORY.replace("  region:", "  nom: Autre nom\n  region:")
    _, rendered = _territory(tmp_path, text)
    line = text.splitlines().index("  nom: Autre nom") + 1
    assert rendered == [f"territoire.yaml:{line}:3: epci : la clé « nom » est donnée deux fois"]


def test_excel_numbers_are_not_taken_for_ambiguous_text() -> None:
    """A numeric XLSX cell is exact: 45.125 m² must not be refused like the text "45.125"."""
    from checker.ingest.tabular import _cell_text
    from checker.ingest.values import parse_cents, parse_decimal

    assert parse_decimal(_cell_text(45.125)) == 45.125
    assert parse_cents(_cell_text(1.5)) == 150
    assert _cell_text(1500.0) == "1500"


def test_territory_zone_abc_is_read_in_any_spelling_and_checked(tmp_path: Path) -> None:
    spec, rendered = _territory(
        tmp_path, FRENCH_TERRITORY.replace("zone_abc: B2", "zone_abc: a bis")
    )
    assert rendered == []
    assert spec is not None
    assert spec.communes[0].zone_abc == "Abis"  # type: ignore[attr-defined]
    spec, rendered = _territory(tmp_path, FRENCH_TERRITORY.replace("zone_abc: B2", "zone_abc: B3"))
    assert spec is None
    assert any("« B3 » n'est pas une zone admise" in message for message in rendered)
