"""Migration records: one row per resize, cold or live migration or
evacuation of an instance, with its status as the operation goes.

:func:`set_status` is the one writer of a migration's status (a test
fails on any other status write in the code): a compare-and-swap from
the statuses :data:`orchestrator.state_machine.MIGRATION_TRANSITIONS`
allows for the migration's type into the one asked for, narrowed by the
statuses the writer expects (``from_statuses``). A step re-run after a
crash finds the status it already wrote and converges; a write racing
another (an abort, a delete, the auto-confirm periodic) loses cleanly
(None) instead of overwriting; a write the rules do not allow raises
:class:`TransitionRefused`, as the instance CAS does for a vm_state edge
no action names. :func:`update` writes everything but the status.

Statuses are those of :mod:`orchestrator.states` (``MIGRATION_*``);
final ones are :data:`orchestrator.states.MIGRATION_FINAL_STATUSES`.
"""

import uuid as uuidlib

import sqlalchemy as sa

from orchestrator import exception
from orchestrator import state_machine
from orchestrator import states
from orchestrator.db import models
from orchestrator.db import paging
from orchestrator.db import session


class TransitionRefused(ValueError):
    """A status write :data:`orchestrator.state_machine.
    MIGRATION_TRANSITIONS` does not allow (a bug in its writer: nothing
    is written)."""


def _to_dict(row):
    return row.as_dict()


def create(instance_uuid, migration_type, status, source_compute,
           dest_compute=None, old_flavor=None, new_flavor=None,
           project_id=None, user_id=None, migration_uuid=None):
    """Insert a migration record. ``migration_uuid`` makes it idempotent:
    creating the same uuid again returns the existing record unchanged.

    :returns: the record as a dict.
    """
    with session.writer() as s:
        return create_in(s, instance_uuid, migration_type, status,
                         source_compute, dest_compute=dest_compute,
                         old_flavor=old_flavor, new_flavor=new_flavor,
                         project_id=project_id, user_id=user_id,
                         migration_uuid=migration_uuid)


def create_in(s, instance_uuid, migration_type, status, source_compute,
              dest_compute=None, old_flavor=None, new_flavor=None,
              project_id=None, user_id=None, migration_uuid=None):
    """:func:`create` in the caller's transaction ``s`` (a resize's
    claim records its migration in the claim's transaction)."""
    if migration_type not in states.MIGRATION_TYPES:
        raise ValueError('unknown migration type %r' % migration_type)
    if status not in state_machine.migration_statuses(migration_type):
        raise TransitionRefused('a %s migration is never %s'
                                % (migration_type, status))
    migration_uuid = migration_uuid or str(uuidlib.uuid4())
    row = s.execute(sa.select(models.Migration).where(
        models.Migration.uuid == migration_uuid)).scalar_one_or_none()
    if row is None:
        row = models.Migration(
            uuid=migration_uuid, instance_uuid=instance_uuid,
            migration_type=migration_type, status=status,
            source_compute=source_compute, source_node=source_compute,
            dest_compute=dest_compute, dest_node=dest_compute,
            old_flavor=old_flavor, new_flavor=new_flavor,
            project_id=project_id, user_id=user_id)
        s.add(row)
        s.flush()
    return _to_dict(row)


def get(migration_uuid):
    """The record, or MigrationNotFound."""
    with session.reader() as s:
        row = s.execute(sa.select(models.Migration).where(
            models.Migration.uuid == migration_uuid)).scalar_one_or_none()
        if row is None:
            raise exception.MigrationNotFound(migration_id=migration_uuid)
        return _to_dict(row)


def get_by_id(migration_id, instance_uuid=None):
    """The record with integer ``id`` (optionally of that instance), or
    MigrationNotFound."""
    with session.reader() as s:
        q = sa.select(models.Migration).where(
            models.Migration.id == migration_id)
        if instance_uuid is not None:
            q = q.where(models.Migration.instance_uuid == instance_uuid)
        row = s.execute(q).scalar_one_or_none()
        if row is None:
            raise exception.MigrationNotFound(migration_id=migration_id)
        return _to_dict(row)


def update(migration_uuid, from_statuses=None, **values):
    """Write ``values`` (anything but the status: :func:`set_status`
    moves it) if the status is one of ``from_statuses`` (any status when
    None). Returns the record after the write, or None when its status
    was not one of them (nothing written).

    :raises MigrationNotFound: there is no such record.
    :raises TransitionRefused: ``values`` holds a status.
    """
    if 'status' in values:
        raise TransitionRefused('a migration\'s status is written by '
                                'set_status only (the transition rules)')
    with session.writer() as s:
        return _write(s, migration_uuid, from_statuses, values)


