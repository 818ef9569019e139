"""Steps of resize and cold migration, and of their confirm and revert.

A resize moves an instance to a destination host (another one, or the
same one when ``[DEFAULT] allow_resize_to_same_host`` allows) with a new
flavor; a cold migration is the same with the same flavor. Until it is
confirmed or reverted both hosts hold the instance: the source keeps its
guest (powered off) and its allocation (consumer: the instance), the
destination has the running guest and its own allocation (consumer: the
migration). Every step's inverse is an RPC to the host that did it, so a
resize that fails anywhere before it is marked resized is rolled back to
the source as if nothing happened. The inverses go through
:func:`flows.base.undo_on_host`: a host down or not answering (a dead
destination) is left to reconciliation, and the rollback goes on to
release the claim and end the migration in error.

The migration record's status follows the steps: pre-migrating,
migrating, post-migrating, finished; then confirming -> confirmed or
reverting -> reverted; error when a rollback could not restore it.
"""

import logging

from orchestrator import exception
from orchestrator import state_machine
from orchestrator import states
from orchestrator.compute import rpcapi as compute_rpcapi
from orchestrator.db import allocations
from orchestrator.db import catalog
from orchestrator.db import hosts
from orchestrator.db import instances
from orchestrator.db import migration_records
from orchestrator.scheduler import host_selection

from oslo_config import cfg

from flows import base
from flows import keys
from flows.tasks import migrations

LOG = logging.getLogger(__name__)

#: Flavor values an instance row carries beside its flavor snapshot.
FLAVOR_COLUMNS = ('vcpus', 'memory_mb', 'root_gb', 'ephemeral_gb')


def with_flavor(instance, flavor):
    """The instance payload a host gets, with ``flavor``'s sizes."""
    payload = compute_rpcapi.instance_payload(instance)
    payload['flavor'] = flavor
    for key in FLAVOR_COLUMNS:
        payload[key] = flavor.get(key) or 0
    return payload


def flavor_values(flavor):
    """The instance columns that hold ``flavor``."""
    values = {key: flavor.get(key) or 0 for key in FLAVOR_COLUMNS}
    values.update(flavor=flavor, flavor_id=flavor.get('flavorid'))
    return values


def _image(instance):
    image = catalog.image_get(instance['image_ref'])
    return {'id': image['id'], 'name': image['name'], 'size': image['size']}


def _power_on_after(vm_state):
    return vm_state != states.STOPPED


class CreateMigration(base.InstanceTask):
    """The migration record (pre-migrating), from the instance's host.

    Re-run: the record of ``params[keys.MIGRATION_UUID]`` exists already and
    is returned. Revert: its status becomes error (also when the last
    step finished it and then lost its claim) unless a later step's
    revert already ended it.
    """

    persisted_name = 'flows.tasks.resize.CreateMigration'

    default_provides = keys.MIGRATION

    def execute(self, context, instance_uuid, task_id, params):
        instance = self.load_instance(instance_uuid, task_id)
        ctxt = self.context(context)
        return migration_records.create(
            instance_uuid, params['migration_type'],
            states.MIGRATION_PRE_MIGRATING, instance['host'],
            old_flavor=instance['flavor'], new_flavor=params['new_flavor'],
            project_id=ctxt.project_id, user_id=ctxt.user_id,
            migration_uuid=params[keys.MIGRATION_UUID])

    def revert(self, context, instance_uuid, task_id, params, **kwargs):
        try:
            migration_records.set_status(
                params[keys.MIGRATION_UUID], states.MIGRATION_ERROR,
                from_statuses=[states.MIGRATION_PRE_MIGRATING,
                               states.MIGRATION_MIGRATING,
                               states.MIGRATION_POST_MIGRATING,
                               states.MIGRATION_FINISHED])
        except exception.MigrationNotFound:
            pass


