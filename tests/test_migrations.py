"""The Alembic migrations build exactly the schema the models describe, on both backends."""

from __future__ import annotations

from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, insert, select

from checker.db import models
from checker.db.engine import (
    _alembic_config,
    current_revision,
    head_revision,
    make_engine,
    upgrade,
)


def _differences(engine: Engine) -> list[Any]:
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "compare_server_default": True}
        )
        return list(compare_metadata(context, models.Base.metadata))


def test_a_new_database_has_exactly_the_models_schema(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        upgrade(engine)  # what `mixite db upgrade` and a first import run
        assert _differences(engine) == []
    finally:
        engine.dispose()


def test_a_database_at_0001_upgrades_without_losing_rows(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        config = _alembic_config()
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "0001")
        with engine.begin() as connection:
            connection.execute(insert(models.Bailleur).values(siren="910000017", nom="Office"))
        assert current_revision(engine) == "0001"
        assert upgrade(engine) == ("0001", head_revision())
        assert _differences(engine) == []
        with engine.connect() as connection:
            assert connection.scalars(select(models.Bailleur.siren)).all() == ["910000017"]
    finally:
        engine.dispose()
