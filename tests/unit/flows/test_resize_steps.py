"""flows/tasks/resize.py, step by step (harness.contract_tests): a resize
from m1.tiny to m1.small, source to destination, then its confirm and its
revert (each claimed by its own flow, as the API does)."""

import uuid

from orchestrator import state_machine
from orchestrator import states
from orchestrator.api import server_create
from orchestrator.db import catalog

from flows.tasks import resize
from tests.unit.flows import harness
from tests.unit.flows.harness import DST
from tests.unit.flows.harness import SRC

#: (flavorid, name, vcpus, memory_mb, root_gb) of m1.tiny and m1.small.
TINY, SMALL = catalog.DEFAULT_FLAVORS[0], catalog.DEFAULT_FLAVORS[1]
TINY_MEMORY, SMALL_MEMORY, SMALL_ROOT = TINY[3], SMALL[3], SMALL[4]


def resizing(vm_state=states.ACTIVE):
    def setup(env):
        return env.case(state_machine.RESIZE, vm_state, params={
            'migration_uuid': str(uuid.uuid4()), 'migration_type': 'resize',
            'new_flavor': server_create.flavor_snapshot(
                catalog.flavor_get(SMALL[0])),
            'requested_host': env.host(DST)})
    return setup


#: The resize flow's steps, in order.
RESIZE_STEPS = (resize.CreateMigration, resize.ClaimDestination,
                resize.PrepareDestination, resize.MigrateDiskOnSource,
                resize.FinishOnDestination, resize.MarkResized)


#: A resize whose steps before the one given ran.
resized_up_to = harness.steps_before(
    lambda env, vm_state=states.ACTIVE: resizing(vm_state)(env),
    RESIZE_STEPS)


def resized(env, vm_state=states.ACTIVE):
    """A server in VERIFY_RESIZE on the destination."""
    return harness.run_steps(resizing(vm_state)(env),
                             *(s() for s in RESIZE_STEPS))


def waiting_for(action, *steps):
    """A resized server claimed by ``action`` (confirm or revert), the
    given steps of that flow run."""
    def setup(env):
        done = resized(env)
        case = env.claim(done.row(), action, params={
            'migration_uuid': done.params['migration_uuid']})
        return harness.run_steps(case, *(s() for s in steps))
    return setup


def _status(status):
    def check(env, case, before):
        assert case.migration()['status'] == status
    return check


def _created(env, case, result):
    assert (result['uuid'], result['status'], result['source_compute'],
            result['migration_type']) == (
        case.params['migration_uuid'], states.MIGRATION_PRE_MIGRATING,
        env.host(SRC), 'resize')


def _claimed(env, case, result):
    assert result == env.host(DST)
    assert (case.params['migration_uuid'], env.host(DST)) in \
        case.allocations()
    assert case.migration()['dest_compute'] == env.host(DST)


def _prepared(env, case, result):
    state = env.host_state(DST)
    assert case.uuid in state['networks']
    assert state['block_devices'][case.uuid]['/dev/vda']['size_gb'] == \
        SMALL_ROOT


def _migrated(env, case, result):
    guest = case.guest(SRC)
    assert guest['power_state'] == states.SHUTDOWN
    assert guest['migration']['uuid'] == case.params['migration_uuid']
    assert case.row()['task_state'] == states.RESIZE_MIGRATED
    assert case.migration()['status'] == states.MIGRATION_MIGRATING


def _finished_on_dest(env, case, result):
    guest = case.guest(DST)
    assert result == guest['power_state'] == states.RUNNING
    assert guest['memory_mb'] == SMALL_MEMORY
    assert case.migration()['status'] == states.MIGRATION_POST_MIGRATING


def _dest_guest_gone(env, case, before):
    assert case.guest(DST) is None


def _source_guest_back(env, case, before):
    guest = case.guest(SRC)
    assert guest['power_state'] == states.RUNNING
    assert 'migration' not in guest


def _marked_resized(env, case, result):
    row = case.row()
    assert (row['host'], row['vm_state'], row['task_state'],
            row['memory_mb']) == (env.host(DST), states.RESIZED, None,
                                  SMALL_MEMORY)
    assert case.migration()['status'] == states.MIGRATION_FINISHED


def _source_destroyed(env, case, result):
    assert case.guest(SRC) is None and case.guest(DST) is not None
    assert case.migration()['status'] == states.MIGRATION_CONFIRMING


def _confirmed(env, case, result):
    assert case.allocations() == [(case.uuid, env.host(DST))]
    assert case.migration()['status'] == states.MIGRATION_CONFIRMED
    row = case.row()
    assert (row['vm_state'], row['task_state']) == (states.ACTIVE, None)


def _dest_destroyed(env, case, result):
    assert case.guest(DST) is None and case.guest(SRC) is not None
    assert case.migration()['status'] == states.MIGRATION_REVERTING


def _restored(env, case, result):
    guest = case.guest(SRC)
    assert result == guest['power_state'] == states.RUNNING
    assert guest['memory_mb'] == TINY_MEMORY and 'migration' not in guest


def _reverted(env, case, result):
    assert case.allocations() == [(case.uuid, env.host(SRC))]
    assert case.migration()['status'] == states.MIGRATION_REVERTED
    row = case.row()
    assert (row['host'], row['vm_state'], row['task_state'],
            row['memory_mb']) == (env.host(SRC), states.ACTIVE, None,
                                  TINY_MEMORY)


