"""os-services, os-hypervisors, os-instance-actions, and what non-admins
see of servers."""

import datetime

import pytest

from orchestrator.db import actions as db_actions
from orchestrator.db import allocations as db_allocations
from orchestrator.db import hosts as db_hosts
from orchestrator.db import instances as db_instances
from orchestrator.db import models
from orchestrator.db import session
from tests.unit.api import oracle
from tests.unit.api.conftest import CIRROS
from tests.unit.api.conftest import call
from tests.unit.api.conftest import make_instance

RATIOS = {'vcpus': 1.0, 'memory_mb': 1.0, 'disk_gb': 1.0}


@pytest.fixture
def hosts(app):
    """host1 up and busy, host2 down and disabled."""
    for host in ('host1', 'host2'):
        db_hosts.heartbeat(host, 'orchestrator-compute')
        db_hosts.update_compute_node(host, 8, 16384, 200)
    db_hosts.heartbeat('ctl', 'orchestrator-conductor')
    db_hosts.set_service_disabled('host2', 'orchestrator-compute', True,
                                  'maintenance')
    with session.writer() as s:
        s.query(models.Service).filter_by(host='host2').update(
            {'last_seen_at': models.utcnow() - datetime.timedelta(hours=1)})
    busy = make_instance('active', host='host1')
    make_instance('active', host='host1', task_state='rebooting')
    db_allocations.claim(busy['uuid'], busy['uuid'], 'host1',
                         {'vcpus': 2, 'memory_mb': 4096, 'disk_gb': 40},
                         RATIOS)


@pytest.mark.parametrize('version,module', [('2.1', 'v2_1'),
                                            ('2.11', 'v2_11')])
def test_services_per_tempest(app, hosts, version, module):
    resp = call(app, 'GET', '/v2.1/os-services', version=version)
    body = oracle.check(resp, module, 'services', 'list_services')
    by_host = {(s['host'], s['binary']): s for s in body['services']}
    up = by_host[('host1', 'orchestrator-compute')]
    down = by_host[('host2', 'orchestrator-compute')]
    assert (up['state'], up['status']) == ('up', 'enabled')
    assert (down['state'], down['status']) == ('down', 'disabled')
    assert down['disabled_reason'] == 'maintenance'
    assert isinstance(up['id'], int)
    assert ('forced_down' in up) == (version == '2.11')


def test_services_filters(app, hosts):
    resp = call(app, 'GET', '/v2.1/os-services?binary=orchestrator-conductor')
    assert [s['host'] for s in resp.json['services']] == ['ctl']
    resp = call(app, 'GET', '/v2.1/os-services?host=host2')
    assert [s['host'] for s in resp.json['services']] == ['host2']
    # Nova's name of the compute binary filters ours.
    resp = call(app, 'GET', '/v2.1/os-services?binary=nova-compute')
    assert [(s['host'], s['binary']) for s in resp.json['services']] == [
        ('host1', 'orchestrator-compute'), ('host2', 'orchestrator-compute')]


@pytest.mark.parametrize('version,module', [('2.1', 'v2_1'),
                                            ('2.28', 'v2_28'),
                                            ('2.33', 'v2_33')])
def test_hypervisors_per_tempest(app, hosts, version, module):
    resp = call(app, 'GET', '/v2.1/os-hypervisors', version=version)
    oracle.check(resp, module, 'hypervisors', 'list_search_hypervisors')
    resp = call(app, 'GET', '/v2.1/os-hypervisors/detail', version=version)
    body = oracle.check(resp, module, 'hypervisors',
                        'list_hypervisors_detail')
    h1, h2 = body['hypervisors']
    assert (h1['state'], h1['status']) == ('up', 'enabled')
    assert (h2['state'], h2['status']) == ('down', 'disabled')
    assert (h1['vcpus_used'], h1['memory_mb_used'], h1['local_gb_used']) \
        == (2, 4096, 40)
    assert h1['free_ram_mb'] == 16384 - 4096
    assert h1['free_disk_gb'] == 160
    assert h1['running_vms'] == 2 and h1['current_workload'] == 1
    assert h2['vcpus_used'] == 0 and h2['running_vms'] == 0
    assert h1['service']['host'] == 'host1'


