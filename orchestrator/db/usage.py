"""The instances a usage report covers (os-simple-tenant-usage).

Deleted instances keep their row (``deleted`` set, ``terminated_at``
written when the delete ends), so a report over a past window still
counts the servers that ran in it.
"""

import sqlalchemy as sa

from orchestrator import exception
from orchestrator.db import models
from orchestrator.db import session

#: What a report needs of an instance.
_COLUMNS = (models.Instance.id, models.Instance.uuid,
            models.Instance.display_name, models.Instance.project_id,
            models.Instance.flavor, models.Instance.vcpus,
            models.Instance.memory_mb, models.Instance.root_gb,
            models.Instance.ephemeral_gb, models.Instance.vm_state,
            models.Instance.launched_at, models.Instance.terminated_at,
            models.Instance.created_at)


def active_in_window(start, stop, project_id=None, limit=None, marker=None):
    """Instances, deleted ones included, that ran between ``start`` and
    ``stop``: launched before ``stop`` and not terminated before
    ``start`` (a server never launched has no usage: not listed).

    Oldest first (created_at, id); ``marker`` is the uuid of the last
    instance of the previous page.

    :raises Invalid: the marker names no instance (400).
    """
    inst = models.Instance
    q = (sa.select(*_COLUMNS)
         .where(sa.or_(inst.terminated_at.is_(None),
                       inst.terminated_at > start),
                inst.launched_at < stop)
         .order_by(inst.created_at, inst.id))
    if project_id is not None:
        q = q.where(inst.project_id == project_id)
    with session.reader() as s:
        if marker is not None:
            mark = s.execute(sa.select(inst.created_at, inst.id).where(
                inst.uuid == marker)).one_or_none()
            if mark is None:
                raise exception.Invalid('Marker %s could not be found.'
                                        % marker)
            q = q.where(sa.or_(
                inst.created_at > mark.created_at,
                sa.and_(inst.created_at == mark.created_at,
                        inst.id > mark.id)))
        if limit is not None:
            q = q.limit(limit)
        return [dict(row._mapping) for row in s.execute(q)]
