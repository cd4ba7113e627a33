"""Dates given on the command line: JJ/MM/AAAA, as everywhere else in mixite, or AAAA-MM-JJ."""

from __future__ import annotations

import datetime as dt
import re

from checker.errors import MixiteError

DATE_FORMS = "JJ/MM/AAAA ou AAAA-MM-JJ"
_FRENCH = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")
_ISO = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")


def parse_day(text: str, option: str) -> dt.date:
    """The day `text` names, or a French error naming the option."""
    value = text.strip()
    found = _FRENCH.match(value)
    parts: tuple[str, ...] | None = (
        (found.group(3), found.group(2), found.group(1)) if found else None
    )
    if parts is None and (iso := _ISO.match(value)):
        parts = iso.groups()
    try:
        if parts is None:
            raise ValueError
        return dt.date(int(parts[0]), int(parts[1]), int(parts[2]))
    except ValueError:
        raise MixiteError(
            f"{option} : date illisible « {text} ».", f"Formes acceptées : {DATE_FORMS}"
        ) from None
