"""web console - users, server-side sessions, audit of console actions, login throttling,
holder-registered GIs; indexes for the paged lead queue

Revision ID: 0004
Revises: 0007 (re-chained after merging main; was 0003)
"""
from alembic import op
import sqlalchemy as sa

revision = '0004'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'web_users',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('username', sa.String(length=128), nullable=False),
        sa.Column('password_hash', sa.String(length=256), nullable=False),
        sa.Column('role', sa.String(length=16), nullable=False),
        sa.Column('enterprise_id', sa.String(length=128), nullable=True),
        sa.Column('language', sa.String(length=8), nullable=False),
        sa.Column('active', sa.Boolean(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('last_login_at', sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('username'),
    )
    op.create_table(
        'web_sessions',
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('csrf_token', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('expires_at', sa.DateTime(), nullable=False),
        sa.Column('ip', sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['web_users.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('token_hash'),
    )
    op.create_index('ix_web_sessions_user_id', 'web_sessions', ['user_id'])
    op.create_index('ix_web_sessions_expires_at', 'web_sessions', ['expires_at'])
    op.create_table(
        'web_audit',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('at', sa.DateTime(), nullable=False),
        sa.Column('username', sa.String(length=128), nullable=False),
        sa.Column('role', sa.String(length=16), nullable=True),
        sa.Column('action', sa.String(length=64), nullable=False),
        sa.Column('target', sa.String(length=256), nullable=True),
        sa.Column('outcome', sa.String(length=16), nullable=False),
        sa.Column('detail', sa.Text(), nullable=True),
        sa.Column('ip', sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_web_audit_at', 'web_audit', ['at'])
    op.create_table(
        'web_login_attempts',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('at', sa.DateTime(), nullable=False),
        sa.Column('username', sa.String(length=128), nullable=False),
        sa.Column('ip', sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_web_login_attempts_at', 'web_login_attempts', ['at'])
    op.create_index('ix_web_login_attempts_username', 'web_login_attempts', ['username'])
    op.create_index('ix_web_login_attempts_ip', 'web_login_attempts', ['ip'])
    op.create_table(
        'web_holder_gis',
        sa.Column('gi_id', sa.String(length=128), nullable=False),
        sa.Column('enterprise_id', sa.String(length=128), nullable=False),
        sa.ForeignKeyConstraint(['gi_id'], ['geographical_indications.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('gi_id'),
    )
    op.create_index('ix_web_holder_gis_enterprise_id', 'web_holder_gis', ['enterprise_id'])
    # The console's queue is ordered by priority and paged: these keep pages cheap with 100,000+
    # leads. ix_leads_priority covers the usual filters (status, target, kind) so walking it in
    # order never touches the table rows that are filtered out (bench/bench_web.py).
    op.create_index('ix_leads_priority', 'leads', ['priority', 'score', 'id', 'status', 'target_id', 'target_kind'])
    op.create_index('ix_leads_target_priority', 'leads', ['target_id', 'priority'])


def downgrade() -> None:
    op.drop_index('ix_leads_target_priority', table_name='leads')
    op.drop_index('ix_leads_priority', table_name='leads')
    op.drop_table('web_holder_gis')
    op.drop_table('web_login_attempts')
    op.drop_table('web_audit')
    op.drop_table('web_sessions')
    op.drop_table('web_users')
