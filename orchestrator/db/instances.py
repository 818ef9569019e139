"""Instance rows: creation, the atomic claim, compare-and-swap state writes.

Every function returns plain dicts (never ORM rows). The rules of which
action may start where come from :mod:`orchestrator.state_machine`; this
module only turns them into single conditional UPDATEs:

* :func:`claim` is the API's check-and-claim: one UPDATE ... WHERE
  vm_state IN (...) AND task_state IN (...) that sets task_state and a fresh
  task_id, and the instance action, in one transaction.
* :func:`cas_update` is every later write of a flow: UPDATE ... WHERE
  task_id = <the flow's task_id>; no row means the flow was preempted.
* Every write that sets a task_state also sets ``task_deadline_at``
  (:mod:`orchestrator.db.deadlines`); every write that clears it clears
  the deadline.

A finished task leaves its task_id on the row (task_state NULL): the final
write of a flow can then run again after a crash and find the instance
still its own; only a new claim (a new task_id) or a force delete (task_id
NULL) preempts it.
"""

import uuid as uuidlib

import sqlalchemy as sa

from orchestrator import exception
from orchestrator import state_machine
from orchestrator import states
from orchestrator.db import actions as db_actions
from orchestrator.db import deadlines
from orchestrator.db import models
from orchestrator.db import quotas as db_quotas
from orchestrator.db import server_groups
from orchestrator.db import session


def _to_dict(row):
    values = row.as_dict()
    values['metadata'] = values.pop('metadata_') or {}
    return values


#: Every column of an instance, labelled as its ORM attribute, for reads
#: that need no ORM object (no identity map, no instance state: the API's
#: GET of one server is read about 20 times per operation by waiting
#: clients).
_COLUMNS = models.attribute_columns(models.Instance)


def _row_to_dict(row):
    """:func:`_to_dict` of a row of :data:`_COLUMNS`."""
    values = dict(row._mapping)
    values['metadata'] = values.pop('metadata_') or {}
    return values


def _fresh_task_id():
    return str(uuidlib.uuid4())


def fresh_task_id():
    """A new task_id for a claim."""
    return _fresh_task_id()


def as_dict(row):
    """An instance ORM row as the dict this module returns."""
    return _to_dict(row)


def create(values, action_values, quota=None, server_group=None):
    """Insert a new instance (building, scheduling) and its 'create' action.

    :param values: column values; vm_state/task_state/task_id are set here.
    :param action_values: request_id, user_id, project_id of the request.
    :param quota: the :class:`orchestrator.db.quotas.Quota` of the
        instance's project, or None (no check): the instance is inserted
        only if its metadata items and one more server of its size fit,
        checked in the insert's transaction under the project's lock.
    :param server_group: the uuid of a server group the instance joins
        in the same transaction (under the group's lock and its
        ``server_group_members`` quota, 403 past it), or None.
    :returns: (instance dict, action dict).
    :raises TooManyInstances: over the instances, cores or ram quota (403;
        nothing inserted).
    :raises MetadataLimitExceeded: more metadata items than allowed (403).
    """
    values = dict(values)
    values.setdefault('uuid', str(uuidlib.uuid4()))
    values['metadata_'] = values.pop('metadata', None) or {}
    values.update(vm_state=states.BUILDING, task_state=states.SCHEDULING,
                  task_id=_fresh_task_id(), power_state=states.NOSTATE,
                  progress=0,
                  task_deadline_at=deadlines.deadline_at(states.SCHEDULING))

    def insert(s, check):
        check.items('metadata_items', len(values['metadata_']))
        check.counted({'instances': 1, 'cores': values['vcpus'],
                       'ram': values['memory_mb']})
        row = models.Instance(**values)
        s.add(row)
        s.flush()
        if server_group is not None:
            server_groups.add_member_in(s, check.limits, server_group,
                                        row.uuid)
        action = db_actions.start_in(s, row.uuid, state_machine.BOOT,
                                     task_id=row.task_id, **action_values)
        return _to_dict(row), action
    return db_quotas.transaction(quota, insert)


def get(instance_uuid, project_id=None, read_deleted=False):
    """The instance, or InstanceNotFound.

    :param project_id: when given, an instance of another project is
        reported as not found (never as forbidden: no existence leak).
    :param read_deleted: also return deleted instances.
    """
    q = sa.select(*_COLUMNS).where(models.Instance.uuid == instance_uuid)
    if project_id is not None:
        q = q.where(models.Instance.project_id == project_id)
    if not read_deleted:
        q = q.where(models.Instance.deleted == 0)
    with session.reader() as s:
        row = s.execute(q).one_or_none()
    if row is None:
        raise exception.InstanceNotFound(instance_id=instance_uuid)
    return _row_to_dict(row)


