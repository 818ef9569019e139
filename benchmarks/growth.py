"""Growth (issue 11, "Performance", item e): what an operation and a server
list cost once the database holds a history of finished operations.

For each history size H (0, 10,000 and 100,000 finished operations; 0 and
2,000 with ``--smoke``) a fresh state directory is prepared with rows
written straight into its SQLite database (after the schema migrations
and the default catalog): H finished operations, each a deleted server
with its ``create`` and ``delete`` actions, finished, and the events a
real boot and delete record (TaskFlow's logbook rows are left out), and L
live servers (1,000; 100 with ``--smoke``): ACTIVE, running, no task, on
the all-in-one's hosts ``compute-1..3`` in turn, each with its allocation
equal to its flavor, its finished ``create`` action and its guest (with
its port and disk) in its fake host's file, so that the invariant of
``tests/functional/invariants.py`` holds and a power-state report changes
nothing. Live servers are spread evenly among the history (ids and
timestamps interleave, as in a cloud that has run for a while).

Every history size gets its own all-in-one (a separate process,
:class:`benchmarks.systems.AllInOne`, 3 fake hosts) on its prepared
directory; all of them are started, warmed up with one boot+delete each,
and then measured in interleaved rounds (:func:`benchmarks.stats.
interleaved`): a round does, on each all-in-one in turn, one boot+delete
at concurrency 1 (:func:`benchmarks.load.boot_delete`) and one call of
each list. A slow phase of the machine (it is shared) so touches every
size alike. 10 rounds, 3 with ``--smoke``.

Figures, per history size (medians over the rounds):

``boot_p50_ms``, ``delete_p50_ms``
    Latency of a boot (POST until ACTIVE) and of a delete (DELETE until
    404).
``cpu_ms_per_op``
    CPU time (user + system) of the all-in-one process during one
    boot+delete, in ms (10 ms resolution).
``list_detail_ms``, ``list_detail_limit_ms``
    Wall time of ``GET /v2.1/servers/detail`` (default page: ``[api]
    max_limit`` servers) and of ``GET /v2.1/servers/detail?limit=1000``,
    as the ``noauth`` administrator; both must show every live server.
``periodic_db_ms``
    Median wall time (of 3, in this process, on the prepared database
    before the all-in-ones start) of one run of the two conductor
    periodics that read the instance and action tables whatever happens:
    the accepted-requests check
    (:meth:`orchestrator.conductor.accepted.AcceptedRequests.run_once`,
    every ``[conductor] accepted_check_interval_s``) and the task-deadline
    watchdog
    (:meth:`orchestrator.conductor.deadlines.DeadlineWatchdog.run_once`,
    every ``[conductor] deadline_check_interval_s``), with nothing to do.

and, between the largest history and none (the issue's target is at most
1.2): ``per_op_ratio`` (boot p50 + delete p50), ``cpu_ratio``
(``cpu_ms_per_op``), ``list_ratio`` (``list_detail_ms``) and
``periodic_ratio`` (``periodic_db_ms``).

    .venv/bin/python -m benchmarks.growth [--smoke]
"""

import argparse
import contextlib
import datetime
import os
import shutil
import statistics
import sys
import time
import uuid

import requests
import sqlalchemy as sa

from benchmarks import idle
from benchmarks import load
from benchmarks import stats
from benchmarks import systems
from orchestrator import conf as orch_conf
from orchestrator import state_machine
from orchestrator import states
from orchestrator.cmd import allinone
from orchestrator.compute.drivers import fake
from orchestrator.compute.drivers import fake_host_file
from orchestrator.conductor import accepted
from orchestrator.conductor import deadlines
from orchestrator.db import catalog
from orchestrator.db import models
from orchestrator.db import schema
from orchestrator.db import session

#: History sizes measured, by smoke.
HISTORY_SIZES = {False: (0, 10000, 100000), True: (0, 2000)}
#: Live servers beside the history, by smoke.
LIVE_SERVERS = {False: 1000, True: 100}
#: Rounds (each: one boot+delete and one call of each list on every
#: all-in-one, in turn), by smoke; boot+deletes before the rounds.
ROUNDS = {False: 10, True: 3}
WARMUP_OPERATIONS = 1
#: Runs of the periodics measured.
PERIODIC_RUNS = 3
#: The explicit page size asked for by ``list_detail_limit_ms``.
PAGE_LIMIT = 1000
#: Operations whose rows are built and inserted at once.
INSERT_CHUNK = 5000
#: Seconds between the starts of two operations of the history.
HISTORY_STEP_S = 2.0