HOSTS_AND_CLAIMS = ('allocations', 'images', 'host:' + SRC, 'host:' + DST)
CONFIRMING = waiting_for(state_machine.CONFIRM_RESIZE)
REVERTING = waiting_for(state_machine.REVERT_RESIZE)

STEPS = [
    harness.Step(id='CreateMigration', make=resize.CreateMigration,
                 setup=resizing(), check=_created, undone=HOSTS_AND_CLAIMS,
                 after_revert=_status(states.MIGRATION_ERROR)),
    harness.Step(id='ClaimDestination', make=resize.ClaimDestination,
                 setup=resized_up_to(resize.ClaimDestination),
                 check=_claimed, undone=HOSTS_AND_CLAIMS),
    harness.Step(id='PrepareDestination', make=resize.PrepareDestination,
                 setup=resized_up_to(resize.PrepareDestination),
                 check=_prepared,
                 fault=lambda case: (DST, 'prepare_block_devices')),
    harness.Step(id='MigrateDiskOnSource', make=resize.MigrateDiskOnSource,
                 setup=resized_up_to(resize.MigrateDiskOnSource),
                 check=_migrated, undone=HOSTS_AND_CLAIMS,
                 after_revert=_source_guest_back,
                 fault=lambda case: (SRC, 'migrate_disk_and_power_off')),
    harness.Step(id='FinishOnDestination', make=resize.FinishOnDestination,
                 setup=resized_up_to(resize.FinishOnDestination),
                 check=_finished_on_dest,
                 undone=('allocations', 'host:' + SRC),
                 after_revert=_dest_guest_gone,
                 # Its revert destroys what the destination has of the
                 # instance: the disks and ports the steps before made
                 # go with it (their reverts then find nothing).
                 bare_revert_changes=('host:' + DST,),
                 fault=lambda case: (DST, 'finish_migration')),
    harness.Step(id='MarkResized', make=resize.MarkResized,
                 setup=resized_up_to(resize.MarkResized),
                 check=_marked_resized, undone=harness.NO_REVERT,
                 # Documented: it finishes the migration before its CAS;
                 # under a lost claim the rollback (CreateMigration's
                 # revert) puts the migration in error.
                 claim_checked=False),
    harness.Step(id='ConfirmOnSource', make=resize.ConfirmOnSource,
                 setup=CONFIRMING, check=_source_destroyed,
                 undone=('allocations', 'host:' + DST),
                 after_revert=_status(states.MIGRATION_FINISHED),
                 fault=lambda case: (SRC, 'destroy')),
    harness.Step(id='FinishConfirm', make=resize.FinishConfirm,
                 setup=waiting_for(state_machine.CONFIRM_RESIZE,
                                   resize.ConfirmOnSource),
                 check=_confirmed, undone=harness.NO_REVERT),
    harness.Step(id='DestroyOnDestination',
                 make=resize.DestroyOnDestination, setup=REVERTING,
                 check=_dest_destroyed,
                 undone=('allocations', 'host:' + SRC),
                 after_revert=_status(states.MIGRATION_FINISHED),
                 fault=lambda case: (DST, 'destroy')),
    harness.Step(id='RestoreOnSource', make=resize.RestoreOnSource,
                 setup=waiting_for(state_machine.REVERT_RESIZE,
                                   resize.DestroyOnDestination),
                 check=_restored, undone=harness.NO_REVERT,
                 fault=lambda case: (SRC, 'finish_revert_migration')),
    harness.Step(id='FinishRevert', make=resize.FinishRevert,
                 setup=waiting_for(state_machine.REVERT_RESIZE,
                                   resize.DestroyOnDestination,
                                   resize.RestoreOnSource),
                 check=_reverted, undone=harness.NO_REVERT),
]

globals().update(harness.contract_tests(STEPS))


def test_migrate_disk_revert_leaves_a_preempted_guest_alone(env):
    case = resized_up_to(resize.MigrateDiskOnSource)(env)
    harness.execute(resize.MigrateDiskOnSource(), case)
    case.preempt()
    harness.revert(resize.MigrateDiskOnSource(), case, None)
    assert case.guest(SRC)['power_state'] == states.SHUTDOWN


def test_whole_resize_rolled_back_step_by_step_leaves_only_the_source(env):
    case = resizing()(env)
    before = env.snapshot(case)
    done = []
    for step in RESIZE_STEPS[:-1]:
        harness.execute(step(), case)
        done.append(step)
    for step in reversed(done):
        harness.revert(step(), case, None)
    after = env.snapshot(case)
    for section in HOSTS_AND_CLAIMS:
        assert after[section] == before[section], section
    assert case.migration()['status'] == states.MIGRATION_ERROR


def test_confirm_refuses_when_the_destination_has_no_guest(env):
    case = CONFIRMING(env)
    env.drivers[DST].emulate_guest_vanished(case.uuid)
    try:
        harness.execute(resize.ConfirmOnSource(), case)
    except harness.exception.GuestNotFound:
        pass
    else:
        raise AssertionError('confirmed with no guest on the destination')
    assert case.guest(SRC) is not None