def load_by_host(host=None):
    """{host: {'instances': live instances on it, 'busy': those with a
    task}} in one grouped query (of ``host`` only when given); a host
    without instances is absent."""
    busy = sa.func.sum(sa.case(
        (models.Instance.task_state.is_not(None), 1), else_=0))
    with session.reader() as s:
        q = (sa.select(models.Instance.host, sa.func.count(), busy)
             .where(models.Instance.deleted == 0,
                    models.Instance.host.is_not(None))
             .group_by(models.Instance.host))
        if host is not None:
            q = q.where(models.Instance.host == host)
        return {row[0]: {'instances': row[1], 'busy': int(row[2] or 0)}
                for row in s.execute(q)}


def servers_by_host(hosts=None):
    """{host: [{'name', 'uuid'}, ...]} of the live instances on each host
    (of ``hosts`` only when given), oldest first, in one query; a host
    without instances is absent."""
    q = (sa.select(models.Instance.host, models.Instance.display_name,
                   models.Instance.uuid)
         .where(models.Instance.deleted == 0,
                models.Instance.host.is_not(None))
         .order_by(models.Instance.id))
    if hosts is not None:
        q = q.where(models.Instance.host.in_(list(hosts)))
    found = {}
    with session.reader() as s:
        for host, name, uuid in s.execute(q):
            found.setdefault(host, []).append({'name': name, 'uuid': uuid})
    return found


def summaries(instance_uuids):
    """{uuid: {'display_name', 'project_id', 'deleted'}} of the given
    instances, deleted ones included, in one query per 500 uuids (an
    instance never created or purged is absent)."""
    uuids = sorted(set(u for u in instance_uuids if u))
    found = {}
    with session.reader() as s:
        for start in range(0, len(uuids), 500):
            for uuid, name, project_id, deleted in s.execute(sa.select(
                    models.Instance.uuid, models.Instance.display_name,
                    models.Instance.project_id, models.Instance.deleted)
                    .where(models.Instance.uuid.in_(
                        uuids[start:start + 500]))):
                found[uuid] = {'display_name': name,
                               'project_id': project_id,
                               'deleted': bool(deleted)}
    return found


def live_on_hosts():
    """The live instances that have a host, oldest first, as dicts of
    uuid, display_name, vm_state, task_state, project_id, host (one
    query)."""
    columns = (models.Instance.uuid, models.Instance.display_name,
               models.Instance.vm_state, models.Instance.task_state,
               models.Instance.project_id, models.Instance.host)
    with session.reader() as s:
        rows = s.execute(sa.select(*columns).where(
            models.Instance.deleted == 0,
            models.Instance.host.is_not(None)).order_by(models.Instance.id))
        return [dict(row._mapping) for row in rows]


def list_(project_id=None, read_deleted=False, host=None, limit=None,
          marker=None, filters=None, changed_since=None,
          changed_before=None):
    """Instances, newest first, with ``marker`` paging (a uuid).

    :param filters: exact-match column filters (vm_state, task_state,
        display_name, image_ref, flavor_id, reservation_id).
    :param changed_since: only instances last changed (updated, else
        created) at or after this naive UTC datetime.
    :param changed_before: only those last changed at or before it.
    :raises InstanceNotFound: the marker names no instance.
    """
    with session.reader() as s:
        q = sa.select(models.Instance)
        changed = sa.func.coalesce(models.Instance.updated_at,
                                   models.Instance.created_at)
        if changed_since is not None:
            q = q.where(changed >= changed_since)
        if changed_before is not None:
            q = q.where(changed <= changed_before)
        if project_id is not None:
            q = q.where(models.Instance.project_id == project_id)
        if not read_deleted:
            q = q.where(models.Instance.deleted == 0)
        if host is not None:
            q = q.where(models.Instance.host == host)
        for key, value in (filters or {}).items():
            q = q.where(getattr(models.Instance, key) == value)
        if marker is not None:
            mark = s.execute(sa.select(models.Instance.id).where(
                models.Instance.uuid == marker)).scalar_one_or_none()
            if mark is None:
                raise exception.InstanceNotFound(instance_id=marker)
            q = q.where(models.Instance.id < mark)
        q = q.order_by(models.Instance.id.desc())
        if limit is not None:
            q = q.limit(limit)
        return [_to_dict(r) for r in s.execute(q).scalars()]


