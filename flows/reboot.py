"""Reboot a server softly; hard if the soft reboot does not finish.

Store in:  context, instance_uuid, task_id, action_id
Starts in: vm_state active (the API's claim checked it).
Final:     vm_state active, the guest running.
On revert: vm_state unchanged, fault (a reboot is not undone).
Resume:    forward; rebooting again converges.
"""

from orchestrator import state_machine

from flows import keys
from flows.tasks import power

FLOW_NAME = keys.REBOOT_FLOW
RESUME_POLICY = keys.RESUME


def get_flow():
    return power.soft_reboot_flow(FLOW_NAME, state_machine.REBOOT_SOFT)
