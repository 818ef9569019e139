"""Soft delete a server: power its guest off and keep everything.

Store in:  context, instance_uuid, task_id, action_id
Starts in: any vm_state of the softDelete action (the API's claim checked
           it; DELETE is a soft delete when reclaim is on).
Final:     vm_state soft-deleted, deleted_at set, guest powered off,
           resources still claimed (a restore needs them); a server that
           was in VERIFY_RESIZE has its resize confirmed first (only the
           destination's guest and allocation are kept).
On revert: the guest's power state put back, vm_state unchanged (active
           or stopped once a pending resize was confirmed), fault.
Resume:    forward; powering off again converges.
"""

from taskflow.patterns import linear_flow

from flows import keys
from flows.tasks import power
from flows.tasks import soft_delete

FLOW_NAME = keys.SOFT_DELETE_FLOW
RESUME_POLICY = keys.RESUME


def get_flow():
    return linear_flow.Flow(FLOW_NAME).add(
        power.ClearTaskOnRevert(),
        soft_delete.ConfirmPendingResize(),
        soft_delete.PowerOffForSoftDelete(),
        soft_delete.MarkSoftDeleted())
