"""Allocations: what each consumer holds on each host, claimed atomically.

A claim reads the host's capacity, usage and generation, checks the
request fits (with allocation ratios), then in the same transaction bumps
the generation with ``WHERE generation = <read value>`` and inserts the
allocation. Two claims racing on one host cannot both pass: the loser's
UPDATE matches no row and it retries from a fresh read (ClaimRace), so
usage never exceeds capacity on PostgreSQL, MySQL or SQLite.
"""

import sqlalchemy as sa

from orchestrator import exception
from orchestrator.db import models
from orchestrator.db import session


def _usage_in(s, host):
    row = s.execute(sa.select(
        sa.func.coalesce(sa.func.sum(models.Allocation.vcpus), 0),
        sa.func.coalesce(sa.func.sum(models.Allocation.memory_mb), 0),
        sa.func.coalesce(sa.func.sum(models.Allocation.disk_gb), 0),
    ).where(models.Allocation.host == host)).one()
    return {'vcpus': int(row[0]), 'memory_mb': int(row[1]),
            'disk_gb': int(row[2])}


def usage(host):
    """Sum of the allocations on ``host``."""
    with session.reader() as s:
        return _usage_in(s, host)


def usage_by_host():
    """{host: usage dict} for every host with allocations."""
    with session.reader() as s:
        rows = s.execute(sa.select(
            models.Allocation.host, sa.func.sum(models.Allocation.vcpus),
            sa.func.sum(models.Allocation.memory_mb),
            sa.func.sum(models.Allocation.disk_gb),
        ).group_by(models.Allocation.host)).all()
        return {r[0]: {'vcpus': int(r[1]), 'memory_mb': int(r[2]),
                       'disk_gb': int(r[3])} for r in rows}


def fits(node, used, resources, ratios):
    """True if ``resources`` fit on ``node`` beside ``used``."""
    return (used['vcpus'] + resources['vcpus']
            <= node['vcpus'] * ratios['vcpus']
            and used['memory_mb'] + resources['memory_mb']
            <= node['memory_mb'] * ratios['memory_mb']
            and used['disk_gb'] + resources['disk_gb']
            <= node['local_gb'] * ratios['disk_gb'])


def _held(s, consumer_uuid, host):
    """The consumer's allocation on ``host`` (a dict), or None."""
    row = s.execute(sa.select(models.Allocation).where(
        models.Allocation.consumer_uuid == consumer_uuid,
        models.Allocation.host == host)).scalar_one_or_none()
    return row.as_dict() if row is not None else None


def _insert(s, consumer_uuid, instance_uuid, host, resources):
    row = models.Allocation(
        consumer_uuid=consumer_uuid, instance_uuid=instance_uuid,
        host=host, vcpus=resources['vcpus'],
        memory_mb=resources['memory_mb'], disk_gb=resources['disk_gb'])
    s.add(row)
    s.flush()
    return row.as_dict()


def free_ram_in(s, hosts, ram_ratio):
    """{host: RAM (MB) still free on it, with ``ram_ratio``} for each of
    ``hosts`` that has a compute node, read in the caller's transaction
    ``s`` (so it counts the claims ``s`` made)."""
    nodes = s.execute(sa.select(models.ComputeNode.host,
                                models.ComputeNode.memory_mb).where(
        models.ComputeNode.host.in_(list(hosts)))).all()
    return {host: memory_mb * ram_ratio - _usage_in(s, host)['memory_mb']
            for host, memory_mb in nodes}


def claim(consumer_uuid, instance_uuid, host, resources, ratios,
          guard=None):
    """Allocate ``resources`` on ``host`` for the consumer.

    Idempotent: an allocation the consumer already holds on the host is
    returned as it is (a re-run after a crash claims nothing twice).

    :param guard: ``guard(session, instance_uuid)``, called first in the
        claim's transaction (it may lock what the placement depends on),
        returns None or ``check(host)`` -> None if the host may be
        claimed, else why not (e.g.
        :func:`orchestrator.scheduler.group_policy.guard_in`).
    :returns: the allocation dict, or None when it does not fit.
    :raises ClaimRace: the host changed under us; the caller retries.
    :raises HostNotFound: the host has no compute node.
    :raises HostRefused: the guard refused the host (nothing written).
    """
    with session.writer() as s:
        check = guard(s, instance_uuid) if guard is not None else None
        return claim_in(s, consumer_uuid, instance_uuid, host, resources,
                        ratios, check=check)


def claim_in(s, consumer_uuid, instance_uuid, host, resources, ratios,
             check=None):
    """:func:`claim` in the caller's write transaction ``s`` (a claim
    made together with other writes, all or nothing: a ClaimRace rolls
    the caller's whole transaction back when it is not caught).

    :param check: ``check(host)`` -> None or why the host is refused
        (what :func:`claim`'s guard returns).
    """
    existing = _held(s, consumer_uuid, host)
    if existing is not None:
        return existing
    refusal = check(host) if check is not None else None
    if refusal is not None:
        raise exception.HostRefused(host=host, reason=refusal)
    node = s.execute(sa.select(models.ComputeNode).where(
        models.ComputeNode.host == host)).scalar_one_or_none()
    if node is None:
        raise exception.HostNotFound(host=host)
    node = node.as_dict()
    if not fits(node, _usage_in(s, host), resources, ratios):
        return None
    bumped = s.execute(sa.update(models.ComputeNode).where(
        models.ComputeNode.id == node['id'],
        models.ComputeNode.generation == node['generation']).values(
            generation=node['generation'] + 1))
    if bumped.rowcount != 1:
        raise exception.ClaimRace(host=host)
    return _insert(s, consumer_uuid, instance_uuid, host, resources)


