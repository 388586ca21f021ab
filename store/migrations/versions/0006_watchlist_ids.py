"""watchlist ids - which enterprise (or GI) and which file each id belongs to (issue 16 item 3)

Revision ID: 0006
Revises: 0007
"""
from alembic import op
import sqlalchemy as sa

revision = '0006'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'watchlist_ids',
        sa.Column('id', sa.String(length=128), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('owner_id', sa.String(length=128), nullable=False),
        sa.Column('file', sa.Text(), nullable=False),
        sa.Column('imported_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )


def downgrade() -> None:
    op.drop_table('watchlist_ids')
