"""SQL statements, commits and rollbacks per boot and per delete (issue 11,
"Performance", item c), split by what they touch:

* ``logbook``: TaskFlow's persistence tables (logbooks, flowdetails,
  atomdetails);
* ``jobboard``: our ``jobs`` table (:mod:`orchestrator.conductor.
  jobboard_sql`);
* ``ours``: every other table of :mod:`orchestrator.db.models`;
* ``other``: statements naming no table (the ``BEGIN IMMEDIATE`` that
  :mod:`orchestrator.db.session` emits at the start of every transaction
  on SQLite, ``SAVEPOINT``, ``PRAGMA``, ``SELECT 1``). They are counted
  apart from the three categories and NOT in ``total``'s statements (a
  transaction's BEGIN is counted by its commit or rollback), so
  ``total`` statements are the SQL that reads or writes a table, as the
  issue counted them.

:func:`measure` starts an all-in-one in this process with every periodic
source of statements silenced (:data:`QUIET_OPTIONS`), then boots and
deletes servers over HTTP one after the other and counts each operation
from its HTTP request until the database is quiet again. Waiting for a
flow to end reads the database through a second, uncounted engine.

    .venv/bin/python -m benchmarks.sql_counts [--operations 5]
"""

import argparse
import collections
import contextlib
import os
import re
import statistics
import sys
import tempfile
import threading
import time

import requests
import sqlalchemy as sa

from orchestrator import conf as orch_conf
from orchestrator import states
from orchestrator.cmd import allinone
from orchestrator.db import hosts
from orchestrator.db import models
from orchestrator.db import session

#: The categories, in report order (``total`` is their sum).
CATEGORIES = ('logbook', 'jobboard', 'ours', 'other')
#: What is counted for each category.
FIELDS = ('statements', 'commits', 'rollbacks')
#: TaskFlow's persistence tables.
LOGBOOK_TABLES = ('logbooks', 'flowdetails', 'atomdetails')
#: The SQL jobboard's table.
JOBBOARD_TABLES = (models.Job.__tablename__,)

HEADERS = {'OpenStack-API-Version': 'compute 2.47'}
#: Seconds without a counted statement, commit or rollback after which an
#: operation whose flow ended is over (late RPC casts, such as an image
#: download's progress, are still handled in that time).
QUIET_S = 0.3
#: Seconds one operation may take before the measure gives up.
OPERATION_TIMEOUT_S = 30.0

#: Options that silence everything that touches the database by time
#: rather than per operation, set before the all-in-one starts:
#: heartbeats (hosts and conductor; the first ones, at start, register
#: them), power-state reports, the conductor's periodic tasks, lease
#: renewals, and the conductor's polling of the jobboard (it is woken
#: when this process posts a job or a flow ends, see
#: :mod:`orchestrator.conductor.wakeup`, so the poll is only a fallback).
QUIET_OPTIONS = (
    ('compute', 'heartbeat_interval_s', 3600.0),
    ('compute', 'sync_power_state_interval_s', -1.0),
    # The conductor beats every service_down_time_s / 6; the hosts stay
    # up that long after their one report.
    (None, 'service_down_time_s', 36000),
    ('conductor', 'job_poll_interval_s', 3600.0),
    ('conductor', 'claim_lease_s', 7200.0),
    ('conductor', 'lease_renew_interval_s', 3600.0),
    ('conductor', 'accepted_check_interval_s', -1.0),
    ('conductor', 'deadline_check_interval_s', -1.0),
    ('conductor', 'reclaim_check_interval_s', -1.0),
    ('conductor', 'evacuation_check_interval_s', -1.0),
    ('conductor', 'auto_confirm_interval_s', -1.0),
    (None, 'compute_rpc_timeout_s', 10),
)


def _words(names):
    """A regex matching any of ``names`` as a whole SQL identifier (not
    inside a longer one: ``jobs`` does not match ``jobs_board_idx``)."""
    alternatives = '|'.join(re.escape(n) for n in sorted(names))
    return re.compile(r'(?<![\w$])(?:%s)(?![\w$])' % alternatives,
                      re.IGNORECASE)


class Classifier:
    """Puts a SQL statement in a category by the table names it mentions:
    a logbook table makes it ``logbook``, else ``jobs`` makes it
    ``jobboard``, else any other table of ``our_tables`` makes it
    ``ours``; a statement naming no known table is ``other``."""

    def __init__(self, our_tables=None):
        if our_tables is None:
            our_tables = models.Base.metadata.tables
        ours = set(our_tables) - set(JOBBOARD_TABLES) - set(LOGBOOK_TABLES)
        self._rules = (('logbook', _words(LOGBOOK_TABLES)),
                       ('jobboard', _words(JOBBOARD_TABLES)),
                       ('ours', _words(ours)))

    def __call__(self, statement):
        for category, pattern in self._rules:
            if pattern.search(statement):
                return category
        return 'other'


