"""Alembic environment: migrations run on the connection mixite hands over."""

from alembic import context

from checker.db.models import Base

target_metadata = Base.metadata
connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - mixite always passes its own connection
    raise RuntimeError("run migrations through `mixite db upgrade`")

context.configure(
    connection=connection,
    target_metadata=target_metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
