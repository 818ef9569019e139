"""Placing an instance on a host and holding its resources there.

:class:`ScheduleInstance` is the retry controller of the boot flow's host
steps: it places the instance, and when a host step fails it places it
again on the next alternate host, up to ``[scheduler] max_attempts``
attempts in all.
"""

import logging

from oslo_config import cfg
from taskflow import retry

from orchestrator import exception
from orchestrator import states
# NOTE: fixes TaskFlow's loading of retry histories from logbooks, which
# ScheduleInstance's resume depends on.
from orchestrator import taskflow_fixes  # noqa: F401
from orchestrator.db import allocations
from orchestrator.db import instances
from orchestrator.scheduler import host_selection

from flows import base
from flows import keys

LOG = logging.getLogger(__name__)

#: Keys of ScheduleInstance's result beside keys.SELECTED_HOST (kept in
#: the retry's history in logbooks: fixed).
ALTERNATES = 'alternates'
ATTEMPT = 'attempt'
#: Characters of each failed attempt's error a give-up message keeps (a
#: fault message holds 255).
_ERROR_CHARS = 60


def _short(text):
    """The first line of an error (a remote one carries the remote
    traceback after it), at most _ERROR_CHARS long."""
    lines = str(text).strip().splitlines() or ['']
    text = ' '.join(lines[0].split())
    if len(text) > _ERROR_CHARS:
        return text[:_ERROR_CHARS - 3] + '...'
    return text


def describe_attempts(history):
    """'1. compute-1: <error>; 2. ...' for the failed attempts in a
    retry's ``history`` (its results and the failures of each)."""
    parts = []
    for number, (outcome, failures) in enumerate(history, start=1):
        host = (outcome or {}).get(keys.SELECTED_HOST, '?')
        failure = base.first_failure(failures)
        error = base.describe_failure(failure)[0]
        parts.append('%d. %s: %s' % (number, host, _short(error)))
    return '; '.join(parts)


