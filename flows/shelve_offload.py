"""Offload a shelved server (shelveOffload, or the periodic offload after
``[DEFAULT] shelved_offload_time``): destroy its guest, release its host.

Store in:  context, instance_uuid, task_id, action_id
Starts in: vm_state shelved.
Final:     vm_state shelved_offloaded: no guest, no host or node, no
           allocation; the shelved image kept (system_metadata); the
           server still counts in its project's quota.
On revert (the destroy failed): vm_state shelved, its guest still on
           its host, task_state cleared, fault. Past the destroy nothing
           rolls back: FinishOffload is retried until it succeeds
           (OffloadRollForward); only a lost claim stops it.
Resume:    forward; the destroy and the commit converge.
"""

from taskflow.patterns import linear_flow

from flows import keys
from flows.tasks import power
from flows.tasks import shelve

FLOW_NAME = keys.SHELVE_OFFLOAD_FLOW
RESUME_POLICY = keys.RESUME


def get_flow():
    return linear_flow.Flow(FLOW_NAME).add(
        power.ClearTaskOnRevert(),
        shelve.DestroyForOffload(),
        shelve.offload_commit(FLOW_NAME))
