"""residences.csv, occupation.csv and relogements.csv, and the residence of a dwelling: the
same bar as the other files of a bundle (located French messages, all or nothing, idempotent,
history, pseudonyms with the attributions' key)."""

from __future__ import annotations

import csv
import datetime as dt
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from checker.ingest.importer import ImportRefused, import_bundle
from checker.ingest.pseudonym import load_key
from tests.conftest import DATA
from tests.dbdump import content
from tests.test_import import _state

Edit = Callable[[list[list[str]]], list[list[str]]]


@pytest.fixture
def bundle(tmp_path: Path) -> Path:
    """The mini bundle with residences, OPS surveys and rehousing (its dwellings replaced by
    the same dwellings with their residence)."""
    target = tmp_path / "lot"
    shutil.copytree(DATA / "mini", target)
    for path in (DATA / "peuplement").iterdir():
        shutil.copy(path, target / path.name)
    return target


def _rewrite(path: Path, edit: Edit) -> None:
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle, delimiter=";"))
    rows = edit(rows)
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle, delimiter=";").writerows(rows)


def _cell(line: int, column: str, value: str) -> Edit:
    def edit(rows: list[list[str]]) -> list[list[str]]:
        rows[line - 1][rows[0].index(column)] = value
        return rows

    return edit


def test_residences_surveys_and_rehousing_are_stored(db_url: str, bundle: Path) -> None:
    result = import_bundle([bundle], db_url)
    assert result.counts["résidences"].added == 3
    assert result.counts["enquêtes d'occupation"].added == 3
    assert result.counts["relogements"].added == 3
    data = content(db_url)
    residences = {row[1]: row for row in data["residence"]}
    assert residences["TIL"] == (
        "910000017", "TIL", "Résidence des Tilleuls", "80901", "QN08001M",
        dt.date(1972, 9, 1), "tres_fragile", "ANRU-TIL",
    )  # fmt: skip
    assert residences["VER"][4:] == ("", dt.date(2021, 6, 15), None, None)
    from checker.db.models import Logement

    at = list(Logement.__table__.columns.keys()).index("residence_id")
    dwellings = {row[0]: row for row in data["logement"]}
    assert dwellings["L000000001"][at] == "TIL"
    assert dwellings["L000000004"][at] is None
    surveys = {(row[1], row[2]): row for row in data["occupation"]}
    assert surveys[("TIL", 2024)][3:6] == (84, 35, 24)
    assert surveys[("TIL", 2022)][-1] == 9
    key = load_key(db_url, create=False)
    rehousing = {row[1]: row for row in data["relogement"]}
    first = rehousing[key.pseudonym("M-0001")]
    assert first == (
        "ANRU-TIL", key.pseudonym("M-0001"), "910000017", "L000000001", dt.date(2022, 3, 1),
        "reloge_definitif", dt.date(2024, 3, 20), "L000000002",
        key.pseudonym("080012400000002GUI01"), 52000, 61050, 21000, 26000, 65.5, 48.0,
    )  # fmt: skip
    # The household rehoused through an attribution is the same pseudonym in both tables.
    assert first[8] in {row[0] for row in data["attribution"]}
    waiting = rehousing[key.pseudonym("M-0003")]
    assert waiting[5:9] == ("a_reloger", None, None, None)
    # No identifier is stored in clear.
    flat = repr(data)
    assert "M-0001" not in flat and "080012400000002GUI01" not in flat


def test_a_second_import_is_idempotent_and_a_later_extract_keeps_history(
    db_url: str, bundle: Path, tmp_path: Path
) -> None:
    first = tmp_path / "premier"
    shutil.copytree(bundle, first)
    import_bundle([first], db_url)
    before = content(db_url)

    def rehoused(rows: list[list[str]]) -> list[list[str]]:
        rows[3][5:8] = ["reloge_definitif", "02/02/2025", "L000000003"]
        return rows

    _rewrite(bundle / "relogements.csv", rehoused)
    _rewrite(bundle / "occupation.csv", lambda rows: rows[:-1])  # the 2024 MOU row left out
    result = import_bundle([bundle], db_url)
    counts = {label: (c.added, c.replaced, c.unchanged) for label, c in result.counts.items()}
    assert counts["relogements"] == (0, 1, 2)
    assert counts["enquêtes d'occupation"] == (0, 0, 2)
    assert counts["résidences"] == (0, 0, 3)
    after = content(db_url)
    assert after["occupation"] == before["occupation"]  # a row missing from an extract stays
    assert after["residence"] == before["residence"]
    assert sorted(row[5] for row in after["relogement"]) == [
        "reloge_definitif", "reloge_definitif", "reloge_temporaire",
    ]  # fmt: skip