def claim(instance_uuid, action_name, action_values, project_id=None,
          quota=None, within=None):
    """Check that ``action_name`` is allowed and claim the instance for it.

    One UPDATE sets task_state, its deadline and a fresh task_id where
    vm_state and task_state are in the action's allowed sets; the
    instance action is recorded in the same transaction. Of two
    concurrent claims exactly one wins; the other gets
    InstanceInvalidState with the reason.

    :param quota: the :class:`orchestrator.db.quotas.Quota` of the
        instance's project: the claim's transaction holds the project's
        lock, and ``within`` checks what the claim asks of it.
    :param within: ``within(session, instance, check)``, run in the
        claim's transaction after the UPDATE (``instance`` the dict after
        it, ``check`` a :class:`orchestrator.db.quotas.Check`): it may
        write more (a resize's migration record) and raise (a quota
        error) to undo the whole claim.

    :returns: (instance dict after the claim, action dict); or
        (instance dict, None) when the action ``joined`` the task running
        (``Action.joins``: a second delete while one runs): nothing was
        written, in the same transaction as the UPDATE that matched
        nothing, so of N concurrent deletes one claims and N-1 join.
    :raises InstanceNotFound: no such (live) instance in the project.
    :raises InstanceInvalidState: the action is not allowed now (409),
        or it needs a host (``Action.needs_host``) and the instance has
        none: ``host IS NOT NULL`` is part of the same UPDATE, so no
        action that acts on a guest is ever claimed for a host-less one.
    """
    action = state_machine.get_action(action_name)
    if action.task_state is None:
        raise ValueError('%s does not claim an instance' % action_name)
    task_id = _fresh_task_id()
    where = [models.Instance.uuid == instance_uuid,
             models.Instance.deleted == 0,
             models.Instance.vm_state.in_(sorted(action.vm_states))]
    if project_id is not None:
        where.append(models.Instance.project_id == project_id)
    if state_machine.ANY_TASK not in action.task_states:
        allowed = sorted(t for t in action.task_states if t is not None)
        cond = models.Instance.task_state.in_(allowed) if allowed else None
        if None in action.task_states:
            none_cond = models.Instance.task_state.is_(None)
            cond = none_cond if cond is None else sa.or_(cond, none_cond)
        where.append(cond)
    if action.needs_host:
        where.append(models.Instance.host.isnot(None))

    def work(s, check):
        result = s.execute(
            sa.update(models.Instance).where(*where).values(
                task_state=action.task_state, task_id=task_id,
                task_deadline_at=deadlines.deadline_at(action.task_state),
                progress=0, updated_at=models.utcnow())
            .execution_options(synchronize_session=False))
        if result.rowcount != 1:
            row = s.execute(sa.select(models.Instance).where(
                models.Instance.uuid == instance_uuid,
                models.Instance.deleted == 0)).scalar_one_or_none()
            if row is None or (project_id is not None
                               and row.project_id != project_id):
                raise exception.InstanceNotFound(instance_id=instance_uuid)
            if action.joined(row.vm_state, row.task_state):
                return _to_dict(row), None
            if (action.allows(row.vm_state, row.task_state)
                    and action.needs_host and row.host is None):
                raise exception.InstanceInvalidState(
                    reason=action.refusal_without_host())
            raise exception.InstanceInvalidState(
                reason=action.refusal(row.vm_state, row.task_state))
        row = s.execute(sa.select(models.Instance).where(
            models.Instance.uuid == instance_uuid)).scalar_one()
        instance = _to_dict(row)
        if within is not None:
            within(s, instance, check)
        act = db_actions.start_in(s, instance_uuid, action_name,
                                  task_id=task_id, **action_values)
        return instance, act
    return db_quotas.transaction(quota, work)


def set_availability_zone_in(s, instance_uuid, zone):
    """In session ``s`` (a claim's transaction: see :func:`claim`'s
    ``within``), set the instance's availability zone (an unshelve to
    another zone, 2.77)."""
    s.execute(sa.update(models.Instance).where(
        models.Instance.uuid == instance_uuid,
        models.Instance.deleted == 0).values(availability_zone=zone)
        .execution_options(synchronize_session=False))


def release_claim(instance_uuid, task_id, fault=None):
    """Give up a claim whose work never started (the job was not posted).

    Clears task_state and task_id if the claim is still ``task_id``'s, so a
    job posted after all finds itself preempted. Returns True if it did.
    """
    with session.writer() as s:
        row = s.execute(sa.select(models.Instance).where(
            models.Instance.uuid == instance_uuid,
            models.Instance.task_id == task_id)).scalar_one_or_none()
        if row is None:
            return False
        values = {'task_state': None, 'task_id': None,
                  'task_deadline_at': None, 'updated_at': models.utcnow()}
        if row.vm_state == states.BUILDING:
            values['vm_state'] = states.ERROR
        s.execute(sa.update(models.Instance).where(
            models.Instance.id == row.id).values(**values))
        if fault is not None:
            s.add(models.InstanceFault(instance_uuid=instance_uuid, code=503,
                                       message=fault[:255], details=fault))
        return True


