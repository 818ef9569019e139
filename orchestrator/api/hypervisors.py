"""``/v2.1/os-hypervisors`` (admins): compute nodes, capacity and usage
(list, detail, one node by id, its uptime, totals, and before 2.53 the
nodes whose name matches a pattern with or without their servers).

``state`` is the node's compute service heartbeat (up/down), ``status``
whether that service is enabled. Usage is the sum of the allocations on
the host (:func:`orchestrator.db.allocations.usage_by_host`), running_vms
the live instances on it, current_workload those with a task running.
``cpu_info`` is a JSON string before 2.28 and an object from 2.28; paging
(``limit``, ``marker`` = a node id) and ``hypervisors_links`` from 2.33.
From 2.53 ids (the node's and its service's) are uuids, the list takes
``hypervisor_hostname_pattern`` (a substring of the name, without paging)
in place of ``/{pattern}/search``, and list, detail and show take
``with_servers`` in place of ``/{pattern}/servers``. Statistics and
uptime are the API of microversions before 2.88, all of ours.
"""

import json

from orchestrator import exception
from orchestrator.api import links
from orchestrator.api import query
from orchestrator.api import request as api_request
from orchestrator.api import validation
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


def _id(req, record):
    """The id clients see: the uuid from 2.53, the integer before."""
    return record['uuid'] if req.at_least(2, 53) else record['id']


def _basic(req, node, service):
    state, status = _state_status(req, service)
    return {'id': _id(req, node), 'hypervisor_hostname':
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
                    'id': _id(req, service) if service else 0,
                    'disabled_reason':
                        service['disabled_reason'] if service else None},
    })
    return body


def _matching(nodes, pattern):
    """The nodes whose name contains ``pattern`` (any case); 404 when
    none does."""
    wanted = pattern.lower()
    found = [n for n in nodes if wanted in n['hypervisor_hostname'].lower()]
    if not found:
        raise exception.NotFound("No hypervisor matching '%s' could be "
                                 "found." % pattern)
    return found


def _nodes(req):
    """(the nodes of the page, the page's limit or None when unpaged)."""
    nodes = db_hosts.list_compute_nodes()
    pattern = (query.one(req, 'hypervisor_hostname_pattern')
               if req.at_least(2, 53) else None)
    if pattern is not None:
        if 'limit' in req.GET or 'marker' in req.GET:
            raise exception.Invalid(
                'Paging over hypervisors with the hypervisor_hostname_'
                'pattern query parameter is not supported.')
        return _matching(nodes, pattern), None
    if not req.at_least(2, 33):
        return nodes, None
    limit = query.limit(req)
    marker = query.one(req, 'marker')
    if marker is not None:
        ids = [str(_id(req, n)) for n in nodes]
        if marker not in ids:
            raise exception.Invalid('marker [%s] not found' % marker)
        nodes = nodes[ids.index(marker) + 1:]
    return nodes[:limit], limit


def _with_servers(req):
    """True when the servers of each node are asked for (2.53)."""
    return req.at_least(2, 53) and query.boolean(req, 'with_servers',
                                                 False)


def _add_servers(req, body, servers):
    # NOTE(api): as Nova, no 'servers' key for a node without servers
    # before 2.75; from 2.75 always (an empty list).
    if servers or req.at_least(2, 75):
        body['servers'] = servers or []


def _list(req, detailed):
    req.authorize(infrastructure.HYPERVISORS_LIST_DETAIL if detailed
                  else infrastructure.HYPERVISORS_LIST)
    with_servers = _with_servers(req)
    nodes, limit = _nodes(req)
    services = _compute_services()
    usage = db_allocations.usage_by_host() if detailed else {}
    # One grouped query for every host (not a query per host).
    loads = db_instances.load_by_host() if detailed else {}
    servers = (db_instances.servers_by_host([n['host'] for n in nodes])
               if with_servers else {})
    items = []
    for node in nodes:
        service = services.get(node['host'])
        if detailed:
            item = _detail(req, node, service,
                           usage.get(node['host'], _NO_USAGE),
                           loads.get(node['host'], _NO_LOAD))
        else:
            item = _basic(req, node, service)
        _add_servers(req, item, servers.get(node['host']))
        items.append(item)
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


def _node(req, hypervisor_id):
    if req.at_least(2, 53) and not validation.is_uuid(hypervisor_id):
        raise exception.Invalid('Invalid uuid %s' % hypervisor_id)
    for node in db_hosts.list_compute_nodes():
        if str(_id(req, node)) == hypervisor_id:
            return node
    raise exception.NotFound('Hypervisor %s could not be found.'
                             % hypervisor_id)


