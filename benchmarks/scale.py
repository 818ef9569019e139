"""Scale (issue 11, "Performance", item f): 1,000 simulated hosts and
10,000 instances, measured on the conductor's side in this process.

The all-in-one serves at most 64 fake hosts (``--hosts``), each with its
own RPC server and threads, so 1,000 hosts are simulated in the database
instead: a fresh SQLite file (schema migrations, default catalog) gets,
by direct inserts, 1,000 compute nodes (``[compute]`` default capacity)
with their ``orchestrator-compute`` services (heartbeat just now, enabled,
zone ``[compute] availability_zone``) and 10,000 servers spread over them
in turn (100 hosts and 1,000 servers with ``--smoke``): ACTIVE, running,
each with its allocation and finished ``create`` action; 1% of them (the
busy ones) are in a task (``powering-off``, deadline not passed, its
action open), as in a cloud at work. ``[DEFAULT] service_down_time_s`` and
``[conductor] accepted_grace_s`` are raised for the run, so the prepared
heartbeats stay fresh and the busy servers' actions stay younger than the
grace (their jobs would be on a jobboard, which is not simulated); the
queries are the same. No RPC
and no HTTP server: what is measured is the conductor's and the API's own
work (database and Python), without the transport.

Figures (``wall_ms`` wall time, ``cpu_ms`` CPU time of this process,
``time.process_time``; ``statements`` SQL statements sent):

``schedule``
    One boot's host selection and claim,
    :func:`orchestrator.scheduler.host_selection.select_with_alternates`
    for m1.tiny with a fresh consumer: median of 50 calls (10 with
    ``--smoke``); the claims are released afterwards.
``filter``
    The read-only part of it, :func:`~orchestrator.scheduler.
    host_selection.filter_hosts`: median of the same number of calls.
``heartbeat_cycle``
    Every host's heartbeat handled once, as the conductor's RPC endpoint
    does (:meth:`orchestrator.conductor.manager.ConductorManager.
    report_heartbeat`): hosts beat every ``[compute]
    heartbeat_interval_s``.
``power_sync_cycle``
    Every host's power-state report (all its guests running, as the
    database says) handled once by
    :func:`orchestrator.conductor.power_sync.apply_report`; the host is
    never asked again (nothing is out of sync: ``host_calls`` counts it,
    0 expected). Hosts report every ``[compute]
    sync_power_state_interval_s``. ``per_host_ms``: its wall time per
    report.
``deadline_cycle``, ``accepted_cycle``
    One run of the task-deadline watchdog
    (:meth:`orchestrator.conductor.deadlines.DeadlineWatchdog.run_once`)
    and of the accepted-requests check
    (:meth:`orchestrator.conductor.accepted.AcceptedRequests.run_once`),
    nothing overdue or unposted: median of 5.
``list_servers``, ``list_hypervisors``
    ``GET /v2.1/servers/detail?limit=1000`` and ``GET
    /v2.1/os-hypervisors/detail`` through the API's WSGI application
    (:func:`orchestrator.api.app.build_app`) in this process, as the
    ``noauth`` administrator, microversion 2.47: median of 3.
``periodic_cores``
    The CPU the periodic duties above need, in cores: each cycle's
    ``cpu_ms`` over its interval (heartbeats, power sync, deadlines,
    accepted requests; intervals from the configuration defaults),
    summed. Boots add ``schedule`` ``cpu_ms`` each.

    .venv/bin/python -m benchmarks.scale [--smoke]
"""

import argparse
import contextlib
import datetime
import os
import shutil
import statistics
import sys
import tempfile
import time
import uuid

import sqlalchemy as sa
import webob

from benchmarks import growth
from benchmarks import systems
from orchestrator import context as orch_context
from orchestrator import state_machine
from orchestrator import states
from orchestrator.api import app as api_app
from orchestrator.compute import service as compute_service
from orchestrator.conductor import accepted
from orchestrator.conductor import deadlines
from orchestrator.conductor import manager as conductor_manager
from orchestrator.conductor import power_sync
from orchestrator.db import allocations
from orchestrator.db import catalog
from orchestrator.db import deadlines as db_deadlines
from orchestrator.db import models
from orchestrator.db import schema
from orchestrator.db import session
from orchestrator.scheduler import host_selection

