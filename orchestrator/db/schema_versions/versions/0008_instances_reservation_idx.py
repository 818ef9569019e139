"""An index on instances.reservation_id: ``GET /servers?reservation_id=``
finds the servers of one multiple create without a scan of every
instance.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05
"""

from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('instances_reservation_id_idx', 'instances',
                    ['reservation_id'])


def downgrade():
    op.drop_index('instances_reservation_id_idx', table_name='instances')
