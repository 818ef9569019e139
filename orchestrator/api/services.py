"""``GET /v2.1/os-services`` (admins): the daemons and their heartbeats.

A service is ``up`` while its last heartbeat is younger than ``[DEFAULT]
service_down_time_s`` and it is not forced down. Filters: ``binary``,
``host``. ``forced_down`` from 2.11.
"""

from orchestrator.api import query
from orchestrator.api import request as api_request
from orchestrator.api.views import timestamps
from orchestrator.db import hosts as db_hosts
from orchestrator.policies import infrastructure


def _body(req, service):
    up = db_hosts.is_up(service, req.conf.service_down_time_s)
    body = {
        'id': service['id'],
        'binary': service['binary'],
        'host': service['host'],
        'zone': service['zone'],
        'status': 'disabled' if service['disabled'] else 'enabled',
        'state': 'up' if up else 'down',
        'updated_at': timestamps.iso(service.get('last_seen_at')
                                     or service.get('updated_at')),
        'disabled_reason': service['disabled_reason'],
    }
    if req.at_least(2, 11):
        body['forced_down'] = bool(service['forced_down'])
    return body


def index(req):
    """GET /os-services (200; 403 for non-admins)."""
    req.authorize(infrastructure.SERVICES_LIST)
    services = db_hosts.list_services(binary=query.one(req, 'binary'),
                                      host=query.one(req, 'host'))
    return api_request.json_response(
        {'services': [_body(req, s) for s in services]})


def register(router):
    router.add('GET', '/v2.1/os-services', index)
