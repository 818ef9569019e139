"""Server update, metadata, lock/unlock and availability zones: Nova's
shapes (tempest.lib's schemas), validation, limits and rules."""

import threading

import pytest

from orchestrator import states
from orchestrator.db import actions as db_actions
from orchestrator.db import hosts as db_hosts
from orchestrator.db import instances as db_instances
from orchestrator.db import quotas as db_quotas
from tests.unit.api import oracle
from tests.unit.api.conftest import PROJECT
from tests.unit.api.conftest import call
from tests.unit.api.conftest import make_compute_host
from tests.unit.api.conftest import make_instance
from tests.unit.api.conftest import make_instance_in_state
from tests.unit.api.conftest import persona_app


def _server(app, server_id, version='2.47'):
    return call(app, 'GET', '/v2.1/servers/' + server_id,
                version=version).json['server']


# -- PUT /servers/{id} ---------------------------------------------------

def test_update_name_description_and_access_addresses(app):
    instance = make_instance('active', host='h1')
    resp = call(app, 'PUT', '/v2.1/servers/' + instance['uuid'],
                {'server': {'name': 'renamed', 'description': 'db',
                            'accessIPv4': '10.0.0.9',
                            'accessIPv6': '2001:DB8:0:0::1'}},
                version='2.19')
    body = oracle.check(resp, 'v2_19', 'servers', 'update_server')
    assert body['server']['name'] == 'renamed'
    assert body['server']['description'] == 'db'
    assert body['server']['accessIPv6'] == '2001:db8::1'
    shown = _server(app, instance['uuid'])
    assert (shown['name'], shown['description'], shown['accessIPv4'],
            shown['accessIPv6']) == ('renamed', 'db', '10.0.0.9',
                                     '2001:db8::1')
    # null clears the description; what is not given stays.
    resp = call(app, 'PUT', '/v2.1/servers/' + instance['uuid'],
                {'server': {'description': None}}, version='2.19')
    assert resp.status_int == 200
    shown = _server(app, instance['uuid'])
    assert shown['description'] is None and shown['name'] == 'renamed'


def test_update_response_shape_at_2_1(app):
    instance = make_instance('active', host='h1')
    resp = call(app, 'PUT', '/v2.1/servers/' + instance['uuid'],
                {'server': {'name': 'x'}})
    oracle.check(resp, 'v2_1', 'servers', 'update_server')


@pytest.mark.parametrize('version,server', [
    ('2.1', {'description': 'only from 2.19'}),
    ('2.19', {'name': ''}),
    ('2.19', {'name': ' leading'}),
    ('2.19', {'accessIPv4': '2001:db8::1'}),
    ('2.19', {'accessIPv6': '10.0.0.1'}),
    ('2.19', {'description': 'x' * 256}),
    ('2.19', {'flavorRef': '1'}),
])
def test_update_refuses_bad_bodies(app, version, server):
    instance = make_instance('active')
    resp = call(app, 'PUT', '/v2.1/servers/' + instance['uuid'],
                {'server': server}, version=version)
    assert resp.status_int == 400, resp.body
    assert db_instances.get(instance['uuid'])['display_name'] == \
        instance['display_name']


def test_update_rules(db, conf, other_member_app):
    instance = make_instance('active')
    reader = persona_app(conf, 'reader', PROJECT, ['reader'])
    body = {'server': {'name': 'nope'}}
    path = '/v2.1/servers/' + instance['uuid']
    assert call(reader, 'PUT', path, body).status_int == 403
    assert call(other_member_app, 'PUT', path, body).status_int == 404
    assert db_instances.get(instance['uuid'])['display_name'] == \
        instance['display_name']


def test_deleted_servers_are_not_updated(app, conductor):
    instance = make_instance('active')
    db_instances.force_delete(instance['uuid'], {'request_id': 'r'})
    resp = call(app, 'PUT', '/v2.1/servers/' + instance['uuid'],
                {'server': {'name': 'ghost'}})
    assert resp.status_int == 404


# -- metadata ------------------------------------------------------------

