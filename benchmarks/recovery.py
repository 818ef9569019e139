"""Recovery after a crash: how long until the boots in flight are done.

Two measurements, one round each (every round starts whole systems):

``recovery_allinone``
    ``boots`` boots are posted to an all-in-one whose fake hypervisor's
    ``spawn`` sleeps (``[fake_driver] delays_s``) so that they stay in
    flight; once every server is ``spawning`` the process gets SIGKILL
    and a NEW all-in-one starts on the same state directory, without
    the spawn delay (what is measured is the recovery machinery, not the
    fake hypervisor). From the restart's exec (the instant before
    ``Popen``):

    ``process_start_s``
        until the API answers with every host up (polled every 10 ms).
        Bounded below by the interpreter's start and imports, the
        schema check and the registration of the hosts (the API is
        served last).
    ``first_resumed_step_s``
        until the first step of a booted server's action is recorded
        (the earliest ``start_time`` or ``finish_time`` in
        ``instance_actions_events`` after the restart, written by the
        audit listener as a resumed flow runs a step). The conductor
        starts before the API and always has the same name, so it
        reclaims its jobs at once: this may come before
        ``process_start_s``.
    ``last_step_s``
        until the last step of those actions was recorded (the database
        says when the machinery finished, whatever the API polls saw).
    ``all_active_s``
        until ``GET /v2.1/servers/detail`` (every 50 ms) shows every
        booted server ACTIVE or ERROR with no task_state. Bounded below by
        ``process_start_s`` (nothing is seen before the API answers) and
        by ``last_step_s``; the poll adds up to 50 ms.
    ``finishing_s``
        ``all_active_s - first_resumed_step_s``: the resumed flows'
        run, as the client sees its end.
    ``per_flow_ms``
        ``all_active_s * 1000 / boots``.

    Also: ``spawning_at_kill`` (servers whose task_state was
    ``spawning`` when the process was killed), ``resumed_actions``
    (actions with a step recorded after the restart), ``active`` and
    ``error`` (the servers' end states).

``takeover_distributed``
    ``boots`` boots on the distributed system with two conductors
    (PostgreSQL, RabbitMQ, 3 compute agents); once every server is
    ``spawning``, the conductor owning most jobs (``jobs.owner``) gets
    SIGKILL. Right after the kill the fake hosts' spawn delay is cleared
    (their run-time faults file), so the re-run spawns do not sleep.
    From the kill:

    ``claimed_s``
        until none of the dead conductor's jobs is still owned by it
        (each was claimed by the survivor, or consumed), polled every
        50 ms in the ``jobs`` table.
    ``first_resumed_step_s``
        until the first step of a dead conductor's action recorded
        after the kill (``instance_actions_events``).
    ``takeover_s``
        until every server of the dead conductor's jobs is ACTIVE (or
        ERROR) with no task_state, polled every 50 ms through the API.
    ``all_active_s``
        until every booted server is; the survivor's own boots still
        sleep out the spawn delay they started with, so this is about
        that delay after their spawn began, not a recovery figure.

    Takeover is bounded below by the lease: a dead conductor's jobs are
    claimable only once their claim expires, and it renewed them every
    ``lease_renew_interval_s``, so at the kill the time left on each
    claim (measured: ``claim_expires_at`` minus the database's clock;
    ``lease_left_at_kill_min_s`` and ``_max_s`` over its jobs) lies
    between ``claim_lease_s - lease_renew_interval_s`` and
    ``claim_lease_s``. The survivor notices an expired claim within its
    poll of the jobboard (``[conductor] job_poll_interval_s``):
    ``first_resumed_step_s`` is at least ``lease_left_at_kill_min_s``,
    ``claimed_s`` at least ``lease_left_at_kill_max_s`` and about that
    plus ``job_poll_interval_s`` at most, plus the claims' own time. The
    configuration used is reported with the figures.

    .venv/bin/python -m benchmarks.recovery [--smoke]
"""

