"""Server groups (``server_groups``) and their members
(``server_group_members``). Rows leave as dicts.

A group's row is also the lock its placements take: the claim of a
member of a group (:func:`orchestrator.db.allocations.claim`) first locks
the row with :func:`lock_of_member_in` (``SELECT ... FOR UPDATE`` on
PostgreSQL and MariaDB; on SQLite every write transaction starts with
``BEGIN IMMEDIATE`` and holds the database's write lock), then reads
where the other members are (:func:`member_hosts_in`). The lock is the
transaction's first statement, so on MariaDB the reads after it see
every placement committed before it was granted (the first consistent
read, the snapshot, comes after the lock), as on PostgreSQL, whose READ
COMMITTED reads per statement: two claims into one group are checked one
after the other and cannot both pass.

Members are counted while their instance lives: a deleted instance's
membership row is dropped in the delete's transaction
(:func:`forget_instance_in`) and would not count anyway.
"""

import uuid as uuidlib

import sqlalchemy as sa

from orchestrator import exception
from orchestrator.db import models
from orchestrator.db import quotas as db_quotas
from orchestrator.db import session

AFFINITY = 'affinity'
ANTI_AFFINITY = 'anti-affinity'
SOFT_AFFINITY = 'soft-affinity'
SOFT_ANTI_AFFINITY = 'soft-anti-affinity'
#: Policies a placement must obey (the others only weigh hosts).
HARD_POLICIES = frozenset([AFFINITY, ANTI_AFFINITY])
POLICIES = (AFFINITY, ANTI_AFFINITY, SOFT_AFFINITY, SOFT_ANTI_AFFINITY)


class ServerGroupNotFound(exception.NotFound):
    msg_fmt = 'Server group %(group_uuid)s could not be found.'


class ServerGroupLimitExceeded(exception.QuotaError):
    msg_fmt = 'Quota exceeded, too many server groups.'


class ServerGroupMembersLimitExceeded(exception.QuotaError):
    msg_fmt = 'Quota exceeded, too many servers in group'


_GROUP = models.ServerGroup
_MEMBER = models.ServerGroupMember


def _live_members(group_uuids):
    """Select (group uuid, instance uuid) of the live members."""
    return (sa.select(_MEMBER.group_uuid, _MEMBER.instance_uuid)
            .join(models.Instance,
                  models.Instance.uuid == _MEMBER.instance_uuid)
            .where(_MEMBER.group_uuid.in_(group_uuids),
                   models.Instance.deleted == 0)
            .order_by(_MEMBER.id))


def _with_members(s, rows):
    groups = [r.as_dict() for r in rows]
    members = {}
    if groups:
        for group_uuid, instance_uuid in s.execute(
                _live_members([g['uuid'] for g in groups])):
            members.setdefault(group_uuid, []).append(instance_uuid)
    for group in groups:
        group['rules'] = group['rules'] or {}
        group['members'] = members.get(group['uuid'], [])
    return groups


def create(project_id, user_id, name, policy, rules, quota):
    """Insert a group unless the project has its ``server_groups`` quota
    of them already (403), counted under the project's quota lock.

    :param quota: the project's :class:`orchestrator.db.quotas.Quota`.
    :returns: the group dict (with ``members``, empty).
    """
    def insert(s, check):
        limit = check.limits['server_groups']
        if limit != db_quotas.UNLIMITED:
            count = s.execute(sa.select(sa.func.count()).select_from(
                _GROUP).where(_GROUP.project_id == project_id)).scalar_one()
            if count >= limit:
                raise ServerGroupLimitExceeded()
        row = _GROUP(uuid=str(uuidlib.uuid4()), name=name,
                     project_id=project_id, user_id=user_id, policy=policy,
                     rules=rules or {})
        s.add(row)
        s.flush()
        return _with_members(s, [row])[0]
    return quota.run(insert)


def get(group_uuid, project_id=None):
    """The group with its live ``members`` (instance uuids); another
    project's (``project_id`` given) is a ServerGroupNotFound (404)."""
    with session.reader() as s:
        q = sa.select(_GROUP).where(_GROUP.uuid == group_uuid)
        if project_id is not None:
            q = q.where(_GROUP.project_id == project_id)
        row = s.execute(q).scalar_one_or_none()
        if row is None:
            raise ServerGroupNotFound(group_uuid=group_uuid)
        return _with_members(s, [row])[0]


def list_(project_id=None, limit=None, offset=None):
    """Groups (of ``project_id``, or all), oldest first, with members."""
    with session.reader() as s:
        q = sa.select(_GROUP).order_by(_GROUP.id)
        if project_id is not None:
            q = q.where(_GROUP.project_id == project_id)
        if offset:
            q = q.offset(offset)
        if limit is not None:
            q = q.limit(limit)
        return _with_members(s, s.execute(q).scalars())