class ClaimDestination(base.InstanceTask):
    """Claim the new flavor's resources on a destination (consumer: the
    migration), the requested host if any, else the best other host (or
    this one when resizing to the same host is allowed).

    Re-run: the migration's allocation is reused. Revert: released.
    """

    persisted_name = 'flows.tasks.resize.ClaimDestination'

    default_provides = keys.DEST_HOST

    def execute(self, context, instance_uuid, task_id, params, migration):
        instance = self.load_instance(instance_uuid, task_id)
        held = [a for a in allocations.list_for_instance(instance_uuid)
                if a['consumer_uuid'] == migration['uuid']]
        if held:
            dest = held[0]['host']
        else:
            source = instance['host']
            same_host_ok = (params['migration_type'] == 'resize'
                            and cfg.CONF.allow_resize_to_same_host)
            exclude = () if same_host_ok else (source,)
            resources = host_selection.resources_of(
                dict(instance, **flavor_values(params['new_flavor'])))
            requested = params.get('requested_host')
            if requested:
                if requested in exclude:
                    raise exception.NoValidHost(
                        reason='the requested host %s is the instance\'s '
                               'own host' % requested)
                exclude = tuple(h['host'] for h in
                                hosts.list_compute_nodes()
                                if h['host'] != requested)
            allocation = host_selection.select_and_claim(
                migration['uuid'], instance_uuid, resources,
                exclude=exclude)
            dest = allocation['host']
        migration_records.update(migration['uuid'], dest_compute=dest,
                                 dest_node=dest)
        return dest

    def revert(self, context, instance_uuid, task_id, params, **kwargs):
        allocations.release(params[keys.MIGRATION_UUID])


class PrepareDestination(base.InstanceTask):
    """Plug networks and create disks for the new flavor on the
    destination. Re-run: the host returns what it made. Revert: removes
    them, unless the destination is the source (they are the guest's)."""

    persisted_name = 'flows.tasks.resize.PrepareDestination'

    def execute(self, context, instance_uuid, task_id, params, dest_host):
        instance = self.load_instance(instance_uuid, task_id)
        if dest_host == instance['host']:
            return
        ctxt = self.context(context)
        payload = with_flavor(instance, params['new_flavor'])
        base.compute_api().prepare_networks(ctxt, dest_host, payload)
        base.compute_api().prepare_block_devices(ctxt, dest_host, payload)

    def revert(self, context, instance_uuid, task_id, params,
               dest_host=None, migration=None, **kwargs):
        if dest_host is None or migration is None:
            return
        if dest_host == migration['source_compute']:
            return
        instance = instances.get(instance_uuid, read_deleted=True)
        ctxt = self.context(context)
        payload = with_flavor(instance, params['new_flavor'])

        def undo():
            base.compute_api().cleanup_networks(ctxt, dest_host, payload)
            base.compute_api().cleanup_block_devices(ctxt, dest_host,
                                                     payload)
        base.undo_on_host(dest_host, undo, instance_uuid, task_id,
                          'cleanup_networks, cleanup_block_devices',
                          migration_uuid=migration['uuid'])


class MigrateDiskOnSource(base.InstanceTask):
    """Power the guest off on the source and send its disk (task_state
    resize_migrating, then resize_migrated; migration migrating). Checks
    the claim first.

    Re-run: a guest already sent is left so. Revert (the flow still owns
    the instance; whether or not the host finished): the source guest is
    in use again with its old flavor, started if the server was running.
    """

    persisted_name = 'flows.tasks.resize.MigrateDiskOnSource'

    def execute(self, context, instance_uuid, task_id, migration,
                dest_host):
        instance = self.update_instance(
            instance_uuid, task_id, task_state=states.RESIZE_MIGRATING)
        migrations.advance(migration['uuid'], instance_uuid,
                           states.MIGRATION_MIGRATING,
                           {states.MIGRATION_PRE_MIGRATING})
        power_state = base.compute_api().migrate_disk_and_power_off(
            self.context(context), instance['host'],
            compute_rpcapi.instance_payload(instance), migration['uuid'],
            dest_host)
        self.update_instance(instance_uuid, task_id,
                             task_state=states.RESIZE_MIGRATED)
        return power_state

    def revert(self, context, instance_uuid, task_id, migration=None,
               **kwargs):
        if migration is None:
            return
        try:
            instance = self.load_instance(instance_uuid, task_id)
        except exception.Preempted:
            LOG.info('Not restarting %s on its source: another task owns '
                     'it', instance_uuid)
            return
        ctxt, source = self.context(context), migration['source_compute']
        base.undo_on_host(
            source, lambda: base.compute_api().finish_revert_migration(
                ctxt, source, compute_rpcapi.instance_payload(instance),
                migration['uuid'], _power_on_after(instance['vm_state'])),
            instance_uuid, task_id, 'finish_revert_migration',
            migration_uuid=migration['uuid'], nothing_if_gone=True)


