"""clé des examens CALEOL : un index unique nommé, comme celle des attributions

The natural key of `caleol_examen` (date_commission, rpls_id, menage) becomes a named unique
index, as migration 0011 did for `attribution`: a first import of a large CALEOL file (three
million rows for a national year) into the empty table builds it once after the rows instead
of inserting into it row by row (checker/ingest/sqlite_load.py). Same name, same columns,
same guarantee. SQLite rebuilds the table (batch mode); PostgreSQL swaps the constraint for
the index.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 06:20:00
"""

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

_KEY = ["date_commission", "rpls_id", "menage"]


def upgrade() -> None:
    with op.batch_alter_table("caleol_examen") as batch_op:
        batch_op.drop_constraint("uq_caleol_examen_cle", type_="unique")
        batch_op.create_index("uq_caleol_examen_cle", _KEY, unique=True)


def downgrade() -> None:
    with op.batch_alter_table("caleol_examen") as batch_op:
        batch_op.drop_index("uq_caleol_examen_cle")
        batch_op.create_unique_constraint("uq_caleol_examen_cle", _KEY)