def test_hypervisor_paging_from_233(app, hosts):
    resp = call(app, 'GET', '/v2.1/os-hypervisors?limit=1', version='2.33')
    assert [h['hypervisor_hostname'] for h in resp.json['hypervisors']] \
        == ['host1']
    href = resp.json['hypervisors_links'][0]['href']
    resp = call(app, 'GET', href.replace('http://localhost', ''),
                version='2.33')
    assert [h['hypervisor_hostname'] for h in resp.json['hypervisors']] \
        == ['host2']
    resp = call(app, 'GET', '/v2.1/os-hypervisors?marker=999',
                version='2.33')
    assert resp.status_int == 400


@pytest.mark.parametrize('path', ['/v2.1/os-services',
                                  '/v2.1/os-hypervisors',
                                  '/v2.1/os-hypervisors/detail'])
def test_admin_resources_are_403_for_members(member_app, path):
    resp = call(member_app, 'GET', path)
    assert resp.status_int == 403
    assert 'Policy does not allow' in resp.json['forbidden']['message']


def test_instance_actions_per_tempest(app, conductor):
    resp = call(app, 'POST', '/v2.1/servers', {'server': {
        'name': 'audited', 'imageRef': CIRROS, 'flavorRef': '1'}})
    server_id = resp.json['server']['id']
    create_rid = resp.headers['x-openstack-request-id']
    action = db_actions.get_by_request_id(server_id, create_rid)
    db_actions.event_start(action['id'], 'SelectHost')
    db_actions.event_finish(action['id'], 'SelectHost', 'Error',
                            traceback='Traceback (most recent call last)')
    db_actions.event_start(action['id'], 'SpawnOnHost')
    resp = call(app, 'DELETE', '/v2.1/servers/' + server_id)
    delete_rid = resp.headers['x-openstack-request-id']

    resp = call(app, 'GET', '/v2.1/servers/%s/os-instance-actions'
                % server_id)
    body = oracle.check(resp, 'v2_1', 'servers', 'list_instance_actions')
    assert [(a['action'], a['request_id']) for a in
            body['instanceActions']] == [('delete', delete_rid),
                                         ('create', create_rid)]
    resp = call(app, 'GET', '/v2.1/servers/%s/os-instance-actions/%s'
                % (server_id, create_rid))
    body = oracle.check(resp, 'v2_1', 'servers', 'show_instance_action')
    events = body['instanceAction']['events']
    assert [e['event'] for e in events] == ['SelectHost', 'SpawnOnHost']
    assert events[0]['traceback'].startswith('Traceback')
    assert events[1]['finish_time'] is None
    # Still visible once the server is gone.
    db_instances.force_delete(server_id, {'request_id': 'req-gone'})
    resp = call(app, 'GET', '/v2.1/servers/%s/os-instance-actions'
                % server_id)
    assert len(resp.json['instanceActions']) == 3


def test_instance_action_404s(app):
    instance = make_instance('active')
    resp = call(app, 'GET', '/v2.1/servers/nope/os-instance-actions')
    assert resp.status_int == 404
    resp = call(app, 'GET', '/v2.1/servers/%s/os-instance-actions/req-x'
                % instance['uuid'])
    assert resp.status_int == 404
    assert 'req-x' in resp.json['itemNotFound']['message']


def test_members_see_no_tracebacks_and_no_host_attributes(member_app):
    instance = make_instance('error', host='host1')
    db_instances.add_fault(instance['uuid'], 500, 'boom', details='secret')
    (action,) = db_actions.list_for_instance(instance['uuid'])
    db_actions.event_finish(action['id'], 'Spawn', 'Error',
                            traceback='secret')
    resp = call(member_app, 'GET', '/v2.1/servers/' + instance['uuid'],
                version='2.47')
    server = oracle.check(resp, 'v2_47', 'servers', 'get_server')['server']
    assert 'details' not in server['fault']
    assert not [k for k in server if k.startswith('OS-EXT-SRV-ATTR')]
    assert 'host_status' not in server
    resp = call(member_app, 'GET', '/v2.1/servers/%s/os-instance-actions/%s'
                % (instance['uuid'], action['request_id']))
    (event,) = resp.json['instanceAction']['events']
    assert 'traceback' not in event


