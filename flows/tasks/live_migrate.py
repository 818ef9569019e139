"""Steps of a live migration: the guest moves to another host while it
runs (:mod:`flows.live_migrate` puts them together).

Until the point of no return every step is undone by its revert (through
:func:`flows.base.undo_on_host`: a host down or not answering is left to
reconciliation and the rollback goes on, the migration ending failed; a
host that refuses ends the migration in error, and the instance goes to
error with the flow): the incoming guest on the destination is removed
(``rollback_live_migration_at_destination``), the source's guest runs as
before (``rollback_live_migration``) and the destination claim is
released. :class:`CommitToDestination` crosses the point of no return:
it records it in the migration (``post-migrating``) before the destination
is asked to run the guest, so a revert that runs later (the flow was
preempted, or resumed after a crash) sees it and undoes nothing. The steps
after it are retried by :class:`RollForward` until they succeed.
"""

import logging

from orchestrator import state_machine
from orchestrator import states
from orchestrator.compute import rpcapi as compute_rpcapi
from orchestrator.db import allocations
from orchestrator.db import deadlines
from orchestrator.db import instances
from orchestrator.db import migration_records

from flows import base
from flows import keys
from flows.tasks import migrations

LOG = logging.getLogger(__name__)

#: Store keys of this flow's results (persisted in logbooks: fixed).
DEST_HOST = migrations.DEST_HOST
DEST_CHECK = 'dest_check'
MIGRATE_DATA = 'migrate_data'
DEST_PREPARED = 'dest_prepared'
MEMORY_COPIED = 'memory_copied'


def _payload(instance):
    return compute_rpcapi.instance_payload(instance)


def _guest_power_state(instance):
    """The power state a live-migrated guest keeps: a paused server's
    guest stays paused."""
    if instance['vm_state'] == states.PAUSED:
        return states.POWER_PAUSED
    return states.RUNNING


class ClaimLiveMigrationDestination(base.InstanceTask):
    """Claim the instance's flavor on the destination (consumer: the
    migration): the host asked for, else the scheduler's choice. The
    migration goes from queued to preparing first (an abort that came
    before stops the flow here) and records the destination.

    Re-run: the migration's allocation is reused. Revert: released,
    unless the migration is past its point of no return (the allocation
    is the instance's then).
    """

    persisted_name = 'flows.tasks.live_migrate.ClaimLiveMigrationDestination'

    default_provides = DEST_HOST

    def execute(self, context, instance_uuid, task_id, params):
        instance = self.load_instance(instance_uuid, task_id)
        migration_uuid = params[keys.MIGRATION_UUID]
        migrations.advance(migration_uuid, instance_uuid,
                           states.MIGRATION_PREPARING,
                           {states.MIGRATION_QUEUED})
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

    def revert(self, context, instance_uuid, task_id, params, **kwargs):
        if migrations.live_past_return(params[keys.MIGRATION_UUID]):
            return
        allocations.release(params[keys.MIGRATION_UUID])


class CheckLiveMigrationDestination(base.InstanceTask):
    """The destination's pre-check (check_can_live_migrate_destination).

    Changes nothing anywhere: re-run asks again; no revert.
    """

    persisted_name = 'flows.tasks.live_migrate.CheckLiveMigrationDestination'

    default_provides = DEST_CHECK

    def execute(self, context, instance_uuid, task_id, params, dest_host):
        instance = self.load_instance(instance_uuid, task_id)
        return base.compute_api().check_can_live_migrate_destination(
            self.context(context), dest_host, _payload(instance),
            params[keys.MIGRATION_UUID], instance['host'],
            params.get('block_migration'))


class CheckLiveMigrationSource(base.InstanceTask):
    """The source's pre-check (check_can_live_migrate_source); provides
    the migrate data. Changes nothing: re-run asks again; no revert."""

    persisted_name = 'flows.tasks.live_migrate.CheckLiveMigrationSource'

    default_provides = MIGRATE_DATA

    def execute(self, context, instance_uuid, task_id, params, dest_check):
        instance = self.load_instance(instance_uuid, task_id)
        return base.compute_api().check_can_live_migrate_source(
            self.context(context), instance['host'], _payload(instance),
            params[keys.MIGRATION_UUID], dest_check)


