"""Indexes for the conductor's periodic checks, so that their cost does
not grow with history.

The accepted-requests check reads open actions and actions with a
recorded request, the deadline watchdog live instances in a task; each
is a few rows among every finished operation, and each was a full scan
(90x slower at 100k finished operations than at none). On PostgreSQL
and SQLite these are partial indexes over just those rows; MySQL and
MariaDB have no partial indexes and get plain ones on the same columns.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04
"""

from alembic import op
import sqlalchemy as sa

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

_INDEXES = (
    ('instances_in_task_idx', 'instances', ['task_deadline_at'],
     'deleted = 0 AND task_state IS NOT NULL'),
    ('instance_actions_open_idx', 'instance_actions', ['start_time'],
     'finish_time IS NULL'),
    ('instance_actions_pending_idx', 'instance_actions', ['start_time'],
     'pending_request IS NOT NULL'),
)


def upgrade():
    for name, table, columns, where in _INDEXES:
        op.create_index(name, table, columns,
                        sqlite_where=sa.text(where),
                        postgresql_where=sa.text(where))


def downgrade():
    for name, table, _columns, _where in _INDEXES:
        op.drop_index(name, table_name=table)
