"""``GET /v2.1/servers/{id}/diagnostics`` (administrators): what the
server's host says of its guest, in Nova's standard body (2.48; before
2.48 Nova's body was each driver's free-form blob: the same body is
served, a blob any pre-2.48 client accepts).

The guest's state is asked of its host (``get_info``, a read); the rest
comes from what the server was built with (its flavor, networks, disks,
config drive). What the host does not measure (uptime, CPU times,
memory in use, NIC and disk counters) is ``null``, as Nova documents for
a field a driver cannot fill. ``driver`` and ``hypervisor`` are the
hypervisor type the host reports (``fake`` with the fake driver, which
tempest.lib's v2_48 schema does not list: it names Nova's drivers only).

409 when the server has no host or its host is down; 404 when the host
has no such guest; 503 when the host does not answer.
"""

import logging

import oslo_messaging as messaging

from orchestrator import exception
from orchestrator import states
from orchestrator.api import request as api_request
from orchestrator.api import server_actions_admin
from orchestrator.api import servers
from orchestrator.api.views import servers as server_views
from orchestrator.compute import rpcapi as compute_rpcapi
from orchestrator.db import hosts as db_hosts
from orchestrator.policies import diagnostics as rules

LOG = logging.getLogger(__name__)

#: power_state -> Nova's diagnostics ``state``.
STATES = {states.NOSTATE: 'pending', states.RUNNING: 'running',
          states.POWER_PAUSED: 'paused', states.SHUTDOWN: 'shutdown',
          states.CRASHED: 'crashed', states.POWER_SUSPENDED: 'suspended'}
_NIC_COUNTERS = ('rx_octets', 'rx_errors', 'rx_drop', 'rx_packets',
                 'rx_rate', 'tx_octets', 'tx_errors', 'tx_drop',
                 'tx_packets', 'tx_rate')
_DISK_COUNTERS = ('read_bytes', 'read_requests', 'write_bytes',
                  'write_requests', 'errors_count')


def _disks(instance):
    flavor = instance.get('flavor') or {}
    return 1 + sum(1 for key in ('ephemeral_gb', 'swap') if flavor.get(key))


def _macs(instance):
    return [ip.get('OS-EXT-IPS-MAC:mac_addr')
            for ips in server_views.addresses(
                instance.get('networks')).values()
            for ip in ips[:1]]


def _hypervisor_type(host):
    for node in db_hosts.list_compute_nodes():
        if node['host'] == host:
            return node['hypervisor_type']
    return None


def body(instance, power_state, hypervisor_type):
    """Nova's standard diagnostics of ``instance`` whose guest is in
    ``power_state`` on a host of ``hypervisor_type``."""
    flavor = instance.get('flavor') or {}
    return {
        'state': STATES.get(power_state, 'pending'),
        'driver': hypervisor_type,
        'hypervisor': hypervisor_type,
        'hypervisor_os': None,
        'uptime': None,
        'config_drive': bool(instance.get('config_drive')),
        'num_cpus': int(flavor.get('vcpus') or instance.get('vcpus') or 0),
        'num_nics': len(_macs(instance)),
        'num_disks': _disks(instance),
        'memory_details': {'maximum': int(flavor.get('memory_mb') or 0),
                           'used': None},
        'cpu_details': [{'id': i, 'time': None, 'utilisation': None}
                        for i in range(int(flavor.get('vcpus') or 0))],
        'nic_details': [dict({'mac_address': mac},
                             **{k: None for k in _NIC_COUNTERS})
                        for mac in _macs(instance)],
        'disk_details': [{k: None for k in _DISK_COUNTERS}
                         for _i in range(_disks(instance))],
    }


def show(req, server_id):
    """GET /servers/{id}/diagnostics (200; 403, 404, 409, 503)."""
    instance = servers.get_instance(req, server_id, rule=rules.DIAGNOSTICS)
    host = instance.get('host')
    if not host or not server_actions_admin.host_is_up(req, host):
        raise exception.Conflict(
            'Cannot get diagnostics of instance %s: it has no host or its '
            'host is down.' % server_id)
    try:
        power_state = compute_rpcapi.client().get_info(
            req.context, host, instance['uuid'])
    except messaging.MessagingException as e:
        LOG.warning('Request %s: diagnostics of %s not read from %s (%s)',
                    req.context.request_id, server_id, host,
                    type(e).__name__)
        raise exception.ServiceUnavailable(
            reason='the compute host %s did not answer' % host) from None
    if power_state is None:
        raise exception.NotFound('Host %s has no guest of instance %s.'
                                 % (host, server_id))
    return api_request.json_response(
        body(instance, power_state, _hypervisor_type(host)))


def register(router):
    router.add('GET', '/v2.1/servers/{server_id}/diagnostics', show)
