"""The one policy for host calls during a revert (flows.base.undo_on_host),
on the module's world (SQLite, in-memory RPC, fake hosts behind real
compute managers): the helper itself, then a whole rollback of a resize
whose destination died, a live migration, an evacuation and single-host
actions whose host went down, each reverted step by step as the engine
does (last step first, the sentinel last).

A host goes down as it does in production: its service's heartbeat gets
old, and its RPC calls time out (the fake driver is made slower than the
client's timeout).
"""

import contextlib
import datetime
import uuid

import oslo_messaging as messaging
import pytest
import sqlalchemy as sa

from orchestrator import exception
from orchestrator import state_machine
from orchestrator import states
from orchestrator.api import server_create
from orchestrator.db import catalog
from orchestrator.db import hosts as db_hosts
from orchestrator.db import instances as db_instances
from orchestrator.db import migration_records
from orchestrator.db import models
from orchestrator.db import session
from orchestrator.scheduler import host_selection

from flows import base
from flows import evacuate as evacuate_flow
from flows import live_migrate as live_flow
from flows import resize as resize_flow
from flows.tasks import evacuate
from flows.tasks import live_migrate
from flows.tasks import power
from flows.tasks import rescue
from flows.tasks import resize
from flows.tasks import snapshot
from flows.tasks import soft_delete
from tests.unit.flows import harness
from tests.unit.flows.harness import DST
from tests.unit.flows.harness import SRC

SMALL = catalog.DEFAULT_FLAVORS[1]
#: The client's call timeout while a test runs (seconds), and how long
#: a "silent" host's driver takes to answer: longer.
TIMEOUT_S = 1
SILENT_DELAY_S = 2.5


@pytest.fixture
def short_timeout(env, monkeypatch):
    monkeypatch.setattr(base.compute_api(), '_timeout', TIMEOUT_S)
    return env


@contextlib.contextmanager
def host_down(env, role, methods=()):
    """``role``'s host is down: its heartbeat an hour old, and
    ``methods`` answer later than the client waits. Back up after."""
    host = env.host(role)
    with session.writer() as s:
        s.execute(sa.update(models.Service).where(
            models.Service.host == host).values(
                last_seen_at=models.utcnow() - datetime.timedelta(hours=1)))
    if methods:
        slow(env, role, methods)
    try:
        assert not db_hosts.host_is_up(host)
        yield host
    finally:
        env.clear_faults()
        db_hosts.heartbeat(host, host_selection.COMPUTE_BINARY)


def slow(env, role, methods):
    """``methods`` on ``role`` answer after the client gave up."""
    from orchestrator.compute.drivers import fake_faults
    fake_faults.write_runtime_faults(
        env.state_dir, env.host(role),
        {m: {'delay_s': SILENT_DELAY_S} for m in methods})


def rollback(case, done, failed, flow_failures=None):
    """Revert as the engine does: ``failed`` (the step that failed, with
    its Failure) first, then ``done`` [(task, result)] last first. No
    revert may raise."""
    fail = harness.failure()
    failures = flow_failures or {failed.name: fail}
    harness.revert(failed, case, fail, failures)
    for task, result in reversed(done):
        harness.revert(task, case, result, failures)


def run(case, *tasks):
    return [(task, harness.execute(task, case)) for task in tasks]


def left(case):
    return base.left_to_reconciliation(case.uuid, case.task_id)


def fault_message(case):
    return db_instances.latest_fault(case.uuid)['message']


# -- the helper ---------------------------------------------------------------

def _undo(*outcomes):
    """An undo that raises or returns each of ``outcomes`` in turn."""
    calls = []

    def undo():
        outcome = outcomes[len(calls)]
        calls.append(outcome)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome
    return undo, calls


def test_a_down_host_is_not_called_and_the_undo_is_noted_once(env):
    case = env.case(state_machine.STOP)
    undo, calls = _undo('never')
    with host_down(env, SRC) as host:
        for _ in range(2):  # a revert re-run notes it once
            assert base.undo_on_host(host, undo, case.uuid, case.task_id,
                                     'power_on') is None
    assert calls == []
    assert left(case) == ['power_on on %s (host down)' % host]


