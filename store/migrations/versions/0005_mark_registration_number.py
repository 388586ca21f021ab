"""marks.registration_number: the 注册号 of a registered mark, shown in referral records (issue 14)

Revision ID: 0005
Revises: 0006 (re-chained after merging main; coordinator: keep it last)
"""
from alembic import op
import sqlalchemy as sa

revision = '0005'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('marks') as b:
        b.add_column(sa.Column('registration_number', sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('marks') as b:
        b.drop_column('registration_number')