def test_bad_rows_each_get_a_located_french_message_and_nothing_changes(
    db_url: str, bundle: Path, tmp_path: Path
) -> None:
    first = tmp_path / "premier"
    shutil.copytree(bundle, first)
    import_bundle([first], db_url)
    before = _state(db_url)
    _rewrite(bundle / "residences.csv", _cell(3, "commune_insee", "80999"))
    _rewrite(bundle / "logements.csv", _cell(5, "residence_id", "TIL"))
    _rewrite(bundle / "occupation.csv", _cell(2, "familles_monoparentales", "81"))
    _rewrite(bundle / "occupation.csv", _cell(3, "annee_enquete", "2099"))
    _rewrite(bundle / "relogements.csv", _cell(2, "date_relogement", ""))
    _rewrite(bundle / "relogements.csv", _cell(3, "rpls_id_destination", "L000000099"))
    with pytest.raises(ImportRefused) as refused:
        import_bundle([bundle], db_url)
    assert [problem.render() for problem in refused.value.problems] == [
        "residences.csv:3:4: commune 80999 inconnue (absente de territoire.yaml et de la base)",
        "logements.csv:5:9: la résidence « TIL » appartient au bailleur 910000017, pas à 910000025",
        "occupation.csv:2:10: 81 ménages pour 80 répondants : un effectif ne peut dépasser le "
        "nombre de ménages ayant répondu",
        "occupation.csv:3:1: enquête 2099 : cette année n'est pas encore venue",
        "relogements.csv:2:7: statut reloge_definitif : la date de relogement est obligatoire",
        "relogements.csv:3:8: logement « L000000099 » inconnu (absent de logements et de la base)",
    ]
    assert _state(db_url) == before


@pytest.mark.parametrize(
    ("file", "edit", "expected"),
    [
        (
            "residences.csv",
            lambda rows: [*rows, rows[1]],
            "residences.csv:5:1: même résidence (bailleur, code) que la ligne 2",
        ),
        (
            "residences.csv",
            _cell(4, "qpv_code", "QN08001M"),
            "residences.csv:4:5: le QPV QN08001M n'est pas déclaré sur la commune 80902",
        ),
        (
            "residences.csv",
            _cell(2, "date_mise_en_service", "1972"),
            "residences.csv:2:6: date_mise_en_service : « 1972 » n'est pas une date (attendu "
            "JJ/MM/AAAA ou AAAA-MM-JJ)",
        ),
        (
            "logements.csv",
            _cell(3, "residence_id", "BLEUETS"),
            "logements.csv:3:9: résidence « BLEUETS » du bailleur 910000017 inconnue (absente "
            "de residences et de la base)",
        ),
        (
            "occupation.csv",
            _cell(4, "residence_id", "VER"),
            "occupation.csv:4:3: la résidence « VER » appartient au bailleur 910000017, pas à "
            "910000025",
        ),
        (
            "occupation.csv",
            _cell(4, "ressources_60_100", "20"),
            "occupation.csv:4:5: les tranches de ressources totalisent 51 ménages pour 40 "
            "répondants",
        ),
        (
            "occupation.csv",
            _cell(4, "personnes_seules", "-2"),
            "occupation.csv:4:11: personnes_seules : « -2 » : doit être supérieur ou égal à 0",
        ),
        (
            "occupation.csv",
            lambda rows: [*rows, rows[1]],
            "occupation.csv:5:1: même résidence et même enquête que la ligne 2",
        ),
        (
            "relogements.csv",
            _cell(2, "rpls_id_destination", ""),
            "relogements.csv:2:8: statut reloge_definitif : le logement de destination est "
            "obligatoire",
        ),
        (
            "relogements.csv",
            _cell(4, "date_relogement", "01/01/2024"),
            "relogements.csv:4:6: statut a_reloger, mais une date ou un logement de relogement "
            "est donné : indiquez reloge_definitif ou reloge_temporaire",
        ),
        (
            "relogements.csv",
            _cell(2, "date_relogement", "01/01/2021"),
            "relogements.csv:2:7: le relogement (01/01/2021) serait antérieur à l'entrée dans "
            "l'opération (01/03/2022)",
        ),
        (
            "relogements.csv",
            _cell(2, "bailleur_siren", "910000025"),
            "relogements.csv:2:3: le logement L000000001 appartient au bailleur 910000017, pas "
            "à 910000025",
        ),
        (
            "relogements.csv",
            _cell(3, "statut", "parti"),
            "relogements.csv:3:6: statut : « parti » n'est pas une valeur admise (valeurs "
            "admises : a_reloger, reloge_definitif, reloge_temporaire, sorti_parc_social, "
            "autre_sortie)",
        ),
        (
            "relogements.csv",
            _cell(3, "menage_id", " m-0001 "),
            "relogements.csv:3:2: même ménage dans la même opération que la ligne 2",
        ),
    ],
    ids=[
        "duplicate-residence",
        "residence-qpv-elsewhere",
        "bad-date",
        "unknown-residence",
        "residence-of-another-bailleur",
        "brackets-above-respondents",
        "negative-count",
        "duplicate-survey",
        "rehoused-without-destination",
        "waiting-with-date",
        "rehoused-before-entry",
        "origin-of-another-bailleur",
        "unknown-status",
        "duplicate-household",
    ],
)
def test_other_inconsistencies_are_located(
    bundle: Path, tmp_path: Path, file: str, edit: Edit, expected: str
) -> None:
    _rewrite(bundle / file, edit)
    url = f"sqlite:///{tmp_path / 'm.db'}"
    with pytest.raises(ImportRefused) as refused:
        import_bundle([bundle], url)
    assert [problem.render() for problem in refused.value.problems] == [expected]
    assert not (tmp_path / "m.db").exists()


