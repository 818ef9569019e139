"""Unpause a paused server.

Store in:  context, instance_uuid, task_id, action_id
Starts in: vm_state paused (the API's claim checked it).
Final:     vm_state active, power_state as the host reports it.
On revert: the guest put back as it was, vm_state unchanged, fault.
Resume:    forward; the host operation is idempotent.
"""

from orchestrator import state_machine
from orchestrator import states

from flows import keys
from flows.tasks import power

FLOW_NAME = keys.UNPAUSE_FLOW
RESUME_POLICY = keys.RESUME


def get_flow():
    return power.power_flow(FLOW_NAME, 'unpause', state_machine.UNPAUSE,
                            states.ACTIVE)
