"""flows/tasks/host_calls.py, step by step (see harness.contract_tests).

The boot's host steps run on an instance placed on the source host
(``selected_host``); the destroys on a live instance (delete) and on a
force-deleted one (cleanup).
"""

from orchestrator import state_machine
from orchestrator import states
from orchestrator.db import migration_records

from flows.tasks import host_calls
from tests.unit.flows import harness
from tests.unit.flows.harness import DST
from tests.unit.flows.harness import SRC


def booting(env):
    """A server being built, placed on the source host (no guest yet)."""
    return env.case(state_machine.BOOT, states.BUILDING, guest=False,
                    selected_host=env.host(SRC))


def booting_with_image(env):
    return harness.run_steps(booting(env), host_calls.PrepareNetworks(),
                             host_calls.PrepareBlockDevices(),
                             host_calls.FetchImage())


def _networks_check(env, case, result):
    info = env.host_state(SRC)['networks'][case.uuid]
    assert case.row()['networks'] == info
    assert case.row()['task_state'] == states.NETWORKING


def _disks_check(env, case, result):
    assert env.host_state(SRC)['block_devices'][case.uuid] == result
    assert case.row()['task_state'] == states.BLOCK_DEVICE_MAPPING


def _image_check(env, case, result):
    assert result['id'] == harness.CIRROS
    assert case.uuid in env.host_state(SRC)['image_cache'][
        harness.CIRROS]['users']
    assert case.row()['task_state'] == states.SPAWNING


def _spawn_check(env, case, result):
    assert result == states.RUNNING
    assert case.guest(SRC)['power_state'] == states.RUNNING


def _spawn_undone(env, case, before):
    # The guest and everything of it on the host is gone (the earlier
    # steps' reverts find nothing left to remove).
    state = env.snapshot(case)['host:' + SRC]
    assert (state['guest'], state['networks'], state['disks'],
            state['cache']) == (None, None, None, [])


def _destroyed(env, case, result):
    assert case.guest(SRC) is None
    assert env.snapshot(case)['host:' + SRC]['networks'] is None


def deleting(env):
    return env.case(state_machine.DELETE)


def force_deleted(env):
    case = env.case(state_machine.DELETE, host=None)
    case.store['host'] = env.host(SRC)
    harness.force_row(case.uuid, deleted=case.row()['id'],
                      vm_state=states.DELETED, task_id=None,
                      task_state=None)
    return case


STEPS = [
    harness.Step(
        id='PrepareNetworks', make=host_calls.PrepareNetworks,
        setup=booting, check=_networks_check,
        fault=lambda case: (SRC, 'prepare_networks')),
    harness.Step(
        id='PrepareBlockDevices', make=host_calls.PrepareBlockDevices,
        setup=booting, check=_disks_check,
        fault=lambda case: (SRC, 'prepare_block_devices')),
    harness.Step(
        id='FetchImage', make=host_calls.FetchImage,
        setup=booting, check=_image_check, undone=harness.NO_REVERT,
        fault=lambda case: (SRC, 'fetch_image')),
    harness.Step(
        id='SpawnOnHost', make=host_calls.SpawnOnHost,
        setup=booting_with_image, check=_spawn_check,
        undone=('allocations', 'migrations'), after_revert=_spawn_undone,
        # Its revert destroys whatever the host has of the instance,
        # whether or not it spawned: the disks and ports the steps before
        # made go with it (their own reverts then find nothing).
        bare_revert_changes=('host:' + SRC,),
        fault=lambda case: (SRC, 'spawn')),
    harness.Step(
        id='DestroyOnHost', make=host_calls.DestroyOnHost,
        setup=deleting, check=_destroyed, undone=harness.NO_REVERT,
        same_result=False, fault=lambda case: (SRC, 'destroy')),
    harness.Step(
        id='DestroyLeftovers', make=host_calls.DestroyLeftovers,
        setup=force_deleted, check=_destroyed, undone=harness.NO_REVERT,
        same_result=False, fault=lambda case: (SRC, 'destroy'),
        claim_checked=False),  # a cleanup after a force delete: no claim
]

globals().update(harness.contract_tests(STEPS))


def _with_guest_on_dst(env, case):
    """A resize waiting for its confirm: a guest on the destination too,
    named by the migration."""
    instance = case.row()
    payload = harness._payload(instance)
    migration = migration_records.create(
        case.uuid, 'resize', states.MIGRATION_FINISHED, env.host(SRC),
        dest_compute=env.host(DST))
    env.drivers[DST].spawn(payload, {'id': harness.CIRROS})
    assert case.guest(DST) is not None
    return migration


def test_destroy_on_host_destroys_on_every_host_a_migration_names(env):
    case = deleting(env)
    _with_guest_on_dst(env, case)
    assert harness.execute(host_calls.DestroyOnHost(), case) is True
    assert (case.guest(SRC), case.guest(DST)) == (None, None)


def test_destroy_leftovers_without_host_does_nothing(env):
    case = force_deleted(env)
    case.store['host'] = None
    before = env.snapshot(case)
    assert harness.execute(host_calls.DestroyLeftovers(), case) is False
    assert env.snapshot(case) == before




def test_prepare_networks_plugs_no_port_for_networks_none(env):
    """A server that asked for ``networks: "none"`` (2.37) gets no port
    and no address; re-run, it still has none."""
    case = env.case(state_machine.BOOT, states.BUILDING, guest=False,
                    selected_host=env.host(SRC),
                    instance_values={'networks': {'requested': 'none'}})
    for _run in range(2):
        harness.execute(host_calls.PrepareNetworks(), case)
        assert case.row()['networks'] == []
        assert case.uuid not in env.host_state(SRC)['networks']
    harness.run_steps(case, host_calls.PrepareBlockDevices(),
                      host_calls.FetchImage(), host_calls.SpawnOnHost())
    assert case.guest(SRC)['network_info'] is None


def test_prepare_networks_plugs_one_port_for_networks_auto(env):
    case = env.case(state_machine.BOOT, states.BUILDING, guest=False,
                    selected_host=env.host(SRC),
                    instance_values={'networks': {'requested': 'auto'}})
    harness.execute(host_calls.PrepareNetworks(), case)
    assert case.row()['networks']['ip_address']
