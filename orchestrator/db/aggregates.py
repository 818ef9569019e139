"""Host aggregates (``os-aggregates``) and the availability zone of hosts.

An aggregate's zone is its ``availability_zone`` metadata key (as Nova
keeps it). ``services.zone`` stays the one place every reader takes a
host's zone from (``os-availability-zone``, the servers' ``OS-EXT-AZ``,
the scheduler's zone filter): it is the zone of the host's aggregates
when one has a zone, else the zone the service reports
(``services.reported_zone``). Every change here that can move a host's
zone rewrites ``services.zone`` of that host in the same transaction
(:func:`resolve_zones_in`), and a heartbeat does the same for its host.
"""

import uuid as uuidlib

from oslo_db import exception as db_exc
import sqlalchemy as sa

from orchestrator import exception
from orchestrator.db import models
from orchestrator.db import session

#: The metadata key holding an aggregate's availability zone.
AZ_KEY = 'availability_zone'
#: The zone of a host that reports none and is in no zoned aggregate.
DEFAULT_ZONE = 'nova'


class AggregateNotFound(exception.NotFound):
    msg_fmt = 'Aggregate %(aggregate_id)s could not be found.'


class AggregateNameExists(exception.Conflict):
    msg_fmt = 'Aggregate %(name)s already exists.'


class AggregateHostExists(exception.Conflict):
    msg_fmt = 'Aggregate %(aggregate_id)s already has host %(host)s.'


class AggregateHostNotFound(exception.NotFound):
    msg_fmt = 'Aggregate %(aggregate_id)s has no host %(host)s.'


class ComputeHostNotFound(exception.NotFound):
    msg_fmt = 'Compute host %(host)s could not be found.'


class InvalidAggregateAction(exception.Invalid):
    """A change the aggregate's hosts forbid (a 400)."""

    msg_fmt = ('Cannot %(action)s aggregate %(aggregate_id)s. Reason: '
               '%(reason)s.')


class InvalidAggregateAdd(exception.Conflict):
    """A host whose zone conflicts with the aggregate's (a 409)."""

    msg_fmt = ('Cannot add host to aggregate %(aggregate_id)s. Reason: '
               '%(reason)s.')


def _row_in(s, aggregate_id, lock=False):
    """The aggregate's row; ``lock``: locked for the transaction (every
    change locks it, so two changes of one aggregate go one after the
    other on databases with row locks; SQLite has one writer anyway)."""
    q = sa.select(models.Aggregate).where(models.Aggregate.id == aggregate_id)
    row = s.execute(q.with_for_update() if lock else q).scalar_one_or_none()
    if row is None:
        raise AggregateNotFound(aggregate_id=aggregate_id)
    return row


def _lock_hosts_in(s, hosts):
    """Lock the service rows of ``hosts``: a check of a host's zones and
    the change that follows it are not interleaved with another
    aggregate's change of the same host."""
    if hosts:
        s.execute(sa.select(models.Service.id).where(
            models.Service.host.in_(list(hosts))).order_by(
                models.Service.id).with_for_update()).all()


def _hosts_in(s, aggregate_id):
    return list(s.execute(sa.select(models.AggregateHost.host).where(
        models.AggregateHost.aggregate_id == aggregate_id).order_by(
            models.AggregateHost.id)).scalars())


def _metadata_in(s, aggregate_id):
    return {r.key: r.value for r in s.execute(
        sa.select(models.AggregateMetadata).where(
            models.AggregateMetadata.aggregate_id == aggregate_id)).scalars()}


def _view_in(s, row):
    metadata = _metadata_in(s, row.id)
    return {'id': row.id, 'uuid': row.uuid, 'name': row.name,
            'created_at': row.created_at, 'updated_at': row.updated_at,
            'hosts': _hosts_in(s, row.id), 'metadata': metadata,
            'availability_zone': metadata.get(AZ_KEY)}


