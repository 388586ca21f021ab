"""crawl_pages: the price as read (text, range upper end) and the page's named warnings

Revision ID: 0010
Revises: 0003
"""
from alembic import op
import sqlalchemy as sa

revision = '0010'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('crawl_pages') as b:
        b.add_column(sa.Column('price_text', sa.Text(), nullable=True))
        b.add_column(sa.Column('price_high', sa.Float(), nullable=True))
        b.add_column(sa.Column('warnings', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('crawl_pages') as b:
        b.drop_column('warnings')
        b.drop_column('price_high')
        b.drop_column('price_text')