def count(project_id):
    """How many groups the project has (for /limits)."""
    with session.reader() as s:
        return s.execute(sa.select(sa.func.count()).select_from(
            _GROUP).where(_GROUP.project_id == project_id)).scalar_one()


def delete(group_uuid, project_id=None):
    """Delete the group and its membership rows (members or not, as
    Nova); ServerGroupNotFound (404) if there is none to delete."""
    with session.writer() as s:
        q = sa.delete(_GROUP).where(_GROUP.uuid == group_uuid)
        if project_id is not None:
            q = q.where(_GROUP.project_id == project_id)
        if s.execute(q).rowcount != 1:
            raise ServerGroupNotFound(group_uuid=group_uuid)
        s.execute(sa.delete(_MEMBER).where(_MEMBER.group_uuid == group_uuid))


def lock_in(s, group_uuid):
    """Lock the group's row in ``s``; ServerGroupNotFound (404) if it
    was deleted."""
    group = s.execute(sa.select(_GROUP.id).where(
        _GROUP.uuid == group_uuid).with_for_update()).first()
    if group is None:
        raise ServerGroupNotFound(group_uuid=group_uuid)


def add_member_in(s, limits, group_uuid, instance_uuid):
    """Make the instance (inserted in ``s``, the create's transaction) a
    member of the group, under the group's lock, unless the group has its
    ``server_group_members`` quota of live members already (403).

    :param limits: the project's limits ({resource: limit}).
    :raises ServerGroupNotFound: the group was deleted meanwhile.
    """
    lock_in(s, group_uuid)
    limit = limits.get('server_group_members', db_quotas.UNLIMITED)
    if limit != db_quotas.UNLIMITED:
        members = len(s.execute(_live_members([group_uuid])).all())
        if members >= limit:
            raise ServerGroupMembersLimitExceeded()
    s.add(_MEMBER(group_uuid=group_uuid, instance_uuid=instance_uuid))
    s.flush()


def forget_instance_in(s, instance_uuid):
    """Drop the instance's membership (in ``s``, its delete's
    transaction). Idempotent."""
    s.execute(sa.delete(_MEMBER).where(
        _MEMBER.instance_uuid == instance_uuid))


def _group_of(instance_uuid):
    return sa.select(_GROUP).where(_GROUP.uuid.in_(
        sa.select(_MEMBER.group_uuid).where(
            _MEMBER.instance_uuid == instance_uuid).scalar_subquery()))


def group_of(instance_uuid):
    """The group dict (no members) the instance belongs to, or None."""
    with session.reader() as s:
        row = s.execute(_group_of(instance_uuid)).scalar_one_or_none()
        return None if row is None else _plain(row)


def lock_of_member_in(s, instance_uuid):
    """Lock and return the group (dict, no members) of the instance, or
    None (nothing locked). Call it first in the claim's transaction (see
    the module's docstring)."""
    row = s.execute(_group_of(instance_uuid).with_for_update()
                    ).scalar_one_or_none()
    return None if row is None else _plain(row)


def _plain(row):
    group = row.as_dict()
    group['rules'] = group['rules'] or {}
    return group


def member_hosts_in(s, group_uuid, exclude_instance=None):
    """{host: how many of the group's live members hold resources there}
    (read in ``s``; an instance counts once per host, whether its own
    allocation or a migration's is there; ``exclude_instance`` is left
    out: the one being placed)."""
    q = (sa.select(models.Allocation.host, models.Allocation.instance_uuid)
         .join(_MEMBER, _MEMBER.instance_uuid
               == models.Allocation.instance_uuid)
         .where(_MEMBER.group_uuid == group_uuid))
    if exclude_instance is not None:
        q = q.where(models.Allocation.instance_uuid != exclude_instance)
    counts = {}
    for host, _instance in set(s.execute(q).all()):
        counts[host] = counts.get(host, 0) + 1
    return counts


def member_hosts(group_uuid, exclude_instance=None):
    """:func:`member_hosts_in` in a read transaction of its own."""
    with session.reader() as s:
        return member_hosts_in(s, group_uuid, exclude_instance)


def groups_of(instance_uuids):
    """{instance uuid: [its group's uuid]} for the instances given (an
    instance in no group: [])."""
    out = {uuid: [] for uuid in instance_uuids}
    if not out:
        return out
    with session.reader() as s:
        for group_uuid, instance_uuid in s.execute(
                sa.select(_MEMBER.group_uuid, _MEMBER.instance_uuid).where(
                    _MEMBER.instance_uuid.in_(list(out)))):
            out[instance_uuid].append(group_uuid)
    return out
