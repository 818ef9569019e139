"""The process's database engine, through oslo.db's enginefacade.

:func:`configure` is called once by each service's start-up (and by tests,
once per database they use); :func:`writer` and :func:`reader` give a
session in a transaction that commits when the block ends.

On SQLite (the embedded mode), in WAL mode with a busy timeout:

* every write transaction starts with ``BEGIN IMMEDIATE``: writers queue
  instead of failing with "database is locked" when a read transaction
  tries to upgrade, which is what the many threads of the all-in-one
  would otherwise hit;
* a :func:`reader` transaction starts with a plain (deferred) ``BEGIN``:
  in WAL mode readers take no lock, so reads no longer queue behind
  writers (a read that tried to write would fail, never wait);
* connections are pooled (oslo.db gives SQLite files a ``NullPool``,
  which opened a connection and ran the PRAGMAs for every transaction);
* the database file is its owner's only (0600).
"""

import contextlib
import threading

from oslo_db.sqlalchemy import enginefacade
import sqlalchemy as sa

from orchestrator import file_modes

_LOCK = threading.Lock()
_FACADE = None
#: Whether this thread's next SQLite transaction only reads (innermost
#: :func:`reader` or :func:`writer` block wins).
_READING = threading.local()

#: Pooled SQLite connections kept open; more are opened when needed and
#: closed when given back.
SQLITE_POOL_SIZE = 16


class _SessionHolder:
    """Carries enginefacade's per-transaction state (any object will do)."""


def _sqlite_tuning(engine):
    @sa.event.listens_for(engine, 'connect')
    def _on_connect(dbapi_connection, _record):
        # oslo.db already turned pysqlite's own BEGIN off (isolation_level
        # None); the 'begin' listener below emits ours.
        cursor = dbapi_connection.cursor()
        cursor.execute('PRAGMA busy_timeout=60000')
        if engine.url.database not in (None, '', ':memory:'):
            cursor.execute('PRAGMA journal_mode=WAL')
            cursor.execute('PRAGMA synchronous=NORMAL')
        cursor.execute('PRAGMA foreign_keys=ON')
        cursor.close()

    # oslo.db emits a plain (deferred) BEGIN unless the connection's
    # 'in_transaction' marker is set, and pops the marker at commit and
    # rollback. We keep the marker set at all times (our commit/rollback
    # listeners run after oslo.db's) so that it never does, and emit
    # BEGIN IMMEDIATE ourselves whenever the DBAPI connection has no
    # transaction open.
    @sa.event.listens_for(engine, 'connect')
    def _mark_new(_dbapi_connection, record):
        record.info['in_transaction'] = True

    @sa.event.listens_for(engine, 'begin')
    def _on_begin(connection):
        dbapi_connection = connection.connection.dbapi_connection
        if not dbapi_connection.in_transaction:
            connection.exec_driver_sql(
                'BEGIN' if getattr(_READING, 'value', False)
                else 'BEGIN IMMEDIATE')

    @sa.event.listens_for(engine, 'commit')
    @sa.event.listens_for(engine, 'rollback')
    def _keep_marked(connection):
        connection.info['in_transaction'] = True

    # oslo.db opened a first connection before these listeners existed.
    engine.dispose()


def _pooled(engine):
    """Give a file SQLite ``engine`` a QueuePool in place of oslo.db's
    NullPool, keeping the pool's event listeners (oslo.db's and ours)."""
    old = engine.pool
    if not isinstance(old, sa.pool.NullPool) or \
            engine.url.database in (None, '', ':memory:'):
        return
    engine.pool = sa.pool.QueuePool(
        old._creator, pool_size=SQLITE_POOL_SIZE, max_overflow=-1,
        recycle=old._recycle, echo=old.echo,
        logging_name=old._orig_logging_name,
        reset_on_return=old._reset_on_return, pre_ping=False,
        dialect=old._dialect, _dispatch=old.dispatch)
    old.dispose()


def _private_sqlite_file(connection):
    """A SQLite database file is created owner-only (0600) before SQLite
    opens it (an empty file is an empty database); SQLite gives its
    journal, ``-wal`` and ``-shm`` files the database's mode."""
    url = sa.engine.make_url(connection)
    if url.get_backend_name() == 'sqlite' and url.database not in (
            None, '', ':memory:') and not url.database.startswith('file:'):
        file_modes.private_file(url.database)


def configure(connection, **engine_options):
    """Point this process at ``connection`` (a SQLAlchemy URL).

    Replaces any earlier configuration (tests use one database each).
    Returns the engine.
    """
    global _FACADE
    _private_sqlite_file(connection)
    facade = enginefacade.transaction_context()
    options = {'connection': connection, 'sqlite_fk': False}
    options.update(engine_options)
    facade.configure(**options)
    engine = facade.writer.get_engine()
    if engine.dialect.name == 'sqlite':
        _sqlite_tuning(engine)
        _pooled(engine)
    with _LOCK:
        old, _FACADE = _FACADE, facade
    if old is not None:
        try:
            old.writer.get_engine().dispose()
        except Exception:  # noqa: BLE001 - best effort on a replaced engine
            pass
    return engine


def configure_from_conf(conf):
    """Configure from the [database] options of ``conf``."""
    db = conf.database
    options = {}
    if not db.connection.startswith('sqlite'):
        options.update(max_pool_size=db.max_pool_size,
                       max_overflow=db.max_overflow,
                       pool_timeout=db.pool_timeout)
    return configure(db.connection, **options)


def _facade():
    if _FACADE is None:
        raise RuntimeError('the database is not configured: call '
                           'orchestrator.db.session.configure() first')
    return _FACADE


def get_engine():
    """The engine of the configured database (shared with TaskFlow)."""
    return _facade().writer.get_engine()


@contextlib.contextmanager
def _intent(reading):
    before = getattr(_READING, 'value', False)
    _READING.value = reading
    try:
        yield
    finally:
        _READING.value = before


@contextlib.contextmanager
def writer():
    """A session in a read-write transaction, committed at block end."""
    with _intent(False), _facade().writer.using(_SessionHolder()) as session:
        yield session


@contextlib.contextmanager
def reader():
    """A session for reads only (on SQLite a deferred transaction that
    takes no lock: a write in it fails)."""
    with _intent(True), _facade().reader.using(_SessionHolder()) as session:
        yield session
