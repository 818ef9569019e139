"""Names the alembic environment of our schema and its callers share."""

VERSION_TABLE = 'orchestrator_alembic_version'