def _meta(app, instance, method, suffix='', body=None):
    return call(app, method, '/v2.1/servers/%s/metadata%s'
                % (instance['uuid'], suffix), body)


def test_metadata_shapes_and_semantics(app):
    instance = make_instance('active', metadata={'a': '1'})
    body = oracle.check(_meta(app, instance, 'GET'), 'v2_1', 'servers',
                        'list_server_metadata')
    assert body == {'metadata': {'a': '1'}}
    # POST merges and answers all the items.
    body = oracle.check(_meta(app, instance, 'POST', body={
        'metadata': {'b': '2', 'a': 'one'}}), 'v2_1', 'servers',
        'set_server_metadata')
    assert body == {'metadata': {'a': 'one', 'b': '2'}}
    # PUT replaces.
    body = oracle.check(_meta(app, instance, 'PUT', body={
        'metadata': {'c': '3'}}), 'v2_1', 'servers', 'update_server_metadata')
    assert body == {'metadata': {'c': '3'}}
    assert _server(app, instance['uuid'])['metadata'] == {'c': '3'}
    # One item.
    body = oracle.check(_meta(app, instance, 'PUT', '/d e:f', {
        'meta': {'d e:f': 'x'}}), 'v2_1', 'servers',
        'set_show_server_metadata_item')
    assert body == {'meta': {'d e:f': 'x'}}
    body = oracle.check(_meta(app, instance, 'GET', '/c'), 'v2_1',
                        'servers', 'set_show_server_metadata_item')
    assert body == {'meta': {'c': '3'}}
    oracle.check(_meta(app, instance, 'DELETE', '/c'), 'v2_1', 'servers',
                 'delete_server_metadata_item')
    assert db_instances.get(instance['uuid'])['metadata'] == {'d e:f': 'x'}
    for method in ('GET', 'DELETE'):
        resp = _meta(app, instance, method, '/c')
        assert resp.status_int == 404
        assert resp.json['itemNotFound']['message'] == \
            'Metadata item was not found'


@pytest.mark.parametrize('method,suffix,body', [
    ('POST', '', {'metadata': {'': 'empty key'}}),
    ('POST', '', {'metadata': {'k': 1}}),
    ('POST', '', {'metadata': {'k': 'v' * 256}}),
    ('POST', '', {'metadata': {'k/1': 'v'}}),
    ('PUT', '', {'meta': {'k': 'v'}}),
    ('PUT', '', None),
    ('PUT', '/k', {'meta': {'other': 'v'}}),
    ('PUT', '/k', {'meta': {'k': 'v', 'k2': 'v'}}),
    ('PUT', '/k', {'meta': {}}),
])
def test_metadata_validation(app, method, suffix, body):
    instance = make_instance('active', metadata={'keep': 'me'})
    resp = _meta(app, instance, method, suffix, body)
    assert resp.status_int == 400, resp.body
    assert db_instances.get(instance['uuid'])['metadata'] == {'keep': 'me'}


def test_metadata_uri_mismatch_message(app):
    instance = make_instance('active')
    resp = _meta(app, instance, 'PUT', '/k', {'meta': {'other': 'v'}})
    assert 'Request body and URI mismatch' in \
        resp.json['badRequest']['message']


def test_metadata_items_quota(app, conf):
    conf.set_override('metadata_items', 3, group='quota')
    instance = make_instance('active', metadata={'a': '1', 'b': '2'})
    assert _meta(app, instance, 'POST', body={
        'metadata': {'c': '3'}}).status_int == 200
    resp = _meta(app, instance, 'POST', body={'metadata': {'d': '4'}})
    assert resp.status_int == 403
    resp = _meta(app, instance, 'PUT', '/d', {'meta': {'d': '4'}})
    assert resp.status_int == 403
    # Changing an existing item or replacing with as many is fine.
    assert _meta(app, instance, 'PUT', '/a', {
        'meta': {'a': 'x'}}).status_int == 200
    assert _meta(app, instance, 'PUT', body={'metadata': {
        'x': '1', 'y': '2', 'z': '3'}}).status_int == 200
    # A project override counts, not only the default.
    db_quotas.set_overrides(PROJECT, {'metadata_items': 1})
    assert _meta(app, instance, 'PUT', body={'metadata': {
        'x': '1', 'y': '2'}}).status_int == 403
    assert db_instances.get(instance['uuid'])['metadata'] == {
        'x': '1', 'y': '2', 'z': '3'}


