"""Unrescue a server: its guest boots from its own disk again.

Store in:  context, instance_uuid, task_id, action_id
Starts in: vm_state rescued (the API's claim checked it).
Final:     vm_state active, the guest running.
On revert: vm_state unchanged, fault; error when the flow failed after
           the host unrescued the guest (the rescue is not brought back,
           and a server shown in rescue would hide that it is not).
Resume:    forward; unrescuing again converges.
"""

from taskflow.patterns import linear_flow

from orchestrator import state_machine
from orchestrator import states

from flows import base
from flows import keys
from flows.tasks import power
from flows.tasks import rescue

FLOW_NAME = keys.UNRESCUE_FLOW
RESUME_POLICY = keys.RESUME


class UnrescueSentinel(base.FinishTaskOnRevert):
    """Sentinel. Revert: task_state cleared with a fault; vm_state error
    if the flow failed once the guest was out of rescue."""

    persisted_name = 'flows.unrescue.UnrescueSentinel'

    error_if_failed_in = frozenset(['FinishPowerAction'])


def get_flow():
    return linear_flow.Flow(FLOW_NAME).add(
        UnrescueSentinel(),
        rescue.UnrescueOnHost(),
        power.FinishPowerAction(state_machine.UNRESCUE, states.ACTIVE))
