"""Snapshot a server into a new image (createImage).

Store in:  context, instance_uuid, task_id, action_id,
           params {'image_id'} (the queued image the API created)
Starts in: vm_state active, stopped, paused or suspended.
Final:     the image active with size and checksum; vm_state unchanged.
On revert: image deleted, host's snapshot gone, vm_state unchanged, fault.
Resume:    revert: a snapshot interrupted while it is taken or uploaded
           is rolled back (the image deleted, the server as it was, a
           fault saying so); taking it again is cheaper than finding out
           how far a half-made copy got, and the client sees the image
           fail rather than hang in saving. From the point of no return
           on (FinishSnapshot started: the upload is complete) it rolls
           forward: only the image's activation is left.
"""

from taskflow.patterns import linear_flow

from flows import keys
from flows.tasks import snapshot

FLOW_NAME = keys.SNAPSHOT_FLOW
RESUME_POLICY = keys.REVERT
#: Once this step started, a restart finishes the snapshot.
POINT_OF_NO_RETURN = 'FinishSnapshot'


def get_flow():
    return linear_flow.Flow(FLOW_NAME).add(*snapshot.snapshot_steps())
