"""Fixtures every test layer shares: configuration and databases.

* ``conf``: the global cfg.CONF with every group registered, reset after
  the test (tests override options with ``conf.set_override``); its
  ``secrets_key_file`` is a key file of the session.
* ``db``: a fresh SQLite database (a file in tmp_path, so threads share
  it) with the whole schema and the seeded flavors/images.
* ``pg_url`` / ``mysql_url``: a new, uniquely named database on the local
  PostgreSQL / MariaDB, dropped afterwards. When the server is unreachable
  the test is skipped, except under CI=true, where it fails: CI must run
  the integration tests for real.
"""

import os
import subprocess
import uuid

import pytest
import sqlalchemy as sa

from orchestrator import conf as orch_conf
from orchestrator import secret_box
from orchestrator.db import catalog
from orchestrator.db import schema
from orchestrator.db import session

from tests.crash import report as crash_report

PG_ADMIN_URL = os.environ.get(
    'ORCHESTRATOR_TEST_PG_URL', 'postgresql+psycopg2://postgres@127.0.0.1/test')
MYSQL_ADMIN_URL = os.environ.get(
    'ORCHESTRATOR_TEST_MYSQL_URL', 'mysql+pymysql://root@127.0.0.1/test')
REDIS_URL = os.environ.get('ORCHESTRATOR_TEST_REDIS_URL',
                           'redis://127.0.0.1:6379/0')
RABBIT_URL = os.environ.get('ORCHESTRATOR_TEST_RABBIT_URL',
                            'rabbit://guest:guest@127.0.0.1:5672/')


def service_missing(what, error):
    """Skip (or, under CI=true, fail) a test whose service is down."""
    message = '%s is not reachable: %s' % (what, error)
    if os.environ.get('CI', '').lower() == 'true':
        pytest.fail(message + ' (CI=true: integration services are '
                              'required)')
    pytest.skip(message)


@pytest.fixture(scope='session')
def secrets_key_file(tmp_path_factory):
    """A key file the services of every test share (the API seals the
    rescue password with it, a conductor opens it)."""
    path = str(tmp_path_factory.mktemp('secrets') / 'secrets.key')
    secret_box.create_key_file(path)
    return path


@pytest.fixture
def conf(secrets_key_file):
    orch_conf.register_all()
    orch_conf.CONF([], project='orchestrator', default_config_files=[],
                   default_config_dirs=[])
    orch_conf.CONF.set_override('secrets_key_file', secrets_key_file)
    yield orch_conf.CONF
    orch_conf.CONF.reset()


def _sync_and_seed(url):
    engine = session.configure(url)
    schema.db_sync(engine)
    catalog.seed_defaults()
    return engine


@pytest.fixture
def db(tmp_path, conf):
    url = 'sqlite:///%s' % (tmp_path / 'orchestrator.sqlite')
    conf.set_override('connection', url, group='database')
    engine = _sync_and_seed(url)
    yield engine
    engine.dispose()


def scratch_database(admin_url, what):
    """Create a uniquely named database; (admin engine, name, its URL).

    Modules that share one database among their tests call it from a
    module-scoped fixture (creating a database costs seconds).
    """
    name = 'orch_%s' % uuid.uuid4().hex[:12]
    try:
        admin = sa.create_engine(admin_url, isolation_level='AUTOCOMMIT')
        with admin.connect() as c:
            c.exec_driver_sql('CREATE DATABASE %s' % name)
    except Exception as e:  # noqa: BLE001 - any failure means "down"
        service_missing(what, e)
    url = sa.engine.make_url(admin_url).set(database=name)
    return admin, name, url.render_as_string(hide_password=False)


def _scratch_url(admin_url, what, drop_sql):
    """Yield a scratch database's URL; drop the database afterwards."""
    admin, name, url = scratch_database(admin_url, what)
    yield url
    with admin.connect() as c:
        c.exec_driver_sql(drop_sql % name)
    admin.dispose()


@pytest.fixture
def pg_url():
    yield from _scratch_url(PG_ADMIN_URL, 'PostgreSQL',
                            'DROP DATABASE IF EXISTS %s WITH (FORCE)')


@pytest.fixture
def mysql_url():
    yield from _scratch_url(MYSQL_ADMIN_URL, 'MariaDB',
                            'DROP DATABASE IF EXISTS %s')


@pytest.fixture
def redis_url():
    import redis
    try:
        redis.Redis.from_url(REDIS_URL).ping()
    except Exception as e:  # noqa: BLE001
        service_missing('Redis', e)
    return REDIS_URL


@pytest.fixture
def rabbit_url():
    """A RabbitMQ URL on a virtual host of its own, deleted afterwards.

    oslo.messaging's queue names ('conductor', 'compute.<host>') are
    global in a virtual host, whatever the exchange: two systems on one
    vhost would consume each other's requests. A vhost per test keeps
    parallel tests apart.
    """
    import kombu
    vhost = 'orch-%s' % uuid.uuid4().hex[:12]
    try:
        subprocess.run(['rabbitmqctl', '-q', 'add_vhost', vhost],
                       check=True, capture_output=True, timeout=60)
        subprocess.run(['rabbitmqctl', '-q', 'set_permissions', '-p', vhost,
                        'guest', '.*', '.*', '.*'],
                       check=True, capture_output=True, timeout=60)
        url = '%s%s' % (RABBIT_URL.rstrip('/') + '/', vhost)
        with kombu.Connection(url.replace('rabbit://', 'amqp://'),
                              connect_timeout=3) as c:
            c.connect()
    except Exception as e:  # noqa: BLE001
        service_missing('RabbitMQ', e)
    yield url
    subprocess.run(['rabbitmqctl', '-q', 'delete_vhost', vhost],
                   capture_output=True, timeout=60)


def pytest_terminal_summary(terminalreporter):
    crash_report.write_case_counts(terminalreporter)
