"""critères de la loi facultatifs ; logements d'opérations subventionnées

Two changes of issue #13:
- `epci.tenu_plh` and `epci.competent_habitat` become nullable: a territory file may not know
  them, and the Q1/QPV rules then test whether the year's quartile arrêté lists the EPCI. Rows
  already there keep their values.
- `logement.subvention_etat` (nullable boolean): the dwelling belongs to an operation with a
  State subsidy (CCH R331-15, 2° and 3°), where R331-12 allows a PLUS attribution above the
  ceiling (up to 20 % more). Rows already there: NULL (not said).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 02:50:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('epci') as batch_op:
        batch_op.alter_column('tenu_plh', existing_type=sa.Boolean(), nullable=True)
        batch_op.alter_column('competent_habitat', existing_type=sa.Boolean(), nullable=True)
    with op.batch_alter_table('logement') as batch_op:
        batch_op.add_column(sa.Column('subvention_etat', sa.Boolean(), nullable=True))


def downgrade() -> None:
    # Unknown criteria have no value to go back to: refuse rather than invent one.
    bind = op.get_bind()
    unknown = bind.execute(sa.text(
        "SELECT COUNT(*) FROM epci WHERE tenu_plh IS NULL OR competent_habitat IS NULL"
    )).scalar()
    if unknown:
        raise RuntimeError(
            f"{unknown} EPCI sans critères de la loi (tenu_plh, competent_habitat) : "
            "renseignez-les avant de revenir à la révision 0009."
        )
    with op.batch_alter_table('logement') as batch_op:
        batch_op.drop_column('subvention_etat')
    with op.batch_alter_table('epci') as batch_op:
        batch_op.alter_column('tenu_plh', existing_type=sa.Boolean(), nullable=False)
        batch_op.alter_column('competent_habitat', existing_type=sa.Boolean(), nullable=False)
