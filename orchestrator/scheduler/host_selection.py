"""Pick hosts for an instance and claim resources on one of them.

Filters: the host's compute service is up (heartbeat younger than
``service_down_time_s``) and enabled, and the request fits its capacity
times the allocation ratios, beside the sum of its allocations. Weigher:
most free RAM first (spreads instances). The claim itself is the atomic
generation-checked insert of :mod:`orchestrator.db.allocations`.
"""

import logging

from oslo_config import cfg

from orchestrator import exception
from orchestrator.db import allocations
from orchestrator.db import hosts

LOG = logging.getLogger(__name__)
COMPUTE_BINARY = 'orchestrator-compute'


def resources_of(instance):
    """The resources an instance (dict) consumes on its host."""
    return {'vcpus': instance['vcpus'], 'memory_mb': instance['memory_mb'],
            'disk_gb': instance['root_gb'] + (instance['ephemeral_gb'] or 0)}


def _ratios(conf):
    return {'vcpus': conf.scheduler.cpu_allocation_ratio,
            'memory_mb': conf.scheduler.ram_allocation_ratio,
            'disk_gb': conf.scheduler.disk_allocation_ratio}


def candidate_hosts(resources, exclude=(), conf=None):
    """Hosts that pass every filter, best first."""
    conf = conf or cfg.CONF
    services = {s['host']: s for s in
                hosts.list_services(binary=COMPUTE_BINARY)}
    usage = allocations.usage_by_host()
    ratios = _ratios(conf)
    empty = {'vcpus': 0, 'memory_mb': 0, 'disk_gb': 0}
    out = []
    for node in hosts.list_compute_nodes():
        service = services.get(node['host'])
        if node['host'] in exclude or service is None:
            continue
        if service['disabled'] or not hosts.is_up(
                service, conf.service_down_time_s):
            continue
        used = usage.get(node['host'], empty)
        if not allocations.fits(node, used, resources, ratios):
            continue
        free_ram = node['memory_mb'] * ratios['memory_mb'] - used[
            'memory_mb']
        out.append((free_ram, node['host']))
    out.sort(key=lambda item: (-item[0], item[1]))
    return [host for _free, host in out]


def select_and_claim(consumer_uuid, instance_uuid, resources, exclude=(),
                     conf=None):
    """Claim ``resources`` on the best host that has room.

    Tries the candidates in order; a host that filled up meanwhile is
    skipped, a claim that raced with another is retried on fresh numbers.

    :returns: the allocation dict (its ``host`` is the chosen host).
    :raises NoValidHost: no host passes the filters or has room.
    """
    conf = conf or cfg.CONF
    ratios = _ratios(conf)
    candidates = candidate_hosts(resources, exclude, conf)
    for host in candidates:
        for _attempt in range(conf.scheduler.claim_retries):
            try:
                allocation = allocations.claim(consumer_uuid, instance_uuid,
                                               host, resources, ratios)
            except exception.ClaimRace:
                continue
            break
        else:
            allocation = None
        if allocation is not None:
            return allocation
        LOG.debug('Host %s has no room left for %s', host, instance_uuid)
    raise exception.NoValidHost(
        reason='%d host(s) considered, none with room for %s'
        % (len(candidates), resources))
