"""Create or upgrade the database schema: TaskFlow's logbook tables,
then ours (alembic revisions in :mod:`orchestrator.db.schema_versions`).

``orchestrator-manage db sync`` calls :func:`db_sync`. It is idempotent:
running it on an up-to-date database changes nothing.
"""

import os

from alembic import command
from alembic import config as alembic_config
from alembic import migration as alembic_migration
from taskflow.persistence.backends import impl_sqlalchemy

from orchestrator.db.schema_versions import env_constants

_HERE = os.path.dirname(os.path.abspath(__file__))


def _alembic_config(connection):
    cfg = alembic_config.Config()
    cfg.set_main_option('script_location',
                        os.path.join(_HERE, 'schema_versions'))
    cfg.attributes['connection'] = connection
    return cfg


def sync_taskflow(engine):
    """Create or upgrade TaskFlow's logbook tables on ``engine``."""
    backend = impl_sqlalchemy.SQLAlchemyBackend({}, engine=engine)
    conn = backend.get_connection()
    try:
        conn.upgrade()
    finally:
        conn.close()


def sync_orchestrator(engine, revision='head'):
    """Run our alembic schema revisions up to ``revision``."""
    with engine.begin() as connection:
        command.upgrade(_alembic_config(connection), revision)


def current_revision(engine):
    """Our schema's current alembic revision (None before the first sync)."""
    with engine.connect() as connection:
        ctx = alembic_migration.MigrationContext.configure(
            connection, opts={'version_table': env_constants.VERSION_TABLE})
        return ctx.get_current_revision()


def db_sync(engine):
    """Bring the whole schema (TaskFlow's and ours) up to date."""
    sync_taskflow(engine)
    sync_orchestrator(engine)
