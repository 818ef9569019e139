"""Reboot a server hard (its guest powered off and on at once).

Store in:  context, instance_uuid, task_id, action_id
Starts in: vm_state active, stopped, paused, suspended or error, also
           during a soft reboot (the API's claim checked it).
Final:     vm_state active, the guest running.
On revert: vm_state unchanged, fault.
Resume:    forward; rebooting again converges.
"""

from orchestrator import state_machine
from orchestrator import states

from flows import keys
from flows.tasks import power

FLOW_NAME = keys.REBOOT_HARD_FLOW
RESUME_POLICY = keys.RESUME


def get_flow():
    return power.power_flow(FLOW_NAME, 'reboot_hard',
                            state_machine.REBOOT_HARD, states.ACTIVE)
