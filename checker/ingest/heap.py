"""Giving the memory freed by one file of an import back to the system before the next.

Reading a large file allocates and frees hundreds of megabytes (chunks of rows, the keys seen,
the database's sorts when its indexes are built). Python's allocator frees its arenas only
when they are wholly empty, and glibc's `malloc` keeps freed blocks (and raises its threshold
for `mmap`, so later large blocks come from its heap too): the process stays at its largest
size of any earlier file, and the reading process forked for the next file starts at that size,
since a forked process's resident size counts the pages it shares with its parent
(docs/dev/performance.md, « Memory »). Between files the importer asks glibc to give its free
pages back (`malloc_trim`); elsewhere (macOS, musl) nothing is done.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys
from collections.abc import Callable
from functools import cache


@cache
def _malloc_trim() -> Callable[[int], int] | None:
    """glibc's `malloc_trim`, or None where the C library has none."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        trim: Callable[[int], int] = libc.malloc_trim
    except (OSError, AttributeError):  # not glibc (musl), or no C library found
        return None
    trim.argtypes = [ctypes.c_size_t]  # type: ignore[attr-defined]
    trim.restype = ctypes.c_int  # type: ignore[attr-defined]
    return trim


def release_free_memory() -> bool:
    """Return the C heap's free pages to the system; whether it could be asked to."""
    trim = _malloc_trim()
    if trim is None:
        return False
    trim(0)
    return True