def check_claim(instance_uuid, task_id):
    """Raise Preempted unless the instance is still claimed by ``task_id``.

    Called before every side effect of a long-running flow.
    """
    with session.reader() as s:
        found = s.execute(sa.select(models.Instance.id).where(
            models.Instance.uuid == instance_uuid,
            models.Instance.task_id == task_id,
            models.Instance.deleted == 0)).scalar_one_or_none()
    if found is None:
        raise exception.Preempted(task_id=task_id,
                                  instance_uuid=instance_uuid)


#: Values of a write that the row's "already written" check ignores.
_BOOKKEEPING = frozenset(['updated_at', 'launched_at'])


def _already(row, values):
    """True when the row already holds every value of the write (the
    bookkeeping timestamps aside)."""
    missing = object()
    return all(getattr(row, key, missing) == value
               for key, value in values.items()
               if key not in _BOOKKEEPING)


def cas_update(instance_uuid, task_id, values, action=None, fault=None):
    """Write ``values`` if the instance is still claimed by ``task_id``.

    A write that changes task_state sets the new one's deadline (clears
    it when task_state becomes None); rewriting the same task_state keeps
    the deadline running.

    :param action: when ``values`` changes vm_state, the action doing it;
        the change must be an edge of the vm_state machine.
    :param fault: (code, message, details) recorded in the same
        transaction, so a client never sees the outcome without its fault.
    :returns: the instance dict after the write.
    :raises Preempted: another task owns the instance (nothing written).
    :raises ValueError: the vm_state change is not an allowed edge.
    """
    values = dict(values)
    values['updated_at'] = models.utcnow()
    with session.writer() as s:
        row = s.execute(sa.select(models.Instance).where(
            models.Instance.uuid == instance_uuid,
            models.Instance.task_id == task_id)).scalar_one_or_none()
        if row is None:
            raise exception.Preempted(task_id=task_id,
                                      instance_uuid=instance_uuid)
        if row.deleted:
            # Our own delete already committed (a re-run after a crash):
            # the same write again is done; any other write is too late.
            if values.get('vm_state') == states.DELETED:
                return _to_dict(row)
            raise exception.Preempted(task_id=task_id,
                                      instance_uuid=instance_uuid)
        if fault is None and _already(row, values):
            # The same write again (a step run again, or run by a
            # conductor that lost its job to one that finished it):
            # nothing changes, not even updated_at.
            return _to_dict(row)
        if ('task_state' in values
                and values['task_state'] != row.task_state):
            # A new task_state starts its own deadline; none clears it.
            values['task_deadline_at'] = deadlines.deadline_at(
                values['task_state'])
        new_vm = values.get('vm_state', row.vm_state)
        if new_vm != row.vm_state and not state_machine.may_transition(
                row.vm_state, new_vm, action or 'fail'):
            raise ValueError('%s may not move an instance from %s to %s'
                             % (action, row.vm_state, new_vm))
        if new_vm == states.DELETED:
            values.setdefault('deleted', row.id)
            values.setdefault('deleted_at', models.utcnow())
            values.setdefault('terminated_at', models.utcnow())
        result = s.execute(sa.update(models.Instance).where(
            models.Instance.id == row.id,
            models.Instance.task_id == task_id).values(**values))
        if result.rowcount != 1:
            raise exception.Preempted(task_id=task_id,
                                      instance_uuid=instance_uuid)
        if new_vm == states.DELETED:
            server_groups.forget_instance_in(s, instance_uuid)
        if fault is not None:
            code, message, details = fault
            s.add(models.InstanceFault(
                instance_uuid=instance_uuid, code=code,
                message=(message or '')[:255], details=details,
                host=row.host))
        s.refresh(row)
        return _to_dict(row)


def set_progress(instance_uuid, task_id, progress):
    """Record progress (0-100) if ``task_id`` still owns the instance and
    its task still runs.

    Returns False (and writes nothing) when it does not: progress reports of
    a preempted task, or of a task that ended (the task_id stays on the
    instance; a late report, e.g. of a host call a conductor that lost its
    job made, must not change a finished server), are dropped.
    """
    with session.writer() as s:
        result = s.execute(sa.update(models.Instance).where(
            models.Instance.uuid == instance_uuid,
            models.Instance.task_id == task_id,
            models.Instance.task_state.is_not(None)).values(
                progress=max(0, min(100, int(progress)))))
        return result.rowcount == 1


