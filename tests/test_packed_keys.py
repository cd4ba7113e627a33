"""Natural keys packed into bytes (checker/ingest/packed_keys.py): equal exactly when their
parts are, and read back through `AttributionLines` as the rehousing links ask for them."""

from __future__ import annotations

import datetime as dt
import itertools

from checker.ingest.packed_keys import AttributionLines, pack_key, unpack_key
from checker.ingest.pseudonym import PseudonymKey

_KEY = PseudonymKey(b"0123456789abcdef", "test")
_DAYS = (dt.date(2024, 1, 31), dt.date(2024, 2, 1), dt.date(1, 1, 1), dt.date(9999, 12, 31))
_TEXTS = ("L000000001", "L00000001", "", "é", "L000000001 ")
_MENAGES = tuple(_KEY.pseudonym(numero) for numero in ("A1", "A2"))


def test_packed_keys_are_equal_exactly_when_their_parts_are() -> None:
    parts = list(itertools.product(_MENAGES, _DAYS, _TEXTS))
    packed = {pack_key(*part): part for part in parts}
    assert len(packed) == len(parts)  # no two different keys pack the same
    for key, part in packed.items():
        assert unpack_key(key) == part
        assert pack_key(*part) == key


def test_attribution_lines_read_by_tuple() -> None:
    seen = {
        AttributionLines.pack("L000000001", _MENAGES[0], _DAYS[0]): 2,
        AttributionLines.pack("L000000002", _MENAGES[1], _DAYS[1]): 3,
    }
    lines = AttributionLines(seen)
    assert lines[("L000000001", _MENAGES[0], _DAYS[0])] == 2
    assert ("L000000002", _MENAGES[1], _DAYS[1]) in lines
    assert ("L000000002", _MENAGES[1], _DAYS[0]) not in lines
    assert ("L000000002", _MENAGES[0], _DAYS[1]) not in lines
    # keys that no row of a file can have: absent, not an error
    assert ("L000000001", "pas un pseudonyme", _DAYS[0]) not in lines
    assert ("L000000001", _MENAGES[0], "2024-01-31") not in lines
    assert lines.get(("L000000001", None, _DAYS[0])) is None
    assert dict(lines) == {
        ("L000000001", _MENAGES[0], _DAYS[0]): 2,
        ("L000000002", _MENAGES[1], _DAYS[1]): 3,
    }
    assert len(lines) == 2
