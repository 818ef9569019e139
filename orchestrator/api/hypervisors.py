"""``/v2.1/os-hypervisors`` (admins): compute nodes, capacity and usage
(list, detail, one node by id, and its uptime).

``state`` is the node's compute service heartbeat (up/down), ``status``
whether that service is enabled. Usage is the sum of the allocations on
the host (:func:`orchestrator.db.allocations.usage_by_host`), running_vms
the live instances on it, current_workload those with a task running.
``cpu_info`` is a JSON string before 2.28 and an object from 2.28; paging
(``limit``, ``marker`` = a node id) and ``hypervisors_links`` from 2.33.
"""

import json

from orchestrator import exception
from orchestrator.api import links
from orchestrator.api import query
from orchestrator.api import request as api_request
from orchestrator.db import allocations as db_allocations
from orchestrator.db import hosts as db_hosts
from orchestrator.db import instances as db_instances
from orchestrator.db import models
from orchestrator.policies import infrastructure

_NO_USAGE = {'vcpus': 0, 'memory_mb': 0, 'disk_gb': 0}


def _compute_services():
    return {s['host']: s for s in db_hosts.list_services()
            if 'compute' in s['binary']}


def _state_status(req, service):
    if service is None:
        return 'down', 'disabled'
    up = db_hosts.is_up(service, req.conf.service_down_time_s)
    return ('up' if up else 'down',
            'disabled' if service['disabled'] else 'enabled')


def _basic(req, node, service):
    state, status = _state_status(req, service)
    return {'id': node['id'], 'hypervisor_hostname':
            node['hypervisor_hostname'], 'state': state, 'status': status}


def _cpu_info(req, node):
    info = {'arch': 'x86_64', 'model': node['hypervisor_type'],
            'vendor': node['hypervisor_type'], 'features': [],
            'topology': {'sockets': 1, 'cores': node['vcpus'],
                         'threads': 1}}
    return info if req.at_least(2, 28) else json.dumps(info)


#: The load of a host without instances.
_NO_LOAD = {'instances': 0, 'busy': 0}


def _detail(req, node, service, usage, load):
    body = _basic(req, node, service)
    free_ram = node['memory_mb'] - usage['memory_mb']
    free_disk = node['local_gb'] - usage['disk_gb']
    body.update({
        'vcpus': node['vcpus'],
        'memory_mb': node['memory_mb'],
        'local_gb': node['local_gb'],
        'vcpus_used': usage['vcpus'],
        'memory_mb_used': usage['memory_mb'],
        'local_gb_used': usage['disk_gb'],
        'free_ram_mb': free_ram,
        'free_disk_gb': free_disk,
        'disk_available_least': free_disk,
        'running_vms': load['instances'],
        'current_workload': load['busy'],
        'hypervisor_type': node['hypervisor_type'],
        'hypervisor_version': 1,
        'host_ip': None,
        'cpu_info': _cpu_info(req, node),
        # NOTE(api): a node whose service never registered shows id 0.
        'service': {'host': node['host'],
                    'id': service['id'] if service else 0,
                    'disabled_reason':
                        service['disabled_reason'] if service else None},
    })
    return body


def _nodes(req):
    nodes = db_hosts.list_compute_nodes()
    if not req.at_least(2, 33):
        return nodes, None
    limit = query.limit(req)
    marker = query.one(req, 'marker')
    if marker is not None:
        if not any(str(n['id']) == marker for n in nodes):
            raise exception.Invalid('marker [%s] not found' % marker)
        nodes = [n for n in nodes if n['id'] > int(marker)]
    return nodes[:limit], limit


def _list(req, detailed):
    req.authorize(infrastructure.HYPERVISORS_LIST_DETAIL if detailed
                  else infrastructure.HYPERVISORS_LIST)
    nodes, limit = _nodes(req)
    services = _compute_services()
    usage = db_allocations.usage_by_host() if detailed else {}
    # One grouped query for every host (not a query per host).
    loads = db_instances.load_by_host() if detailed else {}
    items = []
    for node in nodes:
        service = services.get(node['host'])
        if detailed:
            items.append(_detail(req, node, service,
                                 usage.get(node['host'], _NO_USAGE),
                                 loads.get(node['host'], _NO_LOAD)))
        else:
            items.append(_basic(req, node, service))
    body = {'hypervisors': items}
    if limit is not None:
        parts = ('os-hypervisors', 'detail') if detailed else \
            ('os-hypervisors',)
        next_links = query.next_link(req, links.compute_url(req, *parts),
                                     items, limit)
        if next_links:
            body['hypervisors_links'] = next_links
    return api_request.json_response(body)


def index(req):
    """GET /os-hypervisors (200; 403 for non-admins)."""
    return _list(req, detailed=False)


def detail(req):
    """GET /os-hypervisors/detail (200; 403 for non-admins)."""
    return _list(req, detailed=True)


def _node(hypervisor_id):
    for node in db_hosts.list_compute_nodes():
        if str(node['id']) == hypervisor_id:
            return node
    raise exception.NotFound('Hypervisor %s could not be found.'
                             % hypervisor_id)


def show(req, hypervisor_id):
    """GET /os-hypervisors/{id}: one node in detail (200, 404)."""
    req.authorize(infrastructure.HYPERVISORS_SHOW)
    node = _node(hypervisor_id)
    usage = db_allocations.usage_by_host().get(node['host'], _NO_USAGE)
    body = _detail(req, node, _compute_services().get(node['host']), usage,
                   db_instances.load_by_host(node['host']).get(
                       node['host'], _NO_LOAD))
    return api_request.json_response({'hypervisor': body})


def uptime(req, hypervisor_id):
    """GET /os-hypervisors/{id}/uptime (200, 404).

    NOTE(api): a fake host has no ``uptime`` output to relay; this one
    counts from the node's first report, in ``uptime``'s shape.
    """
    req.authorize(infrastructure.HYPERVISORS_UPTIME)
    node = _node(hypervisor_id)
    now = models.utcnow()
    up = now - node['created_at']
    body = _basic(req, node, _compute_services().get(node['host']))
    body['uptime'] = ' %s up %d days, %d:%02d' % (
        now.strftime('%H:%M:%S'), up.days, up.seconds // 3600,
        up.seconds // 60 % 60)
    return api_request.json_response({'hypervisor': body})


def register(router):
    router.add('GET', '/v2.1/os-hypervisors/{hypervisor_id}/uptime', uptime)
    router.add('GET', '/v2.1/os-hypervisors', index)
    router.add('GET', '/v2.1/os-hypervisors/detail', detail)
    router.add('GET', '/v2.1/os-hypervisors/{hypervisor_id}', show)
