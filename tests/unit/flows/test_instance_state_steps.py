"""flows/tasks/instance_state.py, step by step (harness.contract_tests)."""

from orchestrator import state_machine
from orchestrator import states

from flows.tasks import instance_state
from tests.unit.flows import harness


def booted(env):
    """A server whose guest runs; its build ends."""
    return env.case(state_machine.BOOT, states.BUILDING,
                    power_state=states.RUNNING)


def _active(env, case, result):
    row = case.row()
    assert (row['vm_state'], row['task_state'], row['power_state'],
            row['progress']) == (states.ACTIVE, None, states.RUNNING, 100)
    assert row['launched_at'] is not None
    assert row['task_id'] == case.task_id


def _deleted(env, case, result):
    row = case.row()
    assert row['deleted'] and row['vm_state'] == states.DELETED
    assert (row['task_state'], row['power_state']) == (None,
                                                       states.NOSTATE)


STEPS = [
    harness.Step(id='MarkActive', make=instance_state.MarkActive,
                 setup=booted, check=_active, undone=harness.NO_REVERT),
    harness.Step(id='MarkDeleted', make=instance_state.MarkDeleted,
                 setup=lambda env: env.case(state_machine.DELETE,
                                            guest=False),
                 check=_deleted, undone=harness.NO_REVERT),
]

globals().update(harness.contract_tests(STEPS))


def test_mark_active_keeps_the_first_launch_time(env):
    case = booted(env)
    harness.execute(instance_state.MarkActive(), case)
    launched = case.row()['launched_at']
    harness.execute(instance_state.MarkActive(), case)
    assert case.row()['launched_at'] == launched

