"""alerts - lead queue, audit, sellers, jurisdiction (owned by the alerts stage)

Revision ID: 0002
Revises: 0001
"""
from alembic import op
import sqlalchemy as sa

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('leads', schema=None) as b:
        b.alter_column('jurisdiction', existing_type=sa.String(length=16), type_=sa.String(length=64),
                       existing_nullable=True)
        b.add_column(sa.Column('verdict', sa.String(length=16), nullable=True))
        b.add_column(sa.Column('status_reason', sa.Text(), nullable=True))
        b.add_column(sa.Column('referred_to', sa.String(length=64), nullable=True))
        b.add_column(sa.Column('suppression_id', sa.Integer(), nullable=True))
        b.create_index('ix_leads_jurisdiction', ['jurisdiction'], unique=False)
    op.create_table(
        'suppressions',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('target_id', sa.String(length=128), nullable=True),
        sa.Column('platform', sa.String(length=64), nullable=True),
        sa.Column('seller_id', sa.String(length=128), nullable=True),
        sa.Column('seller_name', sa.String(length=256), nullable=True),
        sa.Column('phrase', sa.String(length=256), nullable=True),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('source_lead_id', sa.Integer(), nullable=True),
        sa.Column('created_by', sa.String(length=128), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('active', sa.Boolean(), nullable=False),
        sa.Column('removed_by', sa.String(length=128), nullable=True),
        sa.Column('removed_at', sa.DateTime(), nullable=True),
        sa.Column('hits', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_table(
        'key_markets',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('scope', sa.String(length=16), nullable=False),
        sa.Column('platform', sa.String(length=64), nullable=False),
        sa.Column('shop_id', sa.String(length=128), nullable=False),
        sa.Column('shop_name', sa.String(length=256), nullable=False),
        sa.Column('active', sa.Boolean(), nullable=False),
        sa.Column('entered_at', sa.DateTime(), nullable=False),
        sa.Column('left_at', sa.DateTime(), nullable=True),
        sa.Column('enter_reason', sa.Text(), nullable=False),
        sa.Column('leave_reason', sa.Text(), nullable=True),
        sa.Column('lead_count', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_key_markets_active', 'key_markets', ['active'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_key_markets_active', table_name='key_markets')
    op.drop_table('key_markets')
    op.drop_table('suppressions')
    with op.batch_alter_table('leads', schema=None) as b:
        b.drop_index('ix_leads_jurisdiction')
        b.drop_column('suppression_id')
        b.drop_column('referred_to')
        b.drop_column('status_reason')
        b.drop_column('verdict')
        b.alter_column('jurisdiction', existing_type=sa.String(length=64), type_=sa.String(length=16),
                       existing_nullable=True)