def _write(s, migration_uuid, from_statuses, values):
    """The CAS UPDATE of ``values`` on a status in ``from_statuses`` (any
    when None), in ``s``; the record after it, or None if it lost."""
    q = sa.update(models.Migration).where(
        models.Migration.uuid == migration_uuid)
    if from_statuses is not None:
        q = q.where(models.Migration.status.in_(sorted(from_statuses)))
    result = s.execute(q.values(updated_at=models.utcnow(), **values))
    row = s.execute(sa.select(models.Migration).where(
        models.Migration.uuid == migration_uuid)).scalar_one_or_none()
    if row is None:
        raise exception.MigrationNotFound(migration_id=migration_uuid)
    return _to_dict(row) if result.rowcount == 1 else None


def set_status(migration_uuid, status, from_statuses=None, **values):
    """Move the migration to ``status`` (with ``values``, e.g. a live
    migration's last copy numbers), by compare-and-swap on the status it
    is found in.

    * Already in ``status``: no transition; ``values`` are written again
      and the record returned (a step re-run converges).
    * In a status ``from_statuses`` names (any, when None): the move must
      be an edge of :data:`orchestrator.state_machine.
      MIGRATION_TRANSITIONS` for the migration's type, else
      :class:`TransitionRefused` (nothing written). The UPDATE's WHERE
      holds that status, so of two writers racing from it one wins and
      the other finds the new status (and is judged again on it).
    * In any other status: None, nothing written (the write lost: an
      abort, a delete or another task moved it first).

    :raises MigrationNotFound: there is no such record.
    """
    if 'status' in values:
        raise TypeError('the status is the second argument')
    with session.writer() as s:
        while True:
            row = s.execute(sa.select(
                models.Migration.migration_type, models.Migration.status)
                .where(models.Migration.uuid == migration_uuid)).one_or_none()
            if row is None:
                raise exception.MigrationNotFound(migration_id=migration_uuid)
            migration_type, current = row
            if current == status:
                written = _write(s, migration_uuid, {status}, values)
            elif from_statuses is not None and current not in from_statuses:
                return None
            elif not state_machine.migration_may_transition(
                    migration_type, current, status):
                raise TransitionRefused(
                    'a %s migration may not go from %s to %s (migration '
                    '%s)' % (migration_type, current, status,
                             migration_uuid))
            else:
                written = _write(s, migration_uuid, {current},
                                 dict(values, status=status))
            if written is not None:
                return written
            # Moved between the read and the CAS: judge the new status.


def list_(instance_uuid=None, statuses=None, migration_type=None,
          host=None, limit=None, source_compute=None, marker=None,
          changed_since=None, changed_before=None):
    """Records, newest first, filtered by instance, statuses, type, a
    host that is their source or destination, their source, and when
    they last changed (updated_at, else created_at; bounds included).

    :param marker: the uuid of the last record of the previous page
        (MigrationNotFound when there is none such).
    """
    changed_at = sa.func.coalesce(models.Migration.updated_at,
                                  models.Migration.created_at)
    with session.reader() as s:
        q = sa.select(models.Migration)
        if marker is not None:
            q = paging.older_than_marker(
                s, q, models.Migration, [models.Migration.uuid == marker],
                lambda: exception.MigrationNotFound(migration_id=marker))
        if source_compute is not None:
            q = q.where(models.Migration.source_compute == source_compute)
        if changed_since is not None:
            q = q.where(changed_at >= changed_since)
        if changed_before is not None:
            q = q.where(changed_at <= changed_before)
        if instance_uuid is not None:
            q = q.where(models.Migration.instance_uuid == instance_uuid)
        if statuses is not None:
            q = q.where(models.Migration.status.in_(sorted(statuses)))
        if migration_type is not None:
            q = q.where(models.Migration.migration_type == migration_type)
        if host is not None:
            q = q.where(sa.or_(models.Migration.source_compute == host,
                               models.Migration.dest_compute == host))
        q = q.order_by(models.Migration.id.desc())
        if limit is not None:
            q = q.limit(limit)
        return [_to_dict(r) for r in s.execute(q).scalars()]


def in_progress(instance_uuid):
    """The instance's records not in a final status, newest first."""
    return [m for m in list_(instance_uuid=instance_uuid)
            if m['status'] not in states.MIGRATION_FINAL_STATUSES]
