"""mixite's tables as SQLAlchemy Core `Table`s, for the code that only builds statements on them.

The evaluator reads the database through statements on the tables; it needs none of the ORM's
mapped classes. Importing `checker.db.models` for its tables builds the ORM too (sqlalchemy.orm
and two dozen declarative classes: about 0.13 s of CPU, a sixth of `mixite rules test --regle`,
paid by every command that evaluates rules). The tables' `MetaData` is therefore kept pickled
in the user's cache directory beside the rulebook cache, keyed by mixite's code (the models
included), SQLAlchemy's and Python's versions, and read from there (a few milliseconds) while
the models are not imported. A process that has imported the models uses their own tables.

The tables read from the cache are equal to the models' (same names, columns and types), so a
statement built on them has the same SQL; an entry that cannot be read is ignored and the
models imported: the cache can make a command faster, never change what it does.
"""

from __future__ import annotations

import hashlib
import pickle
import sys
import tempfile
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlalchemy import MetaData, Table

# Bumped when what an entry holds or its key is made of changes.
_FORMAT = b"mixite-tables-1"
_KEPT_ENTRIES = 4


def table(name: str) -> Table:
    """The table `name` of mixite's schema (`attribution`, `logement`…)."""
    return metadata().tables[name]


@cache
def metadata() -> MetaData:
    """The schema's tables, from the models when they are imported, else from the cache.

    Chosen once per process: the statements a process builds and keeps (see
    `checker.evaluate.run.statement_memo`) are all built on the same tables.
    """
    if "checker.db.models" in sys.modules:
        from checker.db import models

        return models.Base.metadata
    cached = _read()
    if cached is not None:
        return cached
    from checker.db import models

    _write(models.Base.metadata)  # absent or unreadable: written for the next process
    return models.Base.metadata


def _entry() -> Path | None:
    from checker.rulebook_cache import cache_dir, code_fingerprint

    rules = cache_dir()
    if rules is None:
        return None
    import sqlalchemy

    sha = hashlib.sha256(_FORMAT)
    sha.update(code_fingerprint())
    sha.update(f"{sqlalchemy.__version__}\0{sys.version}".encode())
    return rules.parent / "tables" / f"{sha.hexdigest()}.pickle"


def _read() -> MetaData | None:
    entry = _entry()
    if entry is None:
        return None
    from sqlalchemy import MetaData

    try:
        found = pickle.loads(entry.read_bytes())
    except Exception:  # unreadable, truncated or written by other code: the models decide
        return None
    return found if isinstance(found, MetaData) else None


def _write(tables: MetaData) -> None:
    """Stores the tables; a cache that cannot be written is not an error."""
    entry = _entry()
    if entry is None:
        return
    try:
        data = pickle.dumps(tables, protocol=pickle.HIGHEST_PROTOCOL)
        entry.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        with tempfile.NamedTemporaryFile(dir=entry.parent, suffix=".tmp", delete=False) as handle:
            handle.write(data)
        Path(handle.name).replace(entry)
        stale = sorted(entry.parent.glob("*.pickle"), key=lambda p: p.stat().st_mtime)
        for old in stale[:-_KEPT_ENTRIES]:
            old.unlink(missing_ok=True)
    except (OSError, pickle.PicklingError, TypeError, AttributeError):
        return
