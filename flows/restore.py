"""Restore a soft-deleted server: power its guest on again.

Store in:  context, instance_uuid, task_id, action_id
Starts in: vm_state soft-deleted (the API's claim checked it).
Final:     vm_state active, deleted_at cleared, the guest running.
On revert: the guest powered off again, vm_state unchanged, fault.
Resume:    forward; powering on again converges.
"""

from taskflow.patterns import linear_flow

from flows import keys
from flows.tasks import power
from flows.tasks import soft_delete

FLOW_NAME = keys.RESTORE_FLOW
RESUME_POLICY = keys.RESUME


def get_flow():
    return linear_flow.Flow(FLOW_NAME).add(
        power.ClearTaskOnRevert(),
        power.ChangePowerOnHost('power_on'),
        soft_delete.MarkRestored())