#: Simulated hosts and servers, by smoke.
HOSTS = {False: 1000, True: 100}
INSTANCES = {False: 10000, True: 1000}
#: Host selections measured, by smoke.
SCHEDULE_CALLS = {False: 50, True: 10}
#: Runs of each periodic and calls of each list measured.
PERIODIC_RUNS = 5
API_CALLS = 3
#: The share of servers in a task (busy).
BUSY_FRACTION = 0.01
BUSY_TASK_STATE = states.POWERING_OFF
#: service_down_time_s and accepted_grace_s for the run (see above).
DOWN_TIME_S = 86400
#: Servers whose rows are built and inserted at once.
INSERT_CHUNK = 5000
API_LISTS = (('list_servers', '/v2.1/servers/detail?limit=1000'),
             ('list_hypervisors', '/v2.1/os-hypervisors/detail'))


# -- the database -------------------------------------------------------------

def host_names(count):
    """Names of the simulated hosts."""
    return ['host-%04d' % (i + 1) for i in range(count)]


def host_rows(hosts, conf):
    """{table: rows} of a compute node and an up compute service per
    host, with the ``[compute]`` capacity."""
    now = models.utcnow()
    compute = conf.compute
    nodes = [{'uuid': str(uuid.uuid4()), 'host': host,
              'hypervisor_hostname': host, 'hypervisor_type': 'fake',
              'vcpus': compute.vcpus, 'memory_mb': compute.memory_mb,
              'local_gb': compute.disk_gb, 'generation': 0,
              'created_at': now} for host in hosts]
    services = [{'uuid': str(uuid.uuid4()), 'host': host,
                 'binary': compute_service.BINARY, 'topic': 'compute',
                 'zone': compute.availability_zone, 'disabled': False,
                 'forced_down': False, 'last_seen_at': now,
                 'report_count': 1, 'created_at': now} for host in hosts]
    return {models.ComputeNode.__table__: nodes,
            models.Service.__table__: services}


class Servers:
    """Builds the rows of ``count`` active servers over ``hosts``."""

    def __init__(self, count, hosts, flavor, owner):
        self.count = count
        self.hosts = hosts
        self.flavor = flavor
        self.owner = owner
        self.busy_every = max(1, int(round(1 / BUSY_FRACTION)))
        self.start = models.utcnow() - datetime.timedelta(
            seconds=growth.HISTORY_STEP_S * (count + 1))
        #: {host: {uuid: power state}}: what each host reports.
        self.reports = {host: {} for host in hosts}

    def _busy(self, instance, action):
        """Put ``instance`` in a task whose ``action`` is still open."""
        instance.update(task_state=BUSY_TASK_STATE,
                        task_deadline_at=db_deadlines.deadline_at(
                            BUSY_TASK_STATE))
        action.update(action=state_machine.STOP, task_id=instance['task_id'],
                      finish_time=None, result=None,
                      start_time=models.utcnow())

    def rows(self, first, count):
        """{table: rows} of the servers ``first`` to
        ``first + count - 1``."""
        out = {models.Instance.__table__: [],
               models.Allocation.__table__: [],
               models.InstanceAction.__table__: []}
        for index in range(first, min(first + count, self.count)):
            host = self.hosts[index % len(self.hosts)]
            instance_uuid = str(uuid.uuid4())
            held = self.reports[host]
            network = growth.network_info(host, len(held), instance_uuid)
            created = self.start + datetime.timedelta(
                seconds=growth.HISTORY_STEP_S * index)
            instance = growth.instance_row(
                index + 1, instance_uuid, host, self.flavor, self.owner,
                created, True, network)
            instance['task_deadline_at'] = None
            action = growth.action_row(index + 1, instance,
                                       state_machine.BOOT, created,
                                       self.owner)
            if index % self.busy_every == self.busy_every - 1:
                self._busy(instance, action)
            held[instance_uuid] = states.RUNNING
            out[models.Instance.__table__].append(instance)
            out[models.Allocation.__table__].append(
                growth.allocation_row(instance))
            out[models.InstanceAction.__table__].append(action)
        return out


def prepare(path, hosts, count, conf):
    """Create the SQLite database ``path`` with ``hosts`` and ``count``
    servers (see the module docstring) and point this process's session
    at it. Returns (engine, {host: its report})."""
    engine = session.configure('sqlite:///%s' % path)
    schema.db_sync(engine)
    catalog.seed_defaults()
    owner = {'project_id': conf.api.default_project_id,
             'user_id': conf.api.default_user_id}
    growth.insert(engine, host_rows(hosts, conf))
    servers = Servers(count, hosts, catalog.flavor_get(growth.FLAVOR_ID),
                      owner)
    for first in range(0, count, INSERT_CHUNK):
        growth.insert(engine, servers.rows(first, INSERT_CHUNK))
    return engine, servers.reports


