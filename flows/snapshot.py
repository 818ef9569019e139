"""Snapshot a server into a new image (createImage).

Store in:  context, instance_uuid, task_id, action_id,
           params {'image_id'} (the queued image the API created)
Starts in: vm_state active, stopped, paused or suspended.
Final:     the image active with size and checksum; vm_state unchanged.
On revert: image deleted, host's snapshot gone, vm_state unchanged, fault.
Resume:    forward; every host step converges when re-run.
"""

from taskflow.patterns import linear_flow

from flows import keys
from flows.tasks import power
from flows.tasks import snapshot

FLOW_NAME = 'orchestrator-snapshot-server'
RESUME_POLICY = keys.RESUME


def get_flow():
    return linear_flow.Flow(FLOW_NAME).add(
        power.ClearTaskOnRevert(),
        snapshot.DeleteImageOnRevert(),
        snapshot.SnapshotOnHost(),
        snapshot.UploadSnapshot(),
        snapshot.FinishSnapshot())
