"""âge, situation professionnelle et logement actuel du demandeur

Three optional columns of `attribution` (issue #15, item 7): the applicant's age at the
decision (an age, never a birth date), professional situation and housing before, in the
SNE's categories (checker.db.codes). Rows already there keep them unknown (NULL).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 02:50:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

_SITUATIONS = ('cdi', 'cdd_stage_interim', 'independant', 'chomage', 'apprenti', 'etudiant',
               'retraite', 'autre')
_LOGEMENTS = ('locataire_hlm', 'locataire_prive', 'residence_sociale_foyer',
              'residence_hoteliere_sociale', 'residence_etudiante', 'sous_locataire_temporaire',
              'structure_hebergement', 'centre_enfance_famille', 'chez_parents_enfants',
              'chez_particulier', 'loge_gratuit', 'logement_fonction', 'proprietaire_occupant',
              'camping_caravaning', 'hotel', 'sans_abri', 'squat')


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IS NULL OR {column} IN ({', '.join(repr(v) for v in values)})"


def upgrade() -> None:
    with op.batch_alter_table('attribution') as batch_op:
        batch_op.add_column(sa.Column('age_demandeur', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('situation_professionnelle', sa.String(length=30), nullable=True))
        batch_op.add_column(sa.Column('logement_actuel', sa.String(length=30), nullable=True))
        batch_op.create_check_constraint(
            op.f('ck_attribution_age_demandeur'), 'age_demandeur IS NULL OR age_demandeur BETWEEN 16 AND 120')
        batch_op.create_check_constraint(op.f('ck_attribution_situation_professionnelle'), _in('situation_professionnelle', _SITUATIONS))
        batch_op.create_check_constraint(op.f('ck_attribution_logement_actuel'), _in('logement_actuel', _LOGEMENTS))


def downgrade() -> None:
    with op.batch_alter_table('attribution') as batch_op:
        batch_op.drop_constraint('ck_attribution_logement_actuel', type_='check')
        batch_op.drop_constraint('ck_attribution_situation_professionnelle', type_='check')
        batch_op.drop_constraint('ck_attribution_age_demandeur', type_='check')
        batch_op.drop_column('logement_actuel')
        batch_op.drop_column('situation_professionnelle')
        batch_op.drop_column('age_demandeur')
