"""Fewer garbage collections while an import runs.

An import allocates millions of small containers (a list of cells per row, a tuple per
record) and holds large long-lived ones (the known dwellings, the keys seen so far). Python's
cyclic collector starts a young collection every 700 net allocations of containers, and the
older generations' collections walk the long-lived objects again and again: on 100 000
attributions that was about a fifth of the import's CPU (benchmarks/import_benchmark.py,
docs/dev/performance.md « The import »). The import creates almost no reference cycles (rows
are freed by reference counting), so it raises the young generation's threshold while it runs:
cycles are still collected, every 100 000 allocations instead of every 700. The reading
processes inherit the setting: their launcher is forked once it is set (importer.py).
"""

from __future__ import annotations

import contextlib
import gc
import threading
from collections.abc import Iterator

IMPORT_THRESHOLD = 100_000

_lock = threading.Lock()
_active = 0
_saved: tuple[int, int, int] | None = None


@contextlib.contextmanager
def fewer_collections() -> Iterator[None]:
    """Raise the collector's young threshold for the duration (imports may overlap in the
    web's threads: the first sets it, the last puts the saved thresholds back)."""
    global _active, _saved
    with _lock:
        if _active == 0:
            _saved = gc.get_threshold()
            young, *older = _saved
            gc.set_threshold(max(young, IMPORT_THRESHOLD), *older)
        _active += 1
    try:
        yield
    finally:
        with _lock:
            _active -= 1
            if _active == 0 and _saved is not None:
                gc.set_threshold(*_saved)
                _saved = None
