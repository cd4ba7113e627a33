"""Listed records kept on disk while a full report is written.

At 500 000 attributions a full report lists about 700 000 records (about 1 KB each as Python
objects): held from `collect` to the end of the rendering, they were most of the process's
peak (939 MiB for the HTML, docs/dev/performance.md, « Listings of the full reports, second
pass »). Each record is pickled once, as it is listed, into the report's temporary file; a
listing holds in memory only the records the HTML shows, and the CSV and XLSX writers read
every record back, in order, a chunk at a time.

The temporary file is anonymous (`tempfile.TemporaryFile`: on POSIX it has no name from its
creation), so nothing is left on disk whether the report is written, fails or is killed; its
space is given back when the report's data are dropped.
"""

from __future__ import annotations

import io
import pickle
import tempfile
from collections.abc import Iterator
from typing import IO, Any

# Each listing's pickled records wait in memory up to this size before they are written: a
# report has up to a thousand listings, a few megabytes at most in all.
FLUSH_BYTES = 16 * 1024


def dumps(item: Any) -> bytes:
    """An item as it is spilled (pickled once, then added to every listing it belongs to)."""
    return pickle.dumps(item, protocol=pickle.HIGHEST_PROTOCOL)


class Spill:
    """One anonymous temporary file holding chunks of pickled items, read back by offset."""

    def __init__(self) -> None:
        self._file: IO[bytes] | None = None
        self._end = 0

    def write(self, data: bytes) -> tuple[int, int]:
        """Append `data`; its offset and length."""
        if self._file is None:  # created at the first chunk: most listings never spill
            # Kept open until the report is written (`close`), not for one block.
            self._file = tempfile.TemporaryFile(prefix="mixite-")  # noqa: SIM115
        self._file.seek(self._end)
        self._file.write(data)
        offset = self._end
        self._end += len(data)
        return offset, len(data)

    def read(self, offset: int, length: int) -> bytes:
        if self._file is None:
            raise ValueError("nothing was spilled")
        self._file.seek(offset)
        return self._file.read(length)

    @property
    def size(self) -> int:
        """Bytes written so far."""
        return self._end

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


class SpilledRows:
    """Items (a listing's records) in the order they were added, on disk but for the first
    `keep` (`head`) and the last few kilobytes not yet written. Read again as often as
    needed (the HTML, its CSV and the workbook of `mixite demo` read the same listings)."""

    def __init__(self, spill: Spill, keep: int = 0) -> None:
        self.spill = spill
        self.keep = keep
        self.head: list[Any] = []  # the first `keep` items, as they were added
        self.total = 0
        self._pending = bytearray()
        self._chunks: list[tuple[int, int]] = []

    def add(self, item: Any, pickled: bytes | None = None) -> None:
        """One more item; `pickled` is `dumps(item)` when the caller made it already."""
        self.total += 1
        if len(self.head) < self.keep:
            self.head.append(item)
        self._pending += dumps(item) if pickled is None else pickled
        if len(self._pending) >= FLUSH_BYTES:
            self.flush()

    def flush(self) -> None:
        if self._pending:
            self._chunks.append(self.spill.write(bytes(self._pending)))
            self._pending = bytearray()

    @property
    def held(self) -> int:
        """How many items are held in memory as objects (the head)."""
        return len(self.head)

    def __iter__(self) -> Iterator[Any]:
        for offset, length in self._chunks:
            yield from _load_all(self.spill.read(offset, length))
        yield from _load_all(bytes(self._pending))


def _load_all(data: bytes) -> Iterator[Any]:
    stream = io.BytesIO(data)
    while stream.tell() < len(data):
        yield pickle.load(stream)
