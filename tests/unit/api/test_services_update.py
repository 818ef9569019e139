"""os-services update and delete: the legacy actions (before 2.53), the
2.53 update by uuid, what disabling and forcing down change (the
scheduler, evacuation) and the delete's 409 while a host is in use."""

import uuid

import pytest

from orchestrator.db import allocations as db_allocations
from orchestrator.db import hosts as db_hosts
from orchestrator.db import instances as db_instances
from orchestrator.scheduler import host_selection
from tests.unit.api import oracle
from tests.unit.api.conftest import call
from tests.unit.api.conftest import make_compute_host
from tests.unit.api.conftest import make_instance

COMPUTE = host_selection.COMPUTE_BINARY
RESOURCES = {'vcpus': 1, 'memory_mb': 512, 'disk_gb': 1}


def _service(host, binary=COMPUTE):
    [found] = db_hosts.list_services(binary=binary, host=host)
    return found


def test_legacy_disable_enable_per_tempest(app):
    make_compute_host('h1')
    make_compute_host('h2')
    body = {'host': 'h1', 'binary': COMPUTE}
    resp = call(app, 'PUT', '/v2.1/os-services/disable', body)
    assert oracle.check(resp, 'v2_1', 'services',
                        'enable_disable_service')['service'] == {
        'host': 'h1', 'binary': COMPUTE, 'status': 'disabled'}
    assert _service('h1')['disabled']
    assert host_selection.candidate_hosts(RESOURCES) == ['h2']
    resp = call(app, 'PUT', '/v2.1/os-services/enable', body)
    oracle.check(resp, 'v2_1', 'services', 'enable_disable_service')
    assert not _service('h1')['disabled']
    assert sorted(host_selection.candidate_hosts(RESOURCES)) == ['h1', 'h2']


def test_legacy_disable_log_reason_and_enable_clears_it(app):
    make_compute_host('h1')
    body = {'host': 'h1', 'binary': COMPUTE, 'disabled_reason': 'disk'}
    resp = call(app, 'PUT', '/v2.1/os-services/disable-log-reason', body)
    assert oracle.check(resp, 'v2_1', 'services', 'disable_log_reason')[
        'service']['disabled_reason'] == 'disk'
    listed = call(app, 'GET', '/v2.1/os-services?host=h1').json['services']
    assert (listed[0]['status'], listed[0]['disabled_reason']) == (
        'disabled', 'disk')
    call(app, 'PUT', '/v2.1/os-services/enable',
         {'host': 'h1', 'binary': COMPUTE})
    assert _service('h1')['disabled_reason'] is None
    resp = call(app, 'PUT', '/v2.1/os-services/disable-log-reason',
                {'host': 'h1', 'binary': COMPUTE})
    assert resp.status_int == 400
    assert 'Missing disabled reason' in resp.json['badRequest']['message']


def test_force_down_from_211_makes_the_host_down_and_evacuable(
        app, conf, conductor):
    make_compute_host('h1')
    make_compute_host('h2')
    instance = make_instance('active', host='h1')
    body = {'host': 'h1', 'binary': COMPUTE, 'forced_down': True}
    resp = call(app, 'PUT', '/v2.1/os-services/force-down', body,
                version='2.10')
    assert resp.status_int == 404
    # A running host: evacuation is refused.
    resp = call(app, 'POST', '/v2.1/servers/%s/action' % instance['uuid'],
                {'evacuate': {'host': 'h2'}}, version='2.14')
    assert resp.status_int == 400, resp.body
    assert 'is still in use' in resp.text
    resp = call(app, 'PUT', '/v2.1/os-services/force-down', body,
                version='2.11')
    assert oracle.check(resp, 'v2_11', 'services',
                        'update_forced_down')['service']['forced_down']
    listed = call(app, 'GET', '/v2.1/os-services?host=h1',
                  version='2.11').json['services'][0]
    assert (listed['state'], listed['forced_down']) == ('down', True)
    assert host_selection.candidate_hosts(RESOURCES) == ['h2']
    # Its guests keep running: nothing touched the instance.
    assert db_instances.get(instance['uuid'])['vm_state'] == 'active'
    resp = call(app, 'POST', '/v2.1/servers/%s/action' % instance['uuid'],
                {'evacuate': {'host': 'h2'}}, version='2.14')
    assert resp.status_int == 200, resp.body
    assert [c[0] for c in conductor.calls_for(instance['uuid'])] == [
        'start_action']
    body['forced_down'] = False
    call(app, 'PUT', '/v2.1/os-services/force-down', body, version='2.11')
    assert db_hosts.host_is_up('h1', conf=conf)


@pytest.mark.parametrize('path,body,status,message', [
    ('/v2.1/os-services/reboot', {'host': 'h1', 'binary': COMPUTE}, 404,
     'Unknown action'),
    ('/v2.1/os-services/disable', {'host': 'h1'}, 400, 'binary'),
    ('/v2.1/os-services/disable', {'host': 'h1', 'binary': COMPUTE,
                                   'other': 1}, 400, 'other'),
    ('/v2.1/os-services/disable', {'host': 'nowhere', 'binary': COMPUTE},
     404, 'nowhere'),
    ('/v2.1/os-services/disable', {'host': 'h1',
                                   'binary': 'orchestrator-conductor'},
     400, 'Only %s services can be updated' % COMPUTE),
])
def test_legacy_update_errors(app, path, body, status, message):
    make_compute_host('h1')
    db_hosts.heartbeat('h1', 'orchestrator-conductor')
    resp = call(app, 'PUT', path, body)
    assert resp.status_int == status, resp.body
    assert message in resp.text