def test_a_timeout_from_an_up_host_is_asked_once_more(env):
    case = env.case(state_machine.STOP)
    undo, calls = _undo(messaging.MessagingTimeout('slow'), 'done')
    assert base.undo_on_host(env.host(SRC), undo, case.uuid, case.task_id,
                             'power_on') == 'done'
    assert len(calls) == 2
    assert left(case) == []


def test_two_timeouts_from_an_up_host_are_left_to_reconciliation(env):
    case = env.case(state_machine.STOP)
    undo, calls = _undo(messaging.MessagingTimeout('1'),
                        messaging.MessagingTimeout('2'), 'never')
    assert base.undo_on_host(env.host(SRC), undo, case.uuid, case.task_id,
                             'power_on') is None
    assert len(calls) == base.UNDO_ATTEMPTS_WHEN_UP == 2
    assert left(case) == ['power_on on %s (no answer)' % env.host(SRC)]


def _live_migration(case, status=states.MIGRATION_RUNNING):
    record = migration_records.create(case.uuid, 'live-migration',
                                      states.MIGRATION_QUEUED,
                                      case.row()['host'])
    for step in (states.MIGRATION_PREPARING, states.MIGRATION_RUNNING,
                 states.MIGRATION_POST_MIGRATING):
        if record['status'] == status:
            break
        record = migration_records.set_status(record['uuid'], step)
    return record


def test_a_host_that_refuses_fails_the_rollback_and_ends_the_migration(env):
    case = env.case(state_machine.LIVE_MIGRATE)
    migration = _live_migration(case)
    undo, _calls = _undo(exception.InjectedFault(method='m', host='h'))
    with pytest.raises(exception.InjectedFault):
        base.undo_on_host(env.host(SRC), undo, case.uuid, case.task_id,
                          'rollback_live_migration',
                          migration_uuid=migration['uuid'])
    assert migration_records.get(migration['uuid'])['status'] == \
        states.MIGRATION_ERROR
    assert left(case) == []


def test_a_gone_guest_is_nothing_to_undo_only_when_said_so(env):
    case = env.case(state_machine.LIVE_MIGRATE)
    migration = _live_migration(case)
    gone = exception.GuestNotFound(host='h', instance_uuid=case.uuid)
    undo, _calls = _undo(gone)
    assert base.undo_on_host(env.host(SRC), undo, case.uuid, case.task_id,
                             'unrescue', nothing_if_gone=True) is None
    assert migration_records.get(migration['uuid'])['status'] == \
        states.MIGRATION_RUNNING
    undo, _calls = _undo(gone)
    with pytest.raises(exception.GuestNotFound):
        base.undo_on_host(env.host(SRC), undo, case.uuid, case.task_id,
                          'rollback_live_migration',
                          migration_uuid=migration['uuid'])
    assert migration_records.get(migration['uuid'])['status'] == \
        states.MIGRATION_ERROR


# -- resize: the destination dies during the rollback -----------------------

def _resize_case(env):
    return env.case(state_machine.RESIZE, params={
        'migration_uuid': str(uuid.uuid4()), 'migration_type': 'resize',
        'new_flavor': server_create.flavor_snapshot(
            catalog.flavor_get(SMALL[0])),
        'requested_host': env.host(DST)})


