"""flows/tasks/snapshot.py, step by step (harness.contract_tests).

The API made the image (queued) before the flow; its id is in params.
"""

from orchestrator import state_machine
from orchestrator import states
from orchestrator.db import catalog

from flows.tasks import snapshot
from tests.unit.flows import harness
from tests.unit.flows.harness import SRC


def snapshotting(env):
    image = catalog.image_create('snap')
    case = env.case(state_machine.SNAPSHOT,
                    params={'image_id': image['id']})
    case.images.append(image['id'])
    return case


def taken(env):
    return harness.run_steps(snapshotting(env), snapshot.SnapshotOnHost())


def uploaded(env):
    return harness.run_steps(taken(env), snapshot.UploadSnapshot())


def _host_snapshot(env, case):
    return env.host_state(SRC)['snapshots'].get(case.params['image_id'])


def _image(case):
    return catalog.image_get(case.params['image_id'])


def _nothing(env, case, result):
    assert result is None and _image(case)['status'] == 'saving'
    assert _host_snapshot(env, case) is not None


def _image_and_snapshot_gone(env, case, before):
    assert env.snapshot(case)['images'] == [None]
    assert _host_snapshot(env, case) is None


def _taken(env, case, result):
    assert _host_snapshot(env, case)['instance_uuid'] == case.uuid
    assert result == {'size': _host_snapshot(env, case)['size']}
    assert _image(case)['status'] == 'saving'
    assert case.row()['task_state'] == states.IMAGE_SNAPSHOT


def _uploaded(env, case, result):
    assert _host_snapshot(env, case)['uploaded'] == result
    assert case.row()['task_state'] == states.IMAGE_UPLOADING


def _finished(env, case, result):
    image = _image(case)
    assert (image['status'], image['checksum']) == (
        'active', case.store['upload']['checksum'])
    assert _host_snapshot(env, case) is None
    row = case.row()
    assert (row['task_state'], row['progress'], row['vm_state']) == (
        None, 100, states.ACTIVE)


STEPS = [
    harness.Step(id='DeleteImageOnRevert',
                 make=snapshot.DeleteImageOnRevert, setup=taken,
                 check=_nothing, undone=('allocations', 'migrations'),
                 after_revert=_image_and_snapshot_gone,
                 bare_revert_changes=('images', 'host:' + SRC),
                 claim_checked=False),  # its execute does nothing
    harness.Step(id='SnapshotOnHost', make=snapshot.SnapshotOnHost,
                 setup=snapshotting, check=_taken,
                 undone=harness.NO_REVERT,
                 fault=lambda case: (SRC, 'snapshot')),
    harness.Step(id='UploadSnapshot', make=snapshot.UploadSnapshot,
                 setup=taken, check=_uploaded, undone=harness.NO_REVERT,
                 fault=lambda case: (SRC, 'upload_snapshot')),
    harness.Step(id='FinishSnapshot', make=snapshot.FinishSnapshot,
                 setup=uploaded, check=_finished, undone=harness.NO_REVERT,
                 fault=lambda case: (SRC, 'delete_snapshot')),
]

globals().update(harness.contract_tests(STEPS))


def test_delete_image_on_revert_even_when_preempted(env):
    case = uploaded(env)
    case.preempt()
    harness.revert(snapshot.DeleteImageOnRevert(), case, None)
    _image_and_snapshot_gone(env, case, None)

