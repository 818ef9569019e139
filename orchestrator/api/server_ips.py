"""``/v2.1/servers/{server_id}/ips`` (a server's addresses by network)
and ``/ips/{network_label}`` (one network's), as Nova's: each address is
``{"version", "addr"}``; a network the server is not on is a 404."""

from orchestrator import exception
from orchestrator.api import request as api_request
from orchestrator.api import servers
from orchestrator.api.views import servers as server_views
from orchestrator.policies import server_records as rules


def _addresses(req, server_id, rule):
    instance = servers.get_instance(req, server_id, rule=rule)
    return {name: [{'version': ip['version'], 'addr': ip['addr']}
                   for ip in ips]
            for name, ips in server_views.addresses(
                instance.get('networks')).items()}


def index(req, server_id):
    """GET /servers/{id}/ips (200)."""
    return api_request.json_response(
        {'addresses': _addresses(req, server_id, rules.IPS_INDEX)})


def show(req, server_id, network_label):
    """GET /servers/{id}/ips/{network_label} (200; 404 when the server
    has no address on that network)."""
    found = _addresses(req, server_id, rules.IPS_SHOW)
    if network_label not in found:
        raise exception.NotFound(
            'Instance is not a member of specified network')
    return api_request.json_response(
        {network_label: found[network_label]})


def register(router):
    router.add('GET', '/v2.1/servers/{server_id}/ips', index)
    router.add('GET', '/v2.1/servers/{server_id}/ips/{network_label}', show)