# -- measuring ----------------------------------------------------------------

class StatementCounter:
    """Counts the SQL statements ``engine`` sends while attached."""

    def __init__(self, engine):
        self.engine = engine
        self.count = 0

    def _on_statement(self, *_args):
        self.count += 1

    @contextlib.contextmanager
    def attached(self):
        sa.event.listen(self.engine, 'before_cursor_execute',
                        self._on_statement)
        try:
            yield self
        finally:
            sa.event.remove(self.engine, 'before_cursor_execute',
                            self._on_statement)


def timed(counter, func, *args):
    """(result, {'wall_ms', 'cpu_ms', 'statements'}) of one call."""
    before = counter.count
    wall, cpu = time.perf_counter(), time.process_time()
    result = func(*args)
    figures = {'wall_ms': (time.perf_counter() - wall) * 1000.0,
               'cpu_ms': (time.process_time() - cpu) * 1000.0,
               'statements': counter.count - before}
    return result, figures


def median_of(counter, calls, func, *args):
    """The median of each figure of :func:`timed` over ``calls`` calls."""
    samples = [timed(counter, func, *args)[1] for _ in range(calls)]
    return {key: statistics.median(s[key] for s in samples)
            for key in samples[0]}


class AskedAgain:
    """Stands in for the compute RPC client of power sync: a host asked
    again answers what it reported, and the calls are counted."""

    def __init__(self, reports):
        self.reports = reports
        self.calls = 0

    def get_info(self, _ctxt, host, instance_uuid):
        self.calls += 1
        return self.reports[host].get(instance_uuid)

    def __getattr__(self, name):
        raise RuntimeError('power sync tried to %s: the prepared state '
                           'is out of sync' % name)


def schedule(counter, calls, flavor):
    """{'schedule': figures, 'filter': figures} (medians; see the module
    docstring); the claims made are released."""
    resources = host_selection.resources_of(flavor)
    consumers = []

    def select():
        consumer = str(uuid.uuid4())
        consumers.append(consumer)
        host_selection.select_with_alternates(consumer, consumer,
                                              resources)

    try:
        figures = {'schedule': median_of(counter, calls, select),
                   'filter': median_of(counter, calls,
                                       host_selection.filter_hosts,
                                       resources)}
    finally:
        for consumer in consumers:
            allocations.release(consumer)
    return figures


def heartbeat_cycle(counter, hosts, conf):
    """Figures of every host's heartbeat handled once."""
    endpoint = conductor_manager.ConductorManager(None)
    ctxt = orch_context.get_admin_context()
    compute = conf.compute
    resources = {'vcpus': compute.vcpus, 'memory_mb': compute.memory_mb,
                 'local_gb': compute.disk_gb, 'hypervisor_type': 'fake',
                 'availability_zone': compute.availability_zone}

    def cycle():
        for host in hosts:
            endpoint.report_heartbeat(ctxt, host, compute_service.BINARY,
                                      resources)

    return timed(counter, cycle)[1]


def power_sync_cycle(counter, reports):
    """Figures of every host's report handled once, with ``host_calls``
    and ``corrections`` (both 0 when the prepared state is in sync)."""
    hosts = AskedAgain(reports)
    per_host = []

    def cycle():
        corrections = 0
        for host, report in reports.items():
            start = time.perf_counter()
            corrections += len(power_sync.apply_report(host, report,
                                                       compute=hosts))
            per_host.append(time.perf_counter() - start)
        return corrections

    corrections, figures = timed(counter, cycle)
    figures.update(host_calls=hosts.calls, corrections=corrections,
                   per_host_ms=statistics.median(per_host) * 1000.0)
    return figures


def periodic_cycles(counter, conf, reports):
    """{'deadline_cycle', 'accepted_cycle'}: medians of one run each."""
    hosts = AskedAgain(reports)
    watchdog = deadlines.DeadlineWatchdog(
        conf, power_state_of=lambda i: hosts.get_info(None, i['host'],
                                                      i['uuid']))
    checker = accepted.AcceptedRequests(conf, None, None, None)
    return {'deadline_cycle': median_of(counter, PERIODIC_RUNS,
                                        watchdog.run_once),
            'accepted_cycle': median_of(counter, PERIODIC_RUNS,
                                        checker.run_once)}


