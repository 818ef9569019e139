"""Evacuate a server whose host is down: rebuild it on another host.

Store in:  context, instance_uuid, task_id, action_id,
           params {'migration_uuid' (an evacuation record the API
           created, accepted), 'host' (requested destination or None)}
Starts in: vm_state active, stopped or error, task_state rebuilding (the
           API's claim checked it, and that the instance's host is down).
Final:     a new guest from the instance's image on the destination,
           running (stopped stays stopped, error becomes active); the
           instance's host is the destination and its allocation there
           is the instance's; the migration is done, holding the source's
           allocation until the source is back (then the leftover guest
           there is destroyed and the migration completed, by a conductor
           periodic).
On revert: whatever was made on the destination is removed, its claim
           released, the migration failed; the instance stays recorded on
           its (down) host with vm_state unchanged and a fault.
Resume:    forward; every step converges when re-run, and no revert
           undoes a committed evacuation.
"""

from taskflow.patterns import linear_flow

from orchestrator import states
from orchestrator.db import allocations
from orchestrator.db import instances
from orchestrator.db import migration_records

from flows import base
from flows import keys
from flows.tasks import evacuate
from flows.tasks import migrations

FLOW_NAME = keys.EVACUATE_FLOW
RESUME_POLICY = keys.RESUME


class EvacuateSentinel(base.FinishTaskOnRevert):
    """Sentinel. Revert: the migration ends failed (if not final; done,
    with the allocations traded, if the evacuation committed before the
    failure, so its source is still cleaned), then task_state is cleared
    with a fault and vm_state
    unchanged (nothing on the instance when the flow was preempted or
    the commit ended the task). Re-run: both found done."""

    persisted_name = 'flows.evacuate.EvacuateSentinel'

    def revert(self, context, instance_uuid, task_id, params,
               flow_failures=None, **kwargs):
        migration = migration_records.get(params[keys.MIGRATION_UUID])
        instance = instances.get(instance_uuid, read_deleted=True)
        if (migration['dest_compute']
                and instance['host'] == migration['dest_compute']):
            allocations.evacuated(migration['uuid'], instance_uuid,
                                  migration['source_compute'])
            migration_records.set_status(
                migration['uuid'], states.MIGRATION_DONE,
                from_statuses={states.MIGRATION_PRE_MIGRATING})
        migrations.end_on_revert(params[keys.MIGRATION_UUID], flow_failures,
                                 past_return=frozenset())
        super().revert(context, instance_uuid, task_id,
                       flow_failures=flow_failures, **kwargs)


def get_flow():
    """The evacuation flow (factory recorded in the logbook)."""
    return linear_flow.Flow(FLOW_NAME).add(
        EvacuateSentinel(),
        evacuate.ClaimEvacuationDestination(),
        evacuate.PrepareEvacuationDestination(),
        evacuate.FetchEvacuationImage(),
        evacuate.SpawnOnEvacuationDestination(),
        evacuate.FinishEvacuation())
