"""How to run each flow in a crash case: one recipe per FLOW_NAME.

A crash case starts from a copy of one *template*: an all-in-one state
directory (database and fake hosts) holding one server in each start
state a flow needs (:data:`TEMPLATE_SERVERS`), built once per test run.
A recipe names the template server its flow acts on (or none: boot makes
its own), the HTTP request that starts the flow, what the server looks
like once the flow succeeded or was rolled back, and the fake driver
calls of one clean run (the oracle of "completed steps did not run again,
the step in flight ran at most once more").

:func:`missing` lists flows without a recipe: the suite fails on them, so
a new flow cannot be left out of the crash suite.
"""

import dataclasses
import fcntl
import functools
import json
import os
import shutil

import requests
import sqlalchemy as sa

from flows import catalog

from tests.crash import harness
from tests.waiting import wait_for

#: Microversion of every request (as tests/functional/api_helpers).
HEADERS = {'OpenStack-API-Version': 'compute 2.47'}
#: Options of every all-in-one of the suite: soft delete on (the
#: soft-deleted template server must stay), nothing reclaimed in a case.
BASE_CONFIG = {'DEFAULT': {'reclaim_instance_interval_s': 3600,
                           # A shelved template server stays shelved.
                           'shelved_offload_time': -1}}
#: The evacuation's source is down this long after its last heartbeat.
DOWN_TIME_S = 3

#: Driver methods that periodic tasks call (start-up, heartbeats, power
#: sync, deadlines): never counted as a flow's calls.
QUERY_METHODS = frozenset(['init_host', 'get_available_resources',
                           'get_info', 'list_instances'])

# -- the template -----------------------------------------------------------

CREATE = 'create'
DELETE = 'delete'

#: Template servers: name -> (availability zone, requests after the boot
#: (an action body, or DELETE), the status it ends in).
TEMPLATE_SERVERS = {
    'active': (None, [], 'ACTIVE'),
    'stopped': (None, [{'os-stop': None}], 'SHUTOFF'),
    'paused': (None, [{'pause': None}], 'PAUSED'),
    'suspended': (None, [{'suspend': None}], 'SUSPENDED'),
    'rescued': (None, [{'rescue': None}], 'RESCUE'),
    'verify_resize': (None, [{'resize': {'flavorRef': '2'}}],
                      'VERIFY_RESIZE'),
    'soft_deleted': (None, [DELETE], 'SOFT_DELETED'),
    'shelved': (None, [{'shelve': None}], 'SHELVED'),
    'shelved_offloaded': (None, [{'shelve': None}, {'shelveOffload': None}],
                          'SHELVED_OFFLOADED'),
    # The evacuation's server: on compute-2, which its cases keep down.
    'on_compute_2': (':compute-2', [], 'ACTIVE'),
}


def api(aio, method, path, **kwargs):
    """A request at the suite's microversion."""
    headers = dict(HEADERS, **kwargs.pop('headers', {}))
    return aio.api(method, path, headers=headers, **kwargs)


def create_body(name, zone=None):
    """A boot request: m1.tiny, :func:`first_image`."""
    server = {'name': name, 'flavorRef': '1',
              'imageRef': first_image(), 'networks': 'auto'}
    if zone:
        server['availability_zone'] = zone
    return {'server': server}


#: Two active images (ids, sorted) of the template, learned when it is
#: built or read.
_IMAGES = []


def first_image():
    """The image servers boot from."""
    return _IMAGES[0]


def second_image():
    """Another image (a rebuild's)."""
    return _IMAGES[1]


def _learn_images(aio):
    if not _IMAGES:
        images = api(aio, 'GET', '/image/v2/images').json()['images']
        _IMAGES.extend(sorted(i['id'] for i in images
                              if i['status'] == 'active')[:2])


def _send(aio, server_id, request):
    if request == DELETE:
        return api(aio, 'DELETE', '/v2.1/servers/%s' % server_id)
    return api(aio, 'POST', '/v2.1/servers/%s/action' % server_id,
               json=request)