class PreLiveMigration(base.InstanceTask):
    """On the destination: networks, disks and the incoming guest
    (pre_live_migration).

    Re-run: the destination returns what it made. Revert:
    rollback_live_migration_at_destination (a no-op when nothing was
    made), unless the migration is past its point of no return.
    """

    persisted_name = 'flows.tasks.live_migrate.PreLiveMigration'

    default_provides = DEST_PREPARED

    def execute(self, context, instance_uuid, task_id, params, dest_host,
                migrate_data):
        instance = self.load_instance(instance_uuid, task_id)
        return base.compute_api().pre_live_migration(
            self.context(context), dest_host, _payload(instance),
            params[keys.MIGRATION_UUID], instance['host'], migrate_data)

    def revert(self, context, instance_uuid, task_id, params,
               dest_host=None, **kwargs):
        if dest_host is None or migrations.live_past_return(
                params[keys.MIGRATION_UUID]):
            return
        instance = instances.get(instance_uuid, read_deleted=True)
        ctxt = self.context(context)
        base.undo_on_host(
            dest_host, lambda: base.compute_api()
            .rollback_live_migration_at_destination(
                ctxt, dest_host, _payload(instance),
                params[keys.MIGRATION_UUID]),
            instance_uuid, task_id, 'rollback_live_migration_at_destination',
            migration_uuid=params[keys.MIGRATION_UUID])


class LiveMigrationOnSource(base.InstanceTask):
    """The migration goes from preparing to running (an abort that came
    before stops the flow here); the source copies the guest's memory to
    the destination (live_migration), its progress written into the
    migration and the instance by the conductor, and stops its guest.

    The call waits as long as the migrating task_state may last; provides
    what the copy moved ({'memory_total', 'memory_processed',
    'memory_remaining'}). Re-run: a finished copy returns at once. Revert:
    rollback_live_migration on the source (its guest runs as before; a
    no-op when the copy never started), unless the migration is past its
    point of no return.
    """

    persisted_name = 'flows.tasks.live_migrate.LiveMigrationOnSource'

    default_provides = MEMORY_COPIED

    def execute(self, context, instance_uuid, task_id, params, dest_host):
        instance = self.load_instance(instance_uuid, task_id)
        migrations.advance(params[keys.MIGRATION_UUID], instance_uuid,
                           states.MIGRATION_RUNNING,
                           {states.MIGRATION_PREPARING})
        return base.compute_api().live_migration(
            self.context(context), instance['host'], _payload(instance),
            params[keys.MIGRATION_UUID], dest_host,
            timeout=deadlines.deadline_for(states.MIGRATING))

    def revert(self, context, instance_uuid, task_id, params, **kwargs):
        migration = migration_records.get(params[keys.MIGRATION_UUID])
        if migration['status'] in migrations.LIVE_PAST_RETURN:
            return
        instance = instances.get(instance_uuid, read_deleted=True)
        ctxt, source = self.context(context), migration['source_compute']
        base.undo_on_host(
            source, lambda: base.compute_api().rollback_live_migration(
                ctxt, source, _payload(instance), migration['uuid']),
            instance_uuid, task_id, 'rollback_live_migration',
            migration_uuid=migration['uuid'])


class CommitToDestination(base.InstanceTask):
    """The point of no return: the migration goes from running to
    post-migrating, under the claim. From here the guest is the
    destination's and the flow only rolls forward.

    An abort that came during or after the copy (the migration is
    cancelled) stops the flow here, and the rollback follows. Re-run:
    post-migrating again. No revert: nothing to undo, and the reverts of
    the earlier steps see the status and undo nothing either.
    """

    persisted_name = 'flows.tasks.live_migrate.CommitToDestination'

    def execute(self, context, instance_uuid, task_id, params):
        self.check_claim(instance_uuid, task_id)
        migrations.advance(params[keys.MIGRATION_UUID], instance_uuid,
                           states.MIGRATION_POST_MIGRATING,
                           {states.MIGRATION_RUNNING})


