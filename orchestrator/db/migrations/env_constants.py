"""Names the migration environment and its callers share."""

VERSION_TABLE = 'orchestrator_alembic_version'