def test_concurrent_metadata_changes_keep_every_item(app):
    instance = make_instance('active')
    errors = []

    def add(i):
        resp = _meta(app, instance, 'PUT', '/k%d' % i,
                     {'meta': {'k%d' % i: str(i)}})
        if resp.status_int != 200:
            errors.append(resp.body)

    threads = [threading.Thread(target=add, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert db_instances.get(instance['uuid'])['metadata'] == {
        'k%d' % i: str(i) for i in range(8)}


@pytest.mark.parametrize('vm_state,task_state', [
    (states.BUILDING, states.SCHEDULING),
    (states.ACTIVE, states.REBOOTING),
    (states.ERROR, None),
    (states.RESCUED, None),
])
def test_metadata_changes_refused_where_nova_refuses(app, vm_state,
                                                     task_state):
    instance = make_instance_in_state(vm_state, task_state)
    resp = _meta(app, instance, 'POST', body={'metadata': {'k': 'v'}})
    assert resp.status_int == 409, resp.body
    assert 'update metadata' in resp.json['conflictingRequest']['message']
    # Reading is always allowed.
    assert _meta(app, instance, 'GET').status_int == 200


def test_metadata_rules(db, conf, member_app, other_member_app):
    instance = make_instance('active', metadata={'a': '1'})
    reader = persona_app(conf, 'reader', PROJECT, ['reader'])
    assert _meta(reader, instance, 'GET').status_int == 200
    assert _meta(reader, instance, 'GET', '/a').status_int == 200
    for method, suffix, body in (
            ('POST', '', {'metadata': {'b': '2'}}),
            ('PUT', '', {'metadata': {}}),
            ('PUT', '/b', {'meta': {'b': '2'}}),
            ('DELETE', '/a', None)):
        assert _meta(reader, instance, method, suffix,
                     body).status_int == 403
        assert _meta(other_member_app, instance, method, suffix,
                     body).status_int == 404
    assert _meta(other_member_app, instance, 'GET').status_int == 404
    assert db_instances.get(instance['uuid'])['metadata'] == {'a': '1'}
    assert _meta(member_app, instance, 'DELETE', '/a').status_int == 204


# -- lock / unlock -------------------------------------------------------

def _act(app, instance, body):
    return call(app, 'POST', '/v2.1/servers/%s/action' % instance['uuid'],
                body, version='2.47')


def test_lock_refuses_the_owner_but_not_an_admin(app, member_app,
                                                 conductor):
    instance = make_instance('active', host='h1', metadata={'a': '1'})
    assert _server(member_app, instance['uuid'], '2.9')['locked'] is False
    assert 'locked' not in _server(member_app, instance['uuid'], '2.8')
    assert _act(member_app, instance, {'lock': None}).status_int == 202
    assert _server(member_app, instance['uuid'], '2.9')['locked'] is True
    assert db_instances.get(instance['uuid'])['task_state'] is None
    # The owner: every other action, the delete and metadata changes 409.
    for body in ({'os-stop': None}, {'reboot': {'type': 'HARD'}},
                 {'createImage': {'name': 'snap'}}):
        resp = _act(member_app, instance, body)
        assert resp.status_int == 409, (body, resp.body)
        assert resp.json['conflictingRequest']['message'] == \
            'Instance %s is locked' % instance['uuid']
    assert call(member_app, 'DELETE', '/v2.1/servers/' +
                instance['uuid']).status_int == 409
    assert _meta(member_app, instance, 'DELETE', '/a').status_int == 409
    # Reading and the labels are not locked (as in Nova).
    assert call(member_app, 'PUT', '/v2.1/servers/' + instance['uuid'],
                {'server': {'name': 'still'}}).status_int == 200
    after = db_instances.get(instance['uuid'])
    assert (after['vm_state'], after['task_state'], after['metadata']) == (
        states.ACTIVE, None, {'a': '1'})
    assert conductor.calls_for(instance['uuid']) == []
    # An administrator acts on a locked server.
    assert _act(app, instance, {'os-stop': None}).status_int == 202
    # The owner unlocks it and may act again.
    db_instances.update_fields(instance['uuid'], {'locked': True})
    assert _act(member_app, instance, {'unlock': {}}).status_int == 202
    assert _server(member_app, instance['uuid'], '2.9')['locked'] is False
    assert call(member_app, 'DELETE', '/v2.1/servers/' +
                instance['uuid']).status_int == 204
    names = [a['action'] for a in
             db_actions.list_for_instance(instance['uuid'])]
    assert names.count('lock') == 1 and names.count('unlock') == 1


def test_lock_works_while_a_task_runs_and_takes_no_arguments(app):
    instance = make_instance('active', task_state=states.REBOOTING)
    assert _act(app, instance, {'lock': {'locked_reason': 'x'}}
                ).status_int == 400
    assert _act(app, instance, {'lock': {}}).status_int == 202
    row = db_instances.get(instance['uuid'])
    assert row['locked'] and row['task_state'] == states.REBOOTING


def test_lock_rules(db, conf, other_member_app):
    instance = make_instance('active')
    reader = persona_app(conf, 'reader', PROJECT, ['reader'])
    assert _act(reader, instance, {'lock': None}).status_int == 403
    assert _act(other_member_app, instance, {'lock': None}).status_int == \
        404
    assert not db_instances.get(instance['uuid'])['locked']


# -- availability zones ----------------------------------------------------

def test_availability_zones(app, member_app, conf):
    make_compute_host('h1')
    make_compute_host('h2', up=False)
    body = oracle.check(call(member_app, 'GET', '/v2.1/os-availability-zone'),
                        'v2_1', 'availability_zone',
                        'list_availability_zone_list')
    assert body == {'availabilityZoneInfo': [
        {'zoneName': 'nova', 'zoneState': {'available': True},
         'hosts': None}]}
    assert call(member_app, 'GET', '/v2.1/os-availability-zone/detail'
                ).status_int == 403
    body = oracle.check(call(app, 'GET', '/v2.1/os-availability-zone/detail'),
                        'v2_1', 'availability_zone',
                        'list_availability_zone_list_detail')
    [zone] = body['availabilityZoneInfo']
    services = {host: {b: (v['available'], v['active'])
                       for b, v in binaries.items()}
                for host, binaries in zone['hosts'].items()}
    assert services == {'h1': {'orchestrator-compute': (True, True)},
                        'h2': {'orchestrator-compute': (False, True)}}


def test_zone_of_disabled_hosts_is_unavailable(app):
    make_compute_host('h1')
    db_hosts.set_service_disabled('h1', 'orchestrator-compute', True)
    body = call(app, 'GET', '/v2.1/os-availability-zone').json
    assert body['availabilityZoneInfo'][0]['zoneState'] == {
        'available': False}


def test_server_shows_its_zone(app):
    make_compute_host('h1')
    placed = make_instance('active', host='h1')
    asked = make_instance('active', host='h1', availability_zone='az2')
    unplaced = make_instance()
    assert _server(app, placed['uuid'])[
        'OS-EXT-AZ:availability_zone'] == 'nova'
    assert _server(app, asked['uuid'])[
        'OS-EXT-AZ:availability_zone'] == 'az2'
    assert _server(app, unplaced['uuid'])[
        'OS-EXT-AZ:availability_zone'] == ''
    listed = call(app, 'GET', '/v2.1/servers/detail',
                  version='2.47').json['servers']
    assert {s['id']: s['OS-EXT-AZ:availability_zone'] for s in listed} == {
        placed['uuid']: 'nova', asked['uuid']: 'az2', unplaced['uuid']: ''}