def _status(aio, server_id):
    server = aio.server(server_id)
    if server is None or server['OS-EXT-STS:task_state'] is not None:
        return None
    return server['status']


def _has_status(aio, server_id, status):
    return _status(aio, server_id) == status


def wait_jobs_done(aio, timeout=120):
    """Wait until the jobboard is empty (every flow ended and consumed)."""
    def empty():
        with aio.db().connect() as c:
            return c.execute(sa.text(
                'select count(*) from jobs')).scalar() == 0
    wait_for(empty, timeout=timeout, what='every job to be consumed')


def build_template(state_dir, port, launcher):
    """Make the template state directory: the all-in-one with one server
    per :data:`TEMPLATE_SERVERS` entry, each stable in its status; writes
    ``servers.json`` ({name: server id}) into it."""
    aio = harness.AllInOneProcess(state_dir, port, launcher=launcher)
    aio.start(config=BASE_CONFIG)
    try:
        _learn_images(aio)
        ids = {}
        for name, (zone, _steps, _end) in TEMPLATE_SERVERS.items():
            resp = api(aio, 'POST', '/v2.1/servers',
                       json=create_body('tpl-' + name, zone))
            assert resp.status_code == 202, resp.text
            ids[name] = resp.json()['server']['id']
        for server_id in ids.values():
            wait_for(functools.partial(_has_status, aio, server_id,
                                       'ACTIVE'),
                     timeout=120, what='template boot')
        pending = {name: list(steps) for name, (_z, steps, _s)
                   in TEMPLATE_SERVERS.items()}
        while any(pending.values()):
            sent = []
            for name, steps in pending.items():
                if steps:
                    resp = _send(aio, ids[name], steps.pop(0))
                    assert resp.status_code in (200, 202, 204), resp.text
                    sent.append(name)
            for name in sent:
                wait_for(functools.partial(_status, aio, ids[name]),
                         timeout=120, what='template step of ' + name)
        for name, (_zone, _steps, status) in TEMPLATE_SERVERS.items():
            assert _status(aio, ids[name]) == status, (name, aio.server(
                ids[name]))
        wait_jobs_done(aio)
    finally:
        aio.kill()
        aio.close()
    os.remove(aio.log_path)
    with open(os.path.join(state_dir, 'servers.json'), 'w') as f:
        json.dump({'servers': ids, 'images': _IMAGES}, f)
    return ids


def shared_template(base_dir, port, launcher):
    """The template under ``base_dir`` (built by the first test process
    that needs it, under a file lock; the others wait and reuse it).
    Returns (its directory, {name: server id})."""
    os.makedirs(base_dir, exist_ok=True)
    path = os.path.join(base_dir, 'template')
    with open(os.path.join(base_dir, 'template.lock'), 'w') as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not os.path.exists(os.path.join(path, 'servers.json')):
            shutil.rmtree(path, ignore_errors=True)
            build_template(path, port, launcher)
    with open(os.path.join(path, 'servers.json')) as f:
        saved = json.load(f)
    _IMAGES[:] = saved['images']
    return path, saved['servers']


def copy_template(template_dir, state_dir):
    """A case's own copy of the template."""
    shutil.copytree(template_dir, state_dir,
                    ignore=shutil.ignore_patterns('*.log', 'servers.json'))


# -- recipes ----------------------------------------------------------------

#: A rollback made by the recipe's faults (a host call fails).
FAULT = 'fault'
#: A rollback from the flow's last step (it fails before it runs).
LAST = 'last'
#: Recipe.last_reverted: the server is gone (404) after the rollback.
GONE = 'gone'


