"""flows/tasks/rebuild.py, step by step (harness.contract_tests).

A rebuild from the seeded Debian image of a server booted from CirrOS.
"""

import pytest

from orchestrator import state_machine
from orchestrator import states

from flows.tasks import rebuild
from tests.unit.flows import harness
from tests.unit.flows.harness import DEBIAN
from tests.unit.flows.harness import SRC

PARAMS = {'image_ref': DEBIAN, 'name': 'rebuilt'}

def rebuilding(vm_state):
    def setup(env):
        return env.case(state_machine.REBUILD, vm_state,
                        params=dict(PARAMS))
    return setup


def image_fetched(vm_state):
    def setup(env):
        return harness.run_steps(rebuilding(vm_state)(env),
                                 rebuild.FetchRebuildImage())
    return setup


def rebuilt(vm_state):
    def setup(env):
        return harness.run_steps(image_fetched(vm_state)(env),
                                 rebuild.RebuildOnHost())
    return setup


def _fetched(env, case, result):
    assert result['id'] == DEBIAN
    assert case.uuid in env.host_state(SRC)['image_cache'][DEBIAN]['users']


def _on_host(power_state):
    def check(env, case, result):
        assert result == power_state
        guest = case.guest(SRC)
        assert (guest['image_id'], guest['power_state']) == (DEBIAN,
                                                             power_state)
        assert case.row()['task_state'] == states.REBUILD_SPAWNING
    return check


def _finished(vm_state):
    def check(env, case, result):
        row = case.row()
        assert (row['image_ref'], row['vm_state'], row['task_state'],
                row['display_name']) == (DEBIAN, vm_state, None, 'rebuilt')
    return check


STEPS = [
    harness.Step(id='FetchRebuildImage', make=rebuild.FetchRebuildImage,
                 setup=rebuilding(states.ACTIVE), check=_fetched,
                 undone=harness.NO_REVERT,
                 fault=lambda case: (SRC, 'fetch_image')),
    harness.Step(id='RebuildOnHost-active', make=rebuild.RebuildOnHost,
                 setup=image_fetched(states.ACTIVE),
                 check=_on_host(states.RUNNING), undone=harness.NO_REVERT,
                 fault=lambda case: (SRC, 'rebuild')),
    harness.Step(id='RebuildOnHost-stopped', make=rebuild.RebuildOnHost,
                 setup=image_fetched(states.STOPPED),
                 check=_on_host(states.SHUTDOWN), undone=harness.NO_REVERT,
                 fault=lambda case: (SRC, 'power_off')),
    harness.Step(id='FinishRebuild-active', make=rebuild.FinishRebuild,
                 setup=rebuilt(states.ACTIVE),
                 check=_finished(states.ACTIVE), undone=harness.NO_REVERT),
    harness.Step(id='FinishRebuild-stopped', make=rebuild.FinishRebuild,
                 setup=rebuilt(states.STOPPED),
                 check=_finished(states.STOPPED), undone=harness.NO_REVERT),
    harness.Step(id='FinishRebuild-error', make=rebuild.FinishRebuild,
                 setup=rebuilt(states.ERROR),
                 check=_finished(states.ACTIVE), undone=harness.NO_REVERT),
]

globals().update(harness.contract_tests(STEPS))


def test_fetch_rebuild_image_of_a_server_without_host(env):
    case = env.case(state_machine.REBUILD, role=None, guest=False,
                    params=dict(PARAMS))
    with pytest.raises(harness.exception.GuestNotFound):
        harness.execute(rebuild.FetchRebuildImage(), case)


def test_rebuild_on_host_refuses_a_preempted_flow(env):
    case = image_fetched(states.ACTIVE)(env)
    case.preempt()
    with pytest.raises(harness.exception.Preempted):
        harness.execute(rebuild.RebuildOnHost(), case)
    assert case.guest(SRC)['image_id'] == harness.CIRROS