def test_members_cannot_list_all_tenants(member_app):
    resp = call(member_app, 'GET', '/v2.1/servers?all_tenants=1')
    assert resp.status_int == 403


def test_admin_lists_one_project_with_all_tenants_and_tenant_id(app):
    """tempest test_list_servers_by_admin_with_specified_tenant: with
    all_tenants, tenant_id narrows the list to that project; without
    all_tenants it is ignored (the admin's own project)."""
    mine = make_instance('active')['uuid']
    theirs = make_instance('active', project_id='beta')['uuid']

    def ids(query):
        resp = call(app, 'GET', '/v2.1/servers/detail?' + query)
        assert resp.status_int == 200, resp.text
        return {s['id'] for s in resp.json['servers']}
    assert ids('all_tenants=&tenant_id=beta') == {theirs}
    assert ids('all_tenants=1&tenant_id=default') == {mine}
    assert ids('all_tenants=1&tenant_id=nobody') == set()
    assert ids('all_tenants=1') == {mine, theirs}
    assert ids('tenant_id=beta') == {mine}


@pytest.mark.parametrize('version,module', [('2.1', 'v2_1'),
                                            ('2.28', 'v2_28')])
def test_hypervisor_show_per_tempest(app, hosts, version, module):
    node = db_hosts.get_compute_node('host1')
    resp = call(app, 'GET', '/v2.1/os-hypervisors/%d' % node['id'],
                version=version)
    body = oracle.check(resp, module, 'hypervisors', 'get_hypervisor')
    assert body['hypervisor']['running_vms'] == 2
    for bad in ('999', 'host1'):
        resp = call(app, 'GET', '/v2.1/os-hypervisors/' + bad)
        assert resp.status_int == 404


def test_identity_version_documents_for_client_discovery(app):
    resp = call(app, 'GET', '/identity')
    assert resp.status_int == 300
    (v3,) = resp.json['versions']['values']
    assert v3['id'].startswith('v3') and v3['status'] == 'stable'
    assert v3['links'][0]['href'] == 'http://localhost/identity/v3/'
    resp = call(app, 'GET', '/identity/v3/')
    assert resp.json['version']['id'] == v3['id']
    assert call(app, 'GET', '/identity/v3/auth/tokens').status_int == 404


def test_hypervisor_uptime_per_tempest(app, hosts):
    node = db_hosts.get_compute_node('host1')
    resp = call(app, 'GET', '/v2.1/os-hypervisors/%d/uptime' % node['id'])
    body = oracle.check(resp, 'v2_1', 'hypervisors', 'get_hypervisor_uptime')
    assert ' up 0 days, ' in body['hypervisor']['uptime']
    assert call(app, 'GET', '/v2.1/os-hypervisors/77/uptime').status_int \
        == 404


def test_a_hard_reboot_is_listed_as_nova_names_it(app, conductor):
    """Recorded as reboot_hard (its own flow), shown as Nova's "reboot"
    in the list and by request id (tempest's instance actions test)."""
    instance = make_instance('active', host='h1')
    resp = call(app, 'POST', '/v2.1/servers/%s/action' % instance['uuid'],
                {'reboot': {'type': 'HARD'}})
    assert resp.status_int == 202, resp.text
    rid = resp.headers['x-openstack-request-id']
    assert db_actions.get_by_request_id(instance['uuid'], rid)[
        'action'] == 'reboot_hard'
    resp = call(app, 'GET', '/v2.1/servers/%s/os-instance-actions'
                % instance['uuid'])
    body = oracle.check(resp, 'v2_1', 'servers', 'list_instance_actions')
    assert [a['action'] for a in body['instanceActions']] == [
        'reboot', 'create']
    resp = call(app, 'GET', '/v2.1/servers/%s/os-instance-actions/%s'
                % (instance['uuid'], rid))
    assert resp.json['instanceAction']['action'] == 'reboot'
