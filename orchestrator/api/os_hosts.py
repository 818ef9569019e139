"""``/v2.1/os-hosts`` (list) and ``/os-hosts/{host_name}`` (show), Nova's
host API before microversion 2.43, where Nova removed it (404 from 2.43;
clients use os-services and os-hypervisors).

* ``GET /os-hosts[?zone=]``: one entry per service, ``{"host_name",
  "service" (its topic: compute, conductor...), "zone"}``: a compute
  service's availability zone, ``internal`` for the others; ``zone``
  keeps the hosts of that zone (a blank one: every host);
* ``GET /os-hosts/{host_name}``: a compute host's resources, Nova's
  ``(total)`` (the node's), ``(used_now)`` and ``(used_max)`` (the live
  instances on it; this service reserves nothing beyond them) and one
  entry per project with instances there; 404 for a host with no
  compute node.

Administrators only (``os_compute_api:os-hosts:list`` / ``:show``). The
host actions (enable/disable, maintenance, reboot, shutdown, startup)
are not served.
"""

from orchestrator import exception
from orchestrator.api import availability_zones
from orchestrator.api import query
from orchestrator.api import request as api_request
from orchestrator.db import hosts as db_hosts
from orchestrator.db import instances as db_instances
from orchestrator.policies import infrastructure as rules


def _gate(req):
    if req.at_least(2, 43):
        raise exception.NotFound('The resource could not be found.')


def _topic(service):
    return service.get('topic') or service['binary'].rsplit('-', 1)[-1]


def index(req):
    """GET /os-hosts (200)."""
    _gate(req)
    req.authorize(rules.HOSTS_LIST)
    zone = query.one(req, 'zone')
    hosts = []
    for found_zone, services in sorted(availability_zones.zones_of(
            db_hosts.list_services()).items()):
        if zone and zone != found_zone:
            continue
        hosts.extend({'host_name': s['host'], 'service': _topic(s),
                      'zone': found_zone} for s in services)
    return api_request.json_response({'hosts': hosts})


def _resource(host, project, cpu, memory_mb, disk_gb):
    return {'resource': {'host': host, 'project': project, 'cpu': cpu,
                         'memory_mb': memory_mb, 'disk_gb': disk_gb}}


def show(req, host_name):
    """GET /os-hosts/{host_name} (200, 404)."""
    _gate(req)
    req.authorize(rules.HOSTS_SHOW)
    node = db_hosts.get_compute_node(host_name)
    used = {}
    for instance in db_instances.list_(host=host_name):
        totals = used.setdefault(instance['project_id'], [0, 0, 0])
        totals[0] += instance['vcpus'] or 0
        totals[1] += instance['memory_mb'] or 0
        totals[2] += (instance['root_gb'] or 0) + (
            instance['ephemeral_gb'] or 0)
    overall = [sum(t[i] for t in used.values()) for i in range(3)]
    body = [_resource(host_name, '(total)', node['vcpus'],
                      node['memory_mb'], node['local_gb']),
            _resource(host_name, '(used_now)', *overall),
            _resource(host_name, '(used_max)', *overall)]
    body.extend(_resource(host_name, project, *totals)
                for project, totals in sorted(used.items()))
    return api_request.json_response({'host': body})


def register(router):
    router.add('GET', '/v2.1/os-hosts', index)
    router.add('GET', '/v2.1/os-hosts/{host_name}', show)
