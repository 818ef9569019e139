"""A server's encrypted password, kept in its system_metadata as Nova
keeps it: the text cut into chunks under ``password_0``,
``password_1``, ... (Nova's four keys of 255 characters each).

In Nova the guest posts the password, encrypted with the server's
public key, to the metadata service, which stores it here. This
deployment runs no metadata service, so nothing ever stores one: the
read finds none and the clear finds nothing to remove; both work on
whatever an operator or a later metadata service puts there.
"""

import re

import sqlalchemy as sa

from orchestrator import exception
from orchestrator.db import models
from orchestrator.db import session

_CHUNK_KEY = re.compile(r'^password_(\d+)$')


def _chunk_keys(system_metadata):
    """The password's keys in ``system_metadata``, in chunk order."""
    found = [(int(m.group(1)), key) for key, m in (
        (key, _CHUNK_KEY.match(key)) for key in system_metadata or {}) if m]
    return [key for _index, key in sorted(found)]


def read(instance):
    """The password of ``instance`` (an instance dict), '' when none is
    kept."""
    system_metadata = instance.get('system_metadata') or {}
    return ''.join(str(system_metadata[key] or '')
                   for key in _chunk_keys(system_metadata))


def clear(instance_uuid, project_id=None):
    """Remove the password of a live instance. Idempotent: nothing to
    remove is no error. No claim: the password is no state a flow reads
    or writes.

    :param project_id: when given, an instance of another project is
        not found.
    :raises InstanceNotFound: no such live instance (in the project).
    """
    where = [models.Instance.uuid == instance_uuid,
             models.Instance.deleted == 0]
    if project_id is not None:
        where.append(models.Instance.project_id == project_id)
    with session.writer() as s:
        # Locked until the write: a flow changing another key of the
        # same system_metadata meanwhile must not be overwritten.
        row = s.execute(sa.select(models.Instance.id,
                                  models.Instance.system_metadata)
                        .where(*where).with_for_update()).one_or_none()
        if row is None:
            raise exception.InstanceNotFound(instance_id=instance_uuid)
        system_metadata = dict(row.system_metadata or {})
        keys = _chunk_keys(system_metadata)
        if not keys:
            return
        kept = {k: v for k, v in system_metadata.items() if k not in keys}
        s.execute(sa.update(models.Instance)
                  .where(models.Instance.id == row.id)
                  .values(system_metadata=kept or None)
                  .execution_options(synchronize_session=False))