def reset_state(instance_uuid, vm_state, action_values):
    """An administrator's decision: vm_state set, any task preempted.

    One transaction: vm_state ``vm_state`` (active or error), task_state
    cleared, a fresh task_id (a running flow's next write finds itself
    preempted), the action recorded and finished.

    :returns: (instance dict after the reset, action dict).
    :raises InstanceNotFound: no such live instance.
    :raises Invalid: ``vm_state`` is not a state a reset may set.
    """
    rules = state_machine.get_action(state_machine.RESET_STATE)
    if vm_state not in rules.results:
        raise exception.Invalid(reason='a reset sets vm_state to one of %s, '
                                       'not %r' % (sorted(rules.results),
                                                   vm_state))
    with session.writer() as s:
        row = s.execute(sa.select(models.Instance).where(
            models.Instance.uuid == instance_uuid,
            models.Instance.deleted == 0)).scalar_one_or_none()
        if row is None:
            raise exception.InstanceNotFound(instance_id=instance_uuid)
        task_id = _fresh_task_id()
        s.execute(sa.update(models.Instance).where(
            models.Instance.id == row.id).values(
                vm_state=vm_state, task_state=None, task_id=task_id,
                task_deadline_at=None, updated_at=models.utcnow()))
        act = db_actions.start_in(s, instance_uuid,
                                  state_machine.RESET_STATE, task_id=task_id,
                                  **action_values)
        db_actions.finish_in(s, act['id'], states.RESULT_SUCCESS)
        s.refresh(row)
        return _to_dict(row), act


def force_delete(instance_uuid, action_values, project_id=None):
    """Delete the instance now, preempting any task (DESIGN section 3).

    One transaction: vm_state deleted, task_state and task_id cleared (the
    running flow's next write finds itself preempted), allocations released,
    the action recorded and finished. Host-side cleanup is the caller's to
    post. Always succeeds while the database is up.

    :returns: the instance dict as it was before the delete (its host).
    :raises InstanceNotFound: no such live instance.
    """
    now = models.utcnow()
    with session.writer() as s:
        q = sa.select(models.Instance).where(
            models.Instance.uuid == instance_uuid,
            models.Instance.deleted == 0)
        if project_id is not None:
            q = q.where(models.Instance.project_id == project_id)
        row = s.execute(q).scalar_one_or_none()
        if row is None:
            raise exception.InstanceNotFound(instance_id=instance_uuid)
        before = _to_dict(row)
        result = s.execute(sa.update(models.Instance).where(
            models.Instance.id == row.id, models.Instance.deleted == 0)
            .values(vm_state=states.DELETED, task_state=None, task_id=None,
                    task_deadline_at=None, deleted=row.id, deleted_at=now,
                    terminated_at=now, updated_at=now))
        if result.rowcount != 1:
            raise exception.InstanceNotFound(instance_id=instance_uuid)
        s.execute(sa.delete(models.Allocation).where(
            models.Allocation.instance_uuid == instance_uuid))
        server_groups.forget_instance_in(s, instance_uuid)
        act = db_actions.start_in(s, instance_uuid,
                                  state_machine.FORCE_DELETE, task_id=None,
                                  **action_values)
        db_actions.finish_in(s, act['id'], states.RESULT_SUCCESS)
        return before, act



def deleted_with_system_metadata_key(key, limit=100):
    """Deleted instances whose system_metadata still has ``key`` (oldest
    deletion first, at most ``limit``): what a cleanup of deleted
    instances has left to finish (e.g. a shelved image)."""
    with session.reader() as s:
        q = (sa.select(models.Instance)
             .where(models.Instance.deleted != 0,
                    models.Instance.system_metadata.is_not(None),
                    sa.cast(models.Instance.system_metadata, sa.Text)
                    .contains('"%s"' % key))
             .order_by(models.Instance.deleted_at, models.Instance.id)
             .limit(limit))
        return [i for i in (_to_dict(r) for r in s.execute(q).scalars())
                if key in (i['system_metadata'] or {})]


def drop_system_metadata_keys_of_deleted(instance_uuid, keys):
    """Remove ``keys`` from a deleted instance's system_metadata (once
    what they named is cleaned up). No claim: nothing claims a deleted
    instance. Idempotent; nothing for a live or unknown instance.

    :returns: True when a key was removed.
    """
    with session.writer() as s:
        row = s.execute(sa.select(models.Instance).where(
            models.Instance.uuid == instance_uuid,
            models.Instance.deleted != 0)).scalar_one_or_none()
        if row is None:
            return False
        system_metadata = dict(row.system_metadata or {})
        if not set(keys) & set(system_metadata):
            return False
        kept = {k: v for k, v in system_metadata.items() if k not in keys}
        s.execute(sa.update(models.Instance).where(
            models.Instance.id == row.id, models.Instance.deleted != 0)
            .values(system_metadata=kept or None)
            .execution_options(synchronize_session=False))
        return True


