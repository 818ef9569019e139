"""Alembic environment of our schema (TaskFlow's tables have their own).

Our revisions are recorded in their own version table so that they never
collide with TaskFlow's alembic history in the same database.
"""

from alembic import context

from orchestrator.db import models
from orchestrator.db.schema_versions import env_constants

VERSION_TABLE = env_constants.VERSION_TABLE


def run_migrations_online():
    connection = context.config.attributes['connection']
    context.configure(connection=connection,
                      target_metadata=models.Base.metadata,
                      version_table=VERSION_TABLE,
                      render_as_batch=connection.dialect.name == 'sqlite')
    with context.begin_transaction():
        context.run_migrations()


run_migrations_online()
