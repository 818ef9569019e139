"""Server groups (``os-server-groups``) and their members.

* ``server_groups``: one row per group, by uuid, with its project, user,
  name, policy (affinity, anti-affinity, soft-affinity,
  soft-anti-affinity) and rules (JSON text, e.g. ``{"max_server_per_host":
  2}``); the scheduler locks this row while it places a member, so two
  boots into one group are placed one after the other;
* ``server_group_members``: (group uuid, instance uuid), an instance in
  one group at most.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05
"""

from alembic import op
import sqlalchemy as sa

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'server_groups',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('uuid', sa.String(length=36), nullable=False),
        sa.Column('name', sa.String(length=255), nullable=False),
        sa.Column('project_id', sa.String(length=255), nullable=False),
        sa.Column('user_id', sa.String(length=255), nullable=False),
        sa.Column('policy', sa.String(length=255), nullable=False),
        sa.Column('rules', sa.Text(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('uuid', name='uniq_server_groups0uuid'))
    op.create_index('server_groups_project_id_idx', 'server_groups',
                    ['project_id'])
    op.create_table(
        'server_group_members',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('group_uuid', sa.String(length=36), nullable=False),
        sa.Column('instance_uuid', sa.String(length=36), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('instance_uuid',
                            name='uniq_server_group_members0instance_uuid'))
    op.create_index('server_group_members_group_uuid_idx',
                    'server_group_members', ['group_uuid'])


def downgrade():
    op.drop_index('server_group_members_group_uuid_idx',
                  table_name='server_group_members')
    op.drop_table('server_group_members')
    op.drop_index('server_groups_project_id_idx', table_name='server_groups')
    op.drop_table('server_groups')