#: Columns the API sets directly, outside any task: what a user names or
#: describes (server update) and the lock flag (lock/unlock). None of them
#: is a state a flow reads or writes.
API_FIELDS = frozenset(['display_name', 'description', 'access_ip_v4',
                        'access_ip_v6', 'locked', 'locked_reason'])


def update_fields(instance_uuid, values, project_id=None, action=None):
    """Set API-owned columns (:data:`API_FIELDS`) of a live instance in
    one UPDATE, whatever task runs (they are not state: no claim).

    :param action: (action name, action values) to record, finished, in
        the same transaction (lock and unlock are audited as in Nova).

    :returns: the instance dict after the update.
    :raises InstanceNotFound: no such live instance (in the project).
    """
    unknown = set(values) - API_FIELDS
    if unknown:
        raise ValueError('not API fields: %s' % sorted(unknown))
    where = [models.Instance.uuid == instance_uuid,
             models.Instance.deleted == 0]
    if project_id is not None:
        where.append(models.Instance.project_id == project_id)
    with session.writer() as s:
        if values:
            result = s.execute(
                sa.update(models.Instance).where(*where)
                .values(updated_at=models.utcnow(), **values)
                .execution_options(synchronize_session=False))
            if result.rowcount != 1:
                raise exception.InstanceNotFound(instance_id=instance_uuid)
        row = s.execute(sa.select(models.Instance).where(*where)
                        ).scalar_one_or_none()
        if row is None:
            raise exception.InstanceNotFound(instance_id=instance_uuid)
        if action is not None:
            name, action_values = action
            act = db_actions.start_in(s, instance_uuid, name, task_id=None,
                                      **action_values)
            db_actions.finish_in(s, act['id'], states.RESULT_SUCCESS)
        return _to_dict(row)


def update_metadata(instance_uuid, change, quota=None, project_id=None,
                    vm_states=None, what='update metadata'):
    """Replace the instance's metadata with ``change(current)`` (a new
    dict) in one transaction: under ``quota`` (a
    :class:`orchestrator.db.quotas.Quota`), whose project lock
    serialises concurrent changes, so two requests never lose each
    other's items and the ``metadata_items`` limit holds (403).

    :param vm_states: when given, the change is refused (409, Nova's
        message) unless the instance is in one of them with no task
        running (Nova's rule for metadata changes).
    :returns: the metadata after the change.
    :raises InstanceNotFound: no such live instance (in the project).
    :raises InstanceInvalidState: not in ``vm_states``, or a task runs.
    :raises MetadataLimitExceeded: more items than the quota allows.
    """
    where = [models.Instance.uuid == instance_uuid,
             models.Instance.deleted == 0]
    if project_id is not None:
        where.append(models.Instance.project_id == project_id)

    def work(s, check):
        row = s.execute(sa.select(models.Instance).where(*where)
                        ).scalar_one_or_none()
        if row is None:
            raise exception.InstanceNotFound(instance_id=instance_uuid)
        if vm_states is not None:
            if row.vm_state not in vm_states:
                raise exception.InstanceInvalidState(
                    reason="Cannot '%s' instance while it is in vm_state "
                           "%s" % (what, row.vm_state))
            if row.task_state is not None:
                raise exception.InstanceInvalidState(
                    reason="Cannot '%s' instance while it is in task_state "
                           "%s" % (what, row.task_state))
        metadata = change(dict(row.metadata_ or {}))
        check.items('metadata_items', len(metadata))
        s.execute(sa.update(models.Instance).where(
            models.Instance.id == row.id).values(
                metadata_=metadata, updated_at=models.utcnow())
            .execution_options(synchronize_session=False))
        return metadata
    return db_quotas.transaction(quota, work)

def add_fault(instance_uuid, code, message, details=None, host=None):
    """Record a fault on the instance (shown as the server's ``fault``)."""
    with session.writer() as s:
        s.add(models.InstanceFault(instance_uuid=instance_uuid, code=code,
                                   message=(message or '')[:255],
                                   details=details, host=host))


def fault_messages(instance_uuid, details):
    """The messages of the instance's faults recorded with exactly
    ``details``, oldest first (a flow's notes keyed by its task)."""
    with session.reader() as s:
        return list(s.execute(sa.select(models.InstanceFault.message).where(
            models.InstanceFault.instance_uuid == instance_uuid,
            models.InstanceFault.details == details)
            .order_by(models.InstanceFault.id)).scalars())


