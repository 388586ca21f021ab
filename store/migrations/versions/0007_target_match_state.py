"""re-match: which version of each mark / GI the stored listings were matched against

Revision ID: 0007
Revises: 0010
"""
from alembic import op
import sqlalchemy as sa

revision = '0007'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'target_match_state',
        sa.Column('target_id', sa.String(length=128), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('matched_hash', sa.String(length=64), nullable=True),
        sa.Column('pending_hash', sa.String(length=64), nullable=True),
        sa.Column('cursor', sa.Integer(), nullable=True),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('target_id'),
    )


def downgrade() -> None:
    op.drop_table('target_match_state')
