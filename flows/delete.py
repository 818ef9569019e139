"""Delete a server: destroy it on its host, release its resources.

Store in:  context, instance_uuid, task_id, action_id
Final:     vm_state deleted (row soft-deleted), no guest, no allocation.
On revert: vm_state error with a fault (a destroy that failed may have
           left the guest half gone); delete can be asked again.
Resume:    forward; destroy and release are idempotent.
"""

from taskflow.patterns import linear_flow

from orchestrator import states

from flows import base
from flows import keys
from flows.tasks import host_calls
from flows.tasks import instance_state
from flows.tasks import scheduling

FLOW_NAME = 'orchestrator-delete-server'
RESUME_POLICY = keys.RESUME


class DeleteToErrorOnRevert(base.FinishTaskOnRevert):
    """Sentinel. Revert: task_state cleared, vm_state error, fault."""

    revert_vm_state = states.ERROR


def get_flow():
    return linear_flow.Flow(FLOW_NAME).add(
        DeleteToErrorOnRevert(),
        host_calls.DestroyOnHost(),
        scheduling.ReleaseResources(),
        instance_state.MarkDeleted(),
    )
