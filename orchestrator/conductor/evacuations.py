"""The periodic completion of evacuations whose source host came back.

An evacuation rebuilds a server elsewhere while its host is down
(:mod:`flows.evacuate`); it ends ``done``, the migration holding the
source's allocation, and the source's guest left where it was. When the
source's compute service is up again (heartbeat younger than ``[DEFAULT]
service_down_time_s``), this periodic (``[conductor]
evacuation_check_interval_s``) destroys that leftover guest (and its
disks and ports) on the source, releases the migration's allocation, and
completes the migration.

Several conductors may run it at once: destroy and release are
idempotent and the last write is a compare-and-swap from ``done``. Re-run
(a conductor died half way): the same steps converge. A guest of the
instance on its source host is never destroyed when the instance lives
there again.
"""

import logging

from orchestrator import context as orch_context
from orchestrator import states
from orchestrator.compute import rpcapi as compute_rpcapi
from orchestrator.db import allocations
from orchestrator.db import hosts
from orchestrator.db import instances
from orchestrator.db import migration_records
from orchestrator.scheduler import host_selection

LOG = logging.getLogger(__name__)

#: Most evacuations one run completes; the rest wait for the next run.
BATCH_SIZE = 50


def _source_up(host, down_time_s):
    services = hosts.list_services(binary=host_selection.COMPUTE_BINARY,
                                   host=host)
    return any(hosts.is_up(s, down_time_s) for s in services)


def run_once(conf, compute=None):
    """Complete every done evacuation whose source host is up.

    :param compute: the compute RPC client (default: the process's).
    :returns: the uuids of the migrations completed by this run.

    A failure on one evacuation (the source does not answer) is logged
    and leaves it done for the next run; the others go on.
    """
    compute = compute or compute_rpcapi.client()
    done = migration_records.list_(statuses=[states.MIGRATION_DONE],
                                   migration_type='evacuation',
                                   limit=BATCH_SIZE)
    completed = []
    for migration in done:
        source = migration['source_compute']
        if not _source_up(source, conf.service_down_time_s):
            continue
        try:
            if complete(migration, compute):
                completed.append(migration['uuid'])
        except Exception:  # noqa: BLE001 - the next run tries again
            LOG.warning('Completing evacuation %s on %s failed',
                        migration['uuid'], source, exc_info=True)
    return completed


def complete(migration, compute):
    """Destroy the evacuated instance's leftover on the migration's
    source (unless the instance lives there), release the migration's
    allocation and move it from done to completed. Returns True when it
    is completed afterwards (by this call or by another conductor's)."""
    source = migration['source_compute']
    instance = instances.get(migration['instance_uuid'], read_deleted=True)
    if instance['host'] != source or instance['deleted']:
        existed = compute.destroy(orch_context.get_admin_context(), source,
                                  compute_rpcapi.instance_payload(instance))
        LOG.info('Evacuation %s of %s: leftover guest on %s %s',
                 migration['uuid'], instance['uuid'], source,
                 'destroyed' if existed else 'already gone')
    allocations.release(migration['uuid'])
    return migration_records.set_status(
        migration['uuid'], states.MIGRATION_COMPLETED,
        from_statuses={states.MIGRATION_DONE}) is not None