@pytest.mark.parametrize('how', ['down', 'silent'])
def test_resize_with_a_dead_destination_rolls_back_to_the_end(
        short_timeout, how):
    """Every step ran (the guest is on the destination), the last one
    fails, and the destination is gone: down (old heartbeat, calls time
    out) or silent (heartbeating, its calls time out twice). The rollback
    goes on: the source's guest runs again, the destination's claim is
    released, the migration ends in error, the instance is active on its
    source with its old flavor and a fault naming what was left."""
    env = short_timeout
    case = _resize_case(env)
    old_flavor = case.row()['flavor']
    done = run(case, resize_flow.ResizeSentinel(), resize.CreateMigration(),
               resize.ClaimDestination(), resize.PrepareDestination(),
               resize.MigrateDiskOnSource(), resize.FinishOnDestination())
    assert case.guest(DST) is not None
    dead = ('destroy', 'cleanup_networks', 'cleanup_block_devices')
    with contextlib.ExitStack() as stack:
        if how == 'down':
            stack.enter_context(host_down(env, DST, dead))
            why = 'host down'
        else:
            slow(env, DST, dead)
            stack.callback(env.clear_faults)
            why = 'no answer'
        rollback(case, done, resize.MarkResized())
    dst = env.host(DST)
    assert left(case) == [
        'destroy on %s (%s)' % (dst, why),
        'cleanup_networks, cleanup_block_devices on %s (%s)' % (dst, why)]
    assert case.migration()['status'] == states.MIGRATION_ERROR
    assert case.migration()['status'] in states.MIGRATION_FINAL_STATUSES
    row = case.row()
    assert (row['vm_state'], row['task_state'], row['host'],
            row['flavor']) == (states.ACTIVE, None, env.host(SRC),
                               old_flavor)
    assert case.guest(SRC)['power_state'] == states.RUNNING
    assert case.allocations() == [(case.uuid, env.host(SRC))]
    # Every undo on the destination is named, the host and reason once.
    assert fault_message(case).startswith(
        'Left to reconciliation: destroy, cleanup_networks, '
        'cleanup_block_devices on %s (%s); ' % (dst, why))


# -- live migration -----------------------------------------------------------

def test_live_migration_with_a_dead_destination_ends_failed(short_timeout):
    """The copy fails on the source, then the destination dies: the
    source's guest runs as before, the destination's undo is left to
    reconciliation, its claim released, the migration failed."""
    env = short_timeout
    case = env.case(state_machine.LIVE_MIGRATE)
    record = migration_records.create(
        case.uuid, 'live-migration', states.MIGRATION_QUEUED,
        env.host(SRC))
    case.params.update(migration_uuid=record['uuid'], host=env.host(DST),
                       block_migration=False)
    done = run(case, live_flow.LiveMigrationSentinel(),
               live_migrate.ClaimLiveMigrationDestination(),
               live_migrate.CheckLiveMigrationDestination(),
               live_migrate.CheckLiveMigrationSource(),
               live_migrate.PreLiveMigration())
    env.inject(SRC, 'live_migration', when='before')
    failed = live_migrate.LiveMigrationOnSource()
    with pytest.raises(exception.InjectedFault):
        harness.execute(failed, case)
    env.clear_faults()
    with host_down(env, DST, ('rollback_live_migration_at_destination',)):
        rollback(case, done, failed)
    assert left(case) == ['rollback_live_migration_at_destination on %s '
                          '(host down)' % env.host(DST)]
    assert case.migration()['status'] == states.MIGRATION_FAILED
    row = case.row()
    assert (row['vm_state'], row['task_state'], row['host']) == (
        states.ACTIVE, None, env.host(SRC))
    assert case.guest(SRC)['power_state'] == states.RUNNING
    assert case.allocations() == [(case.uuid, env.host(SRC))]
    assert 'Left to reconciliation' in fault_message(case)


def test_live_migration_whose_source_refuses_its_rollback_ends_in_error(
        env):
    """A host that answers with an error is no reconciliation case: the
    rollback fails honestly and the migration is error at once."""
    case = env.case(state_machine.LIVE_MIGRATE)
    record = migration_records.create(
        case.uuid, 'live-migration', states.MIGRATION_QUEUED,
        env.host(SRC))
    case.params.update(migration_uuid=record['uuid'], host=env.host(DST),
                       block_migration=False)
    run(case, live_migrate.ClaimLiveMigrationDestination())
    migration_records.set_status(record['uuid'], states.MIGRATION_RUNNING)
    env.inject(SRC, 'rollback_live_migration', when='before')
    with pytest.raises(exception.InjectedFault):
        harness.revert(live_migrate.LiveMigrationOnSource(), case,
                       harness.failure())
    assert case.migration()['status'] == states.MIGRATION_ERROR
    assert left(case) == []


