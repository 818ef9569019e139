"""Keep microseconds in the jobs table's times on MySQL/MariaDB.

A plain DATETIME there rounds to whole seconds, so a job's lease could end
up to a second early. Other databases already keep microseconds.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-21
"""

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import mysql

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

_COLUMNS = (('claim_expires_at', True), ('created_on', False),
            ('last_modified', False))


def upgrade():
    if op.get_bind().dialect.name != 'mysql':
        return
    for column, nullable in _COLUMNS:
        op.alter_column('jobs', column, type_=mysql.DATETIME(fsp=6),
                        existing_type=sa.DateTime(),
                        existing_nullable=nullable)
