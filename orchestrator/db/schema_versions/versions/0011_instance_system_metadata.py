"""An instance's system metadata (what a shelved server needs kept).

* ``instances.system_metadata``: a JSON document, NULL when empty, never
  shown to users (Nova's ``system_metadata``): a shelved server's
  ``shelved_image_id``, ``shelved_at`` and ``shelved_host``.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05
"""

from alembic import op
import sqlalchemy as sa

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('instances',
                  sa.Column('system_metadata', sa.Text(), nullable=True))


def downgrade():
    with op.batch_alter_table('instances') as batch:
        batch.drop_column('system_metadata')
