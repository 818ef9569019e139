"""Server tags (``tags``): one row per (instance uuid, tag).

Writes lock the instance's row first (``SELECT ... FOR UPDATE``), so the
per-server limit holds under concurrent adds.
"""

import sqlalchemy as sa

from orchestrator import exception
from orchestrator.db import models
from orchestrator.db import session

#: Nova's limit of tags per server.
MAX_TAGS = 50


class TooManyTags(exception.Invalid):
    msg_fmt = 'The number of tags exceeded the per-server limit %(limit)d'


class TagNotFound(exception.NotFound):
    msg_fmt = "Instance %(instance_id)s has no tag '%(tag)s'"


def _lock(s, instance_uuid):
    if s.execute(sa.select(models.Instance.id).where(
            models.Instance.uuid == instance_uuid,
            models.Instance.deleted == 0).with_for_update()).first() is None:
        raise exception.InstanceNotFound(instance_id=instance_uuid)


def _names(s, instance_uuid):
    return list(s.execute(sa.select(models.Tag.tag).where(
        models.Tag.resource_id == instance_uuid).order_by(models.Tag.tag)
    ).scalars())


def get_all(instance_uuid):
    """The server's tags, sorted."""
    with session.reader() as s:
        return _names(s, instance_uuid)


def for_instances(instance_uuids):
    """{uuid: sorted tags} of many servers in one query (every uuid
    given is a key)."""
    found = {u: [] for u in instance_uuids}
    if not found:
        return found
    with session.reader() as s:
        for uuid, tag in s.execute(
                sa.select(models.Tag.resource_id, models.Tag.tag).where(
                    models.Tag.resource_id.in_(sorted(found))).order_by(
                    models.Tag.tag)):
            found[uuid].append(tag)
    return found


def replace_all(instance_uuid, tags):
    """Make ``tags`` (duplicates once) the server's tags; returns them."""
    wanted = sorted(set(tags))
    if len(wanted) > MAX_TAGS:
        raise TooManyTags(limit=MAX_TAGS)
    with session.writer() as s:
        _lock(s, instance_uuid)
        s.execute(sa.delete(models.Tag).where(
            models.Tag.resource_id == instance_uuid))
        for tag in wanted:
            s.add(models.Tag(resource_id=instance_uuid, tag=tag))
    return wanted


def add(instance_uuid, tag):
    """Add ``tag``; False when the server had it already (400 past the
    limit)."""
    with session.writer() as s:
        _lock(s, instance_uuid)
        names = _names(s, instance_uuid)
        if tag in names:
            return False
        if len(names) >= MAX_TAGS:
            raise TooManyTags(limit=MAX_TAGS)
        s.add(models.Tag(resource_id=instance_uuid, tag=tag))
    return True


def delete(instance_uuid, tag):
    """Remove ``tag`` (TagNotFound if the server has none such)."""
    with session.writer() as s:
        _lock(s, instance_uuid)
        result = s.execute(sa.delete(models.Tag).where(
            models.Tag.resource_id == instance_uuid,
            models.Tag.tag == tag))
        if result.rowcount != 1:
            raise TagNotFound(instance_id=instance_uuid, tag=tag)


def delete_all(instance_uuid):
    with session.writer() as s:
        _lock(s, instance_uuid)
        s.execute(sa.delete(models.Tag).where(
            models.Tag.resource_id == instance_uuid))