#: The flavor and image of every prepared server (m1.tiny, cirros).
FLAVOR_ID = catalog.DEFAULT_FLAVORS[0][0]
IMAGE_ID = catalog.DEFAULT_IMAGES[0][0]
#: The events a real boot and delete record, in order (names of their
#: flow steps, see flows.boot and flows.delete).
BOOT_EVENTS = ('BuildToErrorOnRevert', 'ScheduleInstance', 'PrepareNetworks',
               'PrepareBlockDevices', 'FetchImage', 'SpawnOnHost',
               'MarkActive')
DELETE_EVENTS = ('DeleteToErrorOnRevert', 'EndMigrationsOfDeleted',
                 'DestroyOnHost', 'ReleaseResources', 'MarkDeleted')


# -- rows ---------------------------------------------------------------------

def new_conf():
    """A parsed configuration with every orchestrator group registered
    (defaults only, no files): the process's ``cfg.CONF``."""
    orch_conf.register_all()
    orch_conf.CONF([], project='orchestrator', default_config_files=[],
                   default_config_dirs=[])
    return orch_conf.CONF


def flavor_snapshot(flavor):
    """The flavor as an instance row keeps it (``instances.flavor``)."""
    keys = ('name', 'flavorid', 'vcpus', 'memory_mb', 'root_gb',
            'ephemeral_gb', 'swap', 'rxtx_factor', 'extra_specs')
    return {key: flavor[key] for key in keys}


def network_info(host, index, instance_uuid):
    """The port the fake driver gives the ``index``-th server of
    ``host``."""
    return {'network_name': fake.NETWORK_NAME,
            'ip_address': fake.fake_ipv4_address(host, index),
            'ip_version': 4,
            'mac_address': fake.fake_mac_address(instance_uuid)}


def instance_row(row_id, instance_uuid, host, flavor, owner, created,
                 live, network=None):
    """An instances row: ACTIVE and running on ``host`` if ``live``,
    else deleted (as a finished boot+delete leaves it)."""
    launched = created + datetime.timedelta(seconds=0.3)
    row = {
        'id': row_id, 'uuid': instance_uuid,
        'display_name': 'server-%d' % row_id, 'hostname':
        'server-%d' % row_id, 'project_id': owner['project_id'],
        'user_id': owner['user_id'], 'flavor_id': flavor['flavorid'],
        'flavor': flavor_snapshot(flavor), 'vcpus': flavor['vcpus'],
        'memory_mb': flavor['memory_mb'], 'root_gb': flavor['root_gb'],
        'ephemeral_gb': flavor['ephemeral_gb'], 'image_ref': IMAGE_ID,
        'progress': 0, 'host': host, 'node': host, 'metadata_': {},
        'networks': network, 'config_drive': '', 'locked': False,
        'reservation_id': 'r-%s' % instance_uuid[:8], 'launch_index': 0,
        'launched_at': launched, 'task_id': str(uuid.uuid4()),
        'created_at': created, 'updated_at': launched,
    }
    if live:
        row.update(vm_state=states.ACTIVE, power_state=states.RUNNING,
                   task_state=None, deleted=0, deleted_at=None,
                   terminated_at=None)
    else:
        gone = launched + datetime.timedelta(seconds=0.2)
        row.update(vm_state=states.DELETED, power_state=states.NOSTATE,
                   task_state=None, deleted=row_id, deleted_at=gone,
                   terminated_at=gone, updated_at=gone)
    return row


def allocation_row(instance):
    """The allocation a live instance holds on its host."""
    return {'consumer_uuid': instance['uuid'],
            'instance_uuid': instance['uuid'], 'host': instance['host'],
            'vcpus': instance['vcpus'], 'memory_mb': instance['memory_mb'],
            'disk_gb': instance['root_gb'] + instance['ephemeral_gb'],
            'created_at': instance['created_at']}


def action_row(action_id, instance, action, start, owner, finished=True):
    """An instance_actions row of ``instance`` (finished Success unless
    ``finished`` is False)."""
    end = start + datetime.timedelta(seconds=0.3) if finished else None
    return {'id': action_id, 'instance_uuid': instance['uuid'],
            'action': action, 'request_id': 'req-%s' % uuid.uuid4(),
            'task_id': str(uuid.uuid4()), 'user_id': owner['user_id'],
            'project_id': owner['project_id'], 'start_time': start,
            'finish_time': end,
            'result': states.RESULT_SUCCESS if finished else None,
            'created_at': start, 'updated_at': end}


