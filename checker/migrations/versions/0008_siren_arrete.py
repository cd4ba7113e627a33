"""siren de l'EPCI dans les arrêtés des seuils

The quartile thresholds are keyed by the EPCI's SIREN (names change between arrêtés): a new
column `epci.siren_arrete`, filled with the EPCI's own SIREN for the rows already there.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 23:40:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('epci') as batch_op:
        batch_op.add_column(sa.Column('siren_arrete', sa.String(length=9), nullable=True))
    op.execute("UPDATE epci SET siren_arrete = siren")


def downgrade() -> None:
    with op.batch_alter_table('epci') as batch_op:
        batch_op.drop_column('siren_arrete')
