"""openstackclient, unchanged, on the administrator's and reader's views
of the all-in-one over HTTP: console log show, compute service set
--disable/--enable (os-services update at the negotiated microversion),
hypervisor stats show and usage list.
"""

import datetime
import json

from tests.functional import api_helpers
from tests.functional.test_real_clients import _create
from tests.functional.test_real_clients import openstack  # noqa: F401


def test_openstackclient_console_services_hypervisors_usage(
        openstack, api_system):  # noqa: F811
    _create(openstack, api_system, 'm1.tiny', 'infra')
    log = openstack('console', 'log', 'show', '--lines', '3', 'infra')
    assert len(log.rstrip('\n').split('\n')) == 3
    assert 'login:' in log

    host = api_system.computes[0].host
    openstack('compute', 'service', 'set', '--disable', '--disable-reason',
              'maintenance', host, 'orchestrator-compute')
    services = json.loads(openstack('compute', 'service', 'list', '--host',
                                    host, '--long', '-f', 'json'))
    [service] = [s for s in services
                 if s['Binary'] == 'orchestrator-compute']
    assert (service['Status'], service['Disabled Reason']) == (
        'disabled', 'maintenance')
    openstack('compute', 'service', 'set', '--enable', host,
              'orchestrator-compute')
    listed = api_helpers.api(api_system, 'GET',
                             '/v2.1/os-services?host=%s' % host).json()
    assert {s['status'] for s in listed['services']} == {'enabled'}

    stats = json.loads(openstack('hypervisor', 'stats', 'show', '-f',
                                 'json'))
    assert stats['count'] == len(api_system.computes)
    assert stats['running_vms'] == 1

    today = datetime.datetime.now(datetime.timezone.utc).date()
    usage = json.loads(openstack(
        'usage', 'list', '--start', str(today - datetime.timedelta(days=1)),
        '--end', str(today + datetime.timedelta(days=1)), '-f', 'json'))
    assert len(usage) == 1
    assert [u['name'] for u in usage[0]['Servers']] == ['infra']