# -- evacuation ---------------------------------------------------------------

def test_evacuation_whose_destination_dies_ends_failed(short_timeout):
    """The source is down (the reason of the evacuation); the spawn on
    the destination fails and then the destination dies too. The
    rollback goes on: the claim released, the migration failed, the
    instance still recorded on its source, vm_state unchanged."""
    env = short_timeout
    case = env.case(state_machine.EVACUATE)
    record = migration_records.create(
        case.uuid, 'evacuation', states.MIGRATION_ACCEPTED, env.host(SRC))
    case.params.update(migration_uuid=record['uuid'], host=env.host(DST))
    with host_down(env, SRC):
        done = run(case, evacuate_flow.EvacuateSentinel(),
                   evacuate.ClaimEvacuationDestination(),
                   evacuate.PrepareEvacuationDestination(),
                   evacuate.FetchEvacuationImage())
        env.inject(DST, 'spawn')
        failed = evacuate.SpawnOnEvacuationDestination()
        with pytest.raises(exception.InjectedFault):
            harness.execute(failed, case)
        env.clear_faults()
        with host_down(env, DST, ('destroy', 'cleanup_networks',
                                  'cleanup_block_devices')):
            rollback(case, done, failed)
    dst = env.host(DST)
    assert left(case) == [
        'destroy on %s (host down)' % dst,
        'cleanup_block_devices, cleanup_networks on %s (host down)' % dst]
    assert case.migration()['status'] == states.MIGRATION_FAILED
    row = case.row()
    assert (row['vm_state'], row['task_state'], row['host']) == (
        states.ACTIVE, None, env.host(SRC))
    assert case.allocations() == [(case.uuid, env.host(SRC))]
    assert 'Left to reconciliation' in fault_message(case)


# -- single-host actions ------------------------------------------------------

def _power_off(env):
    case = env.case(state_machine.STOP)
    return case, power.ChangePowerOnHost('power_off'), 'power_on'


def _rescue(env):
    case = env.case(state_machine.RESCUE)
    harness.execute(rescue.FetchRescueImage(), case)
    return case, rescue.RescueOnHost(), 'unrescue'


def _soft_delete(env):
    case = env.case(state_machine.SOFT_DELETE)
    return case, soft_delete.PowerOffForSoftDelete(), 'power_on'


def _snapshot(env):
    case = env.case(state_machine.SNAPSHOT)
    image = catalog.image_create('snap-%s' % case.uuid[:6],
                                 properties={'instance_uuid': case.uuid})
    case.params['image_id'] = image['id']
    case.images.append(image['id'])
    return case, snapshot.SnapshotOnHost(), 'delete_snapshot'


@pytest.mark.parametrize('make', [_power_off, _rescue, _soft_delete,
                                  _snapshot])
def test_single_host_action_whose_host_went_down(short_timeout, make):
    """The host step ran, the last step failed, and the host went down:
    the step's revert leaves its undo to reconciliation (the host's next
    power report corrects the instance), the sentinel ends the task with
    vm_state unchanged and a fault saying what was left; nothing
    raises."""
    env = short_timeout
    case, step, undo = make(env)
    done = [(power.ClearTaskOnRevert(), None)]
    if isinstance(step, snapshot.SnapshotOnHost):
        done.append((snapshot.DeleteImageOnRevert(),
                     harness.execute(snapshot.DeleteImageOnRevert(), case)))
    done.append((step, harness.execute(step, case)))
    with host_down(env, SRC, ('set_power_state', 'unrescue',
                              'delete_snapshot')):
        rollback(case, done, power.FinishPowerAction(
            state_machine.STOP, states.STOPPED))
    assert left(case) == ['%s on %s (host down)' % (undo, env.host(SRC))]
    row = case.row()
    assert (row['vm_state'], row['task_state']) == (states.ACTIVE, None)
    assert fault_message(case).startswith(
        'Left to reconciliation: %s on %s (host down); ' % (
            undo, env.host(SRC)))