class ScheduleInstance(base.InstanceRetry):
    """Place the instance on a host, again on an alternate after a failure.

    The retry controller of the boot flow's host steps (TaskFlow runs it
    before each attempt, with the history of the attempts before).

    * Attempt 1: claims the instance's resources on the best host that
      passes the scheduler's filters, in the zone the instance asked for
      (its ``availability_zone``) and, when ``params`` has a
      ``requested_host``, on that host only; the next best hosts become
      the alternates (``[scheduler] max_attempts`` - 1 of them).
    * Attempt k > 1 (a host step failed and its reverts have undone what
      it did on the failed host): the claims on the hosts tried before are
      released, then the next alternate that still passes the filters and
      has room is claimed (one that filled up or went down meanwhile is
      skipped). With ``max_attempts`` attempts made, or no alternate left,
      it gives up: NoValidHost naming every failed attempt, and the flow
      reverts.

    The instance's host (and task_state scheduling on a reschedule) are
    written under the flow's claim (CAS). Result: ``{selected_host,
    alternates, attempt}``; it provides ``selected_host``.

    Re-run (a crash during execute): claims on hosts tried before are
    released again (a no-op), and a claim already made for this attempt is
    reused, so nothing is claimed twice. on_failure: a preempted flow is
    reverted at once (REVERT_ALL); any other failure of a host step is
    retried (RETRY) and execute decides whether another attempt is
    allowed. Revert: releases every allocation of the instance and clears
    its host if the claim still holds (idempotent).
    """

    persisted_name = 'flows.tasks.scheduling.ScheduleInstance'

    default_provides = frozenset([keys.SELECTED_HOST])

    def execute(self, history, instance_uuid, task_id, params=None):
        attempt = len(history) + 1
        instance = self._load(instance_uuid, task_id)
        tried = [outcome[keys.SELECTED_HOST]
                 for outcome in history.provided_iter()]
        for host in tried:
            allocations.release(instance_uuid, host=host)
        if tried:
            self._check_attempts_left(history)
        held = [a['host'] for a in
                allocations.list_for_instance(instance_uuid)
                if a['consumer_uuid'] == instance_uuid
                and a['host'] not in tried]
        resources = host_selection.resources_of(instance)
        zone = instance['availability_zone']
        if not tried:
            if held:
                host = held[0]
                alternates = host_selection.candidate_hosts(
                    resources, exclude=(host,), availability_zone=zone,
                    requested_host=(params or {}).get('requested_host')
                )[:cfg.CONF.scheduler.max_attempts - 1]
            else:
                allocation, alternates = (
                    host_selection.select_with_alternates(
                        instance_uuid, instance_uuid, resources,
                        availability_zone=zone,
                        requested_host=(params or {}).get(
                            'requested_host')))
                host = allocation['host']
        else:
            remaining = [h for h in history[-1][0][ALTERNATES]
                         if h not in tried]
            host, alternates = self._next_alternate(
                instance_uuid, resources, zone, remaining, held, history)
        values = {'host': host, 'node': host}
        if tried:
            values['task_state'] = states.SCHEDULING
            LOG.info('Rescheduling %s on %s (attempt %d)', instance_uuid,
                     host, attempt)
        instances.cas_update(instance_uuid, task_id, values)
        return {keys.SELECTED_HOST: host, ALTERNATES: alternates,
                ATTEMPT: attempt}

    @staticmethod
    def _load(instance_uuid, task_id):
        instance = instances.get(instance_uuid, read_deleted=True)
        if instance['task_id'] != task_id or instance['deleted']:
            raise exception.Preempted(task_id=task_id,
                                      instance_uuid=instance_uuid)
        return instance

    @staticmethod
    def _check_attempts_left(history):
        limit = cfg.CONF.scheduler.max_attempts
        if len(history) >= limit:
            raise exception.NoValidHost(
                reason='Exceeded the maximum number of build attempts '
                       '([scheduler] max_attempts %d): %s'
                       % (limit, describe_attempts(history)))

    @staticmethod
    def _next_alternate(instance_uuid, resources, zone, remaining, held,
                        history):
        """(host claimed, alternates after it) among ``remaining``."""
        for index, host in enumerate(remaining):
            if host in held or host_selection.claim_alternate(
                    instance_uuid, instance_uuid, host, resources,
                    availability_zone=zone):
                return host, remaining[index + 1:]
            LOG.info('Alternate %s of %s no longer passes the filters',
                     host, instance_uuid)
        raise exception.NoValidHost(
            reason='No alternate host left for attempt %d (%s); failed '
                   'attempts: %s' % (
                       len(history) + 1,
                       'none passes the filters any more' if remaining
                       else 'none was chosen',
                       describe_attempts(history)))

    def on_failure(self, history, *args, **kwargs):
        if history.caused_by(exception.Preempted, index=-1):
            return retry.REVERT_ALL
        return retry.RETRY

    def revert(self, history, instance_uuid, task_id, **kwargs):
        released = allocations.release(instance_uuid)
        if released:
            LOG.info('Released %d allocation(s) of %s', released,
                     instance_uuid)
        try:
            instances.cas_update(instance_uuid, task_id,
                                 {'host': None, 'node': None})
        except exception.Preempted:
            pass


class ReleaseResources(base.InstanceTask):
    """Release every allocation of the instance (delete's last host step):
    its own and its migrations' (a resize waiting in VERIFY_RESIZE holds
    the instance's on the source and the migration's on the destination).

    Idempotent: releasing what is not held does nothing. Revert (the
    delete failed after it, and its instance lives on in error): the
    instance holds its flavor on its host again, as every live instance
    with a host does, until a delete that succeeds; re-run, it finds the
    allocation there and adds nothing. Its migrations' allocations are
    not given back: the delete ended those migrations before
    (:class:`flows.tasks.migrations.EndMigrationsOfDeleted`). Nothing to
    give back when the instance has no host or another task owns it now.
    """

    persisted_name = 'flows.tasks.scheduling.ReleaseResources'

    def execute(self, context, instance_uuid, task_id):
        self.check_claim(instance_uuid, task_id)
        allocations.release_instance(instance_uuid)

    def revert(self, context, instance_uuid, task_id, **kwargs):
        instance = instances.get(instance_uuid, read_deleted=True)
        if (instance['deleted'] or not instance['host']
                or instance['task_id'] != task_id):
            return
        allocations.reinstate(instance_uuid, instance_uuid,
                              instance['host'],
                              host_selection.resources_of(instance))


class ReleaseResourcesOfDeleted(base.InstanceTask):
    """Release every allocation of an instance that is already deleted,
    its migrations' included.

    Used by cleanups after a force delete, which holds no claim: whatever a
    preempted flow may have claimed after the delete is given back.
    """

    persisted_name = 'flows.tasks.scheduling.ReleaseResourcesOfDeleted'

    def execute(self, instance_uuid):
        instance = instances.get(instance_uuid, read_deleted=True)
        if not instance['deleted']:
            raise exception.Conflict(
                reason='instance %s is not deleted' % instance_uuid)
        allocations.release_instance(instance_uuid)
