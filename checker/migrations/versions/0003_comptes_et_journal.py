"""comptes et journal

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-06 20:55:37.465988

Accounts, browser sessions, API tokens, the access log, the uploaded CIA versions and the
published reports of the web application; no existing table changes.
"""

from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table('journal_acces',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('moment', sa.DateTime(timezone=True), nullable=False),
    sa.Column('login', sa.String(length=64), nullable=True),
    sa.Column('role', sa.String(length=20), nullable=True),
    sa.Column('canal', sa.String(length=8), nullable=False),
    sa.Column('action', sa.String(length=40), nullable=False),
    sa.Column('ressource', sa.Text(), nullable=False),
    sa.Column('issue', sa.String(length=10), nullable=False),
    sa.Column('adresse', sa.String(length=64), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_journal_acces'))
    )
    with op.batch_alter_table('journal_acces', schema=None) as batch_op:
        batch_op.create_index('ix_journal_acces_action_moment', ['action', 'moment'], unique=False)

    op.create_table('utilisateur',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('login', sa.String(length=64), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('bailleur_siren', sa.String(length=9), nullable=True),
    sa.Column('reservataire_id', sa.String(length=40), nullable=True),
    sa.Column('territoires', sa.JSON(), nullable=False),
    sa.Column('mot_de_passe', sa.Text(), nullable=False),
    sa.Column('actif', sa.Boolean(), nullable=False),
    sa.Column('cree_le', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("role IN ('admin', 'epci', 'etat', 'bailleur', 'reservataire', 'lecteur')", name=op.f('ck_utilisateur_role')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_utilisateur')),
    sa.UniqueConstraint('login', name=op.f('uq_utilisateur_login'))
    )
    op.create_table('jeton_api',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('empreinte', sa.String(length=64), nullable=False),
    sa.Column('utilisateur_id', sa.Integer(), nullable=False),
    sa.Column('cree_le', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expire_le', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['utilisateur_id'], ['utilisateur.id'], name=op.f('fk_jeton_api_utilisateur_id_utilisateur')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_jeton_api')),
    sa.UniqueConstraint('empreinte', name=op.f('uq_jeton_api_empreinte'))
    )
    with op.batch_alter_table('jeton_api', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_jeton_api_utilisateur_id'), ['utilisateur_id'], unique=False)

    op.create_table('publication',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.Column('publiee_le', sa.DateTime(timezone=True), nullable=False),
    sa.Column('publiee_par', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['run_id'], ['run.id'], name=op.f('fk_publication_run_id_run')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_publication')),
    sa.UniqueConstraint('run_id', name=op.f('uq_publication_run_id'))
    )
    op.create_table('session_web',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('empreinte', sa.String(length=64), nullable=False),
    sa.Column('utilisateur_id', sa.Integer(), nullable=False),
    sa.Column('creee_le', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expire_le', sa.DateTime(timezone=True), nullable=False),
    sa.Column('fin_absolue', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['utilisateur_id'], ['utilisateur.id'], name=op.f('fk_session_web_utilisateur_id_utilisateur')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_session_web')),
    sa.UniqueConstraint('empreinte', name=op.f('uq_session_web_empreinte'))
    )
    with op.batch_alter_table('session_web', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_session_web_utilisateur_id'), ['utilisateur_id'], unique=False)

    op.create_table('version_cia',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('epci_siren', sa.String(length=9), nullable=False),
    sa.Column('numero', sa.Integer(), nullable=False),
    sa.Column('nom_fichier', sa.String(length=200), nullable=False),
    sa.Column('texte', sa.Text(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('deposee_le', sa.DateTime(timezone=True), nullable=False),
    sa.Column('deposee_par', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['epci_siren'], ['epci.siren'], name=op.f('fk_version_cia_epci_siren_epci')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_version_cia')),
    sa.UniqueConstraint('epci_siren', 'numero', name='uq_version_cia_numero')
    )



def downgrade() -> None:

    op.drop_table('version_cia')
    with op.batch_alter_table('session_web', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_session_web_utilisateur_id'))

    op.drop_table('session_web')
    op.drop_table('publication')
    with op.batch_alter_table('jeton_api', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_jeton_api_utilisateur_id'))

    op.drop_table('jeton_api')
    op.drop_table('utilisateur')
    with op.batch_alter_table('journal_acces', schema=None) as batch_op:
        batch_op.drop_index('ix_journal_acces_action_moment')

    op.drop_table('journal_acces')

