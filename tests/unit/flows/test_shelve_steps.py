"""flows/tasks/shelve.py, step by step (harness.contract_tests).

A shelve's image is made by the API (queued) before the flow; its id is
in params, with ``offload``. An unshelve's params name the shelved image
(the instance's system_metadata too).
"""

from orchestrator import state_machine
from orchestrator import states
from orchestrator.db import allocations
from orchestrator.db import catalog

from flows.tasks import shelve
from flows.tasks import snapshot
from tests.unit.flows import harness
from tests.unit.flows.harness import DST
from tests.unit.flows.harness import SRC


def shelving(env, vm_state=states.ACTIVE, offload=False):
    image = catalog.image_create('vm-shelved')
    case = env.case(state_machine.SHELVE, vm_state=vm_state,
                    params={'image_id': image['id'], 'offload': offload})
    case.images.append(image['id'])
    return case


def powered_off(env, vm_state=states.ACTIVE, offload=False):
    return harness.run_steps(shelving(env, vm_state, offload),
                             shelve.PowerOffForShelve())


def uploaded(env, offload=False):
    return harness.run_steps(
        powered_off(env, offload=offload),
        snapshot.SnapshotOnHost(
            task_state=states.SHELVING_IMAGE_PENDING_UPLOAD),
        snapshot.UploadSnapshot(task_state=states.SHELVING_IMAGE_UPLOADING))


def committed(env, offload=True):
    return harness.run_steps(uploaded(env, offload), shelve.FinishShelve())


def destroyed(env):
    return harness.run_steps(committed(env), shelve.DestroyForOffload())


def shelved(env, action=state_machine.SHELVE_OFFLOAD, role=SRC,
            guest=True):
    """A shelved instance (offloaded when ``role`` is None) claimed for
    ``action``, its image active."""
    image = catalog.image_create('vm-shelved', status='active', size=1024)
    vm_state = states.SHELVED if role else states.SHELVED_OFFLOADED
    instance = env.new_instance(vm_state, role=role, guest=guest)
    harness.force_row(instance['uuid'], system_metadata={
        shelve.SHELVED_IMAGE_ID: image['id']})
    params = {}
    if action != state_machine.SHELVE_OFFLOAD:
        params['image_id'] = image['id']
    case = env.claim(instance, action, params)
    case.images.append(image['id'])
    return case


def unshelving_offloaded(env):
    case = shelved(env, state_machine.UNSHELVE, role=None)
    allocations.reinstate(case.uuid, case.uuid, env.host(DST),
                          {'vcpus': 1, 'memory_mb': 512, 'disk_gb': 1})
    harness.force_row(case.uuid, host=env.host(DST), node=env.host(DST))
    case.store['selected_host'] = env.host(DST)
    return case


def powered_on(env):
    case = shelved(env, state_machine.UNSHELVE_ON_HOST)
    return harness.run_steps(case, shelve.PowerOnForUnshelve())


def deleted_shelved(env):
    """An offloaded server claimed by its delete, past its host steps."""
    return shelved(env, state_machine.DELETE, role=None)


def _image(case):
    return harness._image_or_none(case.images[0])


def _host_snapshot(env, case):
    return env.host_state(SRC)['snapshots'].get(case.images[0])


# -- checks ------------------------------------------------------------------

def _nothing(env, case, result):
    assert result is None
    assert _image(case)['status'] == 'saving'


def _image_and_snapshot_gone(env, case, before):
    assert _image(case) is None and _host_snapshot(env, case) is None


def _off(env, case, result):
    assert result == states.SHUTDOWN
    assert case.guest(SRC)['power_state'] == states.SHUTDOWN
    assert case.row()['task_state'] == states.SHELVING


def _running_again(env, case, before):
    assert case.guest(SRC)['power_state'] == states.RUNNING


def _off_again(env, case, before):
    assert case.guest(SRC)['power_state'] == states.SHUTDOWN


#: What a power step's revert puts back besides the guest's power state.
_NOT_HOSTS = ('allocations', 'migrations', 'images')


def _shelved(env, case, result):
    row = case.row()
    assert (row['vm_state'], row['task_state'], row['power_state']) == (
        states.SHELVED, states.SHELVING_OFFLOADING, states.SHUTDOWN)
    assert row['system_metadata'][shelve.SHELVED_IMAGE_ID] == case.images[0]
    assert row['system_metadata'][shelve.SHELVED_HOST] == env.host(SRC)
    assert _image(case)['status'] == 'active'
    assert _host_snapshot(env, case) is None


def _guest_gone(env, case, result):
    assert case.guest(SRC) is None
    assert case.row()['task_state'] == states.SHELVING_OFFLOADING


def _offloaded(env, case, result):
    row = case.row()
    assert (row['vm_state'], row['task_state'], row['host'],
            row['node'], row['power_state']) == (
        states.SHELVED_OFFLOADED, None, None, None, states.NOSTATE)
    assert case.allocations() == []
    assert _image(case)['status'] == 'active'


def _fetched(env, case, result):
    assert result['id'] == case.images[0]
    assert case.images[0] in env.host_state(DST)['image_cache']
    assert case.row()['task_state'] == states.SPAWNING


def _on(env, case, result):
    assert result == states.RUNNING
    assert case.guest(SRC)['power_state'] == states.RUNNING


