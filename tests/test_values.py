import datetime as dt

import pytest

from checker.ingest import values


@pytest.mark.parametrize(
    ("raw", "cents"),
    [
        ("1234,50", 123450),
        ("1 234,50", 123450),
        ("1\u00a0234,5", 123450),
        ("1\u202f234 €", 123400),
        ("1.234,50", 123450),
        ("1234.5", 123450),
        ("0", 0),
        ("12,3456000", None),
        ("-10", -1000),
    ],
)
def test_amounts_in_the_french_way(raw: str, cents: int | None) -> None:
    if cents is None:
        with pytest.raises(ValueError, match="deux décimales"):
            values.parse_cents(raw)
    else:
        assert values.parse_cents(raw) == cents


@pytest.mark.parametrize("raw", ["abc", "1,2,3", "12 34,5x", ""])
def test_amounts_that_are_not(raw: str) -> None:
    with pytest.raises(ValueError):
        values.parse_cents(raw)


@pytest.mark.parametrize(
    ("raw", "hundredths"),
    [
        ("30", 3000),
        ("30 %", 3000),
        ("30\u00a0%", 3000),
        ("30%", 3000),
        ("30,5", 3050),
        ("30.5", 3050),
        ("12,25 %", 1225),
        ("0", 0),
        ("100", 10000),
        ("100,00", 10000),
    ],
)
def test_percentages_are_exact_hundredths(raw: str, hundredths: int) -> None:
    assert values.parse_percent(raw) == hundredths


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("120", "« 120 » : un pourcentage est compris entre 0 et 100"),
        ("100,01", "compris entre 0 et 100"),
        ("-1 %", "compris entre 0 et 100"),
        ("30,125", "plus de deux décimales : un pourcentage s'exprime au centième de point"),
        ("trente", "« trente » n'est pas un pourcentage"),
        ("%", "n'est pas un pourcentage"),
    ],
)
def test_percentages_that_are_not(raw: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        values.parse_percent(raw)


def test_dates_both_ways_and_impossible_ones() -> None:
    assert values.parse_date("05/03/2024") == dt.date(2024, 3, 5)
    assert values.parse_date("2024-03-05") == dt.date(2024, 3, 5)
    assert values.parse_date("2024-03-05 00:00:00") == dt.date(2024, 3, 5)
    with pytest.raises(ValueError, match="n'existe pas"):
        values.parse_date("31/02/2024")
    with pytest.raises(ValueError, match="JJ/MM/AAAA"):
        values.parse_date("03-05-2024")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("oui", True),
        ("Non", False),
        ("O", True),
        ("1", True),
        ("0", False),
        ("x", True),
        ("", False),
        ("VRAI", True),
        ("faux", False),
    ],
)
def test_booleans(raw: str, expected: bool) -> None:
    assert values.parse_bool(raw) is expected


def test_siren_check_digit() -> None:
    assert values.siren_is_valid("200046977")  # Métropole de Lyon
    assert not values.siren_is_valid("200046978")
    with pytest.raises(ValueError, match="clé de contrôle"):
        values.parse_siren("200046978")
    with pytest.raises(ValueError, match="9 chiffres"):
        values.parse_siren("20004697")
    assert values.parse_siren(" 200 046 977 ") == "200046977"


def test_choices_are_matched_without_case_or_accents() -> None:
    assert values.parse_choice("Non réservé", ("non_reserve",)) == "non_reserve"
    with pytest.raises(ValueError, match="valeurs admises"):
        values.parse_choice("préfecture", ("etat", "autre"))


def test_pseudonym_is_hmac_sha256() -> None:
    import hashlib
    import hmac

    from checker.ingest.pseudonym import PseudonymKey

    for secret in (b"k" * 16, b"x" * 64, b"y" * 100):
        key = PseudonymKey(secret, "test")
        expected = hmac.new(secret, b"0800124000001GUI01", hashlib.sha256).hexdigest()
        assert key.pseudonym(" 0800124000001gui01 ") == expected


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("1.500", "« 1.500 » est ambigu : écrivez 1500 ou 1,50"),
        ("12.000", "« 12.000 » est ambigu : écrivez 12000 ou 12,00"),
        ("-1.500", "« -1.500 » est ambigu : écrivez -1500 ou -1,50"),
        ("1.234.500", "« 1.234.500 » : le point ne sépare pas les milliers ; écrivez 1234500"),
    ],
)
def test_a_dot_before_three_digits_is_ambiguous(raw: str, message: str) -> None:
    with pytest.raises(ValueError) as refused:
        values.parse_cents(raw)
    assert str(refused.value).startswith(message)
    with pytest.raises(ValueError, match="écrivez"):
        values.parse_decimal(raw)


@pytest.mark.parametrize(
    ("raw", "cents"),
    [("1234.5", 123450), ("1.234,50", 123450), ("1 234,50", 123450), ("1.5", 150), ("0.500", 50)],
)
def test_unambiguous_decimal_points_still_work(raw: str, cents: int) -> None:
    assert values.parse_cents(raw) == cents


def test_an_empty_yes_no_cell_is_non_in_every_bool_field() -> None:
    from checker.ingest.columnar import ColumnValidator
    from checker.ingest.rows import AttributionRow, CaleolRow

    for model, fields in (
        (AttributionRow, ("mutation", "dalo", "travailleur_essentiel")),
        (CaleolRow, ("designation_dalo",)),
    ):
        validator = ColumnValidator(model)
        for name in fields:
            assert validator._parse(name, "") is False, (model.__name__, name)
            assert validator._parse(name, "x") is True