def zero_counts():
    """{category or 'total': {field: 0}}."""
    return {c: dict.fromkeys(FIELDS, 0) for c in CATEGORIES + ('total',)}


class StatementCounter:
    """Counts, per category, the statements, commits and rollbacks of an
    engine while started.

    * A statement is one ``before_cursor_execute`` (an ``executemany`` is
      one statement), put in a category by :class:`Classifier`.
    * A COMMIT or ROLLBACK (the engine's ``commit``/``rollback`` events,
      one per transaction end; savepoint releases and rollbacks are not
      counted) counts once for EACH category whose statements its
      transaction ran since start(): a transaction that wrote ``ours``
      and ``jobboard`` tables counts one commit in both. A transaction
      that ran no table statement counts in ``other``. ``total`` counts
      every transaction end once, so it may be less than the sum of the
      categories' commits.
    * The categories a transaction touched live in its connection's
      ``connection.info`` until its commit or rollback.
    * Threads given to :meth:`exclude_thread` are not counted.
    * Not counted: what does not go through the engine's cursor events,
      i.e. the PRAGMAs run on each new DBAPI connection
      (:mod:`orchestrator.db.session`), the pool's pre-ping and its
      rollback when a connection is returned (DBAPI calls, not
      statements or transaction ends of the engine).

    Thread-safe: every thread of the process uses the engine.
    """

    _INFO_KEY = 'benchmarks.sql_counts'

    def __init__(self, engine, classifier=None):
        self._engine = engine
        self._classify = classifier or Classifier()
        self._lock = threading.Lock()
        self._counting = False
        self._generation = 0
        self._counts = zero_counts()
        self._other = collections.Counter()
        self._excluded = set()
        self._events = 0
        self._last_event = time.monotonic()
        self._attached = False

    # -- lifecycle ----------------------------------------------------------

    def attach(self):
        """Listen to the engine's events (counting starts at start())."""
        if not self._attached:
            sa.event.listen(self._engine, 'before_cursor_execute',
                            self._on_statement)
            sa.event.listen(self._engine, 'commit', self._on_commit)
            sa.event.listen(self._engine, 'rollback', self._on_rollback)
            self._attached = True

    def detach(self):
        """Stop listening (idempotent)."""
        if self._attached:
            sa.event.remove(self._engine, 'before_cursor_execute',
                            self._on_statement)
            sa.event.remove(self._engine, 'commit', self._on_commit)
            sa.event.remove(self._engine, 'rollback', self._on_rollback)
            self._attached = False

    def start(self):
        """Count from now on; transactions open now count only what they
        run from now on."""
        with self._lock:
            self._generation += 1
            self._counting = True

    def stop(self):
        """Stop counting; the counts so far stay."""
        with self._lock:
            self._counting = False

    def reset(self):
        """Zero the counts."""
        with self._lock:
            self._counts = zero_counts()
            self._other = collections.Counter()

    def exclude_thread(self, thread=None):
        """Do not count what ``thread`` (default: the calling one) runs."""
        ident = (thread or threading.current_thread()).ident
        with self._lock:
            self._excluded.add(ident)

    # -- reading ------------------------------------------------------------

    def counts(self):
        """A copy of {category or 'total': {field: count}}."""
        with self._lock:
            return {c: dict(v) for c, v in self._counts.items()}

    def other_statements(self):
        """{statement text: count} of the ``other`` statements."""
        with self._lock:
            return dict(self._other)

    def quiet_for(self):
        """Seconds since the last counted event."""
        with self._lock:
            return time.monotonic() - self._last_event

    @contextlib.contextmanager
    def counting(self):
        """reset() and start() on entry, stop() on exit."""
        self.reset()
        self.start()
        try:
            yield self
        finally:
            self.stop()

    # -- events -------------------------------------------------------------

    def _counted(self):
        """True when the calling thread's events count now; lock held."""
        return (self._counting
                and threading.get_ident() not in self._excluded)

    def _touched(self, connection):
        """The set of categories of the connection's transaction."""
        generation, touched = connection.info.get(self._INFO_KEY,
                                                  (None, None))
        if generation != self._generation:
            touched = set()
            connection.info[self._INFO_KEY] = (self._generation, touched)
        return touched

    def _on_statement(self, connection, _cursor, statement, _parameters,
                      _context, _executemany):
        category = self._classify(statement)
        with self._lock:
            if not self._counted():
                return
            self._counts[category]['statements'] += 1
            if category != 'other':
                self._counts['total']['statements'] += 1
            if category == 'other':
                self._other[' '.join(statement.split())[:60]] += 1
            self._touched(connection).add(category)
            self._last_event = time.monotonic()

    def _on_end(self, connection, field):
        with self._lock:
            touched = self._touched(connection)
            categories = set(touched) - {'other'} or {'other'}
            touched.clear()
            if not self._counted():
                return
            for category in categories:
                self._counts[category][field] += 1
            self._counts['total'][field] += 1
            self._last_event = time.monotonic()

    def _on_commit(self, connection):
        self._on_end(connection, 'commits')

    def _on_rollback(self, connection):
        self._on_end(connection, 'rollbacks')


