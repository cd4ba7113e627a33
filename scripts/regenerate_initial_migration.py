"""Developer tool: rewrite migration 0001 from the models, before the first release only.

Once a release has shipped, never rewrite a migration: add a new revision instead.
"""

import tempfile
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine

from checker.paths import migrations_dir

target = migrations_dir() / "versions" / "0001_schema_initial.py"
target.unlink(missing_ok=True)
config = Config()
config.set_main_option("script_location", str(migrations_dir()))
with tempfile.TemporaryDirectory() as scratch:
    engine = create_engine(f"sqlite:///{Path(scratch) / 'vide.db'}")
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.revision(config, message="schema initial", autogenerate=True, rev_id="0001")
    engine.dispose()