def reinstate(consumer_uuid, instance_uuid, host, resources):
    """Give the consumer back its allocation on ``host`` (the revert of
    a release): no capacity check, since the consumer's resources were
    never really free (its guest may still exist, or its instance does
    and may be rebuilt there); a host that is now over its ratios shows
    so in its usage.

    Idempotent: an allocation the consumer holds on the host already is
    returned as it is. Returns the allocation dict.
    """
    with session.writer() as s:
        existing = _held(s, consumer_uuid, host)
        if existing is not None:
            return existing
        s.execute(sa.update(models.ComputeNode).where(
            models.ComputeNode.host == host).values(
                generation=models.ComputeNode.generation + 1))
        return _insert(s, consumer_uuid, instance_uuid, host, resources)


def release(consumer_uuid, host=None):
    """Drop the consumer's allocations (on ``host`` only, if given).

    Idempotent: releasing what is not held does nothing. Returns how many
    allocations were dropped.
    """
    with session.writer() as s:
        q = sa.delete(models.Allocation).where(
            models.Allocation.consumer_uuid == consumer_uuid)
        if host is not None:
            q = q.where(models.Allocation.host == host)
        return s.execute(q).rowcount


def release_instance(instance_uuid):
    """Drop every allocation of the instance: its own and those of its
    migrations (every allocation carries the instance's uuid, whoever
    its consumer), in one statement. A deleted instance holds nothing.

    Idempotent: releasing what is not held does nothing. Returns how many
    allocations were dropped.
    """
    with session.writer() as s:
        return s.execute(sa.delete(models.Allocation).where(
            models.Allocation.instance_uuid == instance_uuid)).rowcount


def list_for_instance(instance_uuid):
    with session.reader() as s:
        rows = s.execute(sa.select(models.Allocation).where(
            models.Allocation.instance_uuid == instance_uuid)).scalars()
        return [r.as_dict() for r in rows]


def list_all():
    with session.reader() as s:
        rows = s.execute(sa.select(models.Allocation).order_by(
            models.Allocation.id)).scalars()
        return [r.as_dict() for r in rows]


def swap_to_instance(migration_uuid, instance_uuid, release_host):
    """A migration's end: the instance's allocation on ``release_host``
    (the host it left) is dropped and the migration's allocations become
    the instance's, in one transaction.

    Idempotent: run again after it committed, there is nothing of the
    migration left and the instance's old allocation is already gone;
    the instance keeps what it has. Returns the instance's allocations
    afterwards.
    """
    with session.writer() as s:
        moving = s.execute(sa.select(models.Allocation).where(
            models.Allocation.consumer_uuid == migration_uuid)).scalars()
        moving = [r.as_dict() for r in moving]
        if moving:
            s.execute(sa.delete(models.Allocation).where(
                models.Allocation.consumer_uuid == instance_uuid,
                models.Allocation.host == release_host))
            for allocation in moving:
                s.execute(sa.delete(models.Allocation).where(
                    models.Allocation.consumer_uuid == instance_uuid,
                    models.Allocation.host == allocation['host']))
            s.execute(sa.update(models.Allocation).where(
                models.Allocation.consumer_uuid == migration_uuid).values(
                    consumer_uuid=instance_uuid,
                    updated_at=models.utcnow()))
        rows = s.execute(sa.select(models.Allocation).where(
            models.Allocation.consumer_uuid == instance_uuid)).scalars()
        return [r.as_dict() for r in rows]


def evacuated(migration_uuid, instance_uuid, source_host):
    """An evacuation's end, in one transaction: the migration's
    allocations (on the new host) become the instance's, and the
    instance's allocation on ``source_host`` (the host that is down; its
    leftover guest still holds those resources) becomes the migration's,
    until that leftover is destroyed and the migration's allocation
    released.

    Idempotent: run again after it committed, the migration holds only
    the source's allocation and the instance none there, so nothing
    moves. Returns the instance's allocations afterwards.
    """
    with session.writer() as s:
        s.execute(sa.update(models.Allocation).where(
            models.Allocation.consumer_uuid == migration_uuid,
            models.Allocation.host != source_host).values(
                consumer_uuid=instance_uuid, updated_at=models.utcnow()))
        s.execute(sa.update(models.Allocation).where(
            models.Allocation.consumer_uuid == instance_uuid,
            models.Allocation.host == source_host).values(
                consumer_uuid=migration_uuid, updated_at=models.utcnow()))
        rows = s.execute(sa.select(models.Allocation).where(
            models.Allocation.consumer_uuid == instance_uuid)).scalars()
        return [r.as_dict() for r in rows]