@dataclasses.dataclass(frozen=True)
class Interrupt:
    """A second request that rolls a flow back while it runs (an abort,
    a force delete): a rollback kind of its own, named by its key in
    :attr:`Recipe.interrupts`.

    :param path: the request, ``(method, path)``; ``{server}`` and
        ``{migration}`` (the server's newest migration's id) are filled in.
    :param ready: (aio, server_id) -> True once the request may be sent.
    :param kill_at: the failpoints its cases kill at (reached only once
        the request was sent).
    :param undo: {driver method: count} of the rollback.
    :param status: the server's status afterwards (:data:`GONE`: 404).
    :param faults: run-time faults that hold the flow where ``ready``
        waits (a slow copy).
    :param hold: a failpoint armed ``=raise`` at every start (a step
        that keeps failing).
    :param body: the request's JSON body.
    :param per_run: {driver method: count} one run of the step making
        those calls makes (a step calling one host per migration host);
        default one.
    """

    path: tuple
    ready: object
    kill_at: tuple
    undo: dict
    status: str
    faults: dict = None
    hold: str = None
    body: dict = None
    per_run: dict = None

    def send(self, aio, server_id):
        """Wait until ``ready``, send the request; its response, or
        None when the process died first."""
        def ready():
            try:
                return self.ready(aio, server_id)
            except requests.ConnectionError:
                return False
        wait_for(ready, timeout=60, interval=0.05,
                 what='the moment to interrupt')
        method, path = self.path
        values = {'server': server_id}
        if '{migration}' in path:
            values['migration'] = newest_migration(aio, server_id)['id']
        try:
            return api(aio, method, path.format(**values), json=self.body)
        except requests.ConnectionError:
            return None


def newest_migration(aio, server_id):
    """The server's newest migration row."""
    with aio.db().connect() as c:
        row = c.execute(sa.text(
            'select id, status, memory_processed from migrations '
            'where instance_uuid = :u order by id desc limit 1'),
            {'u': server_id}).first()
    return dict(row._mapping) if row else None


def _copying(aio, server_id):
    """The live migration's memory copy is under way."""
    migration = newest_migration(aio, server_id)
    return (migration is not None and migration['status'] == 'running'
            and bool(migration['memory_processed']))


def _past_commit(aio, server_id):
    """The live migration passed its point of no return."""
    migration = newest_migration(aio, server_id)
    return migration is not None \
        and migration['status'] == 'post-migrating'


_LIVE = 'orchestrator-live-migrate-server'
#: The live migration's steps from its point of no return on.
_PAST_COMMIT = ('CommitToDestination', 'PostLiveMigrationAtDestination',
                'SwitchInstanceHost', 'PostLiveMigrationAtSource')


def _switched(aio, server_id):
    """The live-migrating instance is its destination's already."""
    with aio.db().connect() as c:
        row = c.execute(sa.text(
            'select i.host, m.dest_compute, m.status from instances i '
            'join migrations m on m.instance_uuid = i.uuid '
            'where i.uuid = :u order by m.id desc limit 1'),
            {'u': server_id}).first()
    return (row is not None and row.status == 'post-migrating'
            and row.host == row.dest_compute)


#: Seconds a failing call past the live migration's commit takes.
_FAIL_AFTER_S = 2


def _force_delete_past_commit(method, failing_step, ready):
    """A force delete of a live-migrating server whose ``method`` (the
    host call of ``failing_step``) keeps failing past the commit; its
    cases kill at the reverts of the steps that ran."""
    ran = _PAST_COMMIT[:_PAST_COMMIT.index(failing_step) + 1]
    return Interrupt(
        path=('POST', '/v2.1/servers/{server}/action'),
        body={'forceDelete': None},
        # The call fails only after a pause: the first failure's retry
        # already reverts the steps (and reaches the kill), so the force
        # delete has to be in before it.
        faults={method: {'fault': 'raise',
                         'delay_s': _FAIL_AFTER_S}},
        ready=ready,
        kill_at=tuple('%s:%s:%s' % (_LIVE, step, phase)
                      for step in reversed(ran)
                      for phase in ('before-revert', 'after-revert')),
        # The cleanup's DestroyLeftovers destroys on both hosts: a crash
        # in it repeats both calls.
        undo={'destroy': 2}, per_run={'destroy': 2}, status=GONE)

