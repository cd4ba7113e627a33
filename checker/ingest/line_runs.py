"""The lines of a file's rows, in order, kept as runs of consecutive lines.

The first-load path (first_load.py) and a first import's dwellings and residences
(`reference.Described`) keep the line of every row they write, to report a repeated key with
the line of its first row. In an array that was 4 bytes a row, and the part of the import's
memory that still grew with the bundle: 12 MiB for the 3 million CALEOL rows of a
1 000 000-attribution bundle, 4 MiB for its attributions (docs/dev/performance.md,
« Memory »). But the rows written along those paths are the rows of the file in order (a row
with a problem ends the path), and a file's rows are on consecutive lines, but for blank lines
and quoted cells holding line breaks: a run of lines that follow each other is kept as its first
position and its first line, so a clean file is one run, whatever its size.
"""

from __future__ import annotations

from array import array
from bisect import bisect_right
from collections.abc import Iterator


class LineRuns:
    """A sequence of line numbers (`append`, `len`, `[position]`, iteration), stored as runs."""

    def __init__(self) -> None:
        self._starts = array("Q")  # the position of each run's first line, increasing
        self._lines = array("Q")  # each run's first line
        self._count = 0
        self._next: int | None = None  # the line that would extend the last run

    def append(self, line: int) -> None:
        if line != self._next:
            self._starts.append(self._count)
            self._lines.append(line)
        self._count += 1
        self._next = line + 1

    def __len__(self) -> int:
        return self._count

    def __getitem__(self, position: int) -> int:
        if not 0 <= position < self._count:
            raise IndexError(position)
        run = bisect_right(self._starts, position) - 1
        return self._lines[run] + position - self._starts[run]

    def __iter__(self) -> Iterator[int]:
        if not self._count:
            return
        ends = [*self._starts[1:], self._count]
        for start, end, line in zip(self._starts, ends, self._lines, strict=True):
            yield from range(line, line + end - start)

    @property
    def runs(self) -> int:
        """How many runs the lines make (what the memory grows with)."""
        return len(self._starts)
