"""Keep an accepted request until its flow's job is posted.

``instance_actions.pending_request`` holds what a conductor needs to post
the action's flow (the conductor method, its arguments, the request
context without its token) from the moment the API hands the request
over until the job is on the board; then it is cleared. A request whose
process died in between is posted from it by
:mod:`orchestrator.conductor.accepted`.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04
"""

from alembic import op
import sqlalchemy as sa

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('instance_actions',
                  sa.Column('pending_request', sa.Text(), nullable=True))