def zones_of_hosts_in(s, hosts):
    """{host: {aggregate id: zone}} of the zoned aggregates of ``hosts``."""
    found = {}
    q = sa.select(models.AggregateHost.host, models.AggregateMetadata.
                  aggregate_id, models.AggregateMetadata.value).join(
        models.AggregateMetadata, models.AggregateMetadata.aggregate_id
        == models.AggregateHost.aggregate_id).where(
            models.AggregateMetadata.key == AZ_KEY,
            models.AggregateHost.host.in_(list(hosts)))
    for host, aggregate_id, zone in s.execute(q):
        found.setdefault(host, {})[aggregate_id] = zone
    return found


def resolve_zones_in(s, hosts):
    """Rewrite ``services.zone`` of every service of ``hosts``: the zone of
    the host's zoned aggregates (the one of the lowest id, should they
    differ), else the zone the service reports."""
    hosts = set(hosts)
    if not hosts:
        return
    zoned = zones_of_hosts_in(s, hosts)
    for row in s.execute(sa.select(models.Service).where(
            models.Service.host.in_(hosts))).scalars():
        zones = zoned.get(row.host)
        zone = (zones[min(zones)] if zones
                else row.reported_zone or DEFAULT_ZONE)
        if row.zone != zone:
            row.zone = zone


def _check_zone_in(s, row, zone, action, hosts=None, no_instances=False):
    """400 (409 for an added host) unless ``hosts`` (the aggregate's by
    default) may take ``zone`` as the aggregate's zone (Nova's rules)."""
    exc = InvalidAggregateAdd if action == 'add host' else None

    def refuse(reason):
        if exc is not None:
            raise exc(aggregate_id=row.id, reason=reason)
        raise InvalidAggregateAction(action=action, aggregate_id=row.id,
                                     reason=reason)

    if not zone:
        refuse('Aggregate %s does not support empty named availability '
               'zone' % row.name)
    hosts = _hosts_in(s, row.id) if hosts is None else hosts
    _lock_hosts_in(s, hosts)
    conflicting = sorted({
        other for zones in zones_of_hosts_in(s, hosts).values()
        for agg_id, other in zones.items()
        if agg_id != row.id and other != zone})
    if conflicting:
        refuse('One or more hosts already in availability zone(s) %s'
               % conflicting)
    current = _metadata_in(s, row.id).get(AZ_KEY)
    if no_instances and hosts and current != zone:
        live = s.execute(sa.select(sa.func.count()).select_from(
            models.Instance).where(models.Instance.host.in_(hosts),
                                   sa.not_(models.Instance.deleted))).scalar()
        if live:
            refuse('One or more hosts contain instances in this zone')


def _set_metadata_in(s, row, changes):
    """Apply ``changes`` ({key: value or None to delete})."""
    existing = {r.key: r for r in s.execute(
        sa.select(models.AggregateMetadata).where(
            models.AggregateMetadata.aggregate_id == row.id)).scalars()}
    for key, value in changes.items():
        item = existing.get(key)
        if value is None:
            if item is not None:
                s.delete(item)
        elif item is None:
            s.add(models.AggregateMetadata(aggregate_id=row.id, key=key,
                                           value=value))
        else:
            item.value = value
    row.updated_at = models.utcnow()
    s.flush()


def _name_free_in(s, name, but=None):
    q = sa.select(models.Aggregate.id).where(models.Aggregate.name == name)
    if but is not None:
        q = q.where(models.Aggregate.id != but)
    if s.execute(q).first() is not None:
        raise AggregateNameExists(name=name)


def create(name, availability_zone=None):
    """A new aggregate (no hosts: no zone to resolve); 409 on its name."""
    try:
        with session.writer() as s:
            _name_free_in(s, name)
            row = models.Aggregate(uuid=str(uuidlib.uuid4()), name=name)
            s.add(row)
            s.flush()
            if availability_zone is not None:
                s.add(models.AggregateMetadata(
                    aggregate_id=row.id, key=AZ_KEY,
                    value=availability_zone))
                s.flush()
            return _view_in(s, row)
    except db_exc.DBDuplicateEntry:
        raise AggregateNameExists(name=name) from None


def get(aggregate_id):
    with session.reader() as s:
        return _view_in(s, _row_in(s, aggregate_id))


