"""Confirm a resize or cold migration: the source's guest and claim go.

Store in:  context, instance_uuid, task_id, action_id,
           params {'migration_uuid'}
Starts in: vm_state resized (the API's claim, or the auto-confirm
           periodic's, checked it).
Final:     vm_state active (stopped if its guest is off) on the
           destination; one allocation, the new flavor's; the migration
           confirmed.
On revert: vm_state resized kept, fault (confirming again is possible:
           every step converges).
Resume:    forward.
"""

from taskflow.patterns import linear_flow

from flows import base
from flows import keys
from flows.tasks import resize

FLOW_NAME = keys.CONFIRM_RESIZE_FLOW
RESUME_POLICY = keys.RESUME


class ConfirmSentinel(base.FinishTaskOnRevert):
    """Sentinel. Revert: task_state cleared, vm_state unchanged, fault."""

    persisted_name = 'flows.confirm_resize.ConfirmSentinel'


def get_flow():
    return linear_flow.Flow(FLOW_NAME).add(
        ConfirmSentinel(),
        resize.ConfirmOnSource(),
        resize.FinishConfirm())
