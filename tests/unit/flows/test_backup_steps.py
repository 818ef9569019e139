"""flows/tasks/backup.py, step by step (harness.contract_tests): the
rotation of a server's backups once its new backup is active."""

import uuid

from orchestrator import state_machine
from orchestrator.db import catalog

from flows.tasks import backup
from tests.unit.api import conftest as api_fixtures
from tests.unit.flows import harness


def _backup_image(instance_uuid, backup_type, status='active',
                  owner=api_fixtures.PROJECT, image_type='backup'):
    return catalog.image_create(
        'backup-%s' % uuid.uuid4().hex[:6], status=status, owner=owner,
        properties={'image_type': image_type, 'backup_type': backup_type,
                    'instance_uuid': instance_uuid})['id']


def rotating(rotation, older=2):
    """A server with ``older`` daily backups, then the new one (active,
    as FinishSnapshot leaves it), and images rotation must not touch:
    a weekly backup, a snapshot, another server's daily backup, another
    project's image claiming to be its backup, and a daily backup still
    being made."""
    def setup(env):
        instance = env.new_instance()
        uuid_ = instance['uuid']
        olds = [_backup_image(uuid_, 'daily') for _ in range(older)]
        others = [
            _backup_image(uuid_, 'weekly'),
            _backup_image(uuid_, 'daily', image_type='snapshot'),
            _backup_image(str(uuid.uuid4()), 'daily'),
            _backup_image(uuid_, 'daily', owner='another-project'),
            _backup_image(uuid_, 'daily', status='saving')]
        new = _backup_image(uuid_, 'daily')
        case = env.claim(instance, state_machine.BACKUP, params={
            'image_id': new, 'backup_type': 'daily', 'rotation': rotation})
        # The task ended in FinishSnapshot before the rotation runs.
        harness.force_row(uuid_, task_state=None)
        case.images.extend([new] + olds + others)
        return case
    return setup


def _alive(case):
    return [image_id for image_id in case.images
            if harness._image_or_none(image_id) is not None]


def _kept(count, older=2):
    """New first, then the older backups newest first, then the five
    others: the rotation keeps the newest ``count`` backups of the type."""
    def check(env, case, result):
        new, olds, others = (case.images[0], case.images[1:1 + older],
                             case.images[1 + older:])
        backups = [new] + list(reversed(olds))
        assert sorted(_alive(case)) == sorted(backups[:count] + others)
        if result:  # a re-run deletes nothing more
            assert sorted(result) == sorted(backups[count:])
    return check


STEPS = [
    harness.Step(id='RotateBackups-keep-2', make=backup.RotateBackups,
                 setup=rotating(2), check=_kept(2), same_result=False,
                 undone=harness.NO_REVERT,
                 # It changes images, not the server: it runs after the
                 # task ended, with no claim to hold.
                 claim_checked=False),
    harness.Step(id='RotateBackups-keep-1', make=backup.RotateBackups,
                 setup=rotating(1), check=_kept(1), same_result=False,
                 undone=harness.NO_REVERT, claim_checked=False),
    harness.Step(id='RotateBackups-keep-0', make=backup.RotateBackups,
                 setup=rotating(0), check=_kept(0), same_result=False,
                 undone=harness.NO_REVERT, claim_checked=False),
    harness.Step(id='RotateBackups-keep-more-than-there-are',
                 make=backup.RotateBackups, setup=rotating(5),
                 check=_kept(5), same_result=False,
                 undone=harness.NO_REVERT, claim_checked=False),
]

globals().update(harness.contract_tests(STEPS))


def test_rotation_counts_the_new_backup_first_whatever_the_clock():
    new = {'id': 'z', 'status': 'active', 'properties': {
        'image_type': 'backup', 'backup_type': 't', 'instance_uuid': 'i'}}
    old = dict(new, id='a')
    # Listed newest first, but the clock put the new one after the old.
    assert backup.backups_to_rotate([old, new], 'i', 't', 1, 'z') == ['a']


def test_rotation_of_a_deleted_server_still_runs(env):
    case = rotating(1)(env)
    harness.force_row(case.uuid, deleted=1, vm_state='deleted')
    harness.execute(backup.RotateBackups(), case)
    _kept(1)(env, case, None)
