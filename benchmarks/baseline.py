"""The baseline in the same run: what stock components cost on this
machine, measured next to the orchestrator so that its figures can be
read against them.

Rows and their figures (each the median over interleaved rounds, with
the min and max of the rounds):

``taskflow_flow_sqlite``, ``taskflow_flow_postgresql``
    A linear TaskFlow flow of 7 no-op tasks named like the steps of our
    boot flow (:mod:`flows.boot`), loaded and run by
    ``taskflow.engines.load(...).run()`` with TaskFlow's stock
    ``SQLAlchemyBackend`` on a scratch SQLite file (WAL journal,
    ``synchronous=NORMAL``) or a scratch PostgreSQL database.
    ``ms_per_flow``: median wall time of one flow (creating its flow
    detail, loading the engine, running it); ``commits_per_flow`` and
    ``statements_per_flow``: the COMMITs and SQL statements TaskFlow
    sent for one flow (SQLAlchemy ``commit`` and
    ``before_cursor_execute`` events).
``taskflow_flow_memory``
    The same flow with TaskFlow's default in-memory persistence:
    ``ms_per_flow``.
``commit_sqlite``, ``commit_postgresql``
    ``ms_per_commit``: median wall time of one small write transaction
    (INSERT one row into a scratch table, COMMIT) on the same databases.
``rpc_call_memory``, ``rpc_call_rabbit``
    ``ms_per_call``: median round trip of one oslo.messaging RPC call to
    a server endpoint that returns its argument (threading executor), on
    the in-memory transport as the all-in-one uses it
    (:mod:`orchestrator.memory_transport` installed, URL
    ``rpc.DEFAULT_IN_MEMORY_URL``, i.e. ``kombu+memory:////``:
    oslo.messaging has no driver for a bare ``memory://``) or on RabbitMQ
    (a scratch vhost). Stock oslo.messaging otherwise: its own thread
    pool, no serializer.

The PostgreSQL and RabbitMQ rows are measured only when their URLs are
given. Every scratch database, vhost, topic and exchange is unique to the
run and removed at its end.

    .venv/bin/python -m benchmarks.baseline [--smoke] [--pg-url [URL]]
        [--rabbit-url [URL]]
"""

import argparse
import contextlib
import os
import statistics
import subprocess
import tempfile
import time
import urllib.parse
import uuid

from oslo_config import cfg
import oslo_messaging as messaging
import sqlalchemy as sa
from taskflow import engines
from taskflow.patterns import linear_flow
from taskflow.persistence.backends import impl_sqlalchemy
from taskflow import task

from orchestrator import memory_transport
from orchestrator import rpc

from benchmarks import stats

PG_ADMIN_URL = os.environ.get(
    'ORCHESTRATOR_TEST_PG_URL',
    'postgresql+psycopg2://postgres@127.0.0.1/test')
RABBIT_URL = os.environ.get('ORCHESTRATOR_TEST_RABBIT_URL',
                            'rabbit://guest:guest@127.0.0.1:5672/')

#: The atoms of :func:`flows.boot.get_flow`, in the order they run
#: (ScheduleInstance is the host subflow's retry controller there).
STEP_NAMES = ('BuildToErrorOnRevert', 'ScheduleInstance', 'PrepareNetworks',
              'PrepareBlockDevices', 'FetchImage', 'SpawnOnHost',
              'MarkActive')

#: (rounds, flows, commits, calls) per round, normally and for a smoke run.
SIZES = {False: (5, 20, 200, 100), True: (2, 5, 50, 20)}


def _ms(seconds):
    return seconds * 1000.0


def _scratch_name(separator):
    return separator.join(['orch', 'bench', uuid.uuid4().hex[:10]])


class _NoOpStep(task.Task):
    """A step that does nothing and returns a small dict."""

    def execute(self, instance_uuid):
        return {'step': type(self).__name__, 'instance_uuid': instance_uuid}


#: One no-op task class per step name (an atom is named by its class).
STEPS = tuple(type(name, (_NoOpStep,), {'__module__': __name__})
              for name in STEP_NAMES)


def boot_like_flow():
    """A linear flow of the 7 no-op steps."""
    return linear_flow.Flow('orch-bench-boot').add(
        *(step() for step in STEPS))


# Databases ------------------------------------------------------------

def _sqlite_wal(dbapi_connection, _record):
    cursor = dbapi_connection.cursor()
    cursor.execute('PRAGMA journal_mode=WAL')
    cursor.execute('PRAGMA synchronous=NORMAL')
    cursor.close()


def make_engine(url):
    """A SQLAlchemy engine on ``url`` (SQLAlchemy's default pool); on
    SQLite every connection is in WAL mode with ``synchronous=NORMAL``."""
    engine = sa.create_engine(url)
    if engine.dialect.name == 'sqlite':
        sa.event.listen(engine, 'connect', _sqlite_wal)
    return engine