def test_rows_citing_a_refused_residence_are_not_reported_again(
    bundle: Path, tmp_path: Path
) -> None:
    _rewrite(bundle / "residences.csv", _cell(2, "bailleur_siren", "910000033"))
    with pytest.raises(ImportRefused) as refused:
        import_bundle([bundle], f"sqlite:///{tmp_path / 'm.db'}")
    rendered = [problem.render() for problem in refused.value.problems]
    assert rendered == [
        "residences.csv:2:2: bailleur 910000033 inconnu (absent de territoire.yaml et de la base)"
    ]


def test_an_xlsx_residences_file_with_aliases_is_read(bundle: Path, tmp_path: Path) -> None:
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["Code programme", "SIREN bailleur", "Nom de la résidence", "Code INSEE",
                  "QPV", "Date de mise en service", "Classe", "Opération ANRU"])  # fmt: skip
    sheet.append(["TIL", "910000017", "Résidence des Tilleuls", "80901", "QN08001M",
                  dt.datetime(1972, 9, 1), "très fragile", "ANRU-TIL"])  # fmt: skip
    sheet.append(["VER", "910000017", "Les Vergers", "80901", None, dt.datetime(2021, 6, 15)])
    sheet.append(["MOU", "910000025", "Le Moulin", "80902", "QP080099",
                  dt.datetime(1965, 3, 1), "Fragile"])  # fmt: skip
    (bundle / "residences.csv").unlink()
    workbook.save(bundle / "residences.xlsx")
    url = f"sqlite:///{tmp_path / 'm.db'}"
    import_bundle([bundle], url)
    classes = {row[1]: row[6] for row in content(url)["residence"]}
    assert classes == {"TIL": "tres_fragile", "VER": None, "MOU": "fragile"}