import argparse
import collections
import datetime
import os
import threading
import time

import requests
import sqlalchemy as sa

from orchestrator.compute.drivers import fake_faults
from orchestrator.db import models

from benchmarks import systems
from benchmarks.load import Client

#: Seconds between two looks at the servers (or the jobs table).
POLL_S = 0.05
#: Seconds between two looks at a starting process's API.
START_POLL_S = 0.01
#: Threads posting the boots.
POST_THREADS = 8
#: Most flows one conductor runs at once: above any ``boots`` here.
MAX_JOBS = 200
#: The all-in-one's spawn sleep while boots are put in flight: long
#: enough for every boot to reach ``spawning`` on a loaded 2-core
#: machine, under ``[DEFAULT] compute_rpc_timeout_s`` (60 s).
ALLINONE_SPAWN_DELAY_S = 30
#: The distributed system's spawn sleep (cleared right after the kill).
TAKEOVER_SPAWN_DELAY_S = 10
#: The distributed conductors' lease, its renewal and their jobboard poll.
CLAIM_LEASE_S = 5.0
LEASE_RENEW_INTERVAL_S = 1.0
JOB_POLL_INTERVAL_S = 0.5
#: Most seconds any wait here lasts.
TIMEOUT_S = 300

_ACTIONS = models.InstanceAction.__table__
_EVENTS = models.InstanceActionEvent.__table__
_JOBS = models.Job.__table__


def _utcnow():
    """Naive UTC now, as the orchestrator writes its timestamps."""
    return datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)


def _check_alive(system, dead=()):
    """Raise with its log tail if a process of ``system`` (other than
    the keys in ``dead``) has exited."""
    for key, proc in system.procs.items():
        if key not in dead and proc.poll() is not None:
            raise RuntimeError('%s exited with %s:\n%s' % (
                key, proc.returncode, system.log(key)))


