"""``/v2.1/os-availability-zone``: the zones, as Nova shows them.

A zone is the ``zone`` its compute hosts report with their heartbeats
(``[compute] availability_zone``, ``nova`` by default). A zone is
available while at least one of its compute services is enabled (Nova's
rule: a zone whose services are all disabled is listed, unavailable).

* ``GET /os-availability-zone`` (anyone of a project):
  ``{"availabilityZoneInfo": [{"zoneName", "zoneState": {"available"},
  "hosts": null}]}``;
* ``GET /os-availability-zone/detail`` (administrators): the same with
  each zone's ``hosts``: ``{host: {binary: {"available": the service is
  up, "active": it is enabled, "updated_at": its last heartbeat}}}``,
  and Nova's ``internal`` zone holding the services that are not compute
  services (conductors).
"""

from orchestrator.api import request as api_request
from orchestrator.api.views import timestamps
from orchestrator.db import hosts as db_hosts
from orchestrator.policies import server_attributes as rules

#: The zone of the services that run no guests (Nova's
#: ``internal_service_availability_zone``).
INTERNAL_ZONE = 'internal'


def _is_compute(service):
    return 'compute' in service['binary']


def zones_of(services):
    """{zone: [its services]}, compute services by their zone, the others
    in :data:`INTERNAL_ZONE`."""
    zones = {}
    for service in services:
        zone = service['zone'] if _is_compute(service) else INTERNAL_ZONE
        zones.setdefault(zone, []).append(service)
    return zones


def compute_zones():
    """The names of the zones that have compute hosts (a zone a request
    may name)."""
    return {zone for zone in zones_of(db_hosts.list_services())
            if zone != INTERNAL_ZONE}


def _available(services):
    return any(not s['disabled'] for s in services)


def index(req):
    """GET /os-availability-zone (200): the zones of compute hosts."""
    req.authorize(rules.AZ_LIST)
    zones = zones_of(db_hosts.list_services())
    return api_request.json_response({'availabilityZoneInfo': [
        {'zoneName': zone, 'zoneState': {'available': _available(found)},
         'hosts': None}
        for zone, found in sorted(zones.items()) if zone != INTERNAL_ZONE]})


def detail(req):
    """GET /os-availability-zone/detail (200; 403 for non-admins)."""
    req.authorize(rules.AZ_DETAIL)
    down_time = req.conf.service_down_time_s
    info = []
    for zone, found in sorted(zones_of(db_hosts.list_services()).items()):
        hosts = {}
        for service in found:
            hosts.setdefault(service['host'], {})[service['binary']] = {
                'available': db_hosts.is_up(service, down_time),
                'active': not service['disabled'],
                'updated_at': timestamps.iso(
                    service.get('last_seen_at') or service.get('updated_at')),
            }
        info.append({'zoneName': zone,
                     'zoneState': {'available': _available(found)},
                     'hosts': hosts})
    return api_request.json_response({'availabilityZoneInfo': info})


def register(router):
    router.add('GET', '/v2.1/os-availability-zone', index)
    router.add('GET', '/v2.1/os-availability-zone/detail', detail)
