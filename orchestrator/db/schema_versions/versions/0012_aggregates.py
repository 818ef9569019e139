"""Host aggregates (``os-aggregates``) and the zone a host reports.

* ``aggregates``: id (Nova's integer id), uuid, a unique name;
* ``aggregate_hosts``: (aggregate id, host), a host in any number of
  aggregates;
* ``aggregate_metadata``: (aggregate id, key, value); the key
  ``availability_zone`` is the aggregate's zone, as Nova keeps it;
* ``services.reported_zone``: the zone a service reports with its
  heartbeats; ``services.zone`` stays what everything reads: the zone of
  the host's aggregates when one has one, else the reported one.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06
"""

from alembic import op
import sqlalchemy as sa

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def _timestamps():
    return [sa.Column('created_at', sa.DateTime(), nullable=False),
            sa.Column('updated_at', sa.DateTime(), nullable=True)]


def upgrade():
    op.create_table(
        'aggregates',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('uuid', sa.String(length=36), nullable=False),
        sa.Column('name', sa.String(length=255), nullable=False),
        *_timestamps(),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('uuid', name='uniq_aggregates0uuid'),
        sa.UniqueConstraint('name', name='uniq_aggregates0name'))
    op.create_table(
        'aggregate_hosts',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('aggregate_id', sa.Integer(), nullable=False),
        sa.Column('host', sa.String(length=255), nullable=False),
        *_timestamps(),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('aggregate_id', 'host',
                            name='uniq_aggregate_hosts0aggregate_id0host'))
    op.create_index('aggregate_hosts_host_idx', 'aggregate_hosts', ['host'])
    op.create_table(
        'aggregate_metadata',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('aggregate_id', sa.Integer(), nullable=False),
        sa.Column('key', sa.String(length=255), nullable=False),
        sa.Column('value', sa.String(length=255), nullable=False),
        *_timestamps(),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('aggregate_id', 'key',
                            name='uniq_aggregate_metadata0aggregate_id0key'))
    op.create_index('aggregate_metadata_key_idx', 'aggregate_metadata',
                    ['key'])
    op.add_column('services', sa.Column('reported_zone',
                                        sa.String(length=255),
                                        nullable=True))
    op.execute('UPDATE services SET reported_zone = zone')


def downgrade():
    with op.batch_alter_table('services') as batch:
        batch.drop_column('reported_zone')
    op.drop_index('aggregate_metadata_key_idx',
                  table_name='aggregate_metadata')
    op.drop_table('aggregate_metadata')
    op.drop_index('aggregate_hosts_host_idx', table_name='aggregate_hosts')
    op.drop_table('aggregate_hosts')
    op.drop_table('aggregates')
