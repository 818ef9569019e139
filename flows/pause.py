"""Pause a running server: its guest keeps its memory, stops running.

Store in:  context, instance_uuid, task_id, action_id
Starts in: vm_state active (the API's claim checked it).
Final:     vm_state paused, power_state as the host reports it.
On revert: the guest put back as it was, vm_state unchanged, fault.
Resume:    forward; the host operation is idempotent.
"""

from orchestrator import state_machine
from orchestrator import states

from flows import keys
from flows.tasks import power

FLOW_NAME = keys.PAUSE_FLOW
RESUME_POLICY = keys.RESUME


def get_flow():
    return power.power_flow(FLOW_NAME, 'pause', state_machine.PAUSE,
                            states.PAUSED)
