"""POST /v2.1/servers: the happy path over a real RPC server, every bad
input (400, never 500), and the honest 503 when no conductor answers."""

import base64

import pytest

from orchestrator import states
from orchestrator.db import actions as db_actions
from orchestrator.db import instances as db_instances
from tests.unit.api import oracle
from tests.unit.api.conftest import CIRROS
from tests.unit.api.conftest import call
from tests.unit.api.test_keypairs import SSH_KEY


def _body(**server):
    values = {'name': 'vm1', 'imageRef': CIRROS, 'flavorRef': '1'}
    values.update(server)
    return {'server': {k: v for k, v in values.items() if v is not None}}


def test_create_posts_the_build_and_answers_202(app, conductor):
    assert call(app, 'POST', '/v2.1/os-keypairs', {'keypair': {
        'name': 'mykey', 'public_key': SSH_KEY}}).status_int == 200
    resp = call(app, 'POST', '/v2.1/servers', _body(
        metadata={'role': 'web'}, key_name='mykey', user_data=base64
        .b64encode(b'#!/bin/sh\n').decode(), availability_zone='nova',
        accessIPv4='10.0.0.5', config_drive=True, min_count=1, max_count='1',
        security_groups=[{'name': 'default'}]))
    body = oracle.check(resp, 'v2_1', 'servers',
                        'create_server_with_admin_pass')
    server_id = body['server']['id']
    assert resp.headers['Location'].endswith('/v2.1/servers/' + server_id)
    assert body['server']['links'][0]['href'] == \
        'http://localhost/v2.1/servers/' + server_id
    (method, request_id, kwargs), = conductor.calls_for(server_id)
    assert method == 'build_instance'
    assert request_id == resp.headers['x-openstack-request-id']
    instance = db_instances.get(server_id)
    assert kwargs == {'instance_uuid': server_id,
                      'task_id': instance['task_id'],
                      'action_id': db_actions.get_by_request_id(
                          server_id, request_id)['id']}
    assert (instance['vm_state'], instance['task_state']) == (
        states.BUILDING, states.SCHEDULING)
    assert instance['flavor']['name'] == 'm1.tiny'
    assert instance['flavor']['flavorid'] == '1'
    assert instance['flavor']['memory_mb'] == 512
    assert instance['metadata'] == {'role': 'web'}
    assert instance['key_name'] == 'mykey'
    assert instance['config_drive'] == 'True'
    assert instance['access_ip_v4'] == '10.0.0.5'
    assert instance['hostname'] == 'vm1'
    assert instance['project_id'] == 'default'


def test_create_at_247_needs_networks_and_accepts_osc_mappings(
        app, conductor):
    resp = call(app, 'POST', '/v2.1/servers', _body(
        networks='auto', description='my server', block_device_mapping_v2=[
            {'uuid': CIRROS, 'boot_index': 0, 'source_type': 'image',
             'destination_type': 'local', 'delete_on_termination': True}]),
        version='2.47')
    oracle.check(resp, 'v2_1', 'servers', 'create_server_with_admin_pass')
    instance = db_instances.get(resp.json['server']['id'])
    assert instance['description'] == 'my server'
    assert instance['networks'] == {'requested': 'auto'}


def test_create_takes_flavor_and_image_urls(app, conductor):
    resp = call(app, 'POST', '/v2.1/servers', _body(
        flavorRef='http://localhost/v2.1/flavors/2',
        imageRef='http://localhost/image/v2/images/' + CIRROS))
    assert resp.status_int == 202
    assert db_instances.get(resp.json['server']['id'])['flavor_id'] == '2'


def test_create_can_return_the_reservation_id(app, conductor):
    resp = call(app, 'POST', '/v2.1/servers',
                _body(return_reservation_id=True))
    assert resp.status_int == 202
    assert resp.json['reservation_id'].startswith('r-')


@pytest.mark.parametrize('raw', [b'{', b'not json', b'', b'\xff\xfe'])
def test_malformed_json_is_400(app, raw):
    resp = call(app, 'POST', '/v2.1/servers', raw=raw)
    assert resp.status_int == 400
    assert 'Malformed request body' in resp.json['badRequest']['message']