def event_rows(action, names):
    """The finished events ``names`` of ``action`` (an action row)."""
    rows = []
    for index, name in enumerate(names):
        start = action['start_time'] + datetime.timedelta(
            seconds=0.04 * index)
        end = start + datetime.timedelta(seconds=0.03)
        rows.append({'action_id': action['id'], 'event': name,
                     'start_time': start, 'finish_time': end,
                     'result': states.RESULT_SUCCESS, 'created_at': start,
                     'updated_at': end})
    return rows


def insert(engine, rows_by_table):
    """Insert ``{table: [row dict]}`` in one transaction (executemany)."""
    with engine.begin() as connection:
        for table, rows in rows_by_table.items():
            if rows:
                connection.execute(sa.insert(table), rows)


def live_positions(total, live):
    """Which of ``total`` operations (indexes) are live servers: ``live``
    of them, spread evenly."""
    if live > total:
        raise ValueError('more live servers than operations')
    return {int((k + 0.5) * total / live) for k in range(live)}


# -- the prepared state directory ---------------------------------------------

class History:
    """Builds the rows of ``history`` finished operations and ``live``
    live servers over ``hosts`` (see the module docstring)."""

    def __init__(self, history, live, hosts, flavor, owner):
        self.total = history + live
        self.live = live_positions(self.total, live) if live else set()
        self.hosts = hosts
        self.flavor = flavor
        self.owner = owner
        self.start = models.utcnow() - datetime.timedelta(
            seconds=HISTORY_STEP_S * (self.total + 1))
        self.next_action_id = 1
        #: {host: [live instance row]}: what the host files must hold.
        self.guests = {host: [] for host in hosts}

    def _action(self, instance, name, start, events):
        action = action_row(self.next_action_id, instance, name, start,
                            self.owner)
        self.next_action_id += 1
        return action, event_rows(action, events)

    def _host_of(self, index, live):
        """Hosts in turn: live servers by their own count (so that every
        host gets its share however they are spread), the others by
        index."""
        if live:
            placed = sum(len(held) for held in self.guests.values())
            return self.hosts[placed % len(self.hosts)]
        return self.hosts[index % len(self.hosts)]

    def rows(self, first, count):
        """{table: rows} of the operations ``first`` to
        ``first + count - 1``."""
        out = {models.Instance.__table__: [],
               models.Allocation.__table__: [],
               models.InstanceAction.__table__: [],
               models.InstanceActionEvent.__table__: []}
        for index in range(first, min(first + count, self.total)):
            live = index in self.live
            host = self._host_of(index, live)
            created = self.start + datetime.timedelta(
                seconds=HISTORY_STEP_S * index)
            instance_uuid = str(uuid.uuid4())
            network = None
            if live:
                network = network_info(host, len(self.guests[host]),
                                       instance_uuid)
            instance = instance_row(index + 1, instance_uuid, host,
                                    self.flavor, self.owner, created, live,
                                    network)
            if live:
                self.guests[host].append(instance)
                out[models.Allocation.__table__].append(
                    allocation_row(instance))
            out[models.Instance.__table__].append(instance)
            steps = [(state_machine.BOOT, created, BOOT_EVENTS)]
            if not live:
                steps.append((state_machine.DELETE, instance['deleted_at']
                              - datetime.timedelta(seconds=0.15),
                              DELETE_EVENTS))
            for name, start, events in steps:
                action, events = self._action(instance, name, start, events)
                out[models.InstanceAction.__table__].append(action)
                out[models.InstanceActionEvent.__table__].extend(events)
        return out


