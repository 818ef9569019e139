"""Services (daemons kept alive by heartbeats) and compute nodes.

A service is up while its last heartbeat is younger than
``[DEFAULT] service_down_time_s`` and it is not forced down.
"""

import datetime
import uuid as uuidlib

import sqlalchemy as sa

from orchestrator import exception
from orchestrator import states
from orchestrator.db import aggregates
from orchestrator.db import models
from orchestrator.db import session


def heartbeat(host, binary, topic=None, zone=None):
    """Record a heartbeat of ``binary`` on ``host`` (creates the service).

    ``zone``, when given, is the availability zone the service reports
    (kept as it is when None; a new service starts in 'nova'); the zone
    of the host's aggregates, when one has one, wins over it (see
    :mod:`orchestrator.db.aggregates`).
    """
    now = models.utcnow()
    with session.writer() as s:
        row = s.execute(sa.select(models.Service).where(
            models.Service.host == host,
            models.Service.binary == binary)).scalar_one_or_none()
        if row is None:
            row = models.Service(uuid=str(uuidlib.uuid4()), host=host,
                                 binary=binary, topic=topic,
                                 zone=zone or aggregates.DEFAULT_ZONE,
                                 reported_zone=zone,
                                 last_seen_at=now, report_count=1)
            s.add(row)
            s.flush()
            aggregates.resolve_zones_in(s, [host])
        else:
            row.last_seen_at = now
            row.report_count = row.report_count + 1
            if zone is not None and row.reported_zone != zone:
                row.reported_zone = zone
                s.flush()
                aggregates.resolve_zones_in(s, [host])
        s.flush()
        return row.as_dict()


def update_compute_node(host, vcpus, memory_mb, local_gb,
                        hypervisor_type='fake'):
    """Create or refresh the compute node of ``host`` with its capacity.

    The generation moves only when the capacity changes, so a heartbeat
    never makes a concurrent claim retry for nothing.
    """
    with session.writer() as s:
        row = s.execute(sa.select(models.ComputeNode).where(
            models.ComputeNode.host == host)).scalar_one_or_none()
        if row is None:
            row = models.ComputeNode(
                uuid=str(uuidlib.uuid4()), host=host,
                hypervisor_hostname=host, hypervisor_type=hypervisor_type,
                vcpus=vcpus, memory_mb=memory_mb, local_gb=local_gb,
                generation=0)
            s.add(row)
        elif (row.vcpus, row.memory_mb, row.local_gb) != (
                vcpus, memory_mb, local_gb):
            row.vcpus, row.memory_mb, row.local_gb = (vcpus, memory_mb,
                                                      local_gb)
            row.generation = row.generation + 1
        s.flush()
        return row.as_dict()


def is_up(service, down_time_s, now=None):
    """True when ``service`` (a dict) heartbeated recently enough."""
    if service.get('forced_down'):
        return False
    seen = service.get('last_seen_at') or service.get('updated_at')
    if seen is None:
        return False
    now = now or models.utcnow()
    return now - seen <= datetime.timedelta(seconds=down_time_s)


def host_is_up(host, binary='orchestrator-compute', conf=None):
    """True when the ``binary`` service of ``host`` heartbeated within
    ``[DEFAULT] service_down_time_s``; False when it did not or is not
    known."""
    from oslo_config import cfg
    conf = conf or cfg.CONF
    found = list_services(binary=binary, host=host)
    return bool(found) and is_up(found[0], conf.service_down_time_s)


def list_services(binary=None, host=None):
    q = sa.select(*_SERVICE_COLUMNS).order_by(models.Service.id)
    if binary is not None:
        q = q.where(models.Service.binary == binary)
    if host is not None:
        q = q.where(models.Service.host == host)
    with session.reader() as s:
        return [dict(row._mapping) for row in s.execute(q)]


_SERVICE_COLUMNS = models.attribute_columns(models.Service)


