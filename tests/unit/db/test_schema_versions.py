"""``db sync`` on SQLite, PostgreSQL and MariaDB.

* it brings an empty database to our newest revision, with TaskFlow's
  logbook tables beside ours;
* a second run changes nothing (no DDL, no version bump);
* the schema versions create exactly what orchestrator.db.models declares
  (alembic's autogenerate finds no difference);
* the parent_uuid indexes of the logbook tables exist;
* the newest revision downgrades and upgrades again.
"""

from alembic import autogenerate
from alembic import command
from alembic import migration as alembic_migration
import pytest
import sqlalchemy as sa

from orchestrator.cmd import manage
from orchestrator.db import models
from orchestrator.db import schema
from orchestrator.db import session
from orchestrator.db.schema_versions import env_constants

# TaskFlow owns these tables (and, except on SQLite where it creates its
# tables directly, their alembic history in alembic_version); our models
# do not describe them.
TASKFLOW_TABLES = frozenset(['logbooks', 'flowdetails', 'atomdetails'])
IGNORED_TABLES = TASKFLOW_TABLES | {'alembic_version',
                                    env_constants.VERSION_TABLE}
# Added by revision 0002 on TaskFlow's tables (not in our models).
LOGBOOK_INDEXES = frozenset(['flowdetails_parent_uuid_idx',
                             'atomdetails_parent_uuid_idx'])

DDL_PREFIXES = ('CREATE', 'ALTER', 'DROP', 'RENAME', 'TRUNCATE')
WRITE_PREFIXES = ('INSERT', 'UPDATE', 'DELETE', 'REPLACE')


@pytest.fixture(params=[
    'sqlite',
    pytest.param('postgresql', marks=pytest.mark.integration),
    pytest.param('mariadb', marks=pytest.mark.integration),
])
def empty_engine(request, tmp_path):
    """An engine on an empty database of each kind we support."""
    if request.param == 'sqlite':
        url = 'sqlite:///%s' % (tmp_path / 'migrations.sqlite')
    else:
        url = request.getfixturevalue(
            'pg_url' if request.param == 'postgresql' else 'mysql_url')
    engine = session.configure(url)
    yield engine
    engine.dispose()


def _statements(engine, fn):
    """Run ``fn()`` and return the SQL statements it sent to ``engine``."""
    seen = []

    def record(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement.strip())

    sa.event.listen(engine, 'before_cursor_execute', record)
    try:
        fn()
    finally:
        sa.event.remove(engine, 'before_cursor_execute', record)
    return seen


def _schema(engine):
    """A comparable snapshot of every table, column and index."""
    inspector = sa.inspect(engine)
    snapshot = {}
    for table in sorted(inspector.get_table_names()):
        snapshot[table] = (
            [(c['name'], str(c['type']), c['nullable'])
             for c in inspector.get_columns(table)],
            sorted((i['name'], tuple(i['column_names']))
                   for i in inspector.get_indexes(table)),
        )
    return snapshot


def _include_name(name, type_, parent_names):
    if type_ == 'table':
        return name not in IGNORED_TABLES
    if type_ == 'index':
        return name not in LOGBOOK_INDEXES
    return True


def _model_diffs(engine):
    with engine.connect() as connection:
        context = alembic_migration.MigrationContext.configure(
            connection, opts={'compare_type': True,
                              'include_name': _include_name})
        return autogenerate.compare_metadata(context, models.Base.metadata)


def test_db_sync_creates_everything_and_is_idempotent(empty_engine):
    engine = empty_engine
    assert schema.current_revision(engine) is None

    schema.db_sync(engine)

    assert schema.current_revision(engine) == manage.head_revision()
    tables = set(sa.inspect(engine).get_table_names())
    assert TASKFLOW_TABLES <= tables, TASKFLOW_TABLES - tables
    assert set(models.Base.metadata.tables) <= tables
    before = _schema(engine)

    statements = _statements(engine, lambda: schema.db_sync(engine))

    changes = [st for st in statements
               if st.upper().startswith(DDL_PREFIXES + WRITE_PREFIXES)]
    assert changes == [], 'a second db sync changed the database'
    assert _schema(engine) == before
    assert schema.current_revision(engine) == manage.head_revision()


def test_models_and_migrations_agree(empty_engine):
    schema.db_sync(empty_engine)
    diffs = _model_diffs(empty_engine)
    assert diffs == [], (
        'the migrations and orchestrator/db/models.py differ on %s: %r'
        % (empty_engine.dialect.name, diffs))


def test_logbook_parent_uuid_indexes_exist(empty_engine):
    schema.db_sync(empty_engine)
    inspector = sa.inspect(empty_engine)
    for table in ('flowdetails', 'atomdetails'):
        leading = [i['column_names'][0] for i in inspector.get_indexes(table)
                   if i['column_names']]
        assert 'parent_uuid' in leading, (table, inspector.get_indexes(table))


def test_model_comparison_sees_a_difference(empty_engine):
    """The comparison above is not blind: a column the models lack is
    reported (guards the include_name filter)."""
    schema.db_sync(empty_engine)
    with empty_engine.begin() as connection:
        connection.execute(sa.text(
            'ALTER TABLE instances ADD COLUMN stray_column INTEGER'))
    diffs = _model_diffs(empty_engine)
    assert [d for d in diffs if d[0] == 'remove_column'
            and d[3].name == 'stray_column'], diffs


#: (revision to go back to, tables the revisions after it created).
DOWNGRADES = [
    ('0010', set()),
    ('0009', {'server_groups', 'server_group_members'}),
    ('0006', {'key_pairs', 'flavor_projects', 'tags', 'server_groups'}),
    ('0005', {'key_pairs', 'flavor_projects', 'tags', 'project_quotas'}),
]


@pytest.mark.parametrize('target,gone', DOWNGRADES)
def test_newest_revisions_downgrade_and_upgrade_again(empty_engine, target,
                                                      gone):
    """The newest revisions (0011: instances.system_metadata; 0010:
    server_groups, server_group_members; 0007: key_pairs,
    flavor_projects, tags; 0006: project_quotas) go back and forward
    again, and the models still agree afterwards."""
    schema.db_sync(empty_engine)
    assert gone <= set(sa.inspect(empty_engine).get_table_names())
    with empty_engine.begin() as connection:
        command.downgrade(schema._alembic_config(connection), target)
    assert schema.current_revision(empty_engine) == target
    assert not gone & set(sa.inspect(empty_engine).get_table_names())

    schema.db_sync(empty_engine)
    assert schema.current_revision(empty_engine) == manage.head_revision()
    assert _model_diffs(empty_engine) == []