class FinishOnDestination(base.InstanceTask):
    """Create the guest with the new flavor on the destination (task_state
    resize_finish, migration post-migrating), started if the server was
    running. Checks the claim first.

    Re-run: a guest already there is left so. Revert: destroys it, unless
    the destination is the source (the source step's revert restores the
    guest there).
    """

    persisted_name = 'flows.tasks.resize.FinishOnDestination'

    default_provides = keys.POWER_STATE

    def execute(self, context, instance_uuid, task_id, params, migration,
                dest_host):
        instance = self.update_instance(
            instance_uuid, task_id, task_state=states.RESIZE_FINISH)
        migrations.advance(migration['uuid'], instance_uuid,
                           states.MIGRATION_POST_MIGRATING,
                           {states.MIGRATION_MIGRATING})
        return base.compute_api().finish_migration(
            self.context(context), dest_host,
            with_flavor(instance, params['new_flavor']), migration['uuid'],
            _image(instance), _power_on_after(instance['vm_state']))

    def revert(self, context, instance_uuid, task_id, params,
               migration=None, dest_host=None, **kwargs):
        if migration is None or dest_host is None:
            return
        if dest_host == migration['source_compute']:
            return
        instance = instances.get(instance_uuid, read_deleted=True)
        ctxt = self.context(context)
        base.undo_on_host(dest_host, lambda: base.compute_api().destroy(
            ctxt, dest_host, with_flavor(instance, params['new_flavor'])),
            instance_uuid, task_id, 'destroy',
            migration_uuid=migration['uuid'])


class MarkResized(base.InstanceTask):
    """The instance lives on the destination with the new flavor, vm_state
    resized (VERIFY_RESIZE), task_state cleared; the migration finished
    first, so whoever sees the server in VERIFY_RESIZE can confirm or
    revert it at once.

    Re-run: the same writes again (the migration is already finished).
    Fails (Preempted) with the migration finished if the claim is gone:
    the rollback puts the migration in error (:class:`CreateMigration`).
    """

    persisted_name = 'flows.tasks.resize.MarkResized'

    def execute(self, context, instance_uuid, task_id, params, migration,
                dest_host, power_state):
        action = (state_machine.RESIZE
                  if params['migration_type'] == 'resize'
                  else state_machine.MIGRATE)
        migrations.advance(migration['uuid'], instance_uuid,
                           states.MIGRATION_FINISHED,
                           {states.MIGRATION_POST_MIGRATING})
        self.update_instance(
            instance_uuid, task_id, action=action, host=dest_host,
            node=dest_host, vm_state=states.RESIZED, task_state=None,
            power_state=power_state, progress=100,
            **flavor_values(params['new_flavor']))


# -- confirm ------------------------------------------------------------------

def back_to_finished(migration_uuid, from_status):
    """A confirm or revert that failed leaves its migration waiting
    again (finished), so it can be retried."""
    migration_records.set_status(migration_uuid, states.MIGRATION_FINISHED,
                                 from_statuses=[from_status])


class ConfirmOnSource(base.InstanceTask):
    """Destroy the guest kept on the source (migration confirming), once
    the destination is seen to hold the guest (a confirm never leaves a
    server without one). Checks the claim first. Nothing to destroy when
    the source is the destination. Re-run: destroying a gone guest is
    not an error. Revert: the migration waits again (finished); a
    destroyed source guest is not brought back."""

    persisted_name = 'flows.tasks.resize.ConfirmOnSource'

    def execute(self, context, instance_uuid, task_id, params):
        instance = self.load_instance(instance_uuid, task_id)
        migration = migration_records.get(params[keys.MIGRATION_UUID])
        migration_records.set_status(
            migration['uuid'], states.MIGRATION_CONFIRMING,
            from_statuses=[states.MIGRATION_FINISHED])
        if migration['source_compute'] == instance['host']:
            return
        ctxt = self.context(context)
        if base.compute_api().get_info(ctxt, instance['host'],
                                       instance_uuid) is None:
            raise exception.GuestNotFound(host=instance['host'],
                                          instance_uuid=instance_uuid)
        destroy_on_source(ctxt, instance, migration)

    def revert(self, context, instance_uuid, task_id, params, **kwargs):
        back_to_finished(params[keys.MIGRATION_UUID],
                         states.MIGRATION_CONFIRMING)


def destroy_on_source(ctxt, instance, migration):
    """A confirm's host call: the guest the resize kept on its source is
    destroyed (nothing when the source is the destination). Re-run: not
    an error."""
    source = migration['source_compute']
    if source != instance['host']:
        base.compute_api().destroy(
            ctxt, source, with_flavor(instance, migration['old_flavor']))


