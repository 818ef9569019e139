"""What the flows that move a running server share (live migration,
evacuation): their migration record's status, written by compare-and-swap,
and the claim of the destination.

The flow that owns the instance is the only writer of its migration's
status, except for an administrator's abort, which moves a live
migration to ``cancelled`` from outside (:mod:`orchestrator.api.
migrations`). Each flow step therefore moves the status with a CAS on the
status it expects: a CAS that finds ``cancelled`` stops the flow with
MigrationAborted, and its rollback follows.
"""

import logging

from orchestrator import exception
from orchestrator import states
from orchestrator.db import hosts
from orchestrator.db import migration_records
from orchestrator.scheduler import host_selection

from flows import base
from flows import keys

LOG = logging.getLogger(__name__)

#: The store key of the destination host a flow claimed.
DEST_HOST = keys.DEST_HOST

#: Statuses of a live migration past its point of no return: the guest
#: was handed to the destination, nothing is undone any more.
LIVE_PAST_RETURN = frozenset([states.MIGRATION_POST_MIGRATING,
                              states.MIGRATION_COMPLETED,
                              states.MIGRATION_ERROR])


def advance(migration_uuid, instance_uuid, status, from_statuses):
    """Move the migration to ``status`` if it is in ``from_statuses``
    (or already in ``status``: a re-run converges).

    :returns: the record after the write.
    :raises MigrationAborted: an abort cancelled it meanwhile.
    :raises Conflict: it is in any other status (nothing written).
    """
    done = migration_records.set_status(migration_uuid, status,
                                        from_statuses=from_statuses)
    if done is not None:
        return done
    current = migration_records.get(migration_uuid)
    if current['status'] == states.MIGRATION_CANCELLED:
        raise exception.MigrationAborted(migration_uuid=migration_uuid,
                                         instance_uuid=instance_uuid)
    raise exception.Conflict(
        reason='migration %s is %s, not one of %s; it cannot become %s'
               % (migration_uuid, current['status'],
                  ', '.join(sorted(from_statuses)), status))


def live_past_return(migration_uuid):
    """True once the live migration crossed its point of no return."""
    return migration_records.get(migration_uuid)['status'] in \
        LIVE_PAST_RETURN


def claim_other_host(consumer_uuid, instance, requested_host=None,
                     forced=False):
    """Claim the instance's resources for ``consumer_uuid`` on a host
    other than the instance's own: ``requested_host`` if given, else the
    scheduler's best choice. Either way the scheduler's filters apply (the
    host's service is up and enabled, the flavor fits).

    Re-run: an allocation the consumer holds already is kept (and its
    host returned); nothing is claimed twice.

    With ``forced`` (Nova's ``force`` with a host: live migration 2.30+,
    evacuate 2.29+) the instance's server group does not constrain the
    requested host, as Nova's forced moves skip its scheduler; without
    it the group's hard policy applies as for a boot.

    :returns: the host claimed on.
    :raises NoValidHost: no such host has room, or the requested host is
        the instance's own, unknown, down, disabled or full.
    """
    source = instance['host']
    if requested_host and requested_host == source:
        raise exception.NoValidHost(
            reason="the requested host %s is the instance's own host"
                   % requested_host)
    exclude = (source,)
    if requested_host:
        # NOTE: everything but the requested host is excluded, so the
        # requested host passes the same filters as a scheduled one.
        exclude = tuple(node['host'] for node in hosts.list_compute_nodes()
                        if node['host'] != requested_host)
    allocation = host_selection.select_and_claim(
        consumer_uuid, instance['uuid'],
        host_selection.resources_of(instance), exclude=exclude,
        honour_group=not (forced and requested_host))
    return allocation['host']


def end_on_revert(migration_uuid, flow_failures, past_return):
    """A migration's final status when its flow reverts: ``cancelled``
    when an abort stopped it, ``error`` when it failed past its point of
    no return (``past_return`` lists those statuses), else ``failed``.

    A migration already in a final status (an abort cancelled it first)
    or waiting (an evacuation that committed) keeps it. Re-run: the same
    status again.
    """
    current = migration_records.get(migration_uuid)
    if current['status'] in (states.MIGRATION_FINAL_STATUSES
                             | states.MIGRATION_WAITING_STATUSES):
        return current
    if current['status'] in past_return:
        status = states.MIGRATION_ERROR
    elif any(f.check(exception.MigrationAborted)
             for f in (flow_failures or {}).values()
             if hasattr(f, 'check')):
        status = states.MIGRATION_CANCELLED
    else:
        status = states.MIGRATION_FAILED
    non_final = {current['status']} - states.MIGRATION_FINAL_STATUSES
    return migration_records.set_status(migration_uuid, status,
                                        from_statuses=non_final)


def ended_by_delete(migration):
    """The final status a delete gives a migration of its instance that
    has none yet: ``error`` for a live migration past its point of no
    return (:data:`LIVE_PAST_RETURN`: its guest was handed to the
    destination, and its flow's reverts must go on undoing nothing),
    else ``cancelled``: the migration did not fail, the user's delete
    stopped it (a resize waiting for confirm or revert, an evacuation
    waiting for its source, anything a flow the delete preempted was
    doing), as an abort does; an administrator reading the migration
    list tells the two apart. A flow the delete preempted that ends its
    migration itself first keeps its status (every write is a CAS)."""
    if (migration['migration_type'] == 'live-migration'
            and migration['status'] in LIVE_PAST_RETURN):
        return states.MIGRATION_ERROR
    return states.MIGRATION_CANCELLED


def end_for_delete(instance_uuid):
    """Move every migration of the instance that is not final (in
    progress or waiting) to :func:`ended_by_delete`'s status, each by a
    CAS on the status it was read in (read again and retried when a
    preempted flow moved it meanwhile). Returns {migration uuid: status
    written}. Idempotent: a re-run finds them final."""
    ended = {}
    for migration in migration_records.in_progress(instance_uuid):
        while migration['status'] not in states.MIGRATION_FINAL_STATUSES:
            status = ended_by_delete(migration)
            if migration_records.set_status(
                    migration['uuid'], status,
                    from_statuses={migration['status']}) is not None:
                ended[migration['uuid']] = status
                break
            migration = migration_records.get(migration['uuid'])
    if ended:
        LOG.info('Delete of %s ended its migration(s) %s', instance_uuid,
                 ended)
    return ended


class EndMigrationsOfDeleted(base.InstanceTask):
    """A delete's first step: every migration of the instance that is not
    final is ended (:func:`end_for_delete`), so none waits for ever for a
    confirm, a revert or a source host, and a flow the delete preempted
    sees its migration stopped (a live migration before its point of no
    return rolls its destination back, as after an abort).

    In the delete flow (``task_id`` given) it checks the claim first:
    another task (a reset) that took the instance keeps its migrations.
    In the cleanup after a force delete there is no claim. Re-run: the
    migrations are final already. Revert: nothing; an ended migration is
    not restarted (the delete that failed after it leaves the instance in
    error; a delete asked again finishes the job).
    """

    persisted_name = 'flows.tasks.migrations.EndMigrationsOfDeleted'

    def execute(self, instance_uuid, task_id=None):
        if task_id is not None:
            self.check_claim(instance_uuid, task_id)
        return end_for_delete(instance_uuid)
