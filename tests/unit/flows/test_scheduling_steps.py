"""flows/tasks/scheduling.py, step by step (harness.contract_tests).

ScheduleInstance is the boot's retry controller: it is given the history
of the attempts before (empty for the first).
"""

import pytest
from taskflow import retry

from orchestrator import exception
from orchestrator import state_machine
from orchestrator import states

from flows import keys
from flows.tasks import scheduling
from tests.unit.flows import harness
from tests.unit.flows.harness import SRC


def unplaced(env, params=None):
    """A server being built, on no host yet."""
    return env.case(state_machine.BOOT, states.BUILDING, role=None,
                    guest=False, params=params)


def _placed(env, case, result):
    host = result[keys.SELECTED_HOST]
    assert host in env.names.values() and result[scheduling.ATTEMPT] == 1
    assert host not in result[scheduling.ALTERNATES]
    assert case.row()['host'] == host
    assert case.allocations() == [(case.uuid, host)]


def _unplaced_again(env, case, before):
    assert case.row()['host'] is None


def _released(env, case, result):
    assert case.allocations() == []


def deleted_with_allocation(env):
    case = env.case(state_machine.DELETE)
    harness.force_row(case.uuid, deleted=case.row()['id'],
                      vm_state=states.DELETED)
    return case


STEPS = [
    harness.Step(id='ScheduleInstance', make=scheduling.ScheduleInstance,
                 setup=unplaced, check=_placed,
                 after_revert=_unplaced_again,
                 # Its revert clears the instance's host (none yet).
                 bare_revert_changes=('instance',)),
    harness.Step(id='ReleaseResources', make=scheduling.ReleaseResources,
                 setup=lambda env: env.case(state_machine.DELETE),
                 check=_released),
    harness.Step(id='ReleaseResourcesOfDeleted',
                 make=scheduling.ReleaseResourcesOfDeleted,
                 setup=deleted_with_allocation, check=_released,
                 undone=harness.NO_REVERT,
                 claim_checked=False),  # after a force delete: no claim
]

globals().update(harness.contract_tests(STEPS))


def _failed_attempt(case, result):
    """The history after the host steps failed on the attempt that
    ``result`` describes."""
    return retry.History([(result, {'flows.tasks.host_calls.SpawnOnHost':
                                    harness.failure()})])


def test_second_attempt_moves_the_claim_to_an_alternate(env):
    case = unplaced(env)
    first = harness.execute(scheduling.ScheduleInstance(), case)
    assert first[scheduling.ALTERNATES]
    case.store[harness.HISTORY] = _failed_attempt(case, first)
    second = harness.execute(scheduling.ScheduleInstance(), case)
    host = second[keys.SELECTED_HOST]
    assert host == first[scheduling.ALTERNATES][0]
    assert second[scheduling.ATTEMPT] == 2
    assert case.allocations() == [(case.uuid, host)]
    row = case.row()
    assert (row['host'], row['task_state']) == (host, states.SCHEDULING)
    # Re-run of the second attempt: the same claim, nothing more.
    again = harness.execute(scheduling.ScheduleInstance(), case)
    assert again[keys.SELECTED_HOST] == host
    assert case.allocations() == [(case.uuid, host)]


def test_gives_up_after_max_attempts(env):
    env.conf.set_override('max_attempts', 1, group='scheduler')
    try:
        case = unplaced(env)
        first = harness.execute(scheduling.ScheduleInstance(), case)
        case.store[harness.HISTORY] = _failed_attempt(case, first)
        with pytest.raises(exception.NoValidHost):
            harness.execute(scheduling.ScheduleInstance(), case)
        assert case.allocations() == []
    finally:
        env.conf.clear_override('max_attempts', group='scheduler')


def test_requested_host_is_the_only_choice(env):
    case = unplaced(env, params={'requested_host': env.host(SRC)})
    result = harness.execute(scheduling.ScheduleInstance(), case)
    assert result[keys.SELECTED_HOST] == env.host(SRC)
    assert result[scheduling.ALTERNATES] == []


def test_release_resources_revert_gives_nothing_to_another_owner(env):
    case = env.case(state_machine.DELETE)
    harness.execute(scheduling.ReleaseResources(), case)
    case.preempt()
    harness.revert(scheduling.ReleaseResources(), case, None)
    assert case.allocations() == []


def test_release_resources_of_a_live_instance_is_refused(env):
    case = env.case(state_machine.DELETE)
    with pytest.raises(exception.Conflict):
        harness.execute(scheduling.ReleaseResourcesOfDeleted(), case)
    assert case.allocations() == [(case.uuid, env.host(SRC))]