class RollForward(base.RollForwardRetry):
    """Retry the steps past CommitToDestination until they succeed (see
    :class:`flows.base.RollForwardRetry`): only a lost claim stops them,
    and the whole flow then reverts, which past the point of no return
    undoes nothing and ends the migration in error."""

    persisted_name = 'flows.tasks.live_migrate.RollForward'

    what = 'Live migration\'s last steps'


class PostLiveMigrationAtDestination(base.InstanceTask):
    """On the destination: the incoming guest takes over, running (or
    paused, for a paused server) (post_live_migration_at_destination).

    Re-run: a guest that took over is left as it is. No revert (past the
    point of no return).
    """

    persisted_name = 'flows.tasks.live_migrate.PostLiveMigrationAtDestination'

    default_provides = keys.POWER_STATE

    def execute(self, context, instance_uuid, task_id, params, dest_host):
        instance = self.load_instance(instance_uuid, task_id)
        return base.compute_api().post_live_migration_at_destination(
            self.context(context), dest_host, _payload(instance),
            params[keys.MIGRATION_UUID], _guest_power_state(instance))


class SwitchInstanceHost(base.InstanceTask):
    """The instance is the destination's: its host, node, networks and
    power state are written under the claim; then the source claim is
    released and the migration's allocation becomes the instance's.

    Re-run: the same values again; the allocation swap converges. No
    revert (past the point of no return).
    """

    persisted_name = 'flows.tasks.live_migrate.SwitchInstanceHost'

    def execute(self, context, instance_uuid, task_id, params, dest_host,
                dest_prepared, power_state):
        migration = migration_records.get(params[keys.MIGRATION_UUID])
        self.update_instance(instance_uuid, task_id, host=dest_host,
                             node=dest_host, power_state=power_state,
                             networks=dest_prepared.get('network_info'))
        allocations.swap_to_instance(migration['uuid'], instance_uuid,
                                     release_host=migration[
                                         'source_compute'])


class PostLiveMigrationAtSource(base.InstanceTask):
    """On the source: the stopped guest, its networks and disks removed
    (post_live_migration).

    Re-run: only leftovers are removed. No revert (past the point of no
    return).
    """

    persisted_name = 'flows.tasks.live_migrate.PostLiveMigrationAtSource'

    def execute(self, context, instance_uuid, task_id, params):
        instance = self.load_instance(instance_uuid, task_id)
        migration = migration_records.get(params[keys.MIGRATION_UUID])
        return base.compute_api().post_live_migration(
            self.context(context), migration['source_compute'],
            _payload(instance), params[keys.MIGRATION_UUID])


class FinishLiveMigration(base.InstanceTask):
    """The migration is completed, with the final numbers of the copy
    (progress casts still on their way are dropped from here on), then
    the task ends: task_state cleared, progress 100, vm_state as it was.

    Re-run after it committed: both writes again (same values). No
    revert.
    """

    persisted_name = 'flows.tasks.live_migrate.FinishLiveMigration'

    def execute(self, context, instance_uuid, task_id, params,
                memory_copied):
        self.check_claim(instance_uuid, task_id)
        migration_records.set_status(
            params[keys.MIGRATION_UUID], states.MIGRATION_COMPLETED,
            from_statuses={states.MIGRATION_POST_MIGRATING},
            memory_total=memory_copied['memory_total'],
            memory_processed=memory_copied['memory_processed'],
            memory_remaining=memory_copied['memory_remaining'])
        self.update_instance(instance_uuid, task_id,
                             action=state_machine.LIVE_MIGRATE,
                             task_state=None, progress=100)
