"""crawler - crawl state and evidence (owned by the crawler stage)

Revision ID: 0003
Revises: 0002
"""
from alembic import op
import sqlalchemy as sa

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'crawl_pages',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('source', sa.String(length=64), nullable=False),
        sa.Column('platform', sa.String(length=64), nullable=False),
        sa.Column('listing_id', sa.String(length=128), nullable=False),
        sa.Column('url', sa.Text(), nullable=False),
        sa.Column('etag', sa.String(length=256), nullable=True),
        sa.Column('last_modified', sa.String(length=64), nullable=True),
        sa.Column('body_sha256', sa.String(length=64), nullable=True),
        sa.Column('raw_path', sa.Text(), nullable=True),
        sa.Column('screenshot_path', sa.Text(), nullable=True),
        sa.Column('status_code', sa.Integer(), nullable=True),
        sa.Column('fetched_at', sa.DateTime(), nullable=False),
        sa.Column('changed_at', sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('source', 'listing_id', name='uq_crawl_page_source_listing'),
    )
    op.create_table(
        'evidence_captures',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('listing_pk', sa.Integer(), nullable=False),
        sa.Column('platform', sa.String(length=64), nullable=False),
        sa.Column('listing_id', sa.String(length=128), nullable=False),
        sa.Column('content_hash', sa.String(length=64), nullable=False),
        sa.Column('run_id', sa.Integer(), nullable=True),
        sa.Column('directory', sa.Text(), nullable=False),
        sa.Column('captured_at', sa.DateTime(), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('detail', sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('evidence_captures', schema=None) as batch_op:
        batch_op.create_index('ix_evidence_captures_listing', ['listing_pk', 'content_hash'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('evidence_captures', schema=None) as batch_op:
        batch_op.drop_index('ix_evidence_captures_listing')
    op.drop_table('evidence_captures')
    op.drop_table('crawl_pages')
