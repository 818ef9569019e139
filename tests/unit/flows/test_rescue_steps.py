"""flows/tasks/rescue.py, step by step (harness.contract_tests)."""

import hashlib

import pytest

from orchestrator import secret_box
from orchestrator import state_machine
from orchestrator import states

from flows import keys
from flows.tasks import rescue
from tests.unit.flows import harness
from tests.unit.flows.harness import DEBIAN
from tests.unit.flows.harness import SRC

PASSWORD = 'rescue-me'


def rescuing(vm_state, rescue_image=DEBIAN):
    def setup(env):
        params = {keys.SEALED_ADMIN_PASSWORD: secret_box.seal(PASSWORD)}
        if rescue_image:
            params['rescue_image_ref'] = rescue_image
        return env.case(state_machine.RESCUE, vm_state, params=params)
    return setup


def image_fetched(vm_state):
    def setup(env):
        return harness.run_steps(rescuing(vm_state)(env),
                                 rescue.FetchRescueImage())
    return setup


def rescued(env):
    case = image_fetched(states.ACTIVE)(env)
    harness.execute(rescue.RescueOnHost(), case)
    harness.force_row(case.uuid, vm_state=states.RESCUED)
    return env.claim(case.row(), state_machine.UNRESCUE)


def _fetched(image_id):
    def check(env, case, result):
        assert result['id'] == image_id
        assert case.uuid in env.host_state(SRC)['image_cache'][image_id][
            'users']
    return check


def _in_rescue(env, case, result):
    assert result == states.RUNNING
    assert case.guest(SRC)['rescue'] == {
        'image_id': DEBIAN,
        'password_sha256': hashlib.sha256(PASSWORD.encode()).hexdigest()}


def _out_of_rescue(power_state):
    def check(env, case, before):
        guest = case.guest(SRC)
        assert guest.get('rescue') is None
        assert guest['power_state'] == power_state
    return check


STEPS = [
    harness.Step(id='FetchRescueImage', make=rescue.FetchRescueImage,
                 setup=rescuing(states.ACTIVE), check=_fetched(DEBIAN),
                 undone=harness.NO_REVERT,
                 fault=lambda case: (SRC, 'fetch_image')),
    harness.Step(id='FetchRescueImage-own-image',
                 make=rescue.FetchRescueImage,
                 setup=rescuing(states.ACTIVE, rescue_image=None),
                 check=_fetched(harness.CIRROS), undone=harness.NO_REVERT),
    harness.Step(id='RescueOnHost-active', make=rescue.RescueOnHost,
                 setup=image_fetched(states.ACTIVE), check=_in_rescue,
                 after_revert=_out_of_rescue(states.RUNNING),
                 fault=lambda case: (SRC, 'rescue')),
    harness.Step(id='RescueOnHost-stopped', make=rescue.RescueOnHost,
                 setup=image_fetched(states.STOPPED), check=_in_rescue,
                 after_revert=_out_of_rescue(states.SHUTDOWN),
                 fault=lambda case: (SRC, 'rescue')),
    harness.Step(id='UnrescueOnHost', make=rescue.UnrescueOnHost,
                 setup=rescued,
                 check=lambda env, case, result: _out_of_rescue(
                     states.RUNNING)(env, case, None),
                 undone=harness.NO_REVERT,
                 fault=lambda case: (SRC, 'unrescue')),
]

globals().update(harness.contract_tests(STEPS))


def test_rescue_revert_leaves_a_preempted_guest_in_rescue(env):
    case = image_fetched(states.ACTIVE)(env)
    result = harness.execute(rescue.RescueOnHost(), case)
    case.preempt()
    harness.revert(rescue.RescueOnHost(), case, result)
    assert case.guest(SRC)['rescue'] is not None


def test_rescue_password_is_opened_from_its_sealed_form_only():
    assert rescue.rescue_password({}) is None
    assert rescue.rescue_password({'admin_password': 'x'}) == 'x'


def test_fetch_rescue_image_of_a_server_without_host(env):
    case = env.case(state_machine.RESCUE, role=None, guest=False)
    with pytest.raises(harness.exception.GuestNotFound):
        harness.execute(rescue.FetchRescueImage(), case)
