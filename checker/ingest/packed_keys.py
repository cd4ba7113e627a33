"""Natural keys of imported rows packed into bytes, to remember millions of them.

The importer remembers the line of every attribution and CALEOL row by its natural key, to
report a row seen twice with the line of the first (and, for attributions, to locate the
rehousing links). As tuples of (dwelling, 64-character pseudonym, date), that was about 300
bytes a row, most of a national import's memory (docs/dev/performance.md, « The import »).
Packed, a key is one bytes object: the pseudonym's 32 bytes, the day's ordinal in 3, then the
other text; the first two have a fixed width, so two packed keys are equal exactly when their
parts are.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from typing import Any

_PSEUDONYM_BYTES = 32
_DAY_BYTES = 3


def pack_key(menage: str, day: dt.date, text: str) -> bytes:
    """`menage` is a pseudonym (64 hexadecimal digits, `PseudonymKey.pseudonym`)."""
    return bytes.fromhex(menage) + day.toordinal().to_bytes(_DAY_BYTES, "big") + text.encode()


def unpack_key(packed: bytes) -> tuple[str, dt.date, str]:
    day = packed[_PSEUDONYM_BYTES : _PSEUDONYM_BYTES + _DAY_BYTES]
    return (
        packed[:_PSEUDONYM_BYTES].hex(),
        dt.date.fromordinal(int.from_bytes(day, "big")),
        packed[_PSEUDONYM_BYTES + _DAY_BYTES :].decode(),
    )


def _packable(menage: Any, day: Any) -> bool:
    if not (isinstance(menage, str) and len(menage) == 2 * _PSEUDONYM_BYTES):
        return False
    try:
        bytes.fromhex(menage)
    except ValueError:
        return False
    return isinstance(day, dt.date)


class AttributionLines(Mapping[tuple[Any, ...], int]):
    """The line of each attribution of a file by its key (rpls_id, menage, date_decision), as
    `rehousing_links` reads it, over the importer's packed dict."""

    def __init__(self, packed: dict[bytes, int]) -> None:
        self.packed = packed

    @staticmethod
    def pack(rpls_id: str, menage: str, day: dt.date) -> bytes:
        return pack_key(menage, day, rpls_id)

    def _packed(self, key: object) -> bytes | None:
        if not (isinstance(key, tuple) and len(key) == 3):
            return None
        rpls_id, menage, day = key
        if not (isinstance(rpls_id, str) and _packable(menage, day)):
            return None  # never the key of a row of the file: those are all packable
        return self.pack(rpls_id, menage, day)

    def __getitem__(self, key: tuple[Any, ...]) -> int:
        packed = self._packed(key)
        if packed is None:
            raise KeyError(key)
        return self.packed[packed]

    def __contains__(self, key: object) -> bool:
        packed = self._packed(key)
        return packed is not None and packed in self.packed

    def __iter__(self) -> Iterator[tuple[Any, ...]]:
        for packed in self.packed:
            menage, day, rpls_id = unpack_key(packed)
            yield rpls_id, menage, day

    def __len__(self) -> int:
        return len(self.packed)
