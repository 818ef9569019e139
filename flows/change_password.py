"""Set the administrator's password of a running server's guest
(changePassword).

Store in:  context, instance_uuid, task_id, action_id,
           params {'admin_password_sealed' (the password sealed,
           :mod:`orchestrator.secret_box`)}
Starts in: vm_state active (the API's claim checked it).
Final:     the guest's password set; vm_state active (status PASSWORD
           while it runs).
On revert: nothing to undo on the guest (the old password is not
           known); task_state cleared, vm_state unchanged, fault (e.g.
           the guest does not run).
Resume:    forward; setting the same password again converges.
"""

from taskflow.patterns import linear_flow

from orchestrator import state_machine

from flows import keys
from flows.tasks import guest
from flows.tasks import power

FLOW_NAME = keys.CHANGE_PASSWORD_FLOW
RESUME_POLICY = keys.RESUME


def get_flow():
    return linear_flow.Flow(FLOW_NAME).add(
        power.ClearTaskOnRevert(),
        guest.SetAdminPasswordOnHost(),
        guest.FinishGuestAction(state_machine.CHANGE_PASSWORD))
