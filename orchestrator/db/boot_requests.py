"""The servers of one create request, accepted together or not at all.

``POST /servers`` may ask for ``min_count`` to ``max_count`` servers
(Nova's multiple create). :func:`accept` inserts them in ONE write
transaction, under the project's quota lock
(:mod:`orchestrator.db.quotas`):

* the quota decides how many: as many as fit between ``min_count`` and
  ``max_count``; fewer than ``min_count`` is a 403 (Nova's
  TooManyInstances message) and nothing is written;
* each instance is inserted in (building, scheduling) with its 'create'
  action, and the action's pending request (what the conductor is asked
  to post, :mod:`orchestrator.db.pending_requests`) is recorded in the
  same transaction: once it commits, every server of the request is
  accepted and a crash before their flows are posted leaves nothing
  lost (:mod:`orchestrator.conductor.accepted` posts them);
* ``claim(s, instance)`` is called for each of the first ``min_count``
  instances, in the transaction: the capacity of all the servers the
  request must have is claimed with them (their boot flows find the
  claim and keep it), and a claim that cannot be made rolls everything
  back.

A host that changed under a claim (ClaimRace: another transaction
claimed on it at the same time, on PostgreSQL or MariaDB) rolls the
transaction back; it is tried again from the start, a few times.
"""

import sqlalchemy as sa

from orchestrator import exception
from orchestrator import state_machine
from orchestrator import states
from orchestrator.db import actions as db_actions
from orchestrator.db import deadlines
from orchestrator.db import instances as db_instances
from orchestrator.db import models
from orchestrator.db import quotas as db_quotas
from orchestrator.db import server_groups

#: Times the whole acceptance starts again after a ClaimRace.
CLAIM_RACE_RETRIES = 5


def _count(check, deltas, min_count, max_count):
    """How many servers of ``deltas`` (one server's {resource: amount})
    the quota allows, at most ``max_count``; TooManyInstances (Nova's
    message: the counts asked for as 'min-max') below ``min_count``."""
    allowed, used, limits = check.headroom(deltas, max_count)
    if allowed >= min_count:
        return allowed
    asked = ('%d' % min_count if min_count == max_count
             else '%d-%d' % (min_count, max_count))
    overs = sorted(r for r, d in deltas.items()
                   if d > 0 and limits[r] != db_quotas.UNLIMITED
                   and used[r] + d * min_count > limits[r])
    raise exception.TooManyInstances(
        overs=', '.join(overs),
        req=', '.join(asked if r == 'instances'
                      else str(deltas[r] * max_count) for r in overs),
        used=', '.join(str(used[r]) for r in overs),
        allowed=', '.join(str(limits[r]) for r in overs))


def _new_row(values):
    values = dict(values)
    values['metadata_'] = values.pop('metadata', None) or {}
    values.update(vm_state=states.BUILDING, task_state=states.SCHEDULING,
                  task_id=db_instances.fresh_task_id(),
                  power_state=states.NOSTATE, progress=0,
                  task_deadline_at=deadlines.deadline_at(states.SCHEDULING))
    return models.Instance(**values)


def accept(values, servers, counts, action_values, quota=None,
           request=None, claim=None, tags=(), server_group=None):
    """Insert the request's servers (see the module's docstring).

    :param values: the column values every server shares (vcpus,
        memory_mb and metadata are read here).
    :param servers: ``servers(count)``, the column values of each of
        ``count`` servers, in launch order (each with its uuid, name and
        launch_index: names depend on how many are made).
    :param counts: (min_count, max_count); fewer than min_count is a 403.
    :param action_values: request_id, user_id, project_id of the request.
    :param quota: the project's :class:`~orchestrator.db.quotas.Quota`
        (None: no quota check).
    :param request: the pending request recorded on every action (a
        JSON-safe dict, :func:`orchestrator.db.pending_requests.
        request_of`), or None.
    :param claim: ``claim(session, instance dict)`` for each of the first
        min_count instances; it raises to refuse the request.
    :param tags: the tags of every server (2.52; duplicates once).
    :param server_group: the uuid of a server group every server joins
        (:func:`orchestrator.db.server_groups.add_member_in`: 403 past
        its ``server_group_members`` quota), or None. Its row is locked
        right after the quota's, before anything is read, so the claims
        see every placement into the group committed before.
    :returns: [(instance dict, action dict)] in launch order.
    :raises TooManyInstances: fewer than min_count fit the quota.
    :raises MetadataLimitExceeded: too many metadata items (403).
    """
    min_count, max_count = counts
    deltas = {'instances': 1, 'cores': values['vcpus'],
              'ram': values['memory_mb']}

    def insert(s, check):
        if server_group is not None:
            server_groups.lock_in(s, server_group)
        check.items('metadata_items', len(values.get('metadata') or {}))
        count = _count(check, deltas, min_count, max_count)
        accepted = []
        for server in servers(count):
            row = _new_row(server)
            s.add(row)
            s.flush()
            for tag in sorted(set(tags)):
                s.add(models.Tag(resource_id=row.uuid, tag=tag))
            if server_group is not None:
                server_groups.add_member_in(s, check.limits, server_group,
                                            row.uuid)
            action = db_actions.start_in(
                s, row.uuid, state_machine.BOOT, task_id=row.task_id,
                **action_values)
            if request is not None:
                s.execute(sa.update(models.InstanceAction).where(
                    models.InstanceAction.id == action['id']).values(
                        pending_request=request))
                action['pending_request'] = request
            accepted.append((db_instances.as_dict(row), action))
        if claim is not None:
            for instance, _action in accepted[:min_count]:
                claim(s, instance)
        return accepted

    for attempt in range(CLAIM_RACE_RETRIES + 1):
        try:
            return db_quotas.transaction(quota, insert)
        except exception.ClaimRace:
            if attempt == CLAIM_RACE_RETRIES:
                raise