@contextlib.contextmanager
def sqlite_database():
    """The URL of a SQLite file in a temporary directory, removed after."""
    with tempfile.TemporaryDirectory(prefix='orch-bench-') as tmp:
        yield 'sqlite:///' + os.path.join(tmp, 'baseline.sqlite')


@contextlib.contextmanager
def postgresql_database(admin_url):
    """The URL of a scratch database ``orch_bench_<hex>`` created through
    ``admin_url`` and dropped (WITH (FORCE)) after."""
    name = _scratch_name('_')
    admin = sa.create_engine(admin_url, isolation_level='AUTOCOMMIT')
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql('CREATE DATABASE %s' % name)
        try:
            url = sa.engine.make_url(admin_url).set(database=name)
            yield url.render_as_string(hide_password=False)
        finally:
            with admin.connect() as conn:
                conn.exec_driver_sql(
                    'DROP DATABASE IF EXISTS %s WITH (FORCE)' % name)
    finally:
        admin.dispose()


def _rabbitmqctl(*args):
    subprocess.run(('rabbitmqctl', '-q') + args, check=True,
                   capture_output=True, timeout=60)


@contextlib.contextmanager
def rabbit_vhost(url):
    """``url`` moved to a scratch vhost ``orch-bench-<hex>`` (guest may
    do everything there), deleted after."""
    vhost = _scratch_name('-')
    _rabbitmqctl('add_vhost', vhost)
    try:
        _rabbitmqctl('set_permissions', '-p', vhost, 'guest',
                     '.*', '.*', '.*')
        yield urllib.parse.urlsplit(url)._replace(path='/' + vhost).geturl()
    finally:
        _rabbitmqctl('delete_vhost', vhost)


class _Counter:
    """The COMMITs and statements an engine has sent so far."""

    def __init__(self, engine):
        self.commits = 0
        self.statements = 0
        sa.event.listen(engine, 'commit', self._on_commit)
        sa.event.listen(engine, 'before_cursor_execute', self._on_statement)

    def _on_commit(self, _connection):
        self.commits += 1

    def _on_statement(self, *_args):
        self.statements += 1

    def read(self):
        return self.commits, self.statements


# Measures -------------------------------------------------------------

class FlowMeasure:
    """Runs ``flows`` flows of :func:`boot_like_flow` one after the other
    and gives ms per flow (median), and on SQL persistence the commits
    and statements per flow (mean over the flows)."""

    def __init__(self, flows, engine=None):
        self.flows = flows
        self.backend = None
        self.counter = None
        if engine is not None:
            self.backend = impl_sqlalchemy.SQLAlchemyBackend(
                {}, engine=engine)
            with contextlib.closing(self.backend.get_connection()) as conn:
                conn.upgrade()
            self.counter = _Counter(engine)

    def _run_one(self):
        flow = boot_like_flow()
        store = {'instance_uuid': str(uuid.uuid4())}
        start = time.perf_counter()
        engines.load(flow, store=store, backend=self.backend).run()
        return time.perf_counter() - start

    def __call__(self):
        commits, statements = self.counter.read() if self.counter else (0, 0)
        times = [self._run_one() for _ in range(self.flows)]
        figures = {'ms_per_flow': _ms(statistics.median(times))}
        if self.counter:
            figures['commits_per_flow'] = (
                self.counter.commits - commits) / self.flows
            figures['statements_per_flow'] = (
                self.counter.statements - statements) / self.flows
        return figures

    def close(self):
        if self.backend is not None:
            self.backend.close()


class CommitMeasure:
    """Runs ``commits`` transactions that each insert one row into a
    scratch table, and gives ms per commit (median)."""

    def __init__(self, engine, commits):
        self.engine = engine
        self.commits = commits
        table = sa.Table('orch_bench_commit', sa.MetaData(),
                         sa.Column('id', sa.Integer, primary_key=True),
                         sa.Column('payload', sa.String(36)))
        table.create(engine)
        self.insert = table.insert()

    def _commit_one(self):
        row = {'payload': str(uuid.uuid4())}
        start = time.perf_counter()
        with self.engine.begin() as conn:
            conn.execute(self.insert, row)
        return time.perf_counter() - start

    def __call__(self):
        times = [self._commit_one() for _ in range(self.commits)]
        return {'ms_per_commit': _ms(statistics.median(times))}


class _Echo:
    """The RPC endpoint: returns its argument."""

    def echo(self, ctxt, value):
        return value