# -- the system -------------------------------------------------------------

def new_conf():
    """The process's CONF with every group registered and no files."""
    orch_conf.register_all()
    orch_conf.CONF([], project='orchestrator', default_config_files=[],
                   default_config_dirs=[])
    return orch_conf.CONF


def _free_port():
    import socket
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def start_quiet_all_in_one(conf, state_dir):
    """An all-in-one (3 fake hosts, SQLite in ``state_dir``, memory
    transport, SQL jobboard, HTTP API on a free port; its ``.url``) with
    :data:`QUIET_OPTIONS` set, started and with its hosts registered.
    Stop it with ``.stop()``."""
    for group, name, value in QUIET_OPTIONS:
        conf.set_override(name, value, group=group)
    conf.set_override('connection', 'sqlite:///%s' % os.path.join(
        state_dir, 'orchestrator.sqlite'), group='database')
    node = allinone.AllInOne(conf, state_dir,
                             listen='127.0.0.1:%d' % _free_port(), hosts=3,
                             serve_api=True)
    node.start()
    _wait(lambda: len(hosts.list_compute_nodes()) == 3, 10,
          '3 compute nodes reporting')
    node.url = 'http://%s:%d' % node.listen
    return node


def _wait(predicate, timeout, what, interval=0.02):
    """Poll ``predicate`` until true; RuntimeError after ``timeout``."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise RuntimeError('timed out after %.0f s waiting for %s'
                               % (timeout, what))
        time.sleep(interval)


class Watcher:
    """Reads the instance and the jobs table through its own engine (not
    the counted one) on the same database."""

    def __init__(self, url):
        self._engine = sa.create_engine(url, poolclass=sa.pool.NullPool)

    def close(self):
        self._engine.dispose()

    def _state(self, server_id):
        """(instance row or None, jobs on the board)."""
        with self._engine.connect() as conn:
            row = conn.execute(sa.text(
                'SELECT vm_state, task_state, deleted FROM instances '
                'WHERE uuid = :uuid'), {'uuid': server_id}).one_or_none()
            jobs = conn.execute(sa.text(
                'SELECT count(*) FROM jobs')).scalar_one()
        return row, jobs

    def settled(self, server_id, vm_state):
        """True when no job is on the board and the server has no task
        and is in ``vm_state`` (``deleted``: deleted or gone).

        :raises RuntimeError: the server went to error.
        """
        row, jobs = self._state(server_id)
        if row is not None and row.vm_state == states.ERROR:
            raise RuntimeError('server %s went to error' % server_id)
        if jobs or (row is not None and row.task_state is not None):
            return False
        if vm_state == states.DELETED:
            return row is None or bool(row.deleted)
        return row is not None and row.vm_state == vm_state


def _api(node, method, path, **kwargs):
    """One request to the all-in-one's API at microversion 2.47."""
    return requests.request(method, node.url + path, headers=HEADERS,
                            timeout=30, **kwargs)


def _boot_body(node, name):
    """A boot request body: first flavor, first image, no network."""
    flavor = _api(node, 'GET', '/v2.1/flavors').json()['flavors'][0]
    image = _api(node, 'GET', '/image/v2/images').json()['images'][0]
    return {'server': {'name': name, 'flavorRef': flavor['id'],
                       'imageRef': image['id'], 'networks': 'none'}}


def _until_quiet(counter, done, what):
    """Wait for ``done()`` then for :data:`QUIET_S` without a counted
    event."""
    _wait(done, OPERATION_TIMEOUT_S, what)
    _wait(lambda: counter.quiet_for() >= QUIET_S, OPERATION_TIMEOUT_S,
          'the database to be quiet after ' + what)


def boot_counted(node, counter, watcher, body):
    """POST ``body`` and count until the server is ACTIVE with no task
    and the database is quiet; returns (server id, counts)."""
    with counter.counting():
        resp = _api(node, 'POST', '/v2.1/servers', json=body)
        if resp.status_code != 202:
            raise RuntimeError('boot refused: %s %s'
                               % (resp.status_code, resp.text))
        server_id = resp.json()['server']['id']
        _until_quiet(counter,
                     lambda: watcher.settled(server_id, states.ACTIVE),
                     'boot of %s' % server_id)
    return server_id, counter.counts()


