"""The sentinels, step by step (harness.contract_tests): each flow's first
task (flows.base.FinishTaskOnRevert and its subclasses in the flow
modules) does nothing on execute and, on revert (the last of a rollback),
ends the task honestly: task_state cleared, a fault, vm_state as the flow
says; the migration flows' sentinels end their migration first."""

import pytest

from orchestrator import exception
from orchestrator import state_machine
from orchestrator import states
from orchestrator.db import instances as db_instances

from flows import boot
from flows import confirm_resize
from flows import delete
from flows import evacuate
from flows import live_migrate
from flows import rebuild
from flows import resize
from flows import revert_resize
from flows import unrescue
from tests.unit.flows import harness
from tests.unit.flows.harness import DST


def claimed(action, vm_state=states.ACTIVE, migration=None):
    """An instance claimed for ``action``; ``migration`` (type, status)
    makes the record its flow works on."""
    def setup(env):
        case = env.case(action, vm_state)
        if migration is not None:
            harness.add_migration(env, case, *migration, dest=DST)
        return case
    return setup


def _untouched(env, case, result):
    row = case.row()
    assert result is None
    assert row['task_state'] is not None and row['task_id'] == case.task_id


def ended(vm_state=None, migration_status=None):
    """After the revert: task over with a fault, vm_state ``vm_state``
    (None: as before), the migration in ``migration_status``."""
    def check(env, case, before):
        row = case.row()
        assert row['task_state'] is None and row['task_id'] == case.task_id
        assert row['vm_state'] == (vm_state
                                   or before['instance']['vm_state'])
        assert env.snapshot(case)['faults'] == before['faults'] + 1
        if migration_status is not None:
            assert case.migration()['status'] == migration_status
    return check


def sentinel(cls, setup, after_revert, writes=('instance', 'faults')):
    return harness.Step(id=cls.__name__, make=cls, setup=setup,
                        check=_untouched, after_revert=after_revert,
                        undone=tuple(s for s in harness.WORLD_SECTIONS
                                     if s not in writes),
                        bare_revert_changes=writes,
                        claim_checked=False)  # its execute does nothing


WITH_MIGRATION = ('instance', 'faults', 'migrations')

STEPS = [
    sentinel(boot.BuildToErrorOnRevert,
             claimed(state_machine.BOOT, states.BUILDING),
             ended(states.ERROR)),
    sentinel(delete.DeleteToErrorOnRevert, claimed(state_machine.DELETE),
             ended(states.ERROR)),
    sentinel(rebuild.RebuildSentinel, claimed(state_machine.REBUILD),
             ended()),
    sentinel(unrescue.UnrescueSentinel,
             claimed(state_machine.UNRESCUE, states.RESCUED), ended()),
    sentinel(resize.ResizeSentinel, claimed(state_machine.RESIZE),
             ended()),
    sentinel(confirm_resize.ConfirmSentinel,
             claimed(state_machine.CONFIRM_RESIZE, states.RESIZED),
             ended()),
    sentinel(revert_resize.RevertResizeSentinel,
             claimed(state_machine.REVERT_RESIZE, states.RESIZED),
             ended()),
    sentinel(live_migrate.LiveMigrationSentinel,
             claimed(state_machine.LIVE_MIGRATE, migration=(
                 'live-migration', states.MIGRATION_RUNNING)),
             ended(migration_status=states.MIGRATION_FAILED),
             WITH_MIGRATION),
    sentinel(evacuate.EvacuateSentinel,
             claimed(state_machine.EVACUATE, migration=(
                 'evacuation', states.MIGRATION_PRE_MIGRATING)),
             ended(migration_status=states.MIGRATION_FAILED),
             WITH_MIGRATION),
]

globals().update(harness.contract_tests(STEPS))


def _flow_failed_in(case, step_name, exc=None):
    bad = harness.failure(exc)
    return bad, {'flows.tasks.%s' % step_name: bad}


@pytest.mark.parametrize('cls,action,vm_state,step,expected', [
    (rebuild.RebuildSentinel, state_machine.REBUILD, states.ACTIVE,
     'rebuild.RebuildOnHost', states.ERROR),
    (rebuild.RebuildSentinel, state_machine.REBUILD, states.ACTIVE,
     'rebuild.FetchRebuildImage', states.ACTIVE),
    (unrescue.UnrescueSentinel, state_machine.UNRESCUE, states.RESCUED,
     'power.FinishPowerAction', states.ERROR),
    (unrescue.UnrescueSentinel, state_machine.UNRESCUE, states.RESCUED,
     'rescue.UnrescueOnHost', states.RESCUED),
])
def test_error_if_failed_past_the_point_of_no_return(env, cls, action,
                                                      vm_state, step,
                                                      expected):
    case = claimed(action, vm_state)(env)
    bad, failures = _flow_failed_in(case, step)
    harness.revert(cls(), case, None, failures)
    assert case.row()['vm_state'] == expected


def test_build_fault_names_the_give_up_not_a_host_step(env):
    case = claimed(state_machine.BOOT, states.BUILDING)(env)
    spawn = harness.failure()
    give_up = harness.failure(exception.NoValidHost(reason='all failed'))
    harness.revert(boot.BuildToErrorOnRevert(), case, None, {
        'flows.tasks.host_calls.SpawnOnHost': spawn,
        'flows.tasks.scheduling.ScheduleInstance': give_up})
    assert 'all failed' in db_instances.latest_fault(case.uuid)['message']


def test_live_migration_sentinel_after_an_abort_cancels(env):
    case = claimed(state_machine.LIVE_MIGRATE, migration=(
        'live-migration', states.MIGRATION_RUNNING))(env)
    aborted = harness.failure(exception.MigrationAborted(
        migration_uuid=case.params['migration_uuid'],
        instance_uuid=case.uuid))
    harness.revert(live_migrate.LiveMigrationSentinel(), case, None,
                   {'flows.tasks.live_migrate.CommitToDestination':
                    aborted})
    assert case.migration()['status'] == states.MIGRATION_CANCELLED


def test_live_migration_sentinel_past_the_point_of_no_return_errors(env):
    case = claimed(state_machine.LIVE_MIGRATE, migration=(
        'live-migration', states.MIGRATION_POST_MIGRATING))(env)
    harness.revert(live_migrate.LiveMigrationSentinel(), case,
                   harness.failure())
    assert case.migration()['status'] == states.MIGRATION_ERROR


def test_evacuate_sentinel_after_the_commit_leaves_it_done(env):
    from tests.unit.flows.test_evacuate_steps import EVACUATE_STEPS
    from tests.unit.flows.test_evacuate_steps import evacuating
    case = evacuating(env)
    harness.run_steps(case, *(s() for s in EVACUATE_STEPS))
    allocations = case.allocations()
    harness.revert(evacuate.EvacuateSentinel(), case, harness.failure())
    assert case.migration()['status'] == states.MIGRATION_DONE
    assert case.allocations() == allocations


@pytest.mark.parametrize('step', STEPS, ids=[s.id for s in STEPS])
def test_preempted_flow_ends_nothing_of_the_new_owner(env, step):
    case = step.setup(env)
    case.preempt()
    before = env.snapshot(case)
    bad = harness.failure(exception.Preempted(task_id=case.task_id,
                                              instance_uuid=case.uuid))
    harness.revert(step.make(), case, bad)
    after = env.snapshot(case)
    assert (after['instance'], after['faults']) == (before['instance'],
                                                    before['faults'])
