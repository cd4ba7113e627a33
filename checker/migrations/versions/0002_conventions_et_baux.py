"""conventions de réservation et baux

Two tables for the bundle's optional files reservations.csv and baux.csv; nothing else
changes, so a database at 0001 keeps all its rows.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 05:50:42.248778
"""

from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('convention_reservation',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('epci_siren', sa.String(length=9), nullable=False),
    sa.Column('bailleur_siren', sa.String(length=9), nullable=False),
    sa.Column('reservataire_id', sa.String(length=40), nullable=False),
    sa.Column('mode', sa.String(length=5), nullable=False),
    sa.Column('date_signature', sa.Date(), nullable=False),
    sa.Column('motif_stock', sa.String(length=20), nullable=True),
    sa.Column('part_flux_centiemes', sa.Integer(), nullable=True),
    sa.Column('batch_id', sa.Integer(), nullable=False),
    sa.CheckConstraint("mode IN ('flux', 'stock')", name=op.f('ck_convention_reservation_mode')),
    sa.CheckConstraint("motif_stock IS NULL OR (mode = 'stock' AND motif_stock IN ('defense_nationale', 'securite_interieure', 'etablissement_sante'))", name=op.f('ck_convention_reservation_motif_stock')),
    sa.CheckConstraint("part_flux_centiemes IS NULL OR (mode = 'flux' AND part_flux_centiemes BETWEEN 0 AND 10000)", name=op.f('ck_convention_reservation_part_flux')),
    sa.ForeignKeyConstraint(['bailleur_siren'], ['bailleur.siren'], name=op.f('fk_convention_reservation_bailleur_siren_bailleur')),
    sa.ForeignKeyConstraint(['batch_id'], ['import_batch.id'], name=op.f('fk_convention_reservation_batch_id_import_batch')),
    sa.ForeignKeyConstraint(['epci_siren', 'reservataire_id'], ['reservataire.epci_siren', 'reservataire.id'], name=op.f('fk_convention_reservation_epci_siren_reservataire')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_convention_reservation')),
    sa.UniqueConstraint('epci_siren', 'bailleur_siren', 'reservataire_id', 'date_signature', name='uq_convention_reservation_cle')
    )
    with op.batch_alter_table('convention_reservation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_convention_reservation_bailleur_siren'), ['bailleur_siren'], unique=False)

    op.create_table('bail',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('rpls_id', sa.String(length=10), nullable=False),
    sa.Column('date_signature', sa.Date(), nullable=False),
    sa.Column('date_dernier_examen', sa.Date(), nullable=True),
    sa.Column('situations', sa.String(length=100), nullable=False),
    sa.Column('date_transmission_caleol', sa.Date(), nullable=True),
    sa.Column('date_fin', sa.Date(), nullable=True),
    sa.Column('batch_id', sa.Integer(), nullable=False),
    sa.CheckConstraint('date_dernier_examen IS NULL OR date_dernier_examen >= date_signature', name=op.f('ck_bail_date_dernier_examen')),
    sa.CheckConstraint('date_fin IS NULL OR date_fin >= date_signature', name=op.f('ck_bail_date_fin')),
    sa.CheckConstraint('date_transmission_caleol IS NULL OR date_transmission_caleol >= date_signature', name=op.f('ck_bail_date_transmission_caleol')),
    sa.ForeignKeyConstraint(['batch_id'], ['import_batch.id'], name=op.f('fk_bail_batch_id_import_batch')),
    sa.ForeignKeyConstraint(['rpls_id'], ['logement.rpls_id'], name=op.f('fk_bail_rpls_id_logement')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bail')),
    sa.UniqueConstraint('rpls_id', 'date_signature', name='uq_bail_cle')
    )


def downgrade() -> None:
    op.drop_table('bail')
    with op.batch_alter_table('convention_reservation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_convention_reservation_bailleur_siren'))

    op.drop_table('convention_reservation')
