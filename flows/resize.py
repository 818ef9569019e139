"""Resize a server: move it to a host with room for a new flavor.

Store in:  context, instance_uuid, task_id, action_id,
           params {'migration_uuid', 'migration_type': 'resize',
                   'new_flavor' (flavor snapshot), 'requested_host'?}
Starts in: vm_state active or stopped (the API's claim checked it).
Final:     vm_state resized (VERIFY_RESIZE) on the destination with the
           new flavor; the source keeps its guest (off) and allocation;
           the migration finished. Confirm or revert ends it.
On revert: the destination's guest, disks, networks and claim removed,
           the source guest in use again as it was; vm_state unchanged,
           fault, migration error.
Resume:    forward; every host step converges when re-run.
"""

from taskflow.patterns import linear_flow

from flows import base
from flows import keys
from flows.tasks import resize

FLOW_NAME = keys.RESIZE_FLOW
RESUME_POLICY = keys.RESUME


class ResizeSentinel(base.FinishTaskOnRevert):
    """Sentinel. Revert: task_state cleared, vm_state unchanged, fault."""

    persisted_name = 'flows.resize.ResizeSentinel'


def build(flow_name):
    """The resize flow's steps (a cold migration is the same flow)."""
    return linear_flow.Flow(flow_name).add(
        ResizeSentinel(),
        resize.CreateMigration(),
        resize.ClaimDestination(),
        resize.PrepareDestination(),
        resize.MigrateDiskOnSource(),
        resize.FinishOnDestination(),
        resize.MarkResized())


def get_flow():
    return build(FLOW_NAME)
