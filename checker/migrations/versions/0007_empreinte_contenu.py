"""empreinte du contenu des données

Revision ID: 0007
Revises: 0004
Create Date: 2026-12-06 23:40:00

Each run also records a digest of the content of the data tables it read, so that an edit
made directly in the database after a run is told apart from a new import. Runs recorded
before this revision have none (NULL), and their chain hashes are unchanged.
"""

from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('run', schema=None) as batch_op:
        batch_op.add_column(sa.Column('content_digest', sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('run', schema=None) as batch_op:
        batch_op.drop_column('content_digest')