@pytest.mark.parametrize('body,version,words', [
    ([], None, "is not of type 'object'"),
    ({}, None, "'server' is a required property"),
    ({'server': 'vm'}, None, "is not of type 'object'"),
    (_body(name=None), None, "'name' is a required property"),
    (_body(flavorRef=None), None, "'flavorRef' is a required property"),
    (_body(name=5), None, "5 is not of type 'string'"),
    (_body(name=''), None, 'field/attribute name'),
    (_body(name=' padded '), None, 'whitespace'),
    (_body(name='x' * 256), None, 'is too long'),
    (_body(flavorRef=''), None, 'field/attribute flavorRef'),
    (_body(flavorRef=[1]), None, 'field/attribute flavorRef'),
    (_body(imageRef=7), None, 'field/attribute imageRef'),
    (_body(metadata='x'), None, "is not of type 'object'"),
    (_body(metadata={'k': 1}), None, 'field/attribute k'),
    (_body(metadata={'bad/key': 'v'}), None, 'field/attribute metadata'),
    # The value is not quoted back (user_data may hold secrets).
    (_body(user_data='%%% not base64'), None,
     "Value: '***'. The value is not valid (format: 'base64')"),
    (_body(accessIPv4='300.1.1.1'), None, 'field/attribute accessIPv4'),
    (_body(accessIPv6='nope'), None, 'field/attribute accessIPv6'),
    (_body(min_count=0), None, 'field/attribute min_count'),
    (_body(max_count='two'), None, 'field/attribute max_count'),
    (_body(networks='auto'), None, 'field/attribute networks'),
    (_body(networks=[{'uuid': 'x'}]), None, 'field/attribute uuid'),
    (_body(), '2.37', "'networks' is a required property"),
    (_body(networks='some'), '2.37', 'field/attribute networks'),
    (_body(description='d'), None, "'description' was unexpected"),
    (_body(description=5), '2.19',
     'field/attribute description'),
    (_body(bogus=1), None, "'bogus' was unexpected"),
    (_body(config_drive='maybe'), None, 'field/attribute config_drive'),
    (_body(security_groups='default'), None,
     'field/attribute security_groups'),
])
def test_bad_create_bodies_are_400_with_a_message(app, body, version,
                                                  words):
    resp = call(app, 'POST', '/v2.1/servers', body, version=version)
    assert resp.status_int == 400, resp.text
    assert words in resp.json['badRequest']['message']


@pytest.mark.parametrize('server,words', [
    ({'flavorRef': '99'}, 'Flavor 99 could not be found.'),
    ({'flavorRef': 99}, 'Flavor 99 could not be found.'),
    ({'imageRef': 'a3b2f2a8-0000-0000-0000-000000000000'},
     'Can not find requested image'),
    ({'imageRef': 'not-a-uuid'}, 'Invalid imageRef provided'),
    ({'imageRef': ''}, 'imageRef is required'),
    ({'min_count': '0'}, 'min_count: 0 is less than the minimum of 1'),
    ({'max_count': '0'}, 'max_count: 0 is less than the minimum of 1'),
    ({'max_count': 101}, 'max_servers_per_request'),
    ({'min_count': '101'}, 'max_servers_per_request'),
    ({'min_count': 3, 'max_count': 2}, 'must be <= max_count'),
    ({'block_device_mapping_v2': [
        {'source_type': 'volume', 'destination_type': 'volume',
         'uuid': CIRROS, 'boot_index': 0}]}, 'not supported'),
])
def test_bad_references_are_400_with_a_message(app, server, words):
    resp = call(app, 'POST', '/v2.1/servers', _body(**server))
    assert resp.status_int == 400, resp.text
    assert words in resp.json['badRequest']['message']


def test_flavor_too_small_for_the_image_is_400(app):
    from orchestrator.db import catalog
    image = catalog.image_create('big', status='active', size=5 * 1024 ** 3)
    resp = call(app, 'POST', '/v2.1/servers', _body(imageRef=image['id']))
    assert resp.status_int == 400
    assert "disk is too small" in resp.json['badRequest']['message']


def test_inactive_image_is_400(app):
    from orchestrator.db import catalog
    image = catalog.image_create('queued-one')
    resp = call(app, 'POST', '/v2.1/servers', _body(imageRef=image['id']))
    assert resp.status_int == 400
    assert 'is not active' in resp.json['badRequest']['message']


def test_no_conductor_is_503_and_the_server_ends_in_error(app,
                                                          no_conductor):
    resp = call(app, 'POST', '/v2.1/servers', _body(name='orphan'))
    assert resp.status_int == 503
    fault = resp.json['serviceUnavailable']
    assert fault['code'] == 503
    assert 'no conductor took the create' in fault['message']
    assert 'x-openstack-request-id' in resp.headers
    (instance,) = [i for i in db_instances.list_()
                   if i['display_name'] == 'orphan']
    assert instance['vm_state'] == states.ERROR
    assert instance['task_state'] is None and instance['task_id'] is None
    assert db_instances.latest_fault(instance['uuid'])['code'] == 503
    (action,) = db_actions.list_for_instance(instance['uuid'])
    assert action['result'] == states.RESULT_ERROR
    shown = call(app, 'GET', '/v2.1/servers/' + instance['uuid']).json
    assert shown['server']['status'] == 'ERROR'
    assert shown['server']['fault']['code'] == 503


def test_access_ipv6_is_kept_in_its_canonical_form(app, conductor):
    resp = call(app, 'POST', '/v2.1/servers',
                _body(accessIPv6='2001:DB8:0:0::0001', accessIPv4='10.1.2.3'))
    assert resp.status_int == 202, resp.text
    server_id = resp.json['server']['id']
    instance = db_instances.get(server_id)
    assert instance['access_ip_v6'] == '2001:db8::1'
    shown = call(app, 'GET', '/v2.1/servers/' + server_id).json['server']
    assert (shown['accessIPv4'], shown['accessIPv6']) == (
        '10.1.2.3', '2001:db8::1')


def test_networks_none_is_stored_and_shows_no_address(app, conductor):
    resp = call(app, 'POST', '/v2.1/servers', _body(networks='none'),
                version='2.37')
    assert resp.status_int == 202, resp.text
    server_id = resp.json['server']['id']
    assert db_instances.get(server_id)['networks'] == {'requested': 'none'}
    assert call(app, 'GET', '/v2.1/servers/' + server_id).json[
        'server']['addresses'] == {}
