"""The schema revision is read without Alembic (`checker.db.engine`), and agrees with Alembic:
the head of the migration scripts, the revision a database records, and the refusals of a
database that is empty or at another revision."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from alembic import command
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import text

from checker.db.engine import (
    _alembic_config,
    _head_from_scripts,
    current_revision,
    head_revision,
    make_engine,
    require_schema,
    upgrade,
)
from checker.errors import DatabaseError
from checker.paths import migrations_dir


def _alembic_current(url: str) -> str | None:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()


def test_the_head_read_from_the_scripts_is_alembics_head() -> None:
    alembic_head = ScriptDirectory.from_config(_alembic_config()).get_current_head()
    assert _head_from_scripts(migrations_dir() / "versions") == alembic_head
    assert head_revision() == alembic_head


def test_the_revision_of_a_database_is_the_one_alembic_reads(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        with engine.connect():  # SQLite: the file exists, with no table
            pass
        with pytest.raises(DatabaseError) as empty:
            require_schema(engine)
        assert empty.value.message == "Cette base ne contient pas encore de données mixite."
        assert current_revision(engine) is None is _alembic_current(db_url)
        config = _alembic_config()
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "0001")
        assert current_revision(engine) == "0001" == _alembic_current(db_url)
        with pytest.raises(DatabaseError) as old:
            require_schema(engine)  # a database at another revision is refused, as before
        assert old.value.message == "Le schéma de cette base est ancien (révision 0001)."
        assert old.value.hint == "Sauvegardez la base puis lancez : mixite db upgrade"
        upgrade(engine)
        assert current_revision(engine) == head_revision() == _alembic_current(db_url)
        require_schema(engine)
        with engine.begin() as connection:  # two rows: Alembic's own refusal, as before
            connection.execute(text("INSERT INTO alembic_version (version_num) VALUES ('0002')"))
        with pytest.raises(CommandError, match="more than one head"):
            current_revision(engine)
    finally:
        engine.dispose()


def _script(folder: Path, name: str, body: str) -> None:
    (folder / name).write_text(f'"""A migration."""\n{body}\n', encoding="utf-8")


def test_scripts_that_are_not_plain_are_left_to_alembic(tmp_path: Path) -> None:
    _script(tmp_path, "a.py", "revision = 'a'\ndown_revision = None")
    _script(tmp_path, "b.py", "revision: str = \"b\"\ndown_revision: str | None = 'a'  # after a")
    (tmp_path / "__init__.py").write_text("revision = 'z'\n", encoding="utf-8")
    assert _head_from_scripts(tmp_path) == "b"
    _script(tmp_path, "c.py", "revision = 'c'\ndown_revision = 'a'")
    assert _head_from_scripts(tmp_path) is None  # two heads
    _script(tmp_path, "c.py", "revision = 'c'\ndown_revision = ('a', 'b')")
    assert _head_from_scripts(tmp_path) == "c"  # a merge
    _script(tmp_path, "d.py", "revision = make_id()\ndown_revision = 'c'")
    assert _head_from_scripts(tmp_path) is None  # not a literal
    _script(tmp_path, "d.py", "down_revision = 'c'")
    assert _head_from_scripts(tmp_path) is None  # no revision
    _script(tmp_path, "d.py", "revision = 'd'\ndown_revision = 'x'")
    assert _head_from_scripts(tmp_path) is None  # an unknown parent


def test_checking_the_schema_does_not_import_alembic(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'mixite.db'}"
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    code = (
        "import sys\n"
        "from checker.db.engine import make_engine, require_schema\n"
        f"require_schema(make_engine({url!r}))\n"
        "assert 'alembic' not in sys.modules, 'alembic imported'\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
