"""peuplement : résidences, enquêtes OPS et relogements NPNRU

Three tables for the bundle's optional files residences.csv, occupation.csv and
relogements.csv, and the optional residence of a dwelling (logement.residence_id); existing
rows are kept (their residence is empty).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06 23:30:00.000000
"""

from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('logement', schema=None) as batch_op:
        batch_op.add_column(sa.Column('residence_id', sa.String(length=40), nullable=True))

    op.create_table('residence',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('bailleur_siren', sa.String(length=9), nullable=False),
    sa.Column('residence_id', sa.String(length=40), nullable=False),
    sa.Column('nom', sa.Text(), nullable=False),
    sa.Column('commune_insee', sa.String(length=5), nullable=False),
    sa.Column('qpv_code', sa.String(length=60), nullable=False),
    sa.Column('date_mise_en_service', sa.Date(), nullable=False),
    sa.Column('classe_enjeu', sa.String(length=40), nullable=True),
    sa.Column('operation_npnru', sa.String(length=40), nullable=True),
    sa.Column('batch_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['bailleur_siren'], ['bailleur.siren'], name=op.f('fk_residence_bailleur_siren_bailleur')),
    sa.ForeignKeyConstraint(['batch_id'], ['import_batch.id'], name=op.f('fk_residence_batch_id_import_batch')),
    sa.ForeignKeyConstraint(['commune_insee'], ['commune.insee'], name=op.f('fk_residence_commune_insee_commune')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_residence')),
    sa.UniqueConstraint('bailleur_siren', 'residence_id', name='uq_residence_cle')
    )
    with op.batch_alter_table('residence', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_residence_commune_insee'), ['commune_insee'], unique=False)

    op.create_table('occupation',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('bailleur_siren', sa.String(length=9), nullable=False),
    sa.Column('residence_id', sa.String(length=40), nullable=False),
    sa.Column('annee_enquete', sa.Integer(), nullable=False),
    *(
        sa.Column(name, sa.Integer(), nullable=False)
        for name in (
            'menages_repondants', 'ressources_inf_20', 'ressources_20_40', 'ressources_40_60',
            'ressources_60_100', 'ressources_sup_100', 'familles_monoparentales',
            'personnes_seules', 'familles_nombreuses', 'titulaires_moins_30',
            'titulaires_plus_65', 'beneficiaires_aide_logement', 'titulaires_emploi_stable',
            'emmenages_recents',
        )
    ),
    sa.Column('batch_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['bailleur_siren', 'residence_id'], ['residence.bailleur_siren', 'residence.residence_id'], name=op.f('fk_occupation_bailleur_siren_residence')),
    sa.ForeignKeyConstraint(['batch_id'], ['import_batch.id'], name=op.f('fk_occupation_batch_id_import_batch')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_occupation')),
    sa.UniqueConstraint('bailleur_siren', 'residence_id', 'annee_enquete', name='uq_occupation_cle')
    )

    op.create_table('relogement',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('operation_npnru', sa.String(length=40), nullable=False),
    sa.Column('menage', sa.String(length=64), nullable=False),
    sa.Column('bailleur_siren', sa.String(length=9), nullable=False),
    sa.Column('rpls_id_origine', sa.String(length=10), nullable=False),
    sa.Column('date_entree_operation', sa.Date(), nullable=False),
    sa.Column('statut', sa.String(length=20), nullable=False),
    sa.Column('date_relogement', sa.Date(), nullable=True),
    sa.Column('rpls_id_destination', sa.String(length=10), nullable=True),
    sa.Column('menage_sne', sa.String(length=64), nullable=True),
    sa.Column('loyer_charges_avant_centimes', sa.BigInteger(), nullable=True),
    sa.Column('loyer_charges_apres_centimes', sa.BigInteger(), nullable=True),
    sa.Column('aide_logement_avant_centimes', sa.BigInteger(), nullable=True),
    sa.Column('aide_logement_apres_centimes', sa.BigInteger(), nullable=True),
    sa.Column('surface_avant_m2', sa.Numeric(precision=8, scale=2, asdecimal=False), nullable=True),
    sa.Column('surface_apres_m2', sa.Numeric(precision=8, scale=2, asdecimal=False), nullable=True),
    sa.Column('batch_id', sa.Integer(), nullable=False),
    sa.CheckConstraint("statut IN ('a_reloger', 'reloge_definitif', 'reloge_temporaire', 'sorti_parc_social', 'autre_sortie')", name=op.f('ck_relogement_statut')),
    sa.CheckConstraint('date_relogement IS NULL OR date_relogement >= date_entree_operation', name=op.f('ck_relogement_date_relogement')),
    sa.ForeignKeyConstraint(['bailleur_siren'], ['bailleur.siren'], name=op.f('fk_relogement_bailleur_siren_bailleur')),
    sa.ForeignKeyConstraint(['batch_id'], ['import_batch.id'], name=op.f('fk_relogement_batch_id_import_batch')),
    sa.ForeignKeyConstraint(['rpls_id_origine'], ['logement.rpls_id'], name=op.f('fk_relogement_rpls_id_origine_logement')),
    sa.ForeignKeyConstraint(['rpls_id_destination'], ['logement.rpls_id'], name=op.f('fk_relogement_rpls_id_destination_logement')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_relogement')),
    sa.UniqueConstraint('operation_npnru', 'menage', name='uq_relogement_cle')
    )
    with op.batch_alter_table('relogement', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_relogement_menage_sne'), ['menage_sne'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('relogement', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_relogement_menage_sne'))
    op.drop_table('relogement')
    op.drop_table('occupation')
    with op.batch_alter_table('residence', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_residence_commune_insee'))
    op.drop_table('residence')
    with op.batch_alter_table('logement', schema=None) as batch_op:
        batch_op.drop_column('residence_id')
