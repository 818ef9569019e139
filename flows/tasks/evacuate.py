"""Steps of an evacuation: a server whose host is down is rebuilt on
another host from its image, keeping its id (:mod:`flows.evacuate` puts
them together).

The destination is claimed for the migration; networks, disks, the image
and the guest are made there with the rebuild task_states (a client sees
REBUILD). :class:`FinishEvacuation` commits: the instance's host becomes
the destination. Every revert first looks whether that commit happened
(the instance's host is the destination): if so it undoes nothing, so a
step re-run after the commit can never take the new guest away. Reverts
call the destination through :func:`flows.base.undo_on_host`: a
destination down or not answering is left to reconciliation and the
rollback goes on (the migration ends failed); one that refuses ends the
migration in error (the instance goes to error with the flow).

The source host is down: nothing is asked of it. Its leftover guest and
the resources it holds (handed to the migration, which waits in ``done``)
are cleaned when the host is back (:mod:`orchestrator.conductor.
evacuations`).
"""

from orchestrator import state_machine
from orchestrator import states
from orchestrator.compute import rpcapi as compute_rpcapi
from orchestrator.db import allocations
from orchestrator.db import instances
from orchestrator.db import migration_records

from flows import base
from flows import keys
from flows.tasks import host_calls
from flows.tasks import migrations

DEST_HOST = migrations.DEST_HOST
DEST_NETWORKS = 'dest_networks'

#: vm_state an evacuation ends in, by the vm_state it started in.
EVACUATED_VM_STATE = {
    src: dst for src, dst in
    state_machine.ACTIONS[state_machine.EVACUATE].outcomes}


def _payload(instance):
    return compute_rpcapi.instance_payload(instance)


def _committed(instance_uuid, dest_host):
    """True when the evacuation committed: the instance lives on
    ``dest_host`` (only FinishEvacuation writes that)."""
    instance = instances.get(instance_uuid, read_deleted=True)
    return dest_host is not None and instance['host'] == dest_host


class ClaimEvacuationDestination(base.InstanceTask):
    """The migration goes from accepted to pre-migrating; the instance's
    flavor is claimed on another host (consumer: the migration), the one
    asked for or the scheduler's choice, and recorded in the migration.

    Re-run: the migration's allocation is reused. Revert: released,
    unless the evacuation committed.
    """

    persisted_name = 'flows.tasks.evacuate.ClaimEvacuationDestination'

    default_provides = DEST_HOST

    def execute(self, context, instance_uuid, task_id, params):
        instance = self.load_instance(instance_uuid, task_id)
        migration_uuid = params[keys.MIGRATION_UUID]
        migrations.advance(migration_uuid, instance_uuid,
                           states.MIGRATION_PRE_MIGRATING,
                           {states.MIGRATION_ACCEPTED})
        held = [a for a in allocations.list_for_instance(instance_uuid)
                if a['consumer_uuid'] == migration_uuid]
        if held:
            dest = held[0]['host']
        else:
            dest = migrations.claim_other_host(
                migration_uuid, instance, params.get('host'),
                forced=bool(params.get('force')))
        migration_records.update(migration_uuid, dest_compute=dest,
                                 dest_node=dest)
        return dest

    def revert(self, context, instance_uuid, task_id, params, result=None,
               **kwargs):
        # ``result`` is the host claimed on, or a Failure if the claim
        # itself failed (then nothing committed).
        if isinstance(result, str) and _committed(instance_uuid, result):
            return
        allocations.release(params[keys.MIGRATION_UUID])


