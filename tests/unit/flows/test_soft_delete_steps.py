"""flows/tasks/soft_delete.py, step by step (harness.contract_tests)."""

from orchestrator import state_machine
from orchestrator import states
from orchestrator.db import migration_records

from flows.tasks import resize
from flows.tasks import soft_delete
from tests.unit.flows import harness
from tests.unit.flows.harness import DST
from tests.unit.flows.harness import SRC


def soft_deleting(vm_state):
    return lambda env: env.case(state_machine.SOFT_DELETE, vm_state)


def _powered_off(before_state):
    def check(env, case, result):
        assert result == states.SHUTDOWN
        assert case.guest(SRC)['power_state'] == states.SHUTDOWN
        # What the revert puts back is remembered on the row.
        assert case.row()['power_state'] == before_state
    return check


def _powered_back(power_state):
    def check(env, case, before):
        assert case.guest(SRC)['power_state'] == power_state
    return check


def _soft_deleted(env, case, result):
    row = case.row()
    assert (row['vm_state'], row['task_state'], row['power_state']) == (
        states.SOFT_DELETED, None, states.SHUTDOWN)
    assert row['deleted_at'] is not None and not row['deleted']


def _restored(env, case, result):
    row = case.row()
    assert (row['vm_state'], row['task_state'], row['deleted_at'],
            row['power_state']) == (states.ACTIVE, None, None,
                                    states.RUNNING)


def in_soft_delete(env):
    case = env.case(state_machine.SOFT_DELETE,
                    power_state=states.SHUTDOWN)
    harness.execute(soft_delete.MarkSoftDeleted(), case)
    case = env.claim(case.row(), state_machine.RESTORE,
                     power_state=states.RUNNING)
    return case


def resized(env):
    """A server in VERIFY_RESIZE (resized to the destination), claimed
    by a soft delete."""
    from tests.unit.flows.test_resize_steps import resized as verify
    case = verify(env)
    return env.claim(case.row(), state_machine.SOFT_DELETE,
                     params=case.params)


def _confirmed(env, case, result):
    # A re-run finds the migration confirmed already: None.
    assert result in (case.params['migration_uuid'], None)
    assert case.migration()['status'] == states.MIGRATION_CONFIRMED
    assert case.guest(SRC) is None and case.guest(DST) is not None
    assert case.allocations() == [(case.uuid, env.host(DST))]
    assert case.row()['vm_state'] == states.ACTIVE


STEPS = [
    harness.Step(id='PowerOffForSoftDelete-active',
                 make=soft_delete.PowerOffForSoftDelete,
                 setup=soft_deleting(states.ACTIVE),
                 check=_powered_off(states.RUNNING),
                 after_revert=_powered_back(states.RUNNING),
                 fault=lambda case: (SRC, 'power_off')),
    harness.Step(id='PowerOffForSoftDelete-paused',
                 make=soft_delete.PowerOffForSoftDelete,
                 setup=soft_deleting(states.PAUSED),
                 check=_powered_off(states.POWER_PAUSED),
                 after_revert=_powered_back(states.POWER_PAUSED),
                 fault=lambda case: (SRC, 'power_off')),
    harness.Step(id='PowerOffForSoftDelete-stopped',
                 make=soft_delete.PowerOffForSoftDelete,
                 setup=soft_deleting(states.STOPPED),
                 check=_powered_off(states.SHUTDOWN),
                 after_revert=_powered_back(states.SHUTDOWN),
                 fault=lambda case: (SRC, 'power_off')),
    harness.Step(id='MarkSoftDeleted', make=soft_delete.MarkSoftDeleted,
                 setup=lambda env: env.case(state_machine.SOFT_DELETE,
                                            power_state=states.SHUTDOWN),
                 check=_soft_deleted, undone=harness.NO_REVERT,
                 # Documented: a re-run moves the reclaim clock.
                 rerun_moves=('deleted_at',)),
    harness.Step(id='MarkRestored', make=soft_delete.MarkRestored,
                 setup=in_soft_delete, check=_restored,
                 undone=harness.NO_REVERT),
    harness.Step(id='ConfirmPendingResize-nothing-waiting',
                 make=soft_delete.ConfirmPendingResize,
                 setup=soft_deleting(states.ACTIVE),
                 check=harness.returns(None),
                 undone=harness.NO_REVERT),
    harness.Step(id='ConfirmPendingResize-resized',
                 make=soft_delete.ConfirmPendingResize, setup=resized,
                 check=_confirmed, undone=harness.NO_REVERT,
                 # A re-run finds nothing waiting and provides None; no
                 # step reads 'confirmed_migration'.
                 same_result=False,
                 fault=lambda case: (SRC, 'destroy')),
]

globals().update(harness.contract_tests(STEPS))


def test_power_off_revert_leaves_a_preempted_guest_off(env):
    case = soft_deleting(states.ACTIVE)(env)
    result = harness.execute(soft_delete.PowerOffForSoftDelete(), case)
    case.preempt()
    harness.revert(soft_delete.PowerOffForSoftDelete(), case, result)
    assert case.guest(SRC)['power_state'] == states.SHUTDOWN


def test_power_off_rerun_then_revert_powers_the_guest_back(env):
    case = soft_deleting(states.ACTIVE)(env)
    harness.execute(soft_delete.PowerOffForSoftDelete(), case)
    result = harness.execute(soft_delete.PowerOffForSoftDelete(), case)
    harness.revert(soft_delete.PowerOffForSoftDelete(), case, result)
    assert case.guest(SRC)['power_state'] == states.RUNNING


def test_power_off_of_a_server_without_guest(env):
    case = env.case(state_machine.SOFT_DELETE, role=None, guest=False)
    assert harness.execute(soft_delete.PowerOffForSoftDelete(),
                           case) == states.NOSTATE


def test_confirm_pending_resize_revert_lets_a_confirming_one_wait(env):
    case = resized(env)
    migration = case.migration()
    migration_records.set_status(migration['uuid'],
                                 states.MIGRATION_CONFIRMING)
    harness.revert(soft_delete.ConfirmPendingResize(), case, None)
    assert case.migration()['status'] == states.MIGRATION_FINISHED
    assert resize.waiting_resize(case.uuid)['uuid'] == migration['uuid']
