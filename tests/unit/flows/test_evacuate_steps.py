"""flows/tasks/evacuate.py, step by step (harness.contract_tests): a
server on the spare host (its source) rebuilt on the destination asked
for, its migration record accepted by the API. Nothing is asked of the
source."""

import pytest

from orchestrator import state_machine
from orchestrator import states

from flows.tasks import evacuate
from tests.unit.flows import harness
from tests.unit.flows.harness import DST
from tests.unit.flows.harness import SPARE

EVACUATE_STEPS = (evacuate.ClaimEvacuationDestination,
                  evacuate.PrepareEvacuationDestination,
                  evacuate.FetchEvacuationImage,
                  evacuate.SpawnOnEvacuationDestination,
                  evacuate.FinishEvacuation)


def evacuating(env, vm_state=states.ACTIVE):
    case = env.case(state_machine.EVACUATE, vm_state, role=SPARE,
                    params={'host': env.host(DST)})
    return harness.add_migration(env, case, 'evacuation',
                                 states.MIGRATION_ACCEPTED, source=SPARE)


#: An evacuation whose steps before the one given ran.
up_to = harness.steps_before(evacuating, EVACUATE_STEPS)


def _claimed(env, case, result):
    assert result == env.host(DST)
    assert (case.params['migration_uuid'], env.host(DST)) in \
        case.allocations()
    migration = case.migration()
    assert (migration['status'], migration['dest_compute']) == (
        states.MIGRATION_PRE_MIGRATING, env.host(DST))


def _prepared(env, case, result):
    state = env.host_state(DST)
    assert state['networks'][case.uuid] == result
    assert case.uuid in state['block_devices']
    assert case.row()['task_state'] == states.REBUILD_BLOCK_DEVICE_MAPPING


def _fetched(env, case, result):
    assert result['id'] == harness.CIRROS
    assert case.uuid in env.host_state(DST)['image_cache'][
        harness.CIRROS]['users']


def _spawned(power_state):
    def check(env, case, result):
        assert result == case.guest(DST)['power_state'] == power_state
        assert case.row()['task_state'] == states.REBUILD_SPAWNING
    return check


def _dest_guest_gone(env, case, before):
    assert case.guest(DST) is None


def _committed(vm_state):
    def check(env, case, result):
        row = case.row()
        assert (row['host'], row['vm_state'], row['task_state']) == (
            env.host(DST), vm_state, None)
        assert case.allocations() == sorted([
            (case.uuid, env.host(DST)),
            (case.params['migration_uuid'], env.host(SPARE))])
        assert case.migration()['status'] == states.MIGRATION_DONE
    return check


HOSTS_AND_CLAIMS = ('allocations', 'images') + tuple(
    'host:' + r for r in harness.HOSTS)

STEPS = [
    harness.Step(id='ClaimEvacuationDestination',
                 make=evacuate.ClaimEvacuationDestination,
                 setup=evacuating, check=_claimed, undone=HOSTS_AND_CLAIMS),
    harness.Step(id='PrepareEvacuationDestination',
                 make=evacuate.PrepareEvacuationDestination,
                 setup=up_to(evacuate.PrepareEvacuationDestination),
                 check=_prepared,
                 fault=lambda case: (DST, 'prepare_block_devices')),
    harness.Step(id='FetchEvacuationImage',
                 make=evacuate.FetchEvacuationImage,
                 setup=up_to(evacuate.FetchEvacuationImage),
                 check=_fetched, undone=harness.NO_REVERT,
                 fault=lambda case: (DST, 'fetch_image')),
    harness.Step(id='SpawnOnEvacuationDestination-active',
                 make=evacuate.SpawnOnEvacuationDestination,
                 setup=up_to(evacuate.SpawnOnEvacuationDestination),
                 check=_spawned(states.RUNNING),
                 undone=('allocations', 'migrations', 'host:' + SPARE),
                 after_revert=_dest_guest_gone,
                 # Its revert destroys what the destination has of the
                 # instance, the disks and ports made before included.
                 bare_revert_changes=('host:' + DST,),
                 fault=lambda case: (DST, 'spawn')),
    harness.Step(id='SpawnOnEvacuationDestination-stopped',
                 make=evacuate.SpawnOnEvacuationDestination,
                 setup=up_to(evacuate.SpawnOnEvacuationDestination,
                             states.STOPPED),
                 check=_spawned(states.SHUTDOWN),
                 undone=('allocations', 'migrations', 'host:' + SPARE),
                 after_revert=_dest_guest_gone,
                 bare_revert_changes=('host:' + DST,),
                 fault=lambda case: (DST, 'power_off')),
    harness.Step(id='FinishEvacuation-active',
                 make=evacuate.FinishEvacuation,
                 setup=up_to(evacuate.FinishEvacuation),
                 check=_committed(states.ACTIVE), undone=harness.NO_REVERT),
    harness.Step(id='FinishEvacuation-error',
                 make=evacuate.FinishEvacuation,
                 setup=up_to(evacuate.FinishEvacuation, states.ERROR),
                 check=_committed(states.ACTIVE), undone=harness.NO_REVERT),
]

globals().update(harness.contract_tests(STEPS))


@pytest.mark.parametrize('step', EVACUATE_STEPS[:-1])
def test_reverts_after_the_commit_undo_nothing(env, step):
    case = harness.run_steps(evacuating(env),
                             *(s() for s in EVACUATE_STEPS))
    before = env.snapshot(case)
    harness.revert(step(), case, case.store.get('dest_host'))
    assert env.snapshot(case) == before


def test_finish_evacuation_rerun_after_another_task_took_over(env):
    case = harness.run_steps(evacuating(env),
                             *(s() for s in EVACUATE_STEPS))
    before = env.snapshot(case)
    case.preempt()
    harness.execute(evacuate.FinishEvacuation(), case)
    after = env.snapshot(case)
    assert after['allocations'] == before['allocations']
    assert after['migrations'] == before['migrations']