def latest_fault(instance_uuid):
    """The newest fault of the instance as a dict, or None."""
    with session.reader() as s:
        row = s.execute(sa.select(models.InstanceFault).where(
            models.InstanceFault.instance_uuid == instance_uuid)
            .order_by(models.InstanceFault.id.desc()).limit(1)
        ).scalar_one_or_none()
        return row.as_dict() if row is not None else None


def faults_of(instance_uuid, limit=50):
    """The instance's newest ``limit`` faults as dicts, newest first."""
    with session.reader() as s:
        rows = s.execute(sa.select(models.InstanceFault).where(
            models.InstanceFault.instance_uuid == instance_uuid)
            .order_by(models.InstanceFault.id.desc()).limit(limit))
        return [row.as_dict() for row in rows.scalars()]


#: Most instance uuids bound in one IN (...) of :func:`latest_faults`: a
#: page of the default ``[api] max_limit`` (1000) is one query, and the
#: statement stays under SQLite's bound-parameter limit (32766 since 3.32).
FAULTS_PER_QUERY = 1000


def latest_faults(instance_uuids):
    """The newest fault of each instance, for a whole page at once.

    :returns: {instance_uuid: fault dict} with only the instances that have
        a fault; one query per :data:`FAULTS_PER_QUERY` uuids, whatever
        their number of faults.
    """
    uuids = sorted(set(instance_uuids))
    faults = {}
    fault = models.InstanceFault
    with session.reader() as s:
        for start in range(0, len(uuids), FAULTS_PER_QUERY):
            newest = (sa.select(sa.func.max(fault.id))
                      .where(fault.instance_uuid.in_(
                          uuids[start:start + FAULTS_PER_QUERY]))
                      .group_by(fault.instance_uuid))
            for row in s.execute(sa.select(fault).where(
                    fault.id.in_(newest.scalar_subquery()))).scalars():
                faults[row.instance_uuid] = row.as_dict()
    return faults


# -- power-state reconciliation (orchestrator.conductor.power_sync) --------
def _unchanged_without_task(instance):
    """WHERE clauses: the row is still as ``instance`` (a dict read
    before) was, live, with no task running and the same task_id."""
    task_id = instance['task_id']
    return [models.Instance.uuid == instance['uuid'],
            models.Instance.deleted == 0,
            models.Instance.vm_state == instance['vm_state'],
            models.Instance.task_state.is_(None),
            models.Instance.task_id.is_(None) if task_id is None
            else models.Instance.task_id == task_id]


def refresh_power_state(instance, power_state):
    """Record the power state a host reported for ``instance`` (a dict
    read before), if the row is still as read with no task running.

    Not audited: only the hypervisor's view changed. Returns True if the
    row was written; re-run writes the same value again.
    """
    with session.writer() as s:
        result = s.execute(sa.update(models.Instance).where(
            *_unchanged_without_task(instance)).values(
                power_state=power_state, updated_at=models.utcnow())
            .execution_options(synchronize_session=False))
        return result.rowcount == 1


def sync_vm_state(instance, vm_state, power_state, message, action_values,
                  fault=None):
    """Move ``instance`` (a dict read before) to ``vm_state`` because its
    host shows it so: one transaction of a conditional UPDATE (still as
    read, no task running), a ``sync_power_state`` action recorded and
    finished with ``message``, and ``fault`` ((code, message, details))
    if given.

    The row gets a fresh task_id, so a re-run of the final write of the
    task that ran before finds itself preempted instead of undoing the
    correction.

    :returns: (instance dict after, action dict), or None when the row
        changed since it was read (a task claimed it, another correction
        won): nothing is written then, and a re-run writes nothing.
    :raises ValueError: the change is not a ``sync_power_state`` edge of
        the vm_state machine.
    """
    if not state_machine.may_transition(instance['vm_state'], vm_state,
                                        state_machine.SYNC_POWER_STATE):
        raise ValueError('%s may not move an instance from %s to %s'
                         % (state_machine.SYNC_POWER_STATE,
                            instance['vm_state'], vm_state))
    task_id = _fresh_task_id()
    with session.writer() as s:
        result = s.execute(sa.update(models.Instance).where(
            *_unchanged_without_task(instance)).values(
                vm_state=vm_state, power_state=power_state, task_id=task_id,
                updated_at=models.utcnow())
            .execution_options(synchronize_session=False))
        if result.rowcount != 1:
            return None
        act = db_actions.start_in(s, instance['uuid'],
                                  state_machine.SYNC_POWER_STATE,
                                  task_id=task_id, **action_values)
        db_actions.finish_in(s, act['id'], states.RESULT_SUCCESS, message)
        if fault is not None:
            code, fault_message, details = fault
            s.add(models.InstanceFault(
                instance_uuid=instance['uuid'], code=code,
                message=(fault_message or '')[:255], details=details,
                host=instance['host']))
        row = s.execute(sa.select(models.Instance).where(
            models.Instance.uuid == instance['uuid'])).scalar_one()
        return _to_dict(row), act