def _unshelved(env, case, result):
    row = case.row()
    assert (row['vm_state'], row['task_state'], row['power_state']) == (
        states.ACTIVE, None, states.RUNNING)
    assert row['system_metadata'] is None
    assert _image(case) is None


def _image_deleted(env, case, result):
    assert _image(case) is None


STEPS = [
    harness.Step(id='DeleteShelvedImageOnRevert',
                 make=shelve.DeleteShelvedImageOnRevert, setup=uploaded,
                 check=_nothing, undone=('allocations', 'migrations'),
                 after_revert=_image_and_snapshot_gone,
                 bare_revert_changes=('images', 'host:' + SRC),
                 claim_checked=False),  # its execute does nothing
    # The hosts' sections are left out of ``undone``: a guest's console
    # log keeps the lines of a power-off and of its undo (a history);
    # after_revert checks the power state.
    harness.Step(id='PowerOffForShelve', make=shelve.PowerOffForShelve,
                 setup=shelving, check=_off, after_revert=_running_again,
                 undone=_NOT_HOSTS,
                 fault=lambda case: (SRC, 'power_off')),
    harness.Step(id='FinishShelve', make=shelve.FinishShelve,
                 setup=lambda env: uploaded(env, offload=True),
                 check=_shelved, undone=harness.NO_REVERT,
                 fault=lambda case: (SRC, 'delete_snapshot')),
    harness.Step(id='DestroyForOffload', make=shelve.DestroyForOffload,
                 setup=committed, check=_guest_gone,
                 undone=harness.NO_REVERT, same_result=True,
                 fault=lambda case: (SRC, 'destroy')),
    harness.Step(id='OffloadRollForward', make=shelve.OffloadRollForward,
                 setup=destroyed, check=harness.returns(1),
                 undone=harness.NO_REVERT,
                 claim_checked=False),  # counts attempts, reads nothing
    harness.Step(id='FinishOffload', make=shelve.FinishOffload,
                 setup=destroyed, check=_offloaded,
                 undone=harness.NO_REVERT),
    harness.Step(id='FetchShelvedImage', make=shelve.FetchShelvedImage,
                 setup=unshelving_offloaded, check=_fetched,
                 undone=harness.NO_REVERT,
                 fault=lambda case: (DST, 'fetch_image')),
    harness.Step(id='PowerOnForUnshelve', make=shelve.PowerOnForUnshelve,
                 setup=lambda env: shelved(
                     env, state_machine.UNSHELVE_ON_HOST),
                 check=_on, after_revert=_off_again, undone=_NOT_HOSTS,
                 fault=lambda case: (SRC, 'power_on')),
    harness.Step(id='FinishUnshelve',
                 make=lambda: shelve.FinishUnshelve(
                     state_machine.UNSHELVE_ON_HOST),
                 setup=powered_on, check=_unshelved,
                 undone=harness.NO_REVERT),
    harness.Step(id='DeleteShelvedImage', make=shelve.DeleteShelvedImage,
                 setup=deleted_shelved, check=_image_deleted,
                 undone=harness.NO_REVERT, claim_checked=False),
]

globals().update(harness.contract_tests(STEPS))


def test_a_committed_shelve_keeps_its_image_on_revert(env):
    case = committed(env)
    harness.revert(shelve.DeleteShelvedImageOnRevert(), case,
                   harness.failure())
    assert _image(case)['status'] == 'active'


def test_power_off_revert_puts_a_paused_guest_back_paused(env):
    case = powered_off(env, states.PAUSED)
    harness.revert(shelve.PowerOffForShelve(), case, harness.failure())
    assert case.guest(SRC)['power_state'] == states.POWER_PAUSED


def test_power_off_revert_leaves_a_stopped_guest_off(env):
    case = powered_off(env, states.STOPPED)
    harness.revert(shelve.PowerOffForShelve(), case, harness.failure())
    assert case.guest(SRC)['power_state'] == states.SHUTDOWN


def test_a_shelve_not_asked_to_offload_ends_shelved(env):
    case = harness.run_steps(committed(env, offload=False),
                             shelve.DestroyForOffload(),
                             shelve.FinishOffload())
    row = case.row()
    assert (row['vm_state'], row['task_state'], row['host']) == (
        states.SHELVED, None, env.host(SRC))
    assert case.guest(SRC)['power_state'] == states.SHUTDOWN
    assert case.allocations() == [(case.uuid, env.host(SRC))]


def test_finish_offload_rerun_after_commit_releases_even_when_reclaimed(
        env):
    case = destroyed(env)
    harness.execute(shelve.FinishOffload(), case)
    allocations.reinstate(case.uuid, case.uuid, env.host(SRC),
                          {'vcpus': 1, 'memory_mb': 512, 'disk_gb': 1})
    case.preempt()
    harness.execute(shelve.FinishOffload(), case)
    assert case.allocations() == []


def test_offloaded_unshelve_finishes_active_on_its_new_host(env):
    case = harness.run_steps(unshelving_offloaded(env),
                             shelve.FetchShelvedImage())
    case.store['power_state'] = states.RUNNING
    harness.execute(shelve.FinishUnshelve(state_machine.UNSHELVE), case)
    row = case.row()
    assert (row['vm_state'], row['host']) == (states.ACTIVE, env.host(DST))
    assert _image(case) is None