def host_state(host, instances):
    """A fake host file's content holding the guests of ``instances``
    (their ports, disks and image cache use too)."""
    state = fake_host_file.empty_host_state(host)
    for instance in instances:
        uuid_ = instance['uuid']
        network = dict(instance['networks'])
        state['guests'][uuid_] = {
            'power_state': states.RUNNING,
            'display_name': instance['display_name'],
            'image_id': IMAGE_ID, 'vcpus': instance['vcpus'],
            'memory_mb': instance['memory_mb'],
            'root_gb': instance['root_gb'],
            'ephemeral_gb': instance['ephemeral_gb'],
            'network_info': network,
            'created_at': instance['created_at'].replace(
                tzinfo=datetime.timezone.utc).isoformat()}
        state['networks'][uuid_] = network
        state['block_devices'][uuid_] = {fake.ROOT_DEVICE: {
            'kind': 'root', 'size_gb': instance['root_gb']}}
    state['next_address_index'] = len(instances)
    if instances:
        name, size = [(n, s) for i, n, s in catalog.DEFAULT_IMAGES
                      if i == IMAGE_ID][0]
        state['image_cache'][IMAGE_ID] = {
            'image_id': IMAGE_ID, 'name': name, 'size': size,
            'location': 'fake://%s/images/%s' % (host, IMAGE_ID),
            'users': [i['uuid'] for i in instances]}
    return state


def database_url(state_dir):
    """The SQLite URL of the all-in-one's database in ``state_dir``."""
    return 'sqlite:///%s' % os.path.join(state_dir, 'orchestrator.sqlite')


def prepare(state_dir, history, live, hosts, conf):
    """Create ``state_dir`` with its database (schema, catalog, the rows
    of :class:`History`) and the fake host files of ``hosts``. Leaves
    this process's database session configured on it."""
    os.makedirs(state_dir, exist_ok=True)
    engine = session.configure(database_url(state_dir))
    schema.db_sync(engine)
    catalog.seed_defaults()
    owner = {'project_id': conf.api.default_project_id,
             'user_id': conf.api.default_user_id}
    rows = History(history, live, hosts, catalog.flavor_get(FLAVOR_ID),
                   owner)
    for first in range(0, rows.total, INSERT_CHUNK):
        insert(engine, rows.rows(first, INSERT_CHUNK))
    hosts_dir = os.path.join(state_dir, 'fake-hosts')
    os.makedirs(hosts_dir, exist_ok=True)
    for host, instances in rows.guests.items():
        fake_host_file.write_json_atomically(
            fake_host_file.host_file_path(hosts_dir, host),
            host_state(host, instances))
    return engine


# -- measures -----------------------------------------------------------------

def _ms(seconds):
    return seconds * 1000.0


def periodic_db_ms(conf, runs=PERIODIC_RUNS):
    """Median wall time (ms) of one run of the accepted-requests check
    and the deadline watchdog, in this process, with nothing to do."""
    checker = accepted.AcceptedRequests(conf, None, None, None)
    watchdog = deadlines.DeadlineWatchdog(conf)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        checker.run_once()
        watchdog.run_once()
        times.append(time.perf_counter() - start)
    return _ms(statistics.median(times))


class Round:
    """One round on one all-in-one: a boot+delete, then each list once.

    Calling it returns {'boot_p50_ms', 'delete_p50_ms', 'cpu_ms_per_op',
    'list_detail_ms', 'list_detail_limit_ms'}: one sample each, whose
    median over the rounds is the figure (so the p50 of the boots).
    """

    def __init__(self, system, shown):
        self.system = system
        self.shown = shown
        self.pid = system.pids()['allinone']
        self.http = requests.Session()
        self.http.headers.update(systems.API_HEADERS)

    def _list_ms(self, query, expected):
        start = time.perf_counter()
        resp = self.http.get(self.system.url + '/v2.1/servers/detail'
                             + query, timeout=120)
        elapsed = time.perf_counter() - start
        resp.raise_for_status()
        shown = len(resp.json()['servers'])
        if shown != expected:
            raise RuntimeError('the list showed %d servers, not %d'
                               % (shown, expected))
        return _ms(elapsed)

    def operation(self):
        """{'boot_p50_ms', 'delete_p50_ms', 'cpu_ms_per_op'} of one
        boot+delete at concurrency 1."""
        cpu_before = idle.cpu_seconds(self.pid)
        run = load.boot_delete(self.system.url, 1, 1)
        cpu = idle.cpu_seconds(self.pid) - cpu_before
        if run['errors']:
            raise RuntimeError('a boot+delete failed: %s'
                               % run['first_error'])
        return {'boot_p50_ms': run['boot_p50_ms'],
                'delete_p50_ms': run['delete_p50_ms'],
                'cpu_ms_per_op': _ms(cpu)}

    def __call__(self):
        figures = self.operation()
        figures['list_detail_ms'] = self._list_ms('', self.shown)
        figures['list_detail_limit_ms'] = self._list_ms(
            '?limit=%d' % PAGE_LIMIT, min(self.shown, PAGE_LIMIT))
        return figures