def claim_for_sync(instance, task_state, action_values):
    """Claim ``instance`` (a dict read before) for a correction on its
    host (e.g. powering a stopped instance's guest off again): if the row
    is still as read with no task running, set ``task_state`` and a fresh
    task_id, and start a ``sync_power_state`` action, in one transaction.
    vm_state does not change.

    :returns: (instance dict after, action dict), or None when the row
        changed since it was read (nothing written; a user action won).
    """
    task_id = _fresh_task_id()
    with session.writer() as s:
        result = s.execute(sa.update(models.Instance).where(
            *_unchanged_without_task(instance)).values(
                task_state=task_state, task_id=task_id, progress=0,
                task_deadline_at=deadlines.deadline_at(task_state),
                updated_at=models.utcnow())
            .execution_options(synchronize_session=False))
        if result.rowcount != 1:
            return None
        act = db_actions.start_in(s, instance['uuid'],
                                  state_machine.SYNC_POWER_STATE,
                                  task_id=task_id, **action_values)
        row = s.execute(sa.select(models.Instance).where(
            models.Instance.uuid == instance['uuid'])).scalar_one()
        return _to_dict(row), act


def finish_sync(instance_uuid, task_id, action_id, values, result, message):
    """End a correction claimed by :func:`claim_for_sync`: write
    ``values`` with task_state cleared if ``task_id`` still owns the live
    instance, and finish the action with ``result`` and ``message`` either
    way (a preempted correction says so in the message), in one
    transaction. An action already finished (the deadline watchdog
    decided first, or a re-run) keeps its first finish.

    :returns: True if the instance was written, False if another task (or
        a delete) took it meanwhile. Re-run: writes the instance values
        again, leaves the action as finished first.
    """
    values = dict(values, task_state=None, task_deadline_at=None,
                  updated_at=models.utcnow())
    with session.writer() as s:
        written = s.execute(sa.update(models.Instance).where(
            models.Instance.uuid == instance_uuid,
            models.Instance.deleted == 0,
            models.Instance.task_id == task_id).values(**values)
            .execution_options(synchronize_session=False)).rowcount == 1
        if not written:
            message = '%s (another task took the instance meanwhile)' % (
                message,)
        db_actions.finish_in(s, action_id, result, message, only_open=True)
        return written


def claim_for_repair(instance_uuid, task_id, task_state, vm_state,
                     action_id, repair_values):
    """An operator repairs a failed flow: the instance is claimed again
    by that flow's ``task_id`` (task_state ``task_state``, vm_state back
    to the one the flow started from), the flow's action is open again
    (its listener finishes it with the new outcome), and a finished
    ``repairFlow`` action records who asked for what. One transaction.

    Refused (InstanceInvalidState) unless the flow's task_id still owns
    the instance and no task runs: nobody took it since.

    :param repair_values: request_id, user_id, project_id, message.
    :returns: the instance dict after the claim.
    """
    now = models.utcnow()
    with session.writer() as s:
        row = s.execute(sa.select(models.Instance).where(
            models.Instance.uuid == instance_uuid)).scalar_one_or_none()
        if row is None:
            raise exception.InstanceNotFound(instance_id=instance_uuid)
        if row.task_id != task_id or row.task_state is not None \
                or row.deleted:
            raise exception.InstanceInvalidState(
                reason='instance %s has moved on since this flow (task '
                       '%s, task_state %s%s); nothing to repair'
                       % (instance_uuid, row.task_id, row.task_state,
                          ', deleted' if row.deleted else ''))
        s.execute(sa.update(models.Instance).where(
            models.Instance.id == row.id,
            models.Instance.task_id == task_id).values(
                task_state=task_state, vm_state=vm_state,
                task_deadline_at=deadlines.deadline_at(task_state),
                updated_at=now))
        s.execute(sa.update(models.InstanceAction).where(
            models.InstanceAction.id == action_id).values(
                finish_time=None, result=None, message=None))
        act = db_actions.start_in(
            s, instance_uuid, 'repairFlow', repair_values['request_id'],
            task_id=task_id, user_id=repair_values.get('user_id'),
            project_id=repair_values.get('project_id'))
        db_actions.finish_in(s, act['id'], states.RESULT_SUCCESS,
                             message=repair_values.get('message'))
        s.refresh(row)
        return _to_dict(row)
