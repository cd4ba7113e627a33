"""A cache of checked rulebooks, so that a command does not parse and check the same rules again.

Parsing, checking and compiling every version of the national rulebook costs most of a second
of CPU, paid by every command before it does its own work. The result depends only on the rule
files (and the data tables and test files beside them), on the current directory (diagnostics
name files relative to it) and on mixite's own code; a digest of those is the cache key.

The cache lives in the user's cache directory (`$XDG_CACHE_HOME/mixite`, `~/.cache/mixite` by
default), created private to the user, one pickle per key. `MIXITE_CACHE=0` turns it off.
An entry that cannot be read (truncated, written by another version) is ignored and rebuilt:
the cache can only make a command faster, never change what it says.

Annotations of the type checker are keyed by the identity (`id`) of AST nodes, which pickling
does not preserve. The entry stores them as (node, value) pairs instead: pickle keeps one copy of
each object, so the nodes of the pairs are the very nodes of the unpickled rulebook, and their
new identities rebuild the keys.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import pickle
import tempfile
from collections.abc import Iterator, Sequence
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from checker.rulebook_loader import LoadedRules

# Bumped when the layout of an entry changes.
_FORMAT = b"mixite-rulebook-cache-1"
_KEPT_ENTRIES = 16
_CODE_PACKAGES = ("dsl", "checker")


def cache_dir() -> Path | None:
    if os.environ.get("MIXITE_CACHE", "").strip().lower() in {"0", "non", "no", "false"}:
        return None
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "mixite" / "regles"


@cache
def code_fingerprint() -> bytes:
    """Name, size and modification time of every source file of mixite's own code: a change of
    the language or of the checks invalidates every entry.

    Read once per process (three caches key on it; 3 ms each time): a process runs the code it
    loaded at its start, so that is the code its entries come from, even if a file changes
    under it."""
    sha = hashlib.sha256()
    root = Path(__file__).resolve().parent.parent
    for package in _CODE_PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            stat = path.stat()
            sha.update(f"{path.relative_to(root)}\0{stat.st_size}\0{stat.st_mtime_ns}\0".encode())
    return sha.digest()


def _files_under(path: Path) -> Iterator[Path]:
    if path.is_file():
        yield path
        return
    for found in sorted(path.rglob("*")):
        if found.is_file() and not any(part.startswith(".") or part == "__pycache__"
                                       for part in found.relative_to(path).parts):  # fmt: skip
            yield found


def cache_key(paths: Sequence[Path]) -> str | None:
    """The digest of everything the loaded rulebook depends on; None when a file cannot be read
    (the load will then say why)."""
    sha = hashlib.sha256(_FORMAT)
    sha.update(code_fingerprint())
    sha.update(str(Path.cwd().resolve()).encode() + b"\0")
    try:
        for path in paths:
            sha.update(
                b"path\0" + str(path).encode() + b"\0" + str(path.resolve()).encode() + b"\0"
            )
            for file in _files_under(path):
                sha.update(str(file.resolve()).encode() + b"\0")
                sha.update(hashlib.sha256(file.read_bytes()).digest())
    except OSError:
        return None
    return sha.hexdigest()


def _sources_unchanged(loaded: LoadedRules) -> bool:
    """Data tables may live outside the rule folders: each source the rulebook was built from
    must still read the same."""
    for name, text in loaded.sources.items():
        try:
            # Bytes decoded as read_utf8 does: read_text would translate line ends.
            if Path(name).read_bytes().decode("utf-8") != text:
                return False
        except (OSError, UnicodeDecodeError):
            return False
    return True


def _nodes_by_id(root: object) -> dict[int, object]:
    """Every object reachable from `root` through dataclass fields and containers, by id."""
    found: dict[int, object] = {}
    pending: list[object] = [root]
    while pending:
        item = pending.pop()
        if id(item) in found or isinstance(item, str | int | float | bytes | bool | type(None)):
            continue
        found[id(item)] = item
        if dataclasses.is_dataclass(item) and not isinstance(item, type):
            pending.extend(getattr(item, field.name) for field in dataclasses.fields(item))
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list | tuple | set | frozenset):
            pending.extend(item)
    return found


def _as_pairs(table: dict[int, Any], nodes: dict[int, object]) -> list[tuple[object, Any]] | None:
    if any(key not in nodes for key in table):
        return None  # an annotated node the rulebook no longer reaches: do not cache
    return [(nodes[key], value) for key, value in table.items()]


def _entry(loaded: LoadedRules) -> bytes | None:
    rulebook = loaded.rulebook
    if rulebook is None:
        return None
    annotations = rulebook.annotations
    bare = dataclasses.replace(rulebook, annotations=type(annotations)())
    carried = dataclasses.replace(loaded, rulebook=bare)
    nodes = _nodes_by_id(carried)
    tables = {
        "types": _as_pairs(annotations.types, nodes),
        "resolutions": _as_pairs(annotations.resolutions, nodes),
        "locals": _as_pairs(annotations.locals, nodes),
    }
    if any(pairs is None for pairs in tables.values()):
        return None
    try:
        return pickle.dumps((carried, tables), protocol=pickle.HIGHEST_PROTOCOL)
    except (pickle.PicklingError, TypeError, AttributeError):
        return None


def _from_entry(data: bytes, paths: Sequence[Path]) -> LoadedRules | None:
    try:
        carried, tables = pickle.loads(data)
    except Exception:
        return None
    annotations = carried.rulebook.annotations
    for name, pairs in tables.items():
        getattr(annotations, name).update((id(node), value) for node, value in pairs)
    restored: LoadedRules = dataclasses.replace(carried, paths=list(paths))
    return restored


def read(key: str, paths: Sequence[Path]) -> LoadedRules | None:
    directory = cache_dir()
    if directory is None:
        return None
    try:
        data = (directory / f"{key}.pickle").read_bytes()
    except OSError:
        return None
    loaded = _from_entry(data, paths)
    if loaded is None or not _sources_unchanged(loaded):
        return None
    return loaded


def write(key: str, loaded: LoadedRules) -> None:
    """Stores the entry; a cache that cannot be written (read-only home, full disk) is not an
    error: the next command checks the rules again."""
    directory = cache_dir()
    data = _entry(loaded)
    if directory is None or data is None:
        return
    try:
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        with tempfile.NamedTemporaryFile(dir=directory, suffix=".tmp", delete=False) as handle:
            handle.write(data)
        Path(handle.name).replace(directory / f"{key}.pickle")
        _prune(directory)
    except OSError:
        return


def _prune(directory: Path) -> None:
    entries = sorted(
        directory.glob("*.pickle"), key=lambda path: path.stat().st_mtime, reverse=True
    )
    for stale in entries[_KEPT_ENTRIES:]:
        stale.unlink(missing_ok=True)