def prepared_systems(stack, sizes, live, conf):
    """{H: an AllInOne on a state directory prepared with H finished
    operations and ``live`` servers} (not started; removed when
    ``stack`` closes), and {H: periodic_db_ms} measured on each."""
    found, periodic = {}, {}
    for history in sizes:
        system = systems.AllInOne()
        stack.callback(shutil.rmtree, system.dir, ignore_errors=True)
        engine = prepare(system.state_dir, history, live,
                         allinone.host_names(system.host_count), conf)
        periodic[history] = periodic_db_ms(conf)
        engine.dispose()
        found[history] = system
    return found, periodic


def run_rounds(stack, found, rounds, shown):
    """Start every all-in-one of ``found`` ({H: AllInOne}), warm each up
    with WARMUP_OPERATIONS boot+deletes, then run ``rounds`` interleaved
    :class:`Round` s; {H: {figure: median over the rounds}}."""
    measures = {}
    for history, system in found.items():
        stack.callback(system.stop)
        system.start()
        for _ in range(WARMUP_OPERATIONS):
            Round(system, shown).operation()
        measures[history] = Round(system, shown)
    summaries = stats.interleaved(rounds, measures)
    return {history: {figure: summary['median']
                      for figure, summary in figures.items()}
            for history, figures in summaries.items()}


def _ratio(figures, low, high, *keys):
    base = sum(figures[low][key] for key in keys)
    return sum(figures[high][key] for key in keys) / base if base else None


def measure(smoke=False):
    """{'history': {H: figures}, 'live_servers': L, 'rounds': n,
    'per_op_ratio', 'cpu_ratio', 'list_ratio', 'periodic_ratio'} (see
    the module docstring)."""
    conf = new_conf()
    sizes = HISTORY_SIZES[bool(smoke)]
    live = LIVE_SERVERS[bool(smoke)]
    rounds = ROUNDS[bool(smoke)]
    with contextlib.ExitStack() as stack:
        found, periodic = prepared_systems(stack, sizes, live, conf)
        figures = run_rounds(stack, found, rounds,
                             min(live, conf.api.max_limit))
    for history, value in periodic.items():
        figures[history]['periodic_db_ms'] = value
    low, high = min(sizes), max(sizes)
    return {
        'history': figures, 'live_servers': live, 'rounds': rounds,
        'per_op_ratio': _ratio(figures, low, high, 'boot_p50_ms',
                               'delete_p50_ms'),
        'cpu_ratio': _ratio(figures, low, high, 'cpu_ms_per_op'),
        'list_ratio': _ratio(figures, low, high, 'list_detail_ms'),
        'periodic_ratio': _ratio(figures, low, high, 'periodic_db_ms'),
    }


#: Columns of the table: (figure, heading).
COLUMNS = (('boot_p50_ms', 'boot p50 ms'),
           ('delete_p50_ms', 'delete p50 ms'),
           ('cpu_ms_per_op', 'cpu ms/op'),
           ('list_detail_ms', 'list detail ms'),
           ('list_detail_limit_ms', 'list ?limit ms'),
           ('periodic_db_ms', 'periodics ms'))


def format_table(result):
    """The figures of :func:`measure` as a text table and ratio lines."""
    lines = ['%9s' % 'history' + ''.join('  %14s' % heading
                                         for _key, heading in COLUMNS)]
    for history, figures in result['history'].items():
        lines.append('%9d' % history + ''.join(
            '  %14.1f' % figures[key] for key, _heading in COLUMNS))
    sizes = list(result['history'])
    lines.append('')
    lines.append('%d live servers, medians of %d interleaved rounds; '
                 'largest history (%d) over none (target <= 1.2):'
                 % (result['live_servers'], result['rounds'],
                    max(sizes)))
    for key in ('per_op_ratio', 'cpu_ratio', 'list_ratio',
                'periodic_ratio'):
        value = result[key]
        lines.append('  %-15s %s' % (key, '-' if value is None
                                     else '%.2f' % value))
    return '\n'.join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--smoke', action='store_true',
                        help='history sizes 0 and 2,000, 100 live '
                             'servers, 3 rounds')
    args = parser.parse_args(argv)
    print(format_table(measure(smoke=args.smoke)))
    return 0


if __name__ == '__main__':
    sys.exit(main())
