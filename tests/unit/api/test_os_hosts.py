"""GET /os-hosts and /os-hosts/{host} (before 2.43, as Nova's):
tempest.lib's schemas, zones, a host's resources per project, 404s,
administrators only."""

import pytest

from orchestrator.db import hosts as db_hosts
from tests.unit.api import oracle
from tests.unit.api.conftest import call
from tests.unit.api.conftest import make_compute_host
from tests.unit.api.conftest import make_instance

V = '2.42'


@pytest.fixture
def hosts(db):
    make_compute_host('host1')
    make_compute_host('host2')
    db_hosts.heartbeat('ctl', 'orchestrator-conductor', topic='conductor')


def test_list_per_tempest_with_zones(app, hosts):
    body = oracle.check(call(app, 'GET', '/v2.1/os-hosts', version=V),
                        'v2_1', 'hosts', 'list_hosts')
    listed = {(h['host_name'], h['service'], h['zone'])
              for h in body['hosts']}
    assert ('host1', 'compute', 'nova') in listed
    assert ('ctl', 'conductor', 'internal') in listed

    def names(zone):
        resp = call(app, 'GET', '/v2.1/os-hosts?zone=' + zone, version=V)
        assert resp.status_int == 200, resp.text
        return {h['host_name'] for h in resp.json['hosts']}
    assert names('nova') == {'host1', 'host2'}
    assert names('internal') == {'ctl'}
    assert names('') == {'host1', 'host2', 'ctl'}
    assert names('xxx') == set()


def test_show_totals_and_projects(app, hosts):
    make_instance('active', host='host1')
    make_instance('active', host='host1', project_id='beta',
                  flavor_id='2')
    make_instance('active', host='host2')
    body = oracle.check(call(app, 'GET', '/v2.1/os-hosts/host1', version=V),
                        'v2_1', 'hosts', 'get_host_detail')
    by_project = {r['resource']['project']: r['resource']
                  for r in body['host']}
    assert [r['resource']['project'] for r in body['host']][:3] == [
        '(total)', '(used_now)', '(used_max)']
    node = db_hosts.get_compute_node('host1')
    assert by_project['(total)']['cpu'] == node['vcpus']
    assert by_project['(total)']['host'] == 'host1'
    assert set(by_project) == {'(total)', '(used_now)', '(used_max)',
                               'default', 'beta'}
    assert by_project['(used_now)']['memory_mb'] == (
        by_project['default']['memory_mb'] + by_project['beta']['memory_mb'])
    assert by_project['beta']['memory_mb'] > by_project['default'][
        'memory_mb']


def test_unknown_host_and_2_43_are_404(app, hosts):
    resp = call(app, 'GET', '/v2.1/os-hosts/nope', version=V)
    assert resp.status_int == 404
    assert resp.json['itemNotFound']['message'] == (
        'Compute host nope could not be found.')
    # The conductor's host runs no guests: no resources to show.
    assert call(app, 'GET', '/v2.1/os-hosts/ctl',
                version=V).status_int == 404
    for path in ('/v2.1/os-hosts', '/v2.1/os-hosts/host1'):
        assert call(app, 'GET', path, version='2.43').status_int == 404


def test_members_are_refused(member_app, hosts):
    for path in ('/v2.1/os-hosts', '/v2.1/os-hosts/host1'):
        assert call(member_app, 'GET', path, version=V).status_int == 403


def test_update_status_disables_the_compute_service(app, hosts):
    resp = call(app, 'PUT', '/v2.1/os-hosts/host1', {'status': 'disable'},
                version=V)
    assert resp.status_int == 200, resp.text
    assert resp.json == {'host': 'host1', 'status': 'disabled'}
    [service] = db_hosts.list_services(binary='orchestrator-compute',
                                       host='host1')
    assert service['disabled'] is True
    resp = call(app, 'PUT', '/v2.1/os-hosts/host1', {'status': 'Enable'},
                version=V)
    assert resp.json == {'host': 'host1', 'status': 'enabled'}
    [service] = db_hosts.list_services(binary='orchestrator-compute',
                                       host='host1')
    assert service['disabled'] is False


@pytest.mark.parametrize('body', [
    {}, {'status': 'invalid'}, {'status': 'enable', 'maintenance_mode': 'x'},
    {'status': 'enable', 'other': 1}, {'maintenance_mode': 'enable'}])
def test_bad_updates_are_400_and_change_nothing(app, hosts, body):
    resp = call(app, 'PUT', '/v2.1/os-hosts/host1', body, version=V)
    assert resp.status_int == 400, resp.text
    [service] = db_hosts.list_services(binary='orchestrator-compute',
                                       host='host1')
    assert service['disabled'] is False


def test_unknown_host_updates_and_power_actions_are_404(app, hosts):
    resp = call(app, 'PUT', '/v2.1/os-hosts/nope', {'status': 'enable'},
                version=V)
    assert resp.status_int == 404
    for action in ('startup', 'shutdown', 'reboot'):
        assert call(app, 'GET', '/v2.1/os-hosts/nope/' + action,
                    version=V).status_int == 404
        resp = call(app, 'GET', '/v2.1/os-hosts/host1/' + action, version=V)
        assert resp.status_int == 400
        assert 'does not power its hosts' in resp.json['badRequest'][
            'message']


def test_members_cannot_update_or_power(member_app, hosts):
    assert call(member_app, 'PUT', '/v2.1/os-hosts/host1',
                {'status': 'disable'}, version=V).status_int == 403
    for action in ('startup', 'shutdown', 'reboot'):
        assert call(member_app, 'GET', '/v2.1/os-hosts/host1/' + action,
                    version=V).status_int == 403