class PrepareEvacuationDestination(base.InstanceTask):
    """Networks and disks on the destination (task_state
    rebuild_block_device_mapping); provides the network info.

    Re-run: the host returns what it made. Revert: both removed (no-ops
    when absent), unless the evacuation committed.
    """

    persisted_name = 'flows.tasks.evacuate.PrepareEvacuationDestination'

    default_provides = DEST_NETWORKS

    def execute(self, context, instance_uuid, task_id, dest_host):
        instance = self.update_instance(
            instance_uuid, task_id,
            task_state=states.REBUILD_BLOCK_DEVICE_MAPPING)
        ctxt = self.context(context)
        info = base.compute_api().prepare_networks(ctxt, dest_host,
                                                   _payload(instance))
        base.compute_api().prepare_block_devices(ctxt, dest_host,
                                                 _payload(instance))
        return info

    def revert(self, context, instance_uuid, task_id, params,
               dest_host=None, **kwargs):
        if dest_host is None or _committed(instance_uuid, dest_host):
            return
        instance = instances.get(instance_uuid, read_deleted=True)
        ctxt = self.context(context)

        def undo():
            base.compute_api().cleanup_block_devices(ctxt, dest_host,
                                                     _payload(instance))
            base.compute_api().cleanup_networks(ctxt, dest_host,
                                                _payload(instance))
        base.undo_on_host(dest_host, undo, instance_uuid, task_id,
                          'cleanup_block_devices, cleanup_networks',
                          migration_uuid=params[keys.MIGRATION_UUID])


class FetchEvacuationImage(base.InstanceTask):
    """The instance's image cached on the destination. Re-run: a cached
    image returns at once. No revert (the cache is shared; a destroy
    drops the instance's reference)."""

    persisted_name = 'flows.tasks.evacuate.FetchEvacuationImage'

    default_provides = keys.IMAGE

    def execute(self, context, instance_uuid, task_id, dest_host):
        instance = self.load_instance(instance_uuid, task_id)
        return host_calls.fetch_to_host(self.context(context), dest_host,
                                        instance, instance['image_ref'])


class SpawnOnEvacuationDestination(base.InstanceTask):
    """The guest created on the destination (task_state
    rebuild_spawning) and, for a stopped server, powered off again.

    Re-run: a guest already there is kept. Revert: the destination's
    guest and leftovers destroyed, unless the evacuation committed.
    """

    persisted_name = 'flows.tasks.evacuate.SpawnOnEvacuationDestination'

    default_provides = keys.POWER_STATE

    def execute(self, context, instance_uuid, task_id, dest_host, image):
        instance = self.update_instance(
            instance_uuid, task_id, task_state=states.REBUILD_SPAWNING)
        ctxt = self.context(context)
        power_state = base.compute_api().spawn(ctxt, dest_host,
                                               _payload(instance), image)
        if EVACUATED_VM_STATE[instance['vm_state']] == states.STOPPED:
            power_state = base.compute_api().set_power_state(
                ctxt, dest_host, _payload(instance), 'power_off')
        return power_state

    def revert(self, context, instance_uuid, task_id, params,
               dest_host=None, **kwargs):
        if dest_host is None or _committed(instance_uuid, dest_host):
            return
        instance = instances.get(instance_uuid, read_deleted=True)
        ctxt = self.context(context)
        base.undo_on_host(dest_host, lambda: base.compute_api().destroy(
            ctxt, dest_host, _payload(instance)), instance_uuid, task_id,
            'destroy', migration_uuid=params[keys.MIGRATION_UUID])


class FinishEvacuation(base.InstanceTask):
    """The commit: the instance's host, node, networks and power state
    become the destination's, vm_state per :data:`EVACUATED_VM_STATE`,
    progress 100, task_state cleared (one CAS); then the allocations
    trade places (the instance's on the dead source becomes the
    migration's, the migration's on the destination the instance's) and
    the migration is done, waiting for the source to come back.

    Re-run after the commit (even when another task claimed the instance
    since): the CAS is skipped, the rest converges. No revert: a failure
    before the commit leaves nothing of this step to undo.
    """

    persisted_name = 'flows.tasks.evacuate.FinishEvacuation'

    def execute(self, context, instance_uuid, task_id, params, dest_host,
                dest_networks, power_state):
        migration = migration_records.get(params[keys.MIGRATION_UUID])
        instance = instances.get(instance_uuid, read_deleted=True)
        if instance['host'] != dest_host:
            instance = self.load_instance(instance_uuid, task_id)
            self.update_instance(
                instance_uuid, task_id, action=state_machine.EVACUATE,
                host=dest_host, node=dest_host, networks=dest_networks,
                power_state=power_state, task_state=None, progress=100,
                vm_state=EVACUATED_VM_STATE[instance['vm_state']])
        allocations.evacuated(migration['uuid'], instance_uuid,
                              migration['source_compute'])
        migration_records.set_status(
            migration['uuid'], states.MIGRATION_DONE,
            from_statuses={states.MIGRATION_PRE_MIGRATING})
