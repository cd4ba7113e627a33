"""A long list of the diagnostic (one entry per residence), each entry kept as compact JSON.

At national scale the diagnostic has one profile, one class and perhaps one entrants' entry
per residence: 250 000 of each. Held as Python dicts (a dict per profile, its shares, their
change, their gap to the EPCI) they took about 3 KB each; as the UTF-8 text of their compact
JSON, a fifth of that. An entry is decoded when read, so every reader (the renderings, the
web page, tests) sees the same dicts as before, and the JSON rendering writes the stored
text as it is.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from typing import Any, overload


class Rows(Sequence[dict[str, Any]]):
    """Entries appended once, then read (each read decodes a fresh dict)."""

    __slots__ = ("_texts",)

    def __init__(self, items: Sequence[dict[str, Any]] = ()) -> None:
        self._texts: list[bytes] = []
        for item in items:
            self.append(item)

    def append(self, item: dict[str, Any]) -> None:
        text = json.dumps(item, ensure_ascii=False, separators=(",", ":"))
        self._texts.append(text.encode("utf-8"))

    def texts(self) -> Iterator[str]:
        """Each entry as compact JSON text, in order."""
        for text in self._texts:
            yield text.decode("utf-8")

    def __len__(self) -> int:
        return len(self._texts)

    @overload
    def __getitem__(self, index: int) -> dict[str, Any]: ...

    @overload
    def __getitem__(self, index: slice) -> list[dict[str, Any]]: ...

    def __getitem__(self, index: int | slice) -> dict[str, Any] | list[dict[str, Any]]:
        if isinstance(index, slice):
            return [json.loads(text) for text in self._texts[index]]
        decoded: dict[str, Any] = json.loads(self._texts[index])
        return decoded

    def __iter__(self) -> Iterator[dict[str, Any]]:
        for text in self._texts:
            yield json.loads(text)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Sequence) and not isinstance(other, str | bytes):
            return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]  # mutable, like a list

    def __repr__(self) -> str:
        return f"Rows({len(self)} entrées)"
