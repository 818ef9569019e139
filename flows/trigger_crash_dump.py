"""Trigger a crash dump in a server's guest: an NMI, which its kernel
answers with a memory dump (trigger_crash_dump, microversion 2.17).

Store in:  context, instance_uuid, task_id, action_id
Starts in: vm_state active, paused, rescued, resized or error, the guest
           running or paused (the API checked both).
Final:     the NMI injected; vm_state unchanged, power_state as the host
           reports it.
On revert: nothing to undo (an interrupt is not taken back); task_state
           cleared, vm_state unchanged, fault.
Resume:    forward; the host injects one NMI per task, however often
           asked.
"""

from taskflow.patterns import linear_flow

from orchestrator import state_machine

from flows import keys
from flows.tasks import guest
from flows.tasks import power

FLOW_NAME = keys.TRIGGER_CRASH_DUMP_FLOW
RESUME_POLICY = keys.RESUME


def get_flow():
    return linear_flow.Flow(FLOW_NAME).add(
        power.ClearTaskOnRevert(),
        guest.TriggerCrashDumpOnHost(),
        guest.FinishGuestAction(state_machine.TRIGGER_CRASH_DUMP))
