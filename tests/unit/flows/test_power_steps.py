"""flows/tasks/power.py, step by step (see harness.contract_tests)."""

import pytest

from orchestrator import state_machine
from orchestrator import states

from flows.tasks import power
from tests.unit.flows import harness
from tests.unit.flows.harness import SRC

#: operation -> (action, vm_state before, guest power state after)
OPERATIONS = {
    'power_off': (state_machine.STOP, states.ACTIVE, states.SHUTDOWN),
    'power_on': (state_machine.START, states.STOPPED, states.RUNNING),
    'pause': (state_machine.PAUSE, states.ACTIVE, states.POWER_PAUSED),
    'unpause': (state_machine.UNPAUSE, states.PAUSED, states.RUNNING),
    'suspend': (state_machine.SUSPEND, states.ACTIVE,
                states.POWER_SUSPENDED),
    'resume': (state_machine.RESUME, states.SUSPENDED, states.RUNNING),
    'reboot': (state_machine.REBOOT_SOFT, states.ACTIVE, states.RUNNING),
    'reboot_hard': (state_machine.REBOOT_HARD, states.ACTIVE,
                    states.RUNNING),
}


def _change_power(operation):
    action, vm_state, after = OPERATIONS[operation]

    def check(env, case, result):
        assert result == after
        assert case.guest(SRC)['power_state'] == after
        assert case.row()['task_state'] is not None  # the last step's

    return harness.Step(
        id='ChangePowerOnHost-' + operation,
        make=lambda: power.ChangePowerOnHost(operation),
        setup=lambda env: env.case(action, vm_state),
        check=check,
        undone=(harness.NO_REVERT if power.INVERSE[operation] is None
                else harness.WORLD_SECTIONS),
        fault=lambda case: (SRC, operation))


def _finish_check(env, case, result):
    row = case.row()
    assert (row['vm_state'], row['task_state'], row['power_state']) == (
        states.STOPPED, None, states.SHUTDOWN)
    assert row['task_id'] == case.task_id


def _soft_reboot_check(env, case, result):
    assert result == states.RUNNING
    assert case.guest(SRC)['power_state'] == states.RUNNING
    assert case.row()['task_state'] == states.REBOOT_STARTED


def _sentinel_check(env, case, result):
    row = case.row()
    assert row['task_state'] is not None and row['task_id'] == case.task_id


def _sentinel_after_revert(env, case, before):
    row = case.row()
    assert row['task_state'] is None
    assert row['vm_state'] == before['instance']['vm_state']
    assert env.snapshot(case)['faults'] == before['faults'] + 1


STEPS = [_change_power(op) for op in OPERATIONS] + [
    harness.Step(
        id='FinishPowerAction',
        make=lambda: power.FinishPowerAction(state_machine.STOP,
                                             states.STOPPED),
        setup=lambda env: env.case(state_machine.STOP,
                                   power_state=states.SHUTDOWN),
        check=_finish_check, undone=harness.NO_REVERT),
    harness.Step(
        id='SoftRebootOrHard',
        make=power.SoftRebootOrHard,
        setup=lambda env: env.case(state_machine.REBOOT_SOFT),
        check=_soft_reboot_check, undone=harness.NO_REVERT,
        fault=lambda case: (SRC, ('reboot', 'reboot_hard'))),
    harness.Step(
        id='ClearTaskOnRevert',
        make=power.ClearTaskOnRevert,
        setup=lambda env: env.case(state_machine.STOP),
        check=_sentinel_check, after_revert=_sentinel_after_revert,
        bare_revert_changes=('instance', 'faults'),
        claim_checked=False),  # its execute does nothing
]

globals().update(harness.contract_tests(STEPS))


@pytest.mark.parametrize('operation', ['power_off', 'pause', 'suspend'])
def test_change_power_revert_leaves_a_preempted_guest_alone(env, operation):
    action, vm_state, after = OPERATIONS[operation]
    case = env.case(action, vm_state)
    result = harness.execute(power.ChangePowerOnHost(operation), case)
    case.preempt()
    harness.revert(power.ChangePowerOnHost(operation), case, result)
    assert case.guest(SRC)['power_state'] == after


def test_change_power_revert_of_a_vanished_guest_is_quiet(env):
    case = env.case(state_machine.STOP)
    result = harness.execute(power.ChangePowerOnHost('power_off'), case)
    env.drivers[SRC].emulate_guest_vanished(case.uuid)
    harness.revert(power.ChangePowerOnHost('power_off'), case, result)
    assert case.guest(SRC) is None


def test_soft_reboot_escalates_to_hard_when_the_soft_one_fails(env):
    case = env.case(state_machine.REBOOT_SOFT)
    calls = [env.calls(SRC, m) for m in ('reboot', 'reboot_hard')]
    env.inject(SRC, 'reboot', when='before')
    assert harness.execute(power.SoftRebootOrHard(), case) == states.RUNNING
    assert [env.calls(SRC, m) for m in ('reboot', 'reboot_hard')] == [
        calls[0] + 1, calls[1] + 1]
    assert case.row()['task_state'] == states.REBOOTING_HARD


def test_sentinel_writes_nothing_when_preempted(env):
    case = env.case(state_machine.STOP)
    case.preempt()
    before = env.snapshot(case)
    bad = harness.failure(harness.exception.Preempted(
        task_id=case.task_id, instance_uuid=case.uuid))
    harness.revert(power.ClearTaskOnRevert(), case, bad)
    assert env.snapshot(case) == before
