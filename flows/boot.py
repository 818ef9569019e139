"""Boot a server: place it, prepare its host, fetch its image, spawn it.

Store in:  context, instance_uuid, task_id, action_id
Final:     vm_state active, power_state running, task_state NULL.
On revert: every host step undone, allocation released, vm_state error
           with a fault. Preempted (deleted meanwhile): the steps undo what
           they did and the instance is left to its new owner.
Resume:    forward; every step converges when re-run.
"""

from taskflow.patterns import linear_flow

from orchestrator import states

from flows import base
from flows import keys
from flows.tasks import host_calls
from flows.tasks import instance_state
from flows.tasks import scheduling

FLOW_NAME = 'orchestrator-boot-server'
RESUME_POLICY = keys.RESUME


class BuildToErrorOnRevert(base.FinishTaskOnRevert):
    """Sentinel. Revert: task_state cleared, vm_state error, fault."""

    revert_vm_state = states.ERROR


def get_flow():
    """The boot flow (factory recorded in the logbook by import path)."""
    return linear_flow.Flow(FLOW_NAME).add(
        BuildToErrorOnRevert(),
        scheduling.ScheduleInstance(),
        host_calls.PrepareNetworks(),
        host_calls.PrepareBlockDevices(),
        host_calls.FetchImage(),
        host_calls.SpawnOnHost(),
        instance_state.MarkActive(),
    )
