"""Services (daemons kept alive by heartbeats) and compute nodes.

A service is up while its last heartbeat is younger than
``[DEFAULT] service_down_time_s`` and it is not forced down.
"""

import datetime
import uuid as uuidlib

import sqlalchemy as sa

from orchestrator import exception
from orchestrator.db import models
from orchestrator.db import session


def heartbeat(host, binary, topic=None, zone=None):
    """Record a heartbeat of ``binary`` on ``host`` (creates the service).

    ``zone``, when given, is the availability zone the service reports
    (kept as it is when None; a new service starts in 'nova').
    """
    now = models.utcnow()
    with session.writer() as s:
        row = s.execute(sa.select(models.Service).where(
            models.Service.host == host,
            models.Service.binary == binary)).scalar_one_or_none()
        if row is None:
            row = models.Service(uuid=str(uuidlib.uuid4()), host=host,
                                 binary=binary, topic=topic,
                                 zone=zone or 'nova',
                                 last_seen_at=now, report_count=1)
            s.add(row)
        else:
            row.last_seen_at = now
            row.report_count = row.report_count + 1
            if zone is not None and row.zone != zone:
                row.zone = zone
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