def post_boots(url, count, threads=POST_THREADS):
    """POST ``count`` boots from ``threads`` threads; their server ids.

    Raises if a boot is refused (or a thread fails otherwise).
    """
    flavor, image = Client(url, POLL_S).catalog()
    ids, errors = [], []
    lock = threading.Lock()
    remaining = [count]

    def work():
        http = requests.Session()
        http.headers.update(systems.API_HEADERS)
        body = {'server': {'name': 'recovery', 'flavorRef': flavor,
                           'imageRef': image, 'networks': 'none'}}
        while True:
            with lock:
                if remaining[0] <= 0 or errors:
                    return
                remaining[0] -= 1
            try:
                resp = http.post(url + '/v2.1/servers', json=body,
                                 timeout=60)
                if resp.status_code != 202:
                    raise RuntimeError('boot refused: %s %s' % (
                        resp.status_code, resp.text[:300]))
                server_id = resp.json()['server']['id']
            except Exception as e:  # noqa: BLE001 - raised below
                with lock:
                    errors.append(e)
                return
            with lock:
                ids.append(server_id)

    workers = [threading.Thread(target=work, daemon=True)
               for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    if errors:
        raise RuntimeError('posting boots failed: %r' % (errors[0],))
    return ids


def server_states(http, url):
    """{server id: (status, task_state)} from one servers/detail GET."""
    resp = http.get(url + '/v2.1/servers/detail', timeout=30)
    resp.raise_for_status()
    return {s['id']: (s['status'], s['OS-EXT-STS:task_state'])
            for s in resp.json()['servers']}


def _done(state):
    return state is not None and state[1] is None and \
        state[0] in ('ACTIVE', 'ERROR')


def _phase(state):
    """A server's task_state, or its status when it has none."""
    status, task_state = state
    return task_state or status


def wait_spawning(system, http, ids, timeout):
    """Wait until every server of ``ids`` is ``spawning`` (at most
    ``timeout`` s; then the boots are killed as they are); returns
    {task_state or status: count} of the last look."""
    deadline = time.monotonic() + timeout
    while True:
        _check_alive(system)
        states = server_states(http, system.url)
        seen = collections.Counter(
            _phase(states.get(i, ('missing', None))) for i in ids)
        if seen['spawning'] == len(ids) or time.monotonic() > deadline:
            return dict(seen)
        time.sleep(POLL_S)


def wait_done(system, http, ids, since, dead=(), timeout=TIMEOUT_S):
    """Seconds from the monotonic instant ``since`` until the API shows
    every server of ``ids`` ACTIVE or ERROR with no task_state (polled
    every POLL_S), and the states of that last look."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        _check_alive(system, dead)
        states = server_states(http, system.url)
        now = time.monotonic()
        if all(_done(states.get(i)) for i in ids):
            return now - since, states
        time.sleep(POLL_S)
    raise RuntimeError('servers not ACTIVE within %s s' % timeout)


def step_times(engine, ids, after):
    """(first, last, actions): the earliest and latest step instants
    (``start_time`` or ``finish_time`` of ``instance_actions_events``)
    of the servers ``ids``' actions later than ``after`` (naive UTC),
    in seconds after it, and how many actions have such a step."""
    query = sa.select(_EVENTS.c.action_id, _EVENTS.c.start_time,
                      _EVENTS.c.finish_time).join(
        _ACTIONS, _ACTIONS.c.id == _EVENTS.c.action_id).where(
        _ACTIONS.c.instance_uuid.in_(list(ids)))
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    instants, actions = [], set()
    for action_id, *times in rows:
        later = [t for t in times if t is not None and t > after]
        instants.extend(later)
        if later:
            actions.add(action_id)
    if not instants:
        raise RuntimeError('no step of the booted servers was recorded '
                           'after %s' % after)
    return ((min(instants) - after).total_seconds(),
            (max(instants) - after).total_seconds(), len(actions))


def _sqlite_reader(state_dir):
    """A read-only engine on the all-in-one's SQLite database."""
    path = os.path.join(state_dir, 'orchestrator.sqlite')
    if not os.path.exists(path):
        raise RuntimeError('no database at %s' % path)
    return sa.create_engine('sqlite:///file:%s?mode=ro&uri=true' % path)


def _allinone_extra(spawn_delay_s):
    extra = {'conductor': {'max_simultaneous_jobs': MAX_JOBS}}
    if spawn_delay_s:
        extra['fake_driver'] = {'delays_s': 'spawn:%g' % spawn_delay_s}
    return extra


def restart_allinone(state_dir):
    """Start a new all-in-one (no spawn delay) on ``state_dir``;
    returns (system, monotonic exec instant, its naive UTC, seconds from
    the exec until the API answered, polled every START_POLL_S)."""
    system = systems.AllInOne(extra=_allinone_extra(0), state_dir=state_dir)
    started_utc = _utcnow()
    started = time.monotonic()
    system.spawn('allinone', 'allinone', '--config-file', system.config,
                 '--state-dir', system.state_dir,
                 '--listen', '127.0.0.1:%d' % system.port)
    deadline = started + TIMEOUT_S
    while not system.answering():  # raises with the log if it exited
        if time.monotonic() > deadline:
            system.stop()
            raise RuntimeError('restarted all-in-one not answering within '
                               '%s s:\n%s' % (TIMEOUT_S,
                                              system.log('allinone')))
        time.sleep(START_POLL_S)
    return system, started, started_utc, time.monotonic() - started


def measure_allinone(boots=100):
    """Boots in flight, SIGKILL, restart on the same state dir: the
    split of the recovery (see the module docstring)."""
    first = systems.AllInOne(extra=_allinone_extra(ALLINONE_SPAWN_DELAY_S))
    http = requests.Session()
    http.headers.update(systems.API_HEADERS)
    try:
        first.start()
        ids = post_boots(first.url, boots)
        at_kill = wait_spawning(first, http, ids,
                                0.7 * ALLINONE_SPAWN_DELAY_S)
    finally:
        if first.procs['allinone'].poll() is None:
            first.kill('allinone')
    second, started, started_utc, process_start_s = restart_allinone(
        first.state_dir)
    try:
        all_active_s, states = wait_done(second, http, ids, started)
        engine = _sqlite_reader(second.state_dir)
        try:
            first_step_s, last_step_s, resumed = step_times(
                engine, ids, started_utc)
        finally:
            engine.dispose()
    finally:
        second.stop()
    ends = collections.Counter(states[i][0] for i in ids)
    return {
        'boots': boots,
        'spawning_at_kill': at_kill.get('spawning', 0),
        'process_start_s': process_start_s,
        'first_resumed_step_s': first_step_s,
        'last_step_s': last_step_s,
        'all_active_s': all_active_s,
        'finishing_s': all_active_s - first_step_s,
        'per_flow_ms': all_active_s * 1000.0 / boots,
        'resumed_actions': resumed,
        'active': ends['ACTIVE'],
        'error': ends['ERROR'],
    }


def claimed_jobs(engine):
    """{job uuid: (owner, instance uuid)} of the live jobs."""
    query = sa.select(_JOBS.c.uuid, _JOBS.c.owner, _JOBS.c.details).where(
        _JOBS.c.trashed == sa.false())
    with engine.connect() as conn:
        return {uuid: (owner, ((details or {}).get('store') or {}).get(
                    'instance_uuid'))
                for uuid, owner, details in conn.execute(query)}


def lease_left_s(engine, owner):
    """(soonest, latest) seconds until a claim of ``owner`` expires, on
    the database's clock (the one the jobboard compares with): each job
    has its own lease, renewed at its own moment."""
    now = sa.func.timezone('UTC', sa.func.statement_timestamp())
    left = sa.func.extract('epoch', _JOBS.c.claim_expires_at - now)
    query = sa.select(sa.func.min(left), sa.func.max(left)).where(
        _JOBS.c.owner == owner)
    with engine.connect() as conn:
        soonest, latest = conn.execute(query).one()
    if soonest is None:
        raise RuntimeError('%s holds no claim' % owner)
    return float(soonest), float(latest)


def _still_owned(engine, owner, job_uuids):
    query = sa.select(sa.func.count()).select_from(_JOBS).where(
        _JOBS.c.uuid.in_(list(job_uuids)), _JOBS.c.owner == owner)
    with engine.connect() as conn:
        return conn.execute(query).scalar()


def clear_spawn_delays(system):
    """Make every fake host's spawn sleep no more (run-time faults
    file, re-read on every driver call)."""
    state_dir = os.path.join(system.dir, 'fake-hosts')
    for host in system.hosts:
        fake_faults.write_runtime_faults(state_dir, host, {'spawn': {}})


def wait_takeover(system, engine, http, owner, jobs, ids, since):
    """From the monotonic instant ``since`` (the kill): seconds until
    ``owner`` holds none of ``jobs``, until the servers of those jobs
    are done, until every server of ``ids`` is done, and the last
    states seen."""
    victims = [instance for _owner, instance in jobs.values()]
    claimed_s = takeover_s = None
    deadline = since + TIMEOUT_S
    while time.monotonic() < deadline:
        _check_alive(system, dead=(owner,))
        if claimed_s is None and not _still_owned(engine, owner, jobs):
            claimed_s = time.monotonic() - since
        states = server_states(http, system.url)
        now = time.monotonic()
        if takeover_s is None and all(_done(states.get(i))
                                      for i in victims):
            takeover_s = now - since
        if claimed_s is not None and takeover_s is not None and \
                all(_done(states.get(i)) for i in ids):
            return claimed_s, takeover_s, now - since, states
        time.sleep(POLL_S)
    raise RuntimeError('no takeover within %s s (claimed after %s s)'
                       % (TIMEOUT_S, claimed_s))


def measure_takeover(boots=20):
    """Two conductors, boots in flight, SIGKILL of the one owning most
    jobs: how long until the survivor finished them (see the module
    docstring)."""
    conductor = {'claim_lease_s': CLAIM_LEASE_S,
                 'lease_renew_interval_s': LEASE_RENEW_INTERVAL_S,
                 'job_poll_interval_s': JOB_POLL_INTERVAL_S,
                 'max_simultaneous_jobs': MAX_JOBS}
    system = systems.Distributed(conductors=2, extra={
        'conductor': conductor,
        'fake_driver': {'delays_s': 'spawn:%g' % TAKEOVER_SPAWN_DELAY_S}})
    http = requests.Session()
    http.headers.update(systems.API_HEADERS)
    engine = sa.create_engine(system.db_url)
    try:
        system.start()
        ids = post_boots(system.url, boots)
        at_kill = wait_spawning(system, http, ids,
                                0.7 * TAKEOVER_SPAWN_DELAY_S)
        jobs = claimed_jobs(engine)
        owners = collections.Counter(owner for owner, _i in jobs.values())
        owners.pop(None, None)
        if not owners:
            raise RuntimeError('no claimed job to take over: %r' % jobs)
        owner = owners.most_common(1)[0][0]
        if owner not in system.procs:
            raise RuntimeError('job owner %r is no conductor process of %s'
                               % (owner, sorted(system.procs)))
        victim_jobs = {uuid: job for uuid, job in jobs.items()
                       if job[0] == owner}
        lease_left = lease_left_s(engine, owner)
        killed_utc = _utcnow()
        killed = time.monotonic()
        system.kill(owner)
        clear_spawn_delays(system)
        claimed_s, takeover_s, all_active_s, states = wait_takeover(
            system, engine, http, owner, victim_jobs, ids, killed)
        first_step_s, _last, _actions = step_times(
            engine, [i for _o, i in victim_jobs.values()], killed_utc)
    finally:
        engine.dispose()
        system.stop()
    ends = collections.Counter(states[i][0] for i in ids)
    return {
        'boots': boots,
        'spawning_at_kill': at_kill.get('spawning', 0),
        'jobs_of_killed': len(victim_jobs),
        'claim_lease_s': CLAIM_LEASE_S,
        'lease_renew_interval_s': LEASE_RENEW_INTERVAL_S,
        'job_poll_interval_s': JOB_POLL_INTERVAL_S,
        'lease_left_at_kill_min_s': lease_left[0],
        'lease_left_at_kill_max_s': lease_left[1],
        'claimed_s': claimed_s,
        'first_resumed_step_s': first_step_s,
        'takeover_s': takeover_s,
        'all_active_s': all_active_s,
        'active': ends['ACTIVE'],
        'error': ends['ERROR'],
    }


def measure(smoke=False):
    """Both measurements, one round each."""
    return {
        'recovery_allinone': measure_allinone(20 if smoke else 100),
        'takeover_distributed': measure_takeover(5 if smoke else 20),
    }


def _number(value):
    if isinstance(value, float):
        return '%.3f' % value
    return str(value)


def format_table(rows):
    """The rows as a fixed-width text table, one line per figure."""
    lines = [('row', 'figure', 'value')]
    for row, figures in rows.items():
        lines.extend((row, figure, _number(value))
                     for figure, value in figures.items())
    widths = [max(len(line[i]) for line in lines) for i in range(3)]
    return '\n'.join('%s  %s  %s' % (line[0].ljust(widths[0]),
                                     line[1].ljust(widths[1]),
                                     line[2].rjust(widths[2]))
                     for line in lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--smoke', action='store_true',
                        help='20 boots (all-in-one), 5 (takeover)')
    args = parser.parse_args(argv)
    print(format_table(measure(smoke=args.smoke)))


if __name__ == '__main__':
    main()
