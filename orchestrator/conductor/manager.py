"""The conductor's RPC endpoints (topic ``conductor``): thin by design.

Operation starters validate, build the flow's JSON-safe store and post the
job; the work happens in the flow, run by whichever conductor claims it.
Host reports are written straight to the database.
"""

import logging

import oslo_messaging as messaging

from orchestrator.conductor import power_sync
from orchestrator.conductor import rpcapi
from orchestrator.compute import rpcapi as compute_rpcapi
from orchestrator.db import hosts
from orchestrator.db import instances
from orchestrator.db import migration_records

from orchestrator import exception
from orchestrator import states

from flows import boot
from flows import catalog
from flows import cleanup
from flows import delete
from flows import keys

LOG = logging.getLogger(__name__)


def _store(ctxt, instance_uuid, task_id, action_id, **extra):
    """The flow's store; it keeps the vm_state the instance had when it
    was claimed (what an operator's repair of the flow goes back to)."""
    try:
        start_vm_state = instances.get(instance_uuid,
                                       read_deleted=True)['vm_state']
    except exception.InstanceNotFound:
        start_vm_state = None
    return keys.make_store(ctxt.to_dict(), instance_uuid, action_id,
                           task_id=task_id, start_vm_state=start_vm_state,
                           **extra)


class ConductorManager:
    """Endpoints of :class:`orchestrator.conductor.rpcapi.ConductorAPI`."""

    target = messaging.Target(version=rpcapi.VERSION)

    def __init__(self, poster):
        self._poster = poster

    @property
    def poster(self):
        """The :class:`orchestrator.conductor.jobs.JobPoster` it posts
        with."""
        return self._poster

    def build_instance(self, ctxt, instance_uuid, task_id, action_id,
                       params=None):
        return self._poster.post(
            boot, _store(ctxt, instance_uuid, task_id, action_id,
                         params=dict(params or {})),
            task_id)

    def delete_instance(self, ctxt, instance_uuid, task_id, action_id):
        return self._poster.post(
            delete, _store(ctxt, instance_uuid, task_id, action_id),
            task_id)

    def start_action(self, ctxt, operation, instance_uuid, task_id,
                     action_id, params=None):
        flow_module = catalog.STARTED_ACTION_FLOWS.get(operation)
        if flow_module is None:
            raise exception.Invalid(reason='no flow for action %r'
                                           % operation)
        return self._poster.post(
            flow_module,
            _store(ctxt, instance_uuid, task_id, action_id,
                   params=dict(params or {})),
            task_id)

    def cleanup_instance(self, ctxt, instance_uuid, host, action_id):
        store = keys.make_store(ctxt.to_dict(), instance_uuid, action_id,
                                host=host)
        return self._poster.post(cleanup, store,
                                 'force-delete-%s' % action_id)

    def report_heartbeat(self, ctxt, host, binary, resources):
        hosts.heartbeat(host, binary, topic='compute',
                        zone=resources.get('availability_zone'))
        hosts.update_compute_node(
            host, resources['vcpus'], resources['memory_mb'],
            resources['local_gb'],
            resources.get('hypervisor_type', 'fake'))

    def report_progress(self, ctxt, instance_uuid, task_id, progress):
        if not instances.set_progress(instance_uuid, task_id, progress):
            LOG.debug('Dropped progress of %s: task %s no longer owns it',
                      instance_uuid, task_id)

    def report_power_states(self, ctxt, host, power_states):
        """Reconcile the database with what ``host`` sees (a cast, 1.2);
        see :func:`orchestrator.conductor.power_sync.apply_report`."""
        power_sync.apply_report(host, power_states)

    def abort_live_migration(self, ctxt, instance_uuid, migration_uuid):
        """Relay an abort (a cast, 1.4) to the source host of a live
        migration the API cancelled, so its memory copy stops at its next
        step. Does nothing unless the migration is cancelled; a source
        that does not answer is logged (the flow stops at its next
        status change anyway). Re-run: the source records it again."""
        migration = migration_records.get(migration_uuid)
        if (migration['instance_uuid'] != instance_uuid
                or migration['status'] != states.MIGRATION_CANCELLED):
            LOG.info('Not relaying an abort of migration %s (%s)',
                     migration_uuid, migration['status'])
            return
        instance = instances.get(instance_uuid, read_deleted=True)
        try:
            compute_rpcapi.client().live_migration_abort(
                ctxt, migration['source_compute'],
                compute_rpcapi.instance_payload(instance), migration_uuid)
        except Exception as e:  # noqa: BLE001 - the flow stops it anyway
            LOG.warning('Abort of live migration %s not relayed to %s: %s',
                        migration_uuid, migration['source_compute'], e)

    def report_migration_progress(self, ctxt, instance_uuid, task_id,
                                  migration_uuid, memory_total,
                                  memory_processed, memory_remaining):
        """A live migration's copy progress (a cast, 1.4): written into
        the migration while it is running, and as a percentage into the
        instance while ``task_id`` owns it; dropped otherwise."""
        written = migration_records.update(
            migration_uuid, from_statuses={states.MIGRATION_RUNNING},
            memory_total=memory_total, memory_processed=memory_processed,
            memory_remaining=memory_remaining)
        if written is None:
            LOG.debug('Dropped progress of migration %s: not running',
                      migration_uuid)
            return
        percent = (100 * memory_processed // memory_total
                   if memory_total else 100)
        instances.set_progress(instance_uuid, task_id, percent)