_LIVE_UNDO = {'rollback_live_migration': 1,
              'rollback_live_migration_at_destination': 1}


@dataclasses.dataclass(frozen=True)
class Recipe:
    """How a crash case runs one flow.

    :param server: the template server it acts on; None: it makes a new
        one (the request is a boot).
    :param request: an action body, :data:`DELETE`, :data:`CREATE`, or a
        callable returning one of those.
    :param done: the server's status once the flow succeeded; None: the
        server is gone (404).
    :param calls: {driver method: count} of one clean run (periodic
        queries aside).
    :param fail: run-time faults ({driver method: fault}) that make the
        flow roll back; the cases of its rollback (before-revert,
        after-revert failpoints) run with them. None: no rollback cases.
    :param fail_step: the step whose host call ``fail`` breaks: the
        rollback reverts it and every step before it.
    :param undo: {driver method: count} of one clean rollback (with
        ``fail``).
    :param attempts: how many times the flow runs its steps when they
        fail (a boot reschedules to each host).
    :param reverted: the status after a rollback; default: the template
        server's status.
    :param call_steps: {driver method: step making the call}; needed by
        flows whose resume policy is revert (a crash in a call before
        the point of no return is rolled back, after it goes forward).
    :param step_calls: sets of driver methods one step calls together
        (forward or in its revert); a method in none is a step's only
        call. A step run again repeats all of its calls.
    :param last_fails: False when a failure of its last step never rolls
        the flow back (it is retried until it succeeds): no :data:`LAST`
        cases.
    :param last_undo: {driver method: count} of one clean rollback from
        a failure of its last step (every step reverted).
    :param last_reverted: the status after that rollback (:data:`GONE`:
        the server is gone); default: as ``reverted``.
    :param last_attempts: how many times its steps run before that
        rollback (a flow that retries them).
    :param last_action_result: its action's result after that rollback.
    :param interrupts: {name: :class:`Interrupt`}: requests that roll the
        flow back while it runs; each is a rollback kind of its own.
    :param config: options of its all-in-one beyond :data:`BASE_CONFIG`.
    :param hosts: how many hosts run (fewer than 2: a host is down).
    :param expect: the API's status codes for the request.
    """

    server: str
    request: object
    done: str
    calls: dict
    fail: dict = None
    fail_step: str = None
    undo: dict = dataclasses.field(default_factory=dict)
    attempts: int = 1
    reverted: str = None
    call_steps: dict = dataclasses.field(default_factory=dict)
    step_calls: tuple = ()
    last_fails: bool = True
    last_undo: dict = dataclasses.field(default_factory=dict)
    last_reverted: str = None
    last_attempts: int = 1
    last_action_result: str = 'Error'
    interrupts: dict = dataclasses.field(default_factory=dict)
    config: dict = dataclasses.field(default_factory=dict)
    hosts: int = 2
    expect: tuple = (202,)

    def start_status(self):
        if self.server is None:
            return None
        return TEMPLATE_SERVERS[self.server][2]

    def reverted_status(self, rollback=FAULT):
        """The server's status once the ``rollback`` (FAULT or LAST)
        ended."""
        status = self.reverted or self.start_status()
        if rollback == LAST and self.last_reverted:
            status = self.last_reverted
        elif rollback in self.interrupts:
            status = self.interrupts[rollback].status
        return None if status == GONE else status

    def undo_calls(self, rollback=FAULT):
        """{driver method: count} a clean ``rollback`` adds to the calls
        made before it."""
        if rollback in self.interrupts:
            return self.interrupts[rollback].undo
        return self.last_undo if rollback == LAST else self.undo

    def calls_per_run(self, rollback=None):
        """{driver method: count} one run of its step makes, where more
        than one (a step run again repeats them all)."""
        if rollback in self.interrupts:
            return self.interrupts[rollback].per_run or {}
        return {}

    def rollback_attempts(self, rollback=FAULT):
        """How many times the forward steps run before ``rollback``
        (a failing host step is retried on another host; a failure of the
        last step is not)."""
        if rollback == FAULT:
            return self.attempts
        return self.last_attempts if rollback == LAST else 1

    def action_result(self, rollback):
        """The flow's action's result once ``rollback`` (None: the flow
        succeeded) ended."""
        if rollback is None:
            return 'Success'
        return self.last_action_result if rollback == LAST else 'Error'

    def all_config(self):
        groups = {g: dict(o) for g, o in BASE_CONFIG.items()}
        for group, opts in self.config.items():
            groups.setdefault(group, {}).update(opts)
        return groups

    def rpc_methods(self, rollback=None):
        """The compute RPC methods of its clean run (or those only its
        ``rollback``, FAULT or LAST, calls), periodic queries aside: a
        power operation is a call of ``set_power_state``."""
        from orchestrator.compute import manager as compute_manager
        served = set(compute_manager.ComputeManager.rpc_methods())
        if rollback:
            methods = set(self.undo_calls(rollback)) - set(self.calls)
        else:
            methods = set(self.calls)
        return sorted({m if m in served else 'set_power_state'
                       for m in methods} - QUERY_METHODS)

    def send(self, aio, server_id):
        """Start the flow; the response, or None when the process died
        before answering."""
        try:
            if self.request == CREATE:
                return api(aio, 'POST', '/v2.1/servers',
                           json=create_body('crash-case'))
            request = self.request
            if callable(request):
                request = request()
            return _send(aio, server_id, request)
        except requests.ConnectionError:
            return None

    def prepare(self, aio):
        """Wait for what the case needs before the request: the hosts
        that do not run are seen down."""
        if len(aio.running_hosts) < len(aio.hosts):
            def down():
                hypervisors = api(aio, 'GET', '/v2.1/os-hypervisors/detail'
                                  ).json()['hypervisors']
                return all(h['state'] == 'down' for h in hypervisors
                           if h['hypervisor_hostname']
                           not in aio.running_hosts)
            wait_for(down, timeout=DOWN_TIME_S * 10, what='a host down')


