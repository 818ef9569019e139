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

* ``PUT /os-hosts/{host_name}`` ``{"status": "enable"|"disable",
  "maintenance_mode": ...}`` (at least one; 400 otherwise): the status
  enables or disables the host's compute service (as os-services does:
  the scheduler skips a disabled host), ``{"host", "status":
  "enabled"|"disabled"}``; maintenance mode does not exist here (400,
  nothing changed);
* ``GET /os-hosts/{host_name}/startup|shutdown|reboot``: powering hosts
  is not something this service does: 400 for a known host (404 for an
  unknown one).

Administrators only (``os_compute_api:os-hosts:list``, ``:show``,
``:update``, ``:start``, ``:shutdown``, ``:reboot``).
"""

from orchestrator import exception
from orchestrator.api import availability_zones
from orchestrator.api import query
from orchestrator.api import request as api_request
from orchestrator.api import validation
from orchestrator.db import hosts as db_hosts
from orchestrator.db import instances as db_instances
from orchestrator.policies import infrastructure as rules
from orchestrator.scheduler import host_selection


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


_MODE = {'type': 'string', 'enum': ['enable', 'disable', 'Enable',
                                    'Disable', 'ENABLE', 'DISABLE']}
UPDATE = {
    'type': 'object',
    'properties': {'status': _MODE, 'maintenance_mode': _MODE},
    'anyOf': [{'required': ['status']}, {'required': ['maintenance_mode']}],
    'additionalProperties': False,
}


def update(req, host_name):
    """PUT /os-hosts/{host_name} (200, 400, 404)."""
    _gate(req)
    req.authorize(rules.HOSTS_UPDATE)
    body = req.json_body()
    validation.validate(body, UPDATE)
    db_hosts.get_compute_node(host_name)
    if 'maintenance_mode' in body:
        raise exception.Invalid('Maintenance mode is not supported: no '
                                'host has one here.')
    disabled = body['status'].lower() == 'disable'
    db_hosts.set_service_disabled(host_name, host_selection.COMPUTE_BINARY,
                                  disabled)
    return api_request.json_response({
        'host': host_name, 'status': 'disabled' if disabled else 'enabled'})


def _power(rule, what):
    def action(req, host_name):
        """GET /os-hosts/{host_name}/<action>: 400 (404 unknown host)."""
        _gate(req)
        req.authorize(rule)
        db_hosts.get_compute_node(host_name)
        raise exception.Invalid('Host %s is not supported: this service '
                                'does not power its hosts.' % what)
    return action


def register(router):
    router.add('GET', '/v2.1/os-hosts', index)
    router.add('GET', '/v2.1/os-hosts/{host_name}', show)
    router.add('PUT', '/v2.1/os-hosts/{host_name}', update)
    for name, rule, what in (('startup', rules.HOSTS_START, 'startup'),
                             ('shutdown', rules.HOSTS_SHUTDOWN, 'shutdown'),
                             ('reboot', rules.HOSTS_REBOOT, 'reboot')):
        router.add('GET', '/v2.1/os-hosts/{host_name}/' + name,
                   _power(rule, what))