def list_compute_nodes():
    with session.reader() as s:
        q = sa.select(models.ComputeNode).order_by(models.ComputeNode.id)
        return [r.as_dict() for r in s.execute(q).scalars()]


def get_compute_node(host):
    with session.reader() as s:
        row = s.execute(sa.select(models.ComputeNode).where(
            models.ComputeNode.host == host)).scalar_one_or_none()
        if row is None:
            raise exception.HostNotFound(host=host)
        return row.as_dict()


def set_service_disabled(host, binary, disabled, reason=None):
    with session.writer() as s:
        row = s.execute(sa.select(models.Service).where(
            models.Service.host == host,
            models.Service.binary == binary)).scalar_one_or_none()
        if row is None:
            raise exception.HostNotFound(host=host)
        row.disabled = disabled
        row.disabled_reason = reason if disabled else None
        s.flush()
        return row.as_dict()


def get_service(service_id=None, service_uuid=None):
    """One service by its integer id or its uuid.

    :raises NotFound: no such service.
    """
    q = sa.select(*_SERVICE_COLUMNS)
    if service_uuid is not None:
        q = q.where(models.Service.uuid == service_uuid)
    else:
        q = q.where(models.Service.id == service_id)
    with session.reader() as s:
        row = s.execute(q).one_or_none()
    if row is None:
        raise exception.NotFound('Service %s could not be found.'
                                 % (service_uuid or service_id))
    return dict(row._mapping)


def update_service(service_id, values):
    """Set ``values`` (disabled, disabled_reason, forced_down) on the
    service with integer id ``service_id``; returns it as a dict.

    Enabling a service clears its disabled_reason.

    :raises NotFound: the service has gone.
    """
    values = dict(values)
    if values.get('disabled') is False:
        values['disabled_reason'] = None
    with session.writer() as s:
        row = s.get(models.Service, service_id)
        if row is None:
            raise exception.NotFound('Service %s could not be found.'
                                     % service_id)
        for key, value in values.items():
            setattr(row, key, value)
        s.flush()
    return get_service(service_id=service_id)


def delete_service(service_id, compute_binary):
    """Delete a service; for a ``compute_binary`` service, its compute node
    too, refused while the host holds anything.

    The check and the delete are one transaction: an instance or an
    allocation (a boot's or a migration's claim) on the host, or a
    migration in progress to or from it, makes it a Conflict.

    :raises NotFound: no such service.
    :raises Conflict: a compute service whose host is in use.
    """
    with session.writer() as s:
        row = s.get(models.Service, service_id)
        if row is None:
            raise exception.NotFound('Service %s could not be found.'
                                     % service_id)
        if row.binary == compute_binary:
            _check_host_unused(s, row.host)
            node = s.execute(sa.select(models.ComputeNode).where(
                models.ComputeNode.host == row.host)).scalar_one_or_none()
            if node is not None:
                s.delete(node)
            # As Nova: a deleted compute host leaves its aggregates.
            aggregates.forget_host_in(s, row.host)
        s.delete(row)


def _check_host_unused(s, host):
    instances = s.execute(sa.select(sa.func.count()).select_from(
        models.Instance).where(models.Instance.deleted == 0,
                               models.Instance.host == host)).scalar()
    allocations = s.execute(sa.select(sa.func.count()).select_from(
        models.Allocation).where(models.Allocation.host == host)).scalar()
    if instances or allocations:
        raise exception.Conflict(
            'Unable to delete compute service that is hosting instances. '
            'Migrate or delete the instances first.')
    migrations = s.execute(sa.select(sa.func.count()).select_from(
        models.Migration).where(
            sa.or_(models.Migration.source_compute == host,
                   models.Migration.dest_compute == host),
            models.Migration.status.not_in(
                sorted(states.MIGRATION_FINAL_STATUSES)))).scalar()
    if migrations:
        raise exception.Conflict('Unable to delete compute service that '
                                 'has in-progress migrations. Complete the '
                                 'migrations or delete the instances '
                                 'first.')