def _power_recipe(body, operation, server, done, undo):
    """A power action: one driver call; either rollback calls ``undo``
    (whether or not the host changed the guest)."""
    undo = {undo: 1} if undo else {}
    return Recipe(server=server, request=body, done=done,
                  calls={operation: 1}, fail={operation: 'raise'},
                  fail_step='ChangePowerOnHost', undo=undo, last_undo=undo)


#: A destination is prepared (and cleaned) by one step, two calls.
_PREPARE_CALLS = (frozenset(['prepare_networks', 'prepare_block_devices']),
                  frozenset(['cleanup_networks', 'cleanup_block_devices']))
_RESIZE_UNDO = {'finish_revert_migration': 1, 'destroy': 1,
                'cleanup_networks': 1, 'cleanup_block_devices': 1}
_SPAWN_UNDO = {'destroy': 1, 'cleanup_networks': 1,
               'cleanup_block_devices': 1}

RECIPES = {
    'orchestrator-boot-server': Recipe(
        server=None, request=CREATE, done='ACTIVE',
        calls={'prepare_networks': 1, 'prepare_block_devices': 1,
               'fetch_image': 1, 'spawn': 1},
        fail={'spawn': 'raise'}, fail_step='SpawnOnHost',
        undo={m: 2 for m in _SPAWN_UNDO}, attempts=2, reverted='ERROR',
        last_undo=_SPAWN_UNDO),
    'orchestrator-delete-server': Recipe(
        server='active', request=DELETE, done=None, calls={'destroy': 1},
        fail={'destroy': 'raise'}, fail_step='DestroyOnHost',
        reverted='ERROR',
        config={'DEFAULT': {'reclaim_instance_interval_s': 0}},
        expect=(204,)),
    'orchestrator-cleanup-server': Recipe(
        server='active', request={'forceDelete': None}, done=None,
        calls={'destroy': 1},
        # The server is gone when the API answers; the cleanup is retried
        # (DESTROY_ATTEMPTS) and what it leaves is reconciliation's.
        last_undo={}, last_attempts=3, last_reverted=GONE,
        last_action_result='Success'),
    'orchestrator-stop-server': _power_recipe(
        {'os-stop': None}, 'power_off', 'active', 'SHUTOFF', 'power_on'),
    'orchestrator-start-server': _power_recipe(
        {'os-start': None}, 'power_on', 'stopped', 'ACTIVE', 'power_off'),
    'orchestrator-pause-server': _power_recipe(
        {'pause': None}, 'pause', 'active', 'PAUSED', 'unpause'),
    'orchestrator-unpause-server': _power_recipe(
        {'unpause': None}, 'unpause', 'paused', 'ACTIVE', 'pause'),
    'orchestrator-suspend-server': _power_recipe(
        {'suspend': None}, 'suspend', 'active', 'SUSPENDED', 'resume'),
    'orchestrator-resume-server': _power_recipe(
        {'resume': None}, 'resume', 'suspended', 'ACTIVE', 'suspend'),
    'orchestrator-reboot-server': Recipe(
        server='active', request={'reboot': {'type': 'SOFT'}},
        done='ACTIVE', calls={'reboot': 1},
        fail={'reboot': 'raise', 'reboot_hard': 'raise'},
        fail_step='SoftRebootOrHard', undo={'reboot_hard': 1}),
    'orchestrator-reboot-hard-server': _power_recipe(
        {'reboot': {'type': 'HARD'}}, 'reboot_hard', 'active', 'ACTIVE',
        None),
    'orchestrator-rescue-server': Recipe(
        server='active', request={'rescue': None}, done='RESCUE',
        calls={'fetch_image': 1, 'rescue': 1}, fail={'rescue': 'raise'},
        fail_step='RescueOnHost', undo={'unrescue': 1},
        last_undo={'unrescue': 1}, expect=(200,)),
    'orchestrator-unrescue-server': Recipe(
        server='rescued', request={'unrescue': None}, done='ACTIVE',
        calls={'unrescue': 1}, fail={'unrescue': 'raise'},
        fail_step='UnrescueOnHost', last_reverted='ERROR'),
    'orchestrator-rebuild-server': Recipe(
        server='active', request=lambda: {'rebuild': {
            'imageRef': second_image()}},
        done='ACTIVE', calls={'fetch_image': 1, 'rebuild': 1},
        fail={'rebuild': 'raise'}, fail_step='RebuildOnHost',
        reverted='ERROR'),
    'orchestrator-snapshot-server': Recipe(
        server='active', request={'createImage': {'name': 'crash-snap'}},
        done='ACTIVE',
        calls={'snapshot': 1, 'upload_snapshot': 1, 'delete_snapshot': 1},
        fail={'upload_snapshot': 'raise'}, fail_step='UploadSnapshot',
        undo={'delete_snapshot': 1},
        # FinishSnapshot (whose call drops the host's copy) never ran:
        # the rollback drops it.
        last_undo={'delete_snapshot': 1},
        call_steps={'snapshot': 'SnapshotOnHost',
                    'upload_snapshot': 'UploadSnapshot',
                    'delete_snapshot': 'FinishSnapshot'}),
    'orchestrator-change-password-server': Recipe(
        server='active',
        request={'changePassword': {'adminPass': 'crash-Passw0rd'}},
        done='ACTIVE', calls={'set_admin_password': 1},
        fail={'set_admin_password': 'raise'},
        fail_step='SetAdminPasswordOnHost'),
    'orchestrator-trigger-crash-dump-server': Recipe(
        server='active', request={'trigger_crash_dump': None},
        done='ACTIVE', calls={'trigger_crash_dump': 1},
        fail={'trigger_crash_dump': 'raise'},
        fail_step='TriggerCrashDumpOnHost'),
    'orchestrator-soft-delete-server': Recipe(
        server='active', request=DELETE, done='SOFT_DELETED',
        calls={'power_off': 1}, fail={'power_off': 'raise'},
        fail_step='PowerOffForSoftDelete', undo={'power_on': 1},
        last_undo={'power_on': 1},
        expect=(204,)),
    'orchestrator-restore-server': Recipe(
        server='soft_deleted', request={'restore': None}, done='ACTIVE',
        calls={'power_on': 1}, fail={'power_on': 'raise'},
        fail_step='ChangePowerOnHost', undo={'power_off': 1},
        last_undo={'power_off': 1}),
    'orchestrator-resize-server': Recipe(
        server='active', request={'resize': {'flavorRef': '2'}},
        done='VERIFY_RESIZE',
        calls={'prepare_networks': 1, 'prepare_block_devices': 1,
               'migrate_disk_and_power_off': 1, 'finish_migration': 1},
        fail={'finish_migration': 'raise'},
        fail_step='FinishOnDestination', undo=_RESIZE_UNDO,
        last_undo=_RESIZE_UNDO, step_calls=_PREPARE_CALLS),
    'orchestrator-migrate-server': Recipe(
        server='active', request={'migrate': None}, done='VERIFY_RESIZE',
        calls={'prepare_networks': 1, 'prepare_block_devices': 1,
               'migrate_disk_and_power_off': 1, 'finish_migration': 1},
        fail={'finish_migration': 'raise'},
        fail_step='FinishOnDestination', undo=_RESIZE_UNDO,
        last_undo=_RESIZE_UNDO, step_calls=_PREPARE_CALLS),
    'orchestrator-confirm-resize': Recipe(
        server='verify_resize', request={'confirmResize': None},
        done='ACTIVE', calls={'destroy': 1}, expect=(204,)),
    'orchestrator-revert-resize': Recipe(
        server='verify_resize', request={'revertResize': None},
        done='ACTIVE', calls={'destroy': 1, 'finish_revert_migration': 1}),
    'orchestrator-live-migrate-server': Recipe(
        server='active',
        request={'os-migrateLive': {'host': None,
                                    'block_migration': 'auto'}},
        done='ACTIVE',
        calls={'check_can_live_migrate_destination': 1,
               'check_can_live_migrate_source': 1,
               'pre_live_migration': 1, 'live_migration': 1,
               'post_live_migration_at_destination': 1,
               'post_live_migration': 1},
        fail={'live_migration': 'raise'},
        fail_step='LiveMigrationOnSource',
        # Past CommitToDestination a failing step is retried until it
        # succeeds (RollForward): a failure of the last step never rolls
        # the flow back.
        last_fails=False,
        undo=_LIVE_UNDO,
        interrupts={
            # A force delete while a step past the point of no return
            # keeps failing on its host (RollForward retries it): the
            # step finds its claim gone, the flow reverts, undoing
            # nothing on the hosts; the force delete's cleanup destroys
            # the guest on both.
            'force-delete': _force_delete_past_commit(
                'post_live_migration_at_destination',
                'PostLiveMigrationAtDestination', _past_commit),
            'force-delete-late': _force_delete_past_commit(
                'post_live_migration', 'PostLiveMigrationAtSource',
                _switched),
            # DELETE /servers/{id}/migrations/{id} during the copy.
            'abort': Interrupt(
                path=('DELETE', '/v2.1/servers/{server}/migrations/'
                                '{migration}'),
                faults={'live_migration': {'delay_s': 8}}, ready=_copying,
                kill_at=tuple('compute:live_migration_abort:' + phase
                              for phase in ('before-call', 'after-call')),
                undo=dict(_LIVE_UNDO, live_migration_abort=1),
                status='ACTIVE'),
        },
        call_steps={
            'check_can_live_migrate_destination':
                'CheckLiveMigrationDestination',
            'check_can_live_migrate_source': 'CheckLiveMigrationSource',
            'pre_live_migration': 'PreLiveMigration',
            'live_migration': 'LiveMigrationOnSource',
            'post_live_migration_at_destination':
                'PostLiveMigrationAtDestination',
            'post_live_migration': 'PostLiveMigrationAtSource'}),
    'orchestrator-shelve-server': Recipe(
        server='active', request={'shelve': None},
        done='SHELVED_OFFLOADED',
        calls={'power_off': 1, 'snapshot': 1, 'upload_snapshot': 1,
               'delete_snapshot': 1, 'destroy': 1},
        fail={'upload_snapshot': 'raise'}, fail_step='UploadSnapshot',
        undo={'delete_snapshot': 1, 'power_on': 1},
        # The last step (FinishOffload) is past the guest's destroy: it
        # is retried until it succeeds (OffloadRollForward), a failure of
        # it never rolls the flow back.
        last_fails=False,
        call_steps={'power_off': 'PowerOffForShelve',
                    'snapshot': 'SnapshotOnHost',
                    'upload_snapshot': 'UploadSnapshot',
                    'delete_snapshot': 'FinishShelve',
                    'destroy': 'DestroyForOffload'},
        config={'DEFAULT': {'shelved_offload_time': 0}}),
    'orchestrator-shelve-offload-server': Recipe(
        server='shelved', request={'shelveOffload': None},
        done='SHELVED_OFFLOADED', calls={'destroy': 1},
        fail={'destroy': 'raise'}, fail_step='DestroyForOffload',
        # As the shelve's offload: FinishOffload is retried until it
        # succeeds.
        last_fails=False),
    'orchestrator-unshelve-server': Recipe(
        server='shelved_offloaded', request={'unshelve': None},
        done='ACTIVE',
        calls={'prepare_networks': 1, 'prepare_block_devices': 1,
               'fetch_image': 1, 'spawn': 1},
        fail={'spawn': 'raise'}, fail_step='SpawnOnHost',
        undo={m: 2 for m in _SPAWN_UNDO}, attempts=2,
        last_undo=_SPAWN_UNDO),
    'orchestrator-unshelve-on-host-server': Recipe(
        server='shelved', request={'unshelve': None}, done='ACTIVE',
        calls={'power_on': 1}, fail={'power_on': 'raise'},
        fail_step='PowerOnForUnshelve', undo={'power_off': 1},
        last_undo={'power_off': 1}),
    'orchestrator-evacuate-server': Recipe(
        server='on_compute_2', request={'evacuate': {}}, done='ACTIVE',
        calls={'prepare_networks': 1, 'prepare_block_devices': 1,
               'fetch_image': 1, 'spawn': 1},
        fail={'spawn': 'raise'}, fail_step='SpawnOnEvacuationDestination',
        undo=_SPAWN_UNDO, last_undo=_SPAWN_UNDO,
        step_calls=_PREPARE_CALLS,
        config={'DEFAULT': {'service_down_time_s': DOWN_TIME_S}},
        hosts=1, expect=(200,)),
}
#: A backup is a snapshot with a rotation after it: the same host calls.
#: A failure of its last step (the rotation, past FinishSnapshot) rolls
#: it back like the snapshot's: the image deleted, the host asked to drop
#: its copy again.
RECIPES['orchestrator-backup-server'] = dataclasses.replace(
    RECIPES['orchestrator-snapshot-server'], request={'createBackup': {
        'name': 'crash-backup', 'backup_type': 'daily', 'rotation': 1}})


def flow_modules():
    """Every flow module the conductor runs, by FLOW_NAME."""
    return {m.FLOW_NAME: m for m in catalog.all_flow_modules()}


def missing():
    """(FLOW_NAMEs of flows without a recipe, recipes of no flow)."""
    flows = set(flow_modules())
    return sorted(flows - set(RECIPES)), sorted(set(RECIPES) - flows)
