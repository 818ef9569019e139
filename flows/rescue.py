"""Rescue a server: boot its guest from a rescue image, its disk attached.

Store in:  context, instance_uuid, task_id, action_id,
           params {'admin_password_sealed' (the password sealed,
           :mod:`orchestrator.secret_box`), 'rescue_image_ref'
           (optional)}
Starts in: vm_state active, stopped or error (the API's claim checked it).
Final:     vm_state rescued, the guest running the rescue system.
On revert: the guest back on its own disk (stopped again if it was),
           vm_state unchanged, fault.
Resume:    forward; rescuing again converges.
"""

from taskflow.patterns import linear_flow

from orchestrator import state_machine
from orchestrator import states

from flows import keys
from flows.tasks import power
from flows.tasks import rescue

FLOW_NAME = keys.RESCUE_FLOW
RESUME_POLICY = keys.RESUME


def get_flow():
    return linear_flow.Flow(FLOW_NAME).add(
        power.ClearTaskOnRevert(),
        rescue.FetchRescueImage(),
        rescue.RescueOnHost(),
        power.FinishPowerAction(state_machine.RESCUE, states.RESCUED))
