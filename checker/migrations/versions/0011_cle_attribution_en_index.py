"""clé des attributions : un index unique nommé, que l'import peut reconstruire

The natural key of `attribution` (rpls_id, menage, date_decision) was a UNIQUE table
constraint; SQLite keeps such a constraint in an index of its own that cannot be dropped. As a
named unique index (same name, same columns, same guarantee), a first import of a large file
into the empty table can drop it before writing the rows and create it again after them, in
its transaction: one sort of the whole table instead of a B-tree insertion per row (issue #18).
SQLite rebuilds the table (batch mode); PostgreSQL swaps the constraint for the index.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 06:00:00
"""

from alembic import op


revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

_KEY = ["rpls_id", "menage", "date_decision"]


def upgrade() -> None:
    with op.batch_alter_table("attribution") as batch_op:
        batch_op.drop_constraint("uq_attribution_cle", type_="unique")
        batch_op.create_index("uq_attribution_cle", _KEY, unique=True)


def downgrade() -> None:
    with op.batch_alter_table("attribution") as batch_op:
        batch_op.drop_index("uq_attribution_cle")
        batch_op.create_unique_constraint("uq_attribution_cle", _KEY)
