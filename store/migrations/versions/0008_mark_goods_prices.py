"""marks.similar_groups, reference_prices, reference_currency: marks registered by 类似群 group and
reference prices per goods and currency (issue 11)

Revision ID: 0008
Revises: 0005
"""
from alembic import op
import sqlalchemy as sa

revision = '0008'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('marks') as b:
        b.add_column(sa.Column('similar_groups', sa.JSON(), nullable=True))
        b.add_column(sa.Column('reference_prices', sa.JSON(), nullable=True))
        b.add_column(sa.Column('reference_currency', sa.String(length=3), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('marks') as b:
        b.drop_column('reference_currency')
        b.drop_column('reference_prices')
        b.drop_column('similar_groups')