# The same household in both files: relogements.csv line 2 is rehoused through the attribution
# of attributions.csv line 3 (same numéro unique, dwelling L000000002, marked anru).
@pytest.mark.parametrize(
    ("file", "edit", "expected"),
    [
        (
            "relogements.csv",
            _cell(2, "numero_unique", "080012400000009GUI01"),
            "relogements.csv:2:9: relogé le 20/03/2024 par une attribution (numéro unique "
            "renseigné), mais aucune attribution de ce ménage n'est connue, ni dans "
            "attributions.csv ni dans la base, alors que les attributions connues du bailleur "
            "910000017 couvrent la période du 02/02/2024 au 20/03/2024",
        ),
        (
            "relogements.csv",
            _cell(2, "numero_unique", "080012400000001GUI01"),
            "relogements.csv:2:8: le ménage de ce numéro unique a reçu en attribution le "
            "logement L000000001 (décision du 02/02/2024), pas le logement de destination "
            "L000000002",
        ),
        (
            "relogements.csv",
            _cell(2, "date_relogement", "01/03/2024"),
            "relogements.csv:2:7: relogé le 01/03/2024 dans le logement L000000002, avant la "
            "décision qui le lui attribue (05/03/2024)",
        ),
        (
            "attributions.csv",
            _cell(3, "relogement", ""),
            "attributions.csv:3:11: aucun relogement, alors que ce ménage est relogé dans ce "
            "logement au titre de l'opération NPNRU ANRU-TIL (relogements.csv, ligne 2) : "
            "indiquez anru",
        ),
        (
            "attributions.csv",
            _cell(3, "relogement", "orcod"),
            "attributions.csv:3:11: relogement orcod, alors que ce ménage est relogé dans ce "
            "logement au titre de l'opération NPNRU ANRU-TIL (relogements.csv, ligne 2) : "
            "indiquez anru",
        ),
    ],
    ids=["no-attribution", "other-dwelling", "before-decision", "not-marked", "marked-orcod"],
)
def test_a_household_rehoused_through_an_attribution_is_the_same_in_both_files(
    bundle: Path, tmp_path: Path, file: str, edit: Edit, expected: str
) -> None:
    _rewrite(bundle / file, edit)
    url = f"sqlite:///{tmp_path / 'm.db'}"
    with pytest.raises(ImportRefused) as refused:
        import_bundle([bundle], url)
    assert [problem.render() for problem in refused.value.problems] == [expected]
    assert not (tmp_path / "m.db").exists()


def test_a_rehousing_outside_the_attributions_period_is_not_looked_for(
    bundle: Path, tmp_path: Path
) -> None:
    """Rehoused after every attribution and lease known for the destination's bailleur: its
    attribution is in a year not imported, not missing."""
    _rewrite(bundle / "relogements.csv", _cell(2, "numero_unique", "080012400000009GUI01"))
    _rewrite(bundle / "relogements.csv", _cell(2, "date_relogement", "21/03/2024"))
    result = import_bundle([bundle], f"sqlite:///{tmp_path / 'm.db'}")
    assert result.counts["relogements"].added == 3
    # The attribution marked anru is now linked to no rehoused household: reported, accepted.
    assert result.notices == [
        "attributions.csv : 1 attribution(s) marquée(s) relogement anru sans ménage relogé "
        "correspondant dans les relogements NPNRU (même numéro unique, même logement, relogé "
        "après la décision) : ligne(s) 3. Elles comptent parmi les relogés ; si le ménage vient "
        "d'une opération suivie par le territoire, complétez son numéro unique dans "
        "relogements.csv."
    ]


def test_linked_files_import_without_notice(bundle: Path, tmp_path: Path) -> None:
    result = import_bundle([bundle], f"sqlite:///{tmp_path / 'm.db'}")
    assert result.notices == []


def test_a_contradiction_with_an_attribution_already_stored_refuses_and_changes_nothing(
    db_url: str, bundle: Path, tmp_path: Path
) -> None:
    """The attribution came in an earlier import, unmarked; the rehousing file now says the
    household was rehoused through it (both backends)."""
    first = tmp_path / "premier"
    shutil.copytree(bundle, first)
    (first / "relogements.csv").unlink()
    _rewrite(first / "attributions.csv", _cell(3, "relogement", ""))
    import_bundle([first], db_url)
    before = _state(db_url)
    with pytest.raises(ImportRefused) as refused:
        import_bundle([bundle / "relogements.csv"], db_url)
    assert [problem.render() for problem in refused.value.problems] == [
        "relogements.csv:2:9: l'attribution de ce ménage sur le logement L000000002 (décision "
        "du 05/03/2024), déjà importée, porte « aucun relogement » et non relogement anru"
    ]
    assert _state(db_url) == before
