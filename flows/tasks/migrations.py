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

import contextlib
import logging

from orchestrator import exception
from orchestrator import states
from orchestrator.db import hosts
from orchestrator.db import migration_records
from orchestrator.scheduler import host_selection

LOG = logging.getLogger(__name__)

#: The store key of the destination host a flow claimed.
DEST_HOST = 'dest_host'

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


def claim_other_host(consumer_uuid, instance, requested_host=None):
    """Claim the instance's resources for ``consumer_uuid`` on a host
    other than the instance's own: ``requested_host`` if given, else the
    scheduler's best choice. Either way the scheduler's filters apply (the
    host's service is up and enabled, the flavor fits).

    Re-run: an allocation the consumer holds already is kept (and its
    host returned); nothing is claimed twice.

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
        host_selection.resources_of(instance), exclude=exclude)
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


@contextlib.contextmanager
def error_if_rollback_fails(migration_uuid):
    """Around a host call of a rollback: if it raises, the rollback
    cannot finish (the flow ends in FAILURE and the audit listener puts
    the instance in error), so the migration ends in error at once
    instead of staying in progress with nobody left to end it. The
    failure goes on up. Re-run: a migration already final keeps its
    status."""
    try:
        yield
    except Exception:
        try:
            current = migration_records.get(migration_uuid)
            if current['status'] not in (states.MIGRATION_FINAL_STATUSES
                                         | states.MIGRATION_WAITING_STATUSES):
                migration_records.set_status(
                    migration_uuid, states.MIGRATION_ERROR,
                    from_statuses={current['status']})
        except Exception:  # noqa: BLE001 - the first failure matters
            LOG.exception('Could not end migration %s in error',
                          migration_uuid)
        raise
