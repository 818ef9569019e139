"""Per-project quota overrides (``project_quotas``).

One row per project: a column per quota resource (NULL: the configured
default of ``[quota]``). The row is also what a quota-checked claim locks
(``SELECT ... FOR UPDATE``), so that the claims of one project are
counted one at a time (:mod:`orchestrator.db.quotas`).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06
"""

from alembic import op
import sqlalchemy as sa

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

_RESOURCES = ('instances', 'cores', 'ram', 'metadata_items',
              'injected_files', 'injected_file_content_bytes',
              'injected_file_path_bytes', 'key_pairs', 'server_groups',
              'server_group_members', 'fixed_ips', 'floating_ips',
              'security_groups', 'security_group_rules')


def upgrade():
    op.create_table(
        'project_quotas',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('project_id', sa.String(length=255), nullable=False),
        *[sa.Column(name, sa.Integer(), nullable=True)
          for name in _RESOURCES],
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('project_id',
                            name='uniq_project_quotas0project_id'))


def downgrade():
    op.drop_table('project_quotas')
