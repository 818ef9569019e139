"""Steps of createImage: the guest's disk captured on its host, uploaded
into the image store, the new image made active.

The API creates the image (status queued) before the flow runs and hands
its id over in params; the flow owns it from then on: a rollback deletes
it and the host's local snapshot, even when the flow was preempted (the
image is this flow's, not the instance's new owner's).
"""

import logging

from orchestrator import states
from orchestrator.compute import rpcapi as compute_rpcapi
from orchestrator.db import catalog
from orchestrator.db import instances

from flows import base
from flows.tasks import power

LOG = logging.getLogger(__name__)


class DeleteImageOnRevert(base.InstanceTask):
    """No execute. Revert: the image is deleted, then the host forgets the
    snapshot (a host that refuses makes the rollback fail: the instance
    goes to error rather than hide a leftover; a host down or not
    answering leaves its local copy to reconciliation, noted in the
    fault). Re-run: deleting a deleted image or a forgotten snapshot is
    a no-op."""

    persisted_name = 'flows.tasks.snapshot.DeleteImageOnRevert'

    def execute(self, context, instance_uuid, task_id, params):
        pass

    def revert(self, context, instance_uuid, task_id, params, **kwargs):
        image_id = params['image_id']
        # The image first: whatever happens on the host, no client is
        # left with an image that will never become usable.
        if catalog.image_delete(image_id):
            LOG.info('Deleted image %s of a failed snapshot of %s',
                     image_id, instance_uuid)
        instance = instances.get(instance_uuid, read_deleted=True)
        if instance['host']:
            ctxt, host = self.context(context), instance['host']
            base.undo_on_host(host, lambda: base.compute_api()
                              .delete_snapshot(ctxt, host, image_id),
                              instance_uuid, task_id, 'delete_snapshot')


class SnapshotOnHost(base.InstanceTask):
    """Capture the guest's disk (task_state image_snapshot); the image
    goes to status saving. Checks the claim first. Re-run: a snapshot
    already taken is returned. Revert: see :class:`DeleteImageOnRevert`.
    """

    persisted_name = 'flows.tasks.snapshot.SnapshotOnHost'

    def __init__(self, task_state=states.IMAGE_SNAPSHOT, **kwargs):
        #: The task_state it shows (a shelve's is its own).
        self.task_state = task_state
        super().__init__(**kwargs)

    def execute(self, context, instance_uuid, task_id, params):
        instance = self.update_instance(
            instance_uuid, task_id, task_state=self.task_state,
            progress=0)
        taken = base.compute_api().snapshot(
            self.context(context), instance['host'],
            compute_rpcapi.instance_payload(instance), params['image_id'])
        catalog.image_update(params['image_id'], ('queued',),
                             status='saving')
        return taken


class UploadSnapshot(base.InstanceTask):
    """Upload the snapshot (task_state image_uploading, progress cast by
    the host). Checks the claim first. Re-run: a finished upload returns
    at once."""

    persisted_name = 'flows.tasks.snapshot.UploadSnapshot'

    default_provides = 'upload'

    def __init__(self, task_state=states.IMAGE_UPLOADING, **kwargs):
        #: The task_state it shows (a shelve's is its own).
        self.task_state = task_state
        super().__init__(**kwargs)

    def execute(self, context, instance_uuid, task_id, params):
        instance = self.update_instance(
            instance_uuid, task_id, task_state=self.task_state)
        return base.compute_api().upload_snapshot(
            self.context(context), instance['host'],
            compute_rpcapi.instance_payload(instance), params['image_id'])


class FinishSnapshot(base.InstanceTask):
    """The image becomes active with its size and checksum, the host
    drops its local copy, and the task ends (vm_state unchanged).

    Checks the claim first: a server deleted during the upload gets no
    image. Re-run: the image is already active (left as it is), dropping
    the local copy again is a no-op, the final write converges.
    """

    persisted_name = 'flows.tasks.snapshot.FinishSnapshot'

    def execute(self, context, instance_uuid, task_id, params, upload):
        instance = self.load_instance(instance_uuid, task_id)
        image_id = params['image_id']
        catalog.image_update(image_id, ('queued', 'saving'),
                             status='active', size=upload['size'],
                             checksum=upload['checksum'])
        base.compute_api().delete_snapshot(self.context(context),
                                           instance['host'], image_id)
        self.update_instance(instance_uuid, task_id, task_state=None,
                             progress=100)


def snapshot_steps():
    """A snapshot's steps, its sentinel first: createImage's whole flow,
    and createBackup's before its rotation."""
    return [power.ClearTaskOnRevert(), DeleteImageOnRevert(),
            SnapshotOnHost(), UploadSnapshot(), FinishSnapshot()]