def delete_counted(node, counter, watcher, server_id):
    """DELETE the server and count until it is deleted with no job left
    and the database is quiet; returns the counts."""
    with counter.counting():
        resp = _api(node, 'DELETE', '/v2.1/servers/' + server_id)
        if resp.status_code != 204:
            raise RuntimeError('delete refused: %s %s'
                               % (resp.status_code, resp.text))
        _until_quiet(counter,
                     lambda: watcher.settled(server_id, states.DELETED),
                     'delete of %s' % server_id)
    return counter.counts()


def summarize(samples):
    """{category: {field: median}} and {category: {field: (min, max)}}
    of a list of counts."""
    medians, ranges = {}, {}
    for category in samples[0]:
        medians[category], ranges[category] = {}, {}
        for field in FIELDS:
            values = [s[category][field] for s in samples]
            medians[category][field] = statistics.median_low(values)
            ranges[category][field] = (min(values), max(values))
    return medians, ranges


def measure(operations=5, warmup=1, conf=None):
    """Boot and delete ``warmup + operations`` servers one after the other
    in a quiet all-in-one in this process; count each boot and delete.

    :param conf: a registered, parsed CONF (default: :func:`new_conf`;
        its overrides are left as :func:`start_quiet_all_in_one` set them).
    :returns: ``{'boot': counts, 'delete': counts, 'ranges': {'boot':
        ..., 'delete': ...}, 'operations': n, 'other_statements':
        {...}}`` where counts are ``{category or 'total': {field:
        median}}`` over the operations after the warm-up, ranges the same
        with (min, max), and other_statements the texts of the ``other``
        statements of the last boot with their counts.
    """
    if operations < 1:
        raise ValueError('operations must be at least 1')
    conf = conf if conf is not None else new_conf()
    samples = {'boot': [], 'delete': []}
    with tempfile.TemporaryDirectory() as tmp:
        node = start_quiet_all_in_one(conf, tmp)
        counter = StatementCounter(session.get_engine())
        watcher = Watcher(conf.database.connection)
        try:
            counter.attach()
            for index in range(warmup + operations):
                body = _boot_body(node, 'sql-counts-%d' % index)
                server_id, boot = boot_counted(node, counter, watcher, body)
                other = counter.other_statements()
                delete = delete_counted(node, counter, watcher, server_id)
                if index >= warmup:
                    samples['boot'].append(boot)
                    samples['delete'].append(delete)
        finally:
            counter.detach()
            watcher.close()
            node.stop()
    result = {'operations': operations, 'ranges': {},
              'other_statements': other}
    for operation, found in samples.items():
        result[operation], result['ranges'][operation] = summarize(found)
    return result


def format_table(result):
    """The counts of :func:`measure` as a text table; a count that varied
    between operations shows as ``median (min-max)``."""
    lines = ['%-8s %-9s %11s %8s %10s' % ('op', 'category', *FIELDS)]
    for operation in ('boot', 'delete'):
        for category in CATEGORIES + ('total',):
            cells = []
            for field in FIELDS:
                low, high = result['ranges'][operation][category][field]
                cell = str(result[operation][category][field])
                if low != high:
                    cell += ' (%d-%d)' % (low, high)
                cells.append(cell)
            lines.append('%-8s %-9s %11s %8s %10s'
                         % (operation, category, *cells))
    return '\n'.join(lines)


def expected_table(result):
    """Python source of the EXPECTED table of
    tests/functional/test_statement_counts.py for ``result``: per
    operation, per category, (statements, commits, rollbacks)."""
    lines = ['EXPECTED = {']
    for operation in ('boot', 'delete'):
        lines.append("    '%s': {" % operation)
        for category in CATEGORIES + ('total',):
            values = tuple(result[operation][category][f] for f in FIELDS)
            lines.append("        %-11s (%d, %d, %d)," % (
                "'%s':" % category, *values))
        lines.append('    },')
    lines.append('}')
    return '\n'.join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--operations', type=int, default=5)
    args = parser.parse_args(argv)
    result = measure(operations=args.operations)
    print('Per operation, median of %d (after 1 warm-up):'
          % result['operations'])
    print(format_table(result))
    varied = [(op, c, f) for op in ('boot', 'delete')
              for c, fields in result['ranges'][op].items()
              for f, (low, high) in fields.items() if low != high]
    print('stable between operations' if not varied
          else 'VARIED: %s' % ', '.join('/'.join(v) for v in varied))
    print('"other" statements of the last boot: %s'
          % result['other_statements'])
    print('\nFor tests/functional/test_statement_counts.py:\n')
    print(expected_table(result))
    return 0


if __name__ == '__main__':
    sys.exit(main())
