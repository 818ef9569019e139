"""Index the parent_uuid columns of TaskFlow's logbook tables.

TaskFlow's own migrations leave flowdetails.parent_uuid and
atomdetails.parent_uuid unindexed on PostgreSQL and SQLite (InnoDB indexes
foreign keys by itself); loading one logbook then scans every flow ever
recorded, about 30x slower at 100k finished flows. This revision adds the
indexes where the database has none on those columns.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21
"""

from alembic import op
import sqlalchemy as sa

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

_INDEXES = (
    ('flowdetails', 'flowdetails_parent_uuid_idx'),
    ('atomdetails', 'atomdetails_parent_uuid_idx'),
)


def _has_index_on(inspector, table, column):
    for index in inspector.get_indexes(table):
        if index['column_names'] and index['column_names'][0] == column:
            return True
    return False


def upgrade():
    inspector = sa.inspect(op.get_bind())
    for table, name in _INDEXES:
        if not inspector.has_table(table):
            raise RuntimeError('TaskFlow table %s is missing: db sync runs '
                               'TaskFlow\'s migrations first' % table)
        if not _has_index_on(inspector, table, 'parent_uuid'):
            op.create_index(name, table, ['parent_uuid'])
