"""Unrescue a server: its guest boots from its own disk again.

Store in:  context, instance_uuid, task_id, action_id
Starts in: vm_state rescued (the API's claim checked it).
Final:     vm_state active, the guest running.
On revert: vm_state unchanged, fault.
Resume:    forward; unrescuing again converges.
"""

from taskflow.patterns import linear_flow

from orchestrator import state_machine
from orchestrator import states

from flows import keys
from flows.tasks import power
from flows.tasks import rescue

FLOW_NAME = 'orchestrator-unrescue-server'
RESUME_POLICY = keys.RESUME


def get_flow():
    return linear_flow.Flow(FLOW_NAME).add(
        power.ClearTaskOnRevert(),
        rescue.UnrescueOnHost(),
        power.FinishPowerAction(state_machine.UNRESCUE, states.ACTIVE))