def api_lists(counter, conf):
    """{name: figures with 'items'} of the lists of :data:`API_LISTS`."""
    app = api_app.build_app(conf)
    out = {}
    for name, path in API_LISTS:
        def call(path=path):
            resp = webob.Request.blank(
                path, headers=systems.API_HEADERS).get_response(app)
            if resp.status_int != 200:
                raise RuntimeError('GET %s: %s %s' % (
                    path, resp.status, resp.text[:300]))
            return resp.json_body
        body = call()
        out[name] = median_of(counter, API_CALLS, call)
        out[name]['items'] = len(next(v for k, v in body.items()
                                      if not k.endswith('_links')))
    return out


def cores(figures, conf):
    """The CPU (cores) the periodic duties need at their intervals."""
    intervals = {
        'heartbeat_cycle': conf.compute.heartbeat_interval_s,
        'power_sync_cycle': conf.compute.sync_power_state_interval_s,
        'deadline_cycle': conf.conductor.deadline_check_interval_s,
        'accepted_cycle': conf.conductor.accepted_check_interval_s,
    }
    return sum(figures[name]['cpu_ms'] / 1000.0 / interval
               for name, interval in intervals.items() if interval > 0)


@contextlib.contextmanager
def overridden(conf, name, value, group=None):
    """``conf`` with one option overridden for the block."""
    conf.set_override(name, value, group=group)
    try:
        yield conf
    finally:
        conf.clear_override(name, group=group)


def measure(smoke=False):
    """{figure name: figures} (see the module docstring), with 'hosts',
    'instances' and 'periodic_cores'."""
    conf = growth.new_conf()
    hosts = host_names(HOSTS[bool(smoke)])
    count = INSTANCES[bool(smoke)]
    directory = tempfile.mkdtemp(prefix='orch-scale-')
    try:
        with overridden(conf, 'service_down_time_s', DOWN_TIME_S), \
                overridden(conf, 'accepted_grace_s', DOWN_TIME_S,
                           group='conductor'):
            engine, reports = prepare(
                os.path.join(directory, 'orchestrator.sqlite'), hosts,
                count, conf)
            counter = StatementCounter(engine)
            with counter.attached():
                figures = schedule(counter, SCHEDULE_CALLS[bool(smoke)],
                                   catalog.flavor_get(growth.FLAVOR_ID))
                figures['heartbeat_cycle'] = heartbeat_cycle(counter, hosts,
                                                             conf)
                figures['power_sync_cycle'] = power_sync_cycle(counter,
                                                               reports)
                figures.update(periodic_cycles(counter, conf, reports))
                figures.update(api_lists(counter, conf))
            engine.dispose()
        figures['periodic_cores'] = cores(figures, conf)
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    figures.update(hosts=len(hosts), instances=count)
    return figures


#: Rows of the table, in order.
ROWS = ('schedule', 'filter', 'heartbeat_cycle', 'power_sync_cycle',
        'deadline_cycle', 'accepted_cycle', 'list_servers',
        'list_hypervisors')


def format_table(result):
    """The figures of :func:`measure` as a text table."""
    lines = ['%d hosts, %d servers' % (result['hosts'],
                                       result['instances']),
             '%-17s %10s %10s %11s  %s' % ('measure', 'wall_ms', 'cpu_ms',
                                           'statements', 'other')]
    for name in ROWS:
        figures = dict(result[name])
        main = [figures.pop(key) for key in ('wall_ms', 'cpu_ms',
                                             'statements')]
        other = ', '.join('%s=%s' % (k, round(v, 2))
                          for k, v in figures.items())
        lines.append('%-17s %10.1f %10.1f %11d  %s'
                     % (name, main[0], main[1], main[2], other))
    lines.append('periodic duties need %.3f core(s) (plus %.1f ms CPU '
                 'per boot scheduled)' % (result['periodic_cores'],
                                          result['schedule']['cpu_ms']))
    return '\n'.join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--smoke', action='store_true',
                        help='100 hosts and 1,000 servers')
    args = parser.parse_args(argv)
    print(format_table(measure(smoke=args.smoke)))
    return 0


if __name__ == '__main__':
    sys.exit(main())