def show(req, hypervisor_id):
    """GET /os-hypervisors/{id}: one node in detail (200, 404)."""
    req.authorize(infrastructure.HYPERVISORS_SHOW)
    with_servers = _with_servers(req)
    node = _node(req, hypervisor_id)
    usage = db_allocations.usage_by_host().get(node['host'], _NO_USAGE)
    body = _detail(req, node, _compute_services().get(node['host']), usage,
                   db_instances.load_by_host(node['host']).get(
                       node['host'], _NO_LOAD))
    if with_servers:
        _add_servers(req, body, db_instances.servers_by_host(
            [node['host']]).get(node['host']))
    return api_request.json_response({'hypervisor': body})


def uptime(req, hypervisor_id):
    """GET /os-hypervisors/{id}/uptime (200, 404).

    NOTE(api): a fake host has no ``uptime`` output to relay; this one
    counts from the node's first report, in ``uptime``'s shape.
    """
    req.authorize(infrastructure.HYPERVISORS_UPTIME)
    node = _node(req, hypervisor_id)
    now = models.utcnow()
    up = now - node['created_at']
    body = _basic(req, node, _compute_services().get(node['host']))
    body['uptime'] = ' %s up %d days, %d:%02d' % (
        now.strftime('%H:%M:%S'), up.days, up.seconds // 3600,
        up.seconds // 60 % 60)
    return api_request.json_response({'hypervisor': body})


def statistics(req):
    """GET /os-hypervisors/statistics: the totals of every node (200)."""
    req.authorize(infrastructure.HYPERVISORS_STATISTICS)
    nodes = db_hosts.list_compute_nodes()
    usage = db_allocations.usage_by_host()
    loads = db_instances.load_by_host()
    totals = dict.fromkeys(
        ('vcpus', 'memory_mb', 'local_gb', 'vcpus_used', 'memory_mb_used',
         'local_gb_used', 'free_ram_mb', 'free_disk_gb', 'current_workload',
         'running_vms', 'disk_available_least'), 0)
    for node in nodes:
        used = usage.get(node['host'], _NO_USAGE)
        load = loads.get(node['host'], _NO_LOAD)
        free_disk = node['local_gb'] - used['disk_gb']
        for key, value in (
                ('vcpus', node['vcpus']), ('memory_mb', node['memory_mb']),
                ('local_gb', node['local_gb']),
                ('vcpus_used', used['vcpus']),
                ('memory_mb_used', used['memory_mb']),
                ('local_gb_used', used['disk_gb']),
                ('free_ram_mb', node['memory_mb'] - used['memory_mb']),
                ('free_disk_gb', free_disk),
                ('disk_available_least', free_disk),
                ('current_workload', load['busy']),
                ('running_vms', load['instances'])):
            totals[key] += value
    totals['count'] = len(nodes)
    return api_request.json_response({'hypervisor_statistics': totals})


def _before_253(req):
    if req.at_least(2, 53):
        raise exception.NotFound('The resource could not be found.')


def search(req, hypervisor_hostname_pattern):
    """GET /os-hypervisors/{pattern}/search before 2.53 (200, 404)."""
    _before_253(req)
    req.authorize(infrastructure.HYPERVISORS_SEARCH)
    services = _compute_services()
    nodes = _matching(db_hosts.list_compute_nodes(),
                      hypervisor_hostname_pattern)
    return api_request.json_response({'hypervisors': [
        _basic(req, n, services.get(n['host'])) for n in nodes]})


def servers(req, hypervisor_hostname_pattern):
    """GET /os-hypervisors/{pattern}/servers before 2.53: the matching
    nodes with their servers (200, 404)."""
    _before_253(req)
    req.authorize(infrastructure.HYPERVISORS_SERVERS)
    services = _compute_services()
    nodes = _matching(db_hosts.list_compute_nodes(),
                      hypervisor_hostname_pattern)
    found = db_instances.servers_by_host([n['host'] for n in nodes])
    items = []
    for node in nodes:
        item = _basic(req, node, services.get(node['host']))
        _add_servers(req, item, found.get(node['host']))
        items.append(item)
    return api_request.json_response({'hypervisors': items})


def register(router):
    router.add('GET', '/v2.1/os-hypervisors/{hypervisor_id}/uptime', uptime)
    router.add('GET', '/v2.1/os-hypervisors/statistics', statistics)
    router.add('GET', '/v2.1/os-hypervisors/{hypervisor_hostname_pattern}'
               '/search', search)
    router.add('GET', '/v2.1/os-hypervisors/{hypervisor_hostname_pattern}'
               '/servers', servers)
    router.add('GET', '/v2.1/os-hypervisors', index)
    router.add('GET', '/v2.1/os-hypervisors/detail', detail)
    router.add('GET', '/v2.1/os-hypervisors/{hypervisor_id}', show)
