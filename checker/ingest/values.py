"""Parsing the values of exports made on French machines (Excel, SNE infocentre, local tools).

Each parser takes the raw cell text and returns a Python value or raises `ValueError` with a
French message; the caller adds the file, line and column.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata

_NBSP = ("\u00a0", "\u202f")
_AMOUNT = re.compile(r"^-?\d+(\.\d+)?$", re.ASCII)
_INTEGER = re.compile(r"^-?\d+$", re.ASCII)
_FR_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$", re.ASCII)
# "1.500": a dot before groups of three digits, no comma. Thousands (1500) or decimals (1,50)?
_DOTTED_GROUPS = re.compile(r"^-?[1-9]\d{0,2}(\.\d{3})+$")
_ISO_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:[ T]00:00(?::00)?)?$")

_TRUE = frozenset({"oui", "o", "1", "vrai", "true", "x", "yes", "y"})
_FALSE = frozenset({"non", "n", "0", "faux", "false", "no", ""})


def refuse_foreign_digits(raw: str) -> None:
    """Refuse digits other than 0-9 (full-width １２３, Arabic-Indic ٣…): Python reads them as
    numbers, but they come from a mistyped or converted cell and no export writes them."""
    if raw.isascii():
        return
    for char in raw:
        if char.isdigit() and not char.isascii():
            raise ValueError(
                f"« {raw.strip()} » contient un chiffre qui n'est pas 0 à 9 (« {char} », "
                "chiffre pleine chasse ou d'un autre alphabet) : retapez la valeur"
            )


_MAX_DIGITS = 30  # far beyond any value of a column; keeps int() away from huge texts


def _refuse_long_number(raw: str, text: str) -> None:
    if len(text) > _MAX_DIGITS:
        shown = raw.strip()
        shown = shown if len(shown) <= 40 else shown[:40] + "…"
        raise ValueError(f"« {shown} » : nombre trop long ({_MAX_DIGITS} chiffres au plus)")


def strip_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def parse_bool(raw: str) -> bool:
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ValueError(
        f"« {raw} » n'est pas une valeur oui/non (attendu : oui, non, 1, 0, x ou vide)"
    )


def _refuse_dotted_groups(raw: str, text: str) -> None:
    """Refuse "1.500" (1500 or 1,50?) rather than guess; "1.234,50" and "1234.5" are clear."""
    if not _DOTTED_GROUPS.match(text):
        return
    whole, _, fraction = text.partition(".")
    if "." in fraction:  # "1.234.500": can only be thousands, but dots do not group them here
        raise ValueError(
            f"« {raw} » : le point ne sépare pas les milliers ; "
            f"écrivez {text.replace('.', '')} ou {_grouped(text.replace('.', ''))}"
        )
    decimals = fraction.rstrip("0").ljust(2, "0")
    raise ValueError(f"« {raw} » est ambigu : écrivez {whole}{fraction} ou {whole},{decimals}")


def _grouped(digits: str) -> str:
    sign, digits = ("-", digits[1:]) if digits.startswith("-") else ("", digits)
    return sign + f"{int(digits):,}".replace(",", " ")


def _normalise_number(raw: str, whole_only: bool = False) -> str:
    text = raw.strip()
    for space in (*_NBSP, " "):
        text = text.replace(space, "")
    text = text.removesuffix("€")
    if "," in text:
        if "." in text:  # "1.234,50": the dot groups thousands
            text = text.replace(".", "")
        text = text.replace(",", ".")
    elif not whole_only:
        _refuse_dotted_groups(raw, text)
    return text


def parse_cents(raw: str) -> int:
    """An amount in euros ("1 234,50", "1234.5", "1 234 €") as integer cents."""
    # Fast path for the common shapes "1234" and "1234,5(0)": imports parse millions of these.
    whole, comma, fraction = raw.partition(",")
    if (
        whole.isdigit()
        and len(whole) <= _MAX_DIGITS
        and whole.isascii()
        and (not comma or (fraction.isdigit() and fraction.isascii() and len(fraction) <= 2))
    ):
        return int(whole) * 100 + (int(fraction.ljust(2, "0")) if comma else 0)
    refuse_foreign_digits(raw)
    text = _normalise_number(raw)
    if not _AMOUNT.match(text):
        raise ValueError(f"« {raw} » n'est pas un montant en euros")
    return _hundredths(raw, text, "un montant s'exprime au centime")


def _hundredths(raw: str, text: str, unit: str) -> int:
    """A normalised number ("-12.5") in hundredths, exactly; more than two decimals refused."""
    _refuse_long_number(raw, text)
    whole, _, fraction = text.partition(".")
    if len(fraction) > 2 and set(fraction[2:]) != {"0"}:
        raise ValueError(f"« {raw} » a plus de deux décimales : {unit}")
    negative = whole.startswith("-")
    hundredths = abs(int(whole)) * 100 + int((fraction + "00")[:2])
    return -hundredths if negative else hundredths


def parse_percent(raw: str) -> int:
    """A percentage from 0 to 100 ("30", "30 %", "30,5") in hundredths of a point: 30,5 → 3050.

    Integer hundredths, like cents, keep sums and comparisons of shares exact everywhere.
    """
    refuse_foreign_digits(raw)
    text = _normalise_number(raw.strip().removesuffix("%"))
    if not _AMOUNT.match(text):
        raise ValueError(f"« {raw} » n'est pas un pourcentage (par exemple 30, 30 % ou 30,5)")
    hundredths = _hundredths(raw, text, "un pourcentage s'exprime au centième de point")
    if not 0 <= hundredths <= 100_00:
        raise ValueError(f"« {raw} » : un pourcentage est compris entre 0 et 100")
    return hundredths


def parse_decimal(raw: str) -> float:
    refuse_foreign_digits(raw)
    text = _normalise_number(raw)
    if not _AMOUNT.match(text):
        raise ValueError(f"« {raw} » n'est pas un nombre")
    _refuse_long_number(raw, text)
    return float(text)


def parse_int(raw: str) -> int:
    refuse_foreign_digits(raw)
    text = _normalise_number(raw, whole_only=True)
    if text.endswith(".0"):  # Excel writes whole numbers as floats
        text = text[:-2]
    if not _INTEGER.match(text):
        raise ValueError(f"« {raw} » n'est pas un nombre entier")
    _refuse_long_number(raw, text)
    return int(text)


def parse_date(raw: str) -> dt.date:
    refuse_foreign_digits(raw)
    text = raw.strip()
    match = _FR_DATE.match(text)
    if match:
        day, month, year = (int(group) for group in match.groups())
    else:
        match = _ISO_DATE.match(text)
        if not match:
            raise ValueError(f"« {raw} » n'est pas une date (attendu JJ/MM/AAAA ou AAAA-MM-JJ)")
        year, month, day = (int(group) for group in match.groups())
    try:
        return dt.date(year, month, day)
    except ValueError:
        raise ValueError(f"la date « {raw} » n'existe pas") from None


def siren_is_valid(siren: str) -> bool:
    """9 digits with a valid Luhn check digit (the rule INSEE applies to SIREN numbers)."""
    if len(siren) != 9 or not siren.isdigit():
        return False
    total = 0
    for position, char in enumerate(reversed(siren)):
        digit = int(char)
        if position % 2 == 1:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return total % 10 == 0


def parse_siren(raw: str) -> str:
    refuse_foreign_digits(raw)
    text = raw.strip().replace(" ", "")
    for space in _NBSP:
        text = text.replace(space, "")
    if len(text) != 9 or not text.isdigit():
        raise ValueError(f"« {raw} » n'est pas un SIREN (9 chiffres attendus)")
    if not siren_is_valid(text):
        raise ValueError(f"le SIREN « {raw} » a une clé de contrôle invalide (faute de frappe ?)")
    return text


def parse_insee(raw: str) -> str:
    """A commune's INSEE code: 5 digits, or 2A/2B and 3 digits in Corsica."""
    refuse_foreign_digits(raw)
    code = raw.strip().upper()
    if len(code) != 5 or not (code.isdigit() or (code[:2] in ("2A", "2B") and code[2:].isdigit())):
        raise ValueError(f"« {raw} » n'est pas un code commune INSEE (5 caractères)")
    return code


def parse_departement(raw: str) -> str:
    """A département code: 2 characters (01, 69, 2A, 2B), or 3 digits overseas (971…976)."""
    refuse_foreign_digits(raw)
    code = raw.strip().upper()
    if not re.match(r"^(\d{2}|2[AB]|97\d)$", code) or code in ("00", "20"):
        raise ValueError(
            f"« {raw} » n'est pas un code de département (01, 69, 2A… ; 971 à 976 outre-mer)"
        )
    return code


def parse_choice(raw: str, choices: tuple[str, ...], aliases: dict[str, str] | None = None) -> str:
    key = strip_accents(raw.strip()).lower().replace(" ", "_").replace("-", "_")
    lookup = {choice.lower(): choice for choice in choices}
    if aliases:
        lookup.update(aliases)
    if key in lookup:
        return lookup[key]
    listed = ", ".join(choices)
    raise ValueError(f"« {raw} » n'est pas une valeur admise (valeurs admises : {listed})")
