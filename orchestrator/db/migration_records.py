"""Migration records: one row per resize, cold or live migration or
evacuation of an instance, with its status as the operation goes.

The flow that owns the instance's claim is the only writer of its
migration's status, so writes are compare-and-swap on the status the
flow expects (``from_statuses``): a step re-run after a crash finds the
status it already wrote and converges; a write racing another (an abort
signal, the auto-confirm periodic) loses cleanly instead of overwriting.

Statuses are those of :mod:`orchestrator.states` (``MIGRATION_*``);
final ones are :data:`orchestrator.states.MIGRATION_FINAL_STATUSES`.
"""

import uuid as uuidlib

import sqlalchemy as sa

from orchestrator import exception
from orchestrator import states
from orchestrator.db import models
from orchestrator.db import session


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
    """Write ``values`` if the status is one of ``from_statuses`` (any
    status when None). Returns the record after the write, or None when
    its status was not one of them (nothing written).

    :raises MigrationNotFound: there is no such record.
    """
    with session.writer() as s:
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


def set_status(migration_uuid, status, from_statuses=None):
    """Move the record to ``status``. Idempotent: a record already in
    ``status`` is returned as it is. Returns None when it is in a status
    outside ``from_statuses`` (and not ``status``)."""
    allowed = None if from_statuses is None else set(from_statuses) | {
        status}
    return update(migration_uuid, allowed, status=status)


def list_(instance_uuid=None, statuses=None, migration_type=None,
          host=None, limit=None):
    """Records, newest first, filtered by instance, statuses, type and a
    host that is their source or destination."""
    with session.reader() as s:
        q = sa.select(models.Migration)
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
