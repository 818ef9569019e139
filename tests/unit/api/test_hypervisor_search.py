"""os-hypervisors: statistics, search and servers by name (before 2.53),
and from 2.53 uuids, hypervisor_hostname_pattern and with_servers."""

import pytest

from orchestrator.db import allocations as db_allocations
from orchestrator.db import hosts as db_hosts
from orchestrator.db import instances as db_instances
from tests.unit.api import oracle
from tests.unit.api.conftest import call
from tests.unit.api.conftest import make_compute_host
from tests.unit.api.conftest import make_instance

RATIOS = {'vcpus': 1.0, 'memory_mb': 1.0, 'disk_gb': 1.0}


@pytest.fixture
def nodes(app):
    """compute-a with two servers (one busy, 2 vCPU/4 GiB/40 GB held),
    compute-b empty, other-c with one server deleted; 8 vCPU, 8 GiB,
    100 GB each."""
    for host in ('compute-a', 'compute-b', 'other-c'):
        make_compute_host(host)
    first = make_instance('active', host='compute-a', display_name='one')
    make_instance('active', host='compute-a', task_state='rebooting',
                  display_name='two')
    gone = make_instance('active', host='other-c')
    db_instances.force_delete(gone['uuid'], {'request_id': 'req-gone'})
    db_allocations.claim(first['uuid'], first['uuid'], 'compute-a',
                         {'vcpus': 2, 'memory_mb': 4096, 'disk_gb': 40},
                         RATIOS)
    return first


def test_statistics_per_tempest(app, nodes):
    resp = call(app, 'GET', '/v2.1/os-hypervisors/statistics')
    stats = oracle.check(resp, 'v2_1', 'hypervisors',
                         'get_hypervisor_statistics')['hypervisor_statistics']
    assert stats == {
        'count': 3, 'vcpus': 24, 'memory_mb': 3 * 8192, 'local_gb': 300,
        'vcpus_used': 2, 'memory_mb_used': 4096, 'local_gb_used': 40,
        'free_ram_mb': 3 * 8192 - 4096, 'free_disk_gb': 260,
        'disk_available_least': 260, 'running_vms': 2,
        'current_workload': 1}


def test_search_and_servers_before_253(app, nodes):
    resp = call(app, 'GET', '/v2.1/os-hypervisors/compute/search')
    body = oracle.check(resp, 'v2_1', 'hypervisors',
                        'list_search_hypervisors')
    assert [h['hypervisor_hostname'] for h in body['hypervisors']] == [
        'compute-a', 'compute-b']
    resp = call(app, 'GET', '/v2.1/os-hypervisors/COMPUTE-/servers')
    body = oracle.check(resp, 'v2_1', 'hypervisors',
                        'get_hypervisors_servers')
    a, b = body['hypervisors']
    assert [s['name'] for s in a['servers']] == ['one', 'two']
    assert a['servers'][0]['uuid'] == nodes['uuid']
    assert 'servers' not in b
    # A deleted server is not on its host any more.
    resp = call(app, 'GET', '/v2.1/os-hypervisors/other/servers')
    assert 'servers' not in resp.json['hypervisors'][0]
    for path in ('/v2.1/os-hypervisors/nowhere/search',
                 '/v2.1/os-hypervisors/nowhere/servers'):
        resp = call(app, 'GET', path)
        assert resp.status_int == 404
        assert "No hypervisor matching 'nowhere'" in resp.text


def test_member_is_refused(member_app, nodes):
    for path in ('/v2.1/os-hypervisors/statistics',
                 '/v2.1/os-hypervisors/compute/search',
                 '/v2.1/os-hypervisors/compute/servers'):
        assert call(member_app, 'GET', path).status_int == 403


def test_253_uuids_pattern_and_with_servers(app, nodes):
    node = db_hosts.get_compute_node('compute-a')
    [service] = db_hosts.list_services(host='compute-a')
    resp = call(app, 'GET', '/v2.1/os-hypervisors/detail?with_servers=true',
                version='2.53')
    body = oracle.check(resp, 'v2_53', 'hypervisors',
                        'list_hypervisors_detail')
    a = body['hypervisors'][0]
    assert (a['id'], a['service']['id']) == (node['uuid'], service['uuid'])
    assert [s['name'] for s in a['servers']] == ['one', 'two']
    resp = call(app, 'GET', '/v2.1/os-hypervisors?hypervisor_hostname_'
                'pattern=compute&with_servers=1', version='2.53')
    body = oracle.check(resp, 'v2_53', 'hypervisors',
                        'list_search_hypervisors')
    assert [h['hypervisor_hostname'] for h in body['hypervisors']] == [
        'compute-a', 'compute-b']
    assert len(body['hypervisors'][0]['servers']) == 2
    resp = call(app, 'GET', '/v2.1/os-hypervisors/%s?with_servers=true'
                % node['uuid'], version='2.53')
    body = oracle.check(resp, 'v2_53', 'hypervisors', 'get_hypervisor')
    assert len(body['hypervisor']['servers']) == 2
    resp = call(app, 'GET', '/v2.1/os-hypervisors/%s' % node['uuid'],
                version='2.53')
    assert 'servers' not in resp.json['hypervisor']
    resp = call(app, 'GET', '/v2.1/os-hypervisors/%s/uptime' % node['uuid'],
                version='2.53')
    oracle.check(resp, 'v2_53', 'hypervisors', 'get_hypervisor_uptime')
    # Paging by uuid marker.
    resp = call(app, 'GET', '/v2.1/os-hypervisors?limit=1&marker=%s'
                % node['uuid'], version='2.53')
    assert [h['hypervisor_hostname'] for h in resp.json['hypervisors']] == [
        'compute-b']


@pytest.mark.parametrize('path,status,message', [
    ('/v2.1/os-hypervisors?hypervisor_hostname_pattern=nowhere', 404,
     "No hypervisor matching 'nowhere'"),
    ('/v2.1/os-hypervisors?hypervisor_hostname_pattern=c&limit=1', 400,
     'Paging over hypervisors'),
    ('/v2.1/os-hypervisors?with_servers=maybe', 400, 'with_servers'),
    ('/v2.1/os-hypervisors/1', 400, 'Invalid uuid 1'),
    ('/v2.1/os-hypervisors/compute/search', 404, 'could not be found'),
    ('/v2.1/os-hypervisors/compute/servers', 404, 'could not be found'),
])
def test_253_errors(app, nodes, path, status, message):
    resp = call(app, 'GET', path, version='2.53')
    assert resp.status_int == status, resp.body
    assert message in resp.text


def test_integer_ids_before_253(app, nodes):
    node = db_hosts.get_compute_node('compute-a')
    resp = call(app, 'GET', '/v2.1/os-hypervisors/%s' % node['uuid'],
                version='2.52')
    assert resp.status_int == 404
    resp = call(app, 'GET', '/v2.1/os-hypervisors?with_servers=true')
    assert all('servers' not in h for h in resp.json['hypervisors'])
    assert resp.json['hypervisors'][0]['id'] == node['id']
