"""Rebuild a server from a new image, keeping its host, networks and id.

Store in:  context, instance_uuid, task_id, action_id,
           params {'image_ref', 'name', 'key_name', 'user_data_sealed'
           (each optional; key_name None, or user_data None instead of
           the sealed one, removes it)}
Starts in: vm_state active, stopped or error (the API's claim checked it).
Final:     the guest runs the new image; vm_state active (stopped stays
           stopped, error becomes active); image_ref, name, key_name and
           user_data updated.
On revert: before the host re-images: vm_state unchanged with a fault.
           From the host step on (the old disk is gone): vm_state error
           with a fault.
Resume:    forward; re-imaging again converges.
"""

from taskflow.patterns import linear_flow

from flows import base
from flows import keys
from flows.tasks import rebuild

FLOW_NAME = keys.REBUILD_FLOW
RESUME_POLICY = keys.RESUME


class RebuildSentinel(base.FinishTaskOnRevert):
    """Sentinel. Revert: task_state cleared with a fault; vm_state error
    if the flow failed at or after the host's re-imaging."""

    persisted_name = 'flows.rebuild.RebuildSentinel'

    error_if_failed_in = frozenset(['RebuildOnHost', 'FinishRebuild'])


def get_flow():
    return linear_flow.Flow(FLOW_NAME).add(
        RebuildSentinel(),
        rebuild.FetchRebuildImage(),
        rebuild.RebuildOnHost(),
        rebuild.FinishRebuild())