def finish_confirm(instance, migration):
    """A confirm's database end: the migration's allocation becomes the
    instance's and the source's is dropped, the migration confirmed.
    Returns the vm_state the instance takes (active, or stopped if its
    guest is off). Re-run: converges."""
    allocations.swap_to_instance(migration['uuid'], instance['uuid'],
                                 migration['source_compute'])
    migration_records.set_status(migration['uuid'],
                                 states.MIGRATION_CONFIRMED,
                                 from_statuses=[states.MIGRATION_CONFIRMING])
    return (states.ACTIVE if instance['power_state'] == states.RUNNING
            else states.STOPPED)


def waiting_resize(instance_uuid):
    """The instance's resize or cold migration waiting for its confirm
    (finished) or being confirmed, or None."""
    for migration in migration_records.list_(
            instance_uuid=instance_uuid,
            statuses=[states.MIGRATION_FINISHED,
                      states.MIGRATION_CONFIRMING]):
        if migration['migration_type'] in ('resize', 'migration'):
            return migration
    return None


class FinishConfirm(base.InstanceTask):
    """The migration's allocation becomes the instance's and the source's
    is dropped; vm_state active (or stopped if its guest is off); the
    migration confirmed, before the task ends (whoever sees the server
    stable sees its migration final). Re-run: the swap and the writes
    converge."""

    persisted_name = 'flows.tasks.resize.FinishConfirm'

    def execute(self, context, instance_uuid, task_id, params):
        instance = self.load_instance(instance_uuid, task_id)
        migration = migration_records.get(params[keys.MIGRATION_UUID])
        vm_state = finish_confirm(instance, migration)
        self.update_instance(instance_uuid, task_id,
                             action=state_machine.CONFIRM_RESIZE,
                             vm_state=vm_state, task_state=None)


# -- revert -------------------------------------------------------------------

class DestroyOnDestination(base.InstanceTask):
    """Destroy the guest on the destination (migration reverting). Checks
    the claim first. Nothing to destroy when the destination is the
    source. Re-run: not an error. Revert: the migration waits again
    (finished) so that the revert can be asked again; a destroyed guest
    is not brought back, and a confirm then refuses (no guest on the
    destination)."""

    persisted_name = 'flows.tasks.resize.DestroyOnDestination'

    def revert(self, context, instance_uuid, task_id, params, **kwargs):
        back_to_finished(params[keys.MIGRATION_UUID],
                         states.MIGRATION_REVERTING)

    def execute(self, context, instance_uuid, task_id, params):
        instance = self.load_instance(instance_uuid, task_id)
        migration = migration_records.get(params[keys.MIGRATION_UUID])
        migration_records.set_status(
            migration['uuid'], states.MIGRATION_REVERTING,
            from_statuses=[states.MIGRATION_FINISHED])
        if migration['dest_compute'] != migration['source_compute']:
            base.compute_api().destroy(
                self.context(context), migration['dest_compute'],
                compute_rpcapi.instance_payload(instance))


class RestoreOnSource(base.InstanceTask):
    """The guest kept on the source is in use again with the old flavor,
    started if the server ran on the destination. Re-run: converges."""

    persisted_name = 'flows.tasks.resize.RestoreOnSource'

    default_provides = keys.POWER_STATE

    def execute(self, context, instance_uuid, task_id, params):
        instance = self.load_instance(instance_uuid, task_id)
        migration = migration_records.get(params[keys.MIGRATION_UUID])
        return base.compute_api().finish_revert_migration(
            self.context(context), migration['source_compute'],
            with_flavor(instance, migration['old_flavor']),
            migration['uuid'],
            instance['power_state'] == states.RUNNING)


class FinishRevert(base.InstanceTask):
    """The migration's allocation released; the instance back on the
    source with the old flavor, vm_state active or stopped as its guest
    is; the migration reverted before the task ends. Checks the claim
    first: a lost claim raises Preempted before anything is written.
    Re-run: converges."""

    persisted_name = 'flows.tasks.resize.FinishRevert'

    def execute(self, context, instance_uuid, task_id, params,
                power_state):
        self.check_claim(instance_uuid, task_id)
        migration = migration_records.get(params[keys.MIGRATION_UUID])
        allocations.release(migration['uuid'])
        vm_state = (states.ACTIVE if power_state == states.RUNNING
                    else states.STOPPED)
        source = migration['source_compute']
        migration_records.set_status(
            migration['uuid'], states.MIGRATION_REVERTED,
            from_statuses=[states.MIGRATION_REVERTING])
        self.update_instance(
            instance_uuid, task_id, action=state_machine.REVERT_RESIZE,
            host=source, node=source, vm_state=vm_state, task_state=None,
            power_state=power_state,
            **flavor_values(migration['old_flavor']))
