"""Boot a server: place it, prepare its host, fetch its image, spawn it.

Store in:  context, instance_uuid, task_id, action_id, params (the
           placement request: ``requested_host``, or {}).
Shape:     BuildToErrorOnRevert, then the subflow HOST_FLOW_NAME (the
           host steps PrepareNetworks, PrepareBlockDevices, FetchImage,
           SpawnOnHost) whose retry controller is ScheduleInstance, then
           MarkActive. Atom names are their import paths (fixed).
Reschedule: a host step that fails reverts the host steps (networks,
           disks and guest removed from the failed host), then
           ScheduleInstance releases that host's claim and claims the
           next alternate host, and the host steps run again there; at
           most ``[scheduler] max_attempts`` attempts. The audit shows
           attempt k > 1 as events "<Step> (attempt k)".
Final:     vm_state active, power_state running, task_state NULL.
On revert: every host step undone, allocation released, vm_state error
           with a fault (NoValidHost naming each failed attempt when the
           attempts ran out). Preempted (deleted meanwhile): the steps
           undo what they did, nothing is rescheduled, and the instance
           is left to its new owner.
Resume:    forward; every step converges when re-run.
"""

from taskflow.patterns import linear_flow

from orchestrator import states

from flows import atoms
from flows import base
from flows import keys
from flows.tasks import host_calls
from flows.tasks import instance_state
from flows.tasks import scheduling

FLOW_NAME = keys.BOOT_FLOW
#: The subflow of the host steps, retried by ScheduleInstance.
HOST_FLOW_NAME = keys.BOOT_HOST_FLOW
RESUME_POLICY = keys.RESUME

#: The host steps, in order (each attempt runs them all).
HOST_STEPS = (host_calls.PrepareNetworks, host_calls.PrepareBlockDevices,
              host_calls.FetchImage, host_calls.SpawnOnHost)


class BuildToErrorOnRevert(base.FinishTaskOnRevert):
    """Sentinel. Revert: task_state cleared, vm_state error, fault.

    The fault describes the failure that ended the build: a host step's
    failure never does (ScheduleInstance retries it, and its give-up
    NoValidHost names every attempt), so failures of host steps, which
    TaskFlow keeps from earlier attempts, are passed over for any other.
    """

    persisted_name = 'flows.boot.BuildToErrorOnRevert'

    revert_vm_state = states.ERROR

    def failure_to_record(self, flow_failures):
        host_steps = {step.__name__ for step in HOST_STEPS}
        for name, failure in (flow_failures or {}).items():
            if atoms.short_name(name) not in host_steps:
                return failure
        return base.first_failure(flow_failures)


def scheduled_host_steps(flow_name, steps):
    """The subflow ``flow_name`` of the host ``steps`` (classes, in
    order) under ScheduleInstance: placed, then on a failure placed again
    on an alternate (a boot's, and an offloaded server's unshelve)."""
    on_host = linear_flow.Flow(flow_name,
                               retry=scheduling.ScheduleInstance())
    return on_host.add(*(step() for step in steps))


def get_flow():
    """The boot flow (factory recorded in the logbook by import path)."""
    return linear_flow.Flow(FLOW_NAME).add(
        BuildToErrorOnRevert(),
        scheduled_host_steps(HOST_FLOW_NAME, HOST_STEPS),
        instance_state.MarkActive(),
    )
