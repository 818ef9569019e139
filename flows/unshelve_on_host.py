"""Unshelve a server that was shelved but not offloaded: its guest is
still on its host, powered off.

Store in:  context, instance_uuid, task_id, action_id,
           params {'image_id' (the shelved image)}
Starts in: vm_state shelved.
Final:     vm_state active, the guest running; the shelved image
           deleted, system_metadata without the shelve.
On revert: the guest powered off again, vm_state shelved (image kept),
           task_state cleared, fault.
Resume:    forward; the host operation is idempotent.
"""

from taskflow.patterns import linear_flow

from orchestrator import state_machine

from flows import keys
from flows.tasks import power
from flows.tasks import shelve

FLOW_NAME = keys.UNSHELVE_ON_HOST_FLOW
RESUME_POLICY = keys.RESUME


def get_flow():
    return linear_flow.Flow(FLOW_NAME).add(
        power.ClearTaskOnRevert(),
        shelve.PowerOnForUnshelve(),
        shelve.FinishUnshelve(state_machine.UNSHELVE_ON_HOST))