class RpcMeasure:
    """An RPC server (threading executor) and a client on a transport,
    on a topic and exchange of their own; each round makes ``calls``
    calls one after the other and gives ms per call (median)."""

    def __init__(self, url, calls):
        self.calls = calls
        # The global configuration, as the services use (orchestrator.conf):
        # oslo.messaging registers its [oslo_messaging_tracing] options,
        # which every call reads, on cfg.CONF only. Nothing is read from
        # files; only the defaults are used.
        self.transport = messaging.get_rpc_transport(cfg.CONF, url=url)
        name = _scratch_name('-')
        self.server = messaging.get_rpc_server(
            self.transport,
            messaging.Target(exchange=name, topic=name, server='bench'),
            [_Echo()])
        # As orchestrator.rpc.get_server: threads only, never eventlet.
        if self.server.executor_type != 'threading':
            raise rpc.NotThreadingExecutor(self.server.executor_type)
        self.server.start()
        self.client = messaging.get_rpc_client(
            self.transport, messaging.Target(exchange=name, topic=name),
            timeout=60)
        try:
            self._call_one()  # declares the reply queue: not measured
        except Exception:
            self.close()
            raise

    def _call_one(self):
        value = uuid.uuid4().hex
        start = time.perf_counter()
        if self.client.call({}, 'echo', value=value) != value:
            raise AssertionError('the echo endpoint answered wrong')
        return time.perf_counter() - start

    def __call__(self):
        times = [self._call_one() for _ in range(self.calls)]
        return {'ms_per_call': _ms(statistics.median(times))}

    def close(self):
        self.server.stop()
        self.server.wait()
        self.transport.cleanup()


def _memory_rpc(calls):
    """:class:`RpcMeasure` on the all-in-one's in-memory transport."""
    memory_transport.install()
    return RpcMeasure(rpc.DEFAULT_IN_MEMORY_URL, calls)


# The run --------------------------------------------------------------

def _database_rows(stack, kind, url, flows, commits):
    """The flow and commit measures of one database."""
    flow_engine = make_engine(url)
    stack.callback(flow_engine.dispose)
    flow_measure = FlowMeasure(flows, flow_engine)
    stack.callback(flow_measure.close)
    commit_engine = make_engine(url)
    stack.callback(commit_engine.dispose)
    return {'taskflow_flow_%s' % kind: flow_measure,
            'commit_%s' % kind: CommitMeasure(commit_engine, commits)}


def measure(smoke=False, pg_url=None, rabbit_url=None):
    """{row: {figure: summary}} of every row (see the module docstring);
    PostgreSQL rows only with ``pg_url`` (an admin URL, where a scratch
    database is created), RabbitMQ rows only with ``rabbit_url``."""
    rounds, flows, commits, calls = SIZES[bool(smoke)]
    with contextlib.ExitStack() as stack:
        measures = {'taskflow_flow_memory': FlowMeasure(flows)}
        url = stack.enter_context(sqlite_database())
        measures.update(_database_rows(stack, 'sqlite', url, flows, commits))
        if pg_url:
            url = stack.enter_context(postgresql_database(pg_url))
            measures.update(
                _database_rows(stack, 'postgresql', url, flows, commits))
        stack.callback(memory_transport.reset)
        measures['rpc_call_memory'] = _memory_rpc(calls)
        stack.callback(measures['rpc_call_memory'].close)
        if rabbit_url:
            url = stack.enter_context(rabbit_vhost(rabbit_url))
            measures['rpc_call_rabbit'] = RpcMeasure(url, calls)
            stack.callback(measures['rpc_call_rabbit'].close)
        return stats.interleaved(rounds, measures)


def _number(value):
    return '-' if value is None else '%.2f' % value


def format_table(rows):
    """The rows as a fixed-width text table, one line per figure."""
    header = ('row', 'figure', 'median', 'min', 'max', 'rounds')
    lines = [header]
    for row, figures in rows.items():
        for figure, summary in figures.items():
            lines.append((row, figure, _number(summary['median']),
                          _number(summary['min']), _number(summary['max']),
                          str(summary['rounds'])))
    widths = [max(len(line[i]) for line in lines) for i in range(6)]
    return '\n'.join(
        '  '.join(line[i].ljust(widths[i]) if i < 2
                  else line[i].rjust(widths[i]) for i in range(6))
        for line in lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--smoke', action='store_true',
                        help='fewer rounds and samples')
    parser.add_argument('--pg-url', nargs='?', const=PG_ADMIN_URL,
                        help='measure PostgreSQL through this admin URL '
                             '(default %s)' % PG_ADMIN_URL)
    parser.add_argument('--rabbit-url', nargs='?', const=RABBIT_URL,
                        help='measure RabbitMQ at this URL (default %s)'
                             % RABBIT_URL)
    args = parser.parse_args(argv)
    rows = measure(smoke=args.smoke, pg_url=args.pg_url,
                   rabbit_url=args.rabbit_url)
    print(format_table(rows))


if __name__ == '__main__':
    main()