def list_():
    with session.reader() as s:
        return [_view_in(s, row) for row in s.execute(
            sa.select(models.Aggregate).order_by(
                models.Aggregate.id)).scalars()]


def update(aggregate_id, changes):
    """Rename and/or rezone (``changes``: name, availability_zone)."""
    try:
        with session.writer() as s:
            row = _row_in(s, aggregate_id, lock=True)
            if 'name' in changes:
                _name_free_in(s, changes['name'], but=row.id)
                row.name = changes['name']
            if AZ_KEY in changes:
                _check_zone_in(s, row, changes[AZ_KEY], 'update',
                               no_instances=True)
                _set_metadata_in(s, row, {AZ_KEY: changes[AZ_KEY]})
                resolve_zones_in(s, _hosts_in(s, row.id))
            row.updated_at = models.utcnow()
            s.flush()
            return _view_in(s, row)
    except db_exc.DBDuplicateEntry:
        raise AggregateNameExists(name=changes.get('name')) from None


def set_metadata(aggregate_id, changes):
    """Set (a None value deletes) metadata items; the zone key rezones
    the aggregate's hosts as :func:`update` does."""
    with session.writer() as s:
        row = _row_in(s, aggregate_id, lock=True)
        if AZ_KEY in changes:
            _check_zone_in(s, row, changes[AZ_KEY], 'update metadata',
                           no_instances=True)
        _set_metadata_in(s, row, changes)
        if AZ_KEY in changes:
            resolve_zones_in(s, _hosts_in(s, row.id))
        return _view_in(s, row)


def delete(aggregate_id):
    """Delete an aggregate without hosts (400 while it has some)."""
    with session.writer() as s:
        row = _row_in(s, aggregate_id, lock=True)
        if _hosts_in(s, row.id):
            raise InvalidAggregateAction(
                action='delete', aggregate_id=row.id,
                reason='Host aggregate is not empty')
        s.execute(sa.delete(models.AggregateMetadata).where(
            models.AggregateMetadata.aggregate_id == row.id))
        s.delete(row)


def _compute_host_in(s, host):
    found = s.execute(sa.select(models.Service.id).where(
        models.Service.host == host,
        models.Service.binary.like('%compute%'))).first()
    if found is None:
        raise ComputeHostNotFound(host=host)


def add_host(aggregate_id, host):
    """Add a compute host (404 unknown; 409 already a member or in
    another zone); its zone becomes the aggregate's."""
    try:
        with session.writer() as s:
            row = _row_in(s, aggregate_id, lock=True)
            _compute_host_in(s, host)
            if host in _hosts_in(s, row.id):
                raise AggregateHostExists(aggregate_id=row.id, host=host)
            zone = _metadata_in(s, row.id).get(AZ_KEY)
            if zone is not None:
                _check_zone_in(s, row, zone, 'add host', hosts=[host])
            s.add(models.AggregateHost(aggregate_id=row.id, host=host))
            row.updated_at = models.utcnow()
            s.flush()
            resolve_zones_in(s, [host])
            return _view_in(s, row)
    except db_exc.DBDuplicateEntry:
        raise AggregateHostExists(aggregate_id=aggregate_id,
                                  host=host) from None


def remove_host(aggregate_id, host):
    """Remove a host (404 unknown or not a member); its zone falls back
    to its other aggregates' or the one it reports."""
    with session.writer() as s:
        row = _row_in(s, aggregate_id, lock=True)
        _compute_host_in(s, host)
        member = s.execute(sa.select(models.AggregateHost).where(
            models.AggregateHost.aggregate_id == row.id,
            models.AggregateHost.host == host)).scalar_one_or_none()
        if member is None:
            raise AggregateHostNotFound(aggregate_id=row.id, host=host)
        s.delete(member)
        row.updated_at = models.utcnow()
        s.flush()
        resolve_zones_in(s, [host])
        return _view_in(s, row)


def forget_host_in(s, host):
    """Drop ``host`` from every aggregate (its service is deleted)."""
    s.execute(sa.delete(models.AggregateHost).where(
        models.AggregateHost.host == host))
