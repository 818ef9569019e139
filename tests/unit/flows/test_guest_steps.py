"""flows/tasks/guest.py, step by step (harness.contract_tests):
changePassword's and trigger_crash_dump's host calls and final write."""

import hashlib

import pytest

from orchestrator import exception
from orchestrator import secret_box
from orchestrator import state_machine
from orchestrator import states

from flows import keys
from flows.tasks import guest
from tests.unit.flows import harness
from tests.unit.flows.harness import SRC

PASSWORD = 'n3w-Passw0rd'


def changing_password(vm_state=states.ACTIVE):
    def setup(env):
        return env.case(state_machine.CHANGE_PASSWORD, vm_state, params={
            keys.SEALED_ADMIN_PASSWORD: secret_box.seal(PASSWORD)})
    return setup


def dumping(vm_state=states.ACTIVE):
    def setup(env):
        return env.case(state_machine.TRIGGER_CRASH_DUMP, vm_state)
    return setup


def _password_set(env, case, result):
    assert result == states.RUNNING
    found = case.guest(SRC)
    assert found['admin_password_sha256'] == hashlib.sha256(
        PASSWORD.encode()).hexdigest()
    assert found['password_changes'] == 1
    # The host keeps no clear copy.
    assert PASSWORD not in str(env.host_state(SRC))


def _dumped(power_state):
    def check(env, case, result):
        assert result == power_state
        found = case.guest(SRC)
        assert (found['crash_dumps'], found['last_crash_dump']) == (
            1, case.task_id)
        panics = [line for line in found['console']
                  if 'Kernel panic - not syncing: NMI' in line]
        assert len(panics) == 1
    return check


def _finished(env, case, result):
    row = case.row()
    assert (row['vm_state'], row['task_state'], row['power_state']) == (
        states.ACTIVE, None, states.RUNNING)


STEPS = [
    harness.Step(id='SetAdminPasswordOnHost',
                 make=guest.SetAdminPasswordOnHost,
                 setup=changing_password(), check=_password_set,
                 undone=harness.NO_REVERT,
                 fault=lambda case: (SRC, 'set_admin_password')),
    harness.Step(id='TriggerCrashDumpOnHost-active',
                 make=guest.TriggerCrashDumpOnHost, setup=dumping(),
                 check=_dumped(states.RUNNING), undone=harness.NO_REVERT,
                 fault=lambda case: (SRC, 'trigger_crash_dump')),
    harness.Step(id='TriggerCrashDumpOnHost-paused',
                 make=guest.TriggerCrashDumpOnHost,
                 setup=dumping(states.PAUSED),
                 check=_dumped(states.POWER_PAUSED),
                 undone=harness.NO_REVERT,
                 fault=lambda case: (SRC, 'trigger_crash_dump')),
    harness.Step(id='FinishGuestAction',
                 make=lambda: guest.FinishGuestAction(
                     state_machine.CHANGE_PASSWORD),
                 setup=lambda env: env.case(state_machine.CHANGE_PASSWORD,
                                            power_state=states.RUNNING),
                 check=_finished, undone=harness.NO_REVERT),
]

globals().update(harness.contract_tests(STEPS))


def test_password_of_a_guest_that_does_not_run_is_refused(env):
    case = changing_password()(env)
    env.drivers[SRC].set_power_state(
        {'uuid': case.uuid}, 'power_off')
    with pytest.raises(exception.GuestNotRunning):
        harness.execute(guest.SetAdminPasswordOnHost(), case)
    assert case.guest(SRC).get('admin_password_sha256') is None


def test_crash_dump_of_a_stopped_guest_is_refused(env):
    case = dumping(states.ERROR)(env)
    env.drivers[SRC].set_power_state({'uuid': case.uuid}, 'power_off')
    with pytest.raises(exception.GuestNotRunning):
        harness.execute(guest.TriggerCrashDumpOnHost(), case)
    assert case.guest(SRC).get('crash_dumps') is None


def test_a_second_crash_dump_request_injects_a_second_nmi(env):
    case = dumping()(env)
    harness.execute(guest.TriggerCrashDumpOnHost(), case)
    again = env.claim(case.row(), state_machine.TRIGGER_CRASH_DUMP)
    harness.execute(guest.TriggerCrashDumpOnHost(), again)
    assert case.guest(SRC)['crash_dumps'] == 2


def test_host_calls_of_a_server_without_host(env):
    for action, step in ((state_machine.CHANGE_PASSWORD,
                          guest.SetAdminPasswordOnHost()),
                         (state_machine.TRIGGER_CRASH_DUMP,
                          guest.TriggerCrashDumpOnHost())):
        case = env.case(action, role=None, guest=False, params={
            keys.SEALED_ADMIN_PASSWORD: secret_box.seal(PASSWORD)})
        with pytest.raises(exception.GuestNotFound):
            harness.execute(step, case)
