"""Unshelve an offloaded server: place it, prepare its host, spawn it
from its shelved image.

Store in:  context, instance_uuid, task_id, action_id,
           params {'image_id' (the shelved image)}; the instance's
           availability_zone is the zone asked for (the API wrote it).
Starts in: vm_state shelved_offloaded, no host.
Shape:     a sentinel, then the subflow UNSHELVE_HOST_FLOW (the boot
           flow's host steps, with FetchShelvedImage for FetchImage)
           under the boot's retry controller ScheduleInstance: the claim
           of capacity is the boot's (atomic, in the zone; an alternate
           host after a host step failed), then FinishUnshelve.
Final:     vm_state active on the host chosen, its capacity held; the
           shelved image deleted, system_metadata without the shelve.
On revert: every host step undone, the claim released, no host:
           vm_state shelved_offloaded, task_state cleared, fault.
Resume:    forward; every step converges when re-run.
"""

from taskflow.patterns import linear_flow

from orchestrator import state_machine

from flows import boot
from flows import keys
from flows.tasks import host_calls
from flows.tasks import power
from flows.tasks import shelve

FLOW_NAME = keys.UNSHELVE_FLOW
#: The subflow of the host steps, retried by ScheduleInstance.
HOST_FLOW_NAME = keys.UNSHELVE_HOST_FLOW
RESUME_POLICY = keys.RESUME

#: The host steps, in order (each attempt runs them all).
HOST_STEPS = (host_calls.PrepareNetworks, host_calls.PrepareBlockDevices,
              shelve.FetchShelvedImage, host_calls.SpawnOnHost)


def get_flow():
    return linear_flow.Flow(FLOW_NAME).add(
        power.ClearTaskOnRevert(),
        boot.scheduled_host_steps(HOST_FLOW_NAME, HOST_STEPS),
        shelve.FinishUnshelve(state_machine.UNSHELVE))