def test_update_by_uuid_from_253(app):
    make_compute_host('h1')
    service = _service('h1')
    path = '/v2.1/os-services/%s' % service['uuid']
    resp = call(app, 'PUT', path, {'status': 'disabled',
                                   'disabled_reason': 'maintenance'},
                version='2.53')
    body = oracle.check(resp, 'v2_53', 'services', 'update_service')
    assert body['service']['id'] == service['uuid']
    assert (body['service']['status'], body['service']['disabled_reason'],
            body['service']['forced_down']) == ('disabled', 'maintenance',
                                                False)
    resp = call(app, 'PUT', path, {'forced_down': True}, version='2.53')
    body = oracle.check(resp, 'v2_53', 'services', 'update_service')
    assert (body['service']['state'], body['service']['status']) == (
        'down', 'disabled')
    resp = call(app, 'PUT', path, {'status': 'enabled', 'forced_down': False},
                version='2.53')
    body = oracle.check(resp, 'v2_53', 'services', 'update_service')
    assert (body['service']['state'], body['service']['status'],
            body['service']['disabled_reason']) == ('up', 'enabled', None)
    listed = call(app, 'GET', '/v2.1/os-services', version='2.53')
    assert oracle.check(listed, 'v2_53', 'services', 'list_services')[
        'services'][0]['id'] == service['uuid']


@pytest.mark.parametrize('body,message', [
    ({}, "At least one of 'status' or 'forced_down'"),
    ({'disabled_reason': 'x'}, "'disabled_reason' with status other"),
    ({'status': 'enabled', 'disabled_reason': 'x'},
     "'disabled_reason' with status other"),
    ({'status': 'off'}, 'status'),
    ({'host': 'h1', 'binary': COMPUTE, 'status': 'enabled'}, 'host'),
])
def test_update_253_bad_bodies(app, body, message):
    make_compute_host('h1')
    resp = call(app, 'PUT', '/v2.1/os-services/%s' % _service('h1')['uuid'],
                body, version='2.53')
    assert resp.status_int == 400, resp.body
    assert message in resp.json['badRequest']['message']
    assert not _service('h1')['disabled']


def test_update_253_ids(app):
    make_compute_host('h1')
    conductor_service = db_hosts.heartbeat('ctl', 'orchestrator-conductor')
    resp = call(app, 'PUT', '/v2.1/os-services/enable',
                {'host': 'h1', 'binary': COMPUTE}, version='2.53')
    assert resp.status_int == 400
    assert 'Invalid uuid enable' in resp.text
    resp = call(app, 'PUT', '/v2.1/os-services/%s' % uuid.uuid4(),
                {'status': 'disabled'}, version='2.53')
    assert resp.status_int == 404
    resp = call(app, 'PUT', '/v2.1/os-services/%s'
                % conductor_service['uuid'], {'status': 'disabled'},
                version='2.53')
    assert resp.status_int == 400
    assert 'Only %s services' % COMPUTE in resp.text


def test_members_cannot_update_or_delete(member_app):
    make_compute_host('h1')
    resp = call(member_app, 'PUT', '/v2.1/os-services/disable',
                {'host': 'h1', 'binary': COMPUTE})
    assert resp.status_int == 403
    resp = call(member_app, 'DELETE',
                '/v2.1/os-services/%d' % _service('h1')['id'])
    assert resp.status_int == 403
    assert not _service('h1')['disabled']


def test_delete_refused_while_the_host_is_in_use(app):
    make_compute_host('h1')
    service = _service('h1')
    instance = make_instance('active', host='h1')
    path = '/v2.1/os-services/%d' % service['id']
    resp = call(app, 'DELETE', path)
    assert resp.status_int == 409
    assert 'hosting instances' in resp.json['conflictingRequest']['message']
    db_instances.force_delete(instance['uuid'], {'request_id': 'req-x'})
    db_allocations.claim('c1', 'c1', 'h1', RESOURCES,
                         {'vcpus': 1.0, 'memory_mb': 1.0, 'disk_gb': 1.0})
    assert call(app, 'DELETE', path).status_int == 409
    db_allocations.release('c1')
    resp = call(app, 'DELETE', path)
    assert resp.status_int == 204, resp.body
    assert db_hosts.list_services(host='h1') == []
    assert [n for n in db_hosts.list_compute_nodes()
            if n['host'] == 'h1'] == []
    assert call(app, 'DELETE', path).status_int == 404


def test_delete_ids_per_microversion(app):
    service = db_hosts.heartbeat('ctl', 'orchestrator-conductor')
    assert call(app, 'DELETE', '/v2.1/os-services/abc').status_int == 400
    resp = call(app, 'DELETE', '/v2.1/os-services/%d' % service['id'],
                version='2.53')
    assert resp.status_int == 400
    assert 'Invalid uuid' in resp.text
    resp = call(app, 'DELETE', '/v2.1/os-services/%s' % service['uuid'],
                version='2.53')
    assert resp.status_int == 204
    assert db_hosts.list_services(host='ctl') == []
