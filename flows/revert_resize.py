"""Revert a resize or cold migration: back to the source, old flavor.

Store in:  context, instance_uuid, task_id, action_id,
           params {'migration_uuid'}
Starts in: vm_state resized.
Final:     vm_state active (stopped if it was) on the source with the old
           flavor, in its old power state; the destination's guest and
           claim gone; the migration reverted.
On revert: vm_state resized kept with a fault and the migration waiting
           again (finished): asking for the revert again converges, every
           step being idempotent; a confirm refuses while the
           destination has no guest.
Resume:    forward; every step converges when re-run.
"""

from taskflow.patterns import linear_flow

from flows import base
from flows import keys
from flows.tasks import resize

FLOW_NAME = keys.REVERT_RESIZE_FLOW
RESUME_POLICY = keys.RESUME


class RevertResizeSentinel(base.FinishTaskOnRevert):
    """Sentinel. Revert: task_state cleared, vm_state unchanged, fault."""

    persisted_name = 'flows.revert_resize.RevertResizeSentinel'


def get_flow():
    return linear_flow.Flow(FLOW_NAME).add(
        RevertResizeSentinel(),
        resize.DestroyOnDestination(),
        resize.RestoreOnSource(),
        resize.FinishRevert())
