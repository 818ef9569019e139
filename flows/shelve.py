"""Shelve a server: power its guest off, save its disk as an image, and
(``params['offload']``, from ``[DEFAULT] shelved_offload_time`` 0) offload
it at once.

Store in:  context, instance_uuid, task_id, action_id,
           params {'image_id' (the queued image the API created),
           'offload' (bool)}
Starts in: vm_state active, stopped, paused or suspended.
Final:     the image active; vm_state shelved (guest off on its host,
           capacity held) or shelved_offloaded (no guest, no host, no
           capacity held); the image's id in system_metadata.
On revert: before the commit (FinishShelve): the image deleted, the
           host's snapshot gone, the guest powered back as its vm_state
           says, vm_state unchanged, fault. After it, when the
           guest's destroy failed: vm_state shelved (its guest still
           on its host), image kept, fault. Past the destroy nothing
           rolls back: FinishOffload is retried until it succeeds
           (OffloadRollForward); only a lost claim (force delete, reset,
           watchdog) stops it, leaving the instance to its new owner.
Resume:    revert before the point of no return (as a snapshot: taking
           it again is cheaper than finding how far a half-made copy
           got); from FinishShelve on, forward (the offload converges).
"""

from taskflow.patterns import linear_flow

from orchestrator import states

from flows import keys
from flows.tasks import power
from flows.tasks import shelve
from flows.tasks import snapshot

FLOW_NAME = keys.SHELVE_FLOW
RESUME_POLICY = keys.REVERT
#: Once this step started, a restart finishes the shelve.
POINT_OF_NO_RETURN = 'FinishShelve'


def get_flow():
    return linear_flow.Flow(FLOW_NAME).add(
        power.ClearTaskOnRevert(),
        shelve.DeleteShelvedImageOnRevert(),
        shelve.PowerOffForShelve(),
        snapshot.SnapshotOnHost(
            task_state=states.SHELVING_IMAGE_PENDING_UPLOAD),
        snapshot.UploadSnapshot(task_state=states.SHELVING_IMAGE_UPLOADING),
        shelve.FinishShelve(),
        shelve.DestroyForOffload(),
        shelve.offload_commit(FLOW_NAME))
