"""What each microversion from 2.48 changes in the server requests: the
field is refused (400) before the microversion that adds it and after the
one that removes it, and acted on in between.

2.52 tags on create, 2.54 key_name and 2.57 user_data on rebuild, 2.56
migrate with a host, 2.63 trusted_image_certificates (refused: no image
signature verification here), 2.68 force removed from evacuate and
live migration, 2.74 host and hypervisor_hostname on create.
"""

import base64

import pytest

from orchestrator import secret_box
from orchestrator import states
from orchestrator.db import instances as db_instances
from orchestrator.db import tags as db_tags
from flows import keys
from flows.tasks import rebuild as rebuild_steps
from tests.unit.api import oracle
from tests.unit.api.conftest import CIRROS
from tests.unit.api.conftest import call
from tests.unit.api.conftest import make_compute_host
from tests.unit.api.conftest import make_instance
from tests.unit.api.test_keypairs import SSH_KEY

USER_DATA = base64.b64encode(b'#!/bin/sh\necho s3cret\n').decode()


def _create(app, version, **server):
    body = {'name': 'vm1', 'imageRef': CIRROS, 'flavorRef': '1',
            'networks': 'auto'}
    body.update(server)
    return call(app, 'POST', '/v2.1/servers', {'server': body},
                version=version)


def _action(app, server_id, body, version):
    return call(app, 'POST', '/v2.1/servers/%s/action' % server_id, body,
                version=version)


def _params(conductor, server_id):
    (_method, _request_id, kwargs), = conductor.calls_for(server_id)
    return kwargs.get('params', {})


# -- 2.52 tags on create ---------------------------------------------------

def test_tags_on_create_from_252(app, conductor):
    assert _create(app, '2.51', tags=['a']).status_int == 400
    resp = _create(app, '2.52', tags=['web', 'db', 'web'])
    assert resp.status_int == 202, resp.text
    server_id = resp.json['server']['id']
    assert db_tags.get_all(server_id) == ['db', 'web']
    shown = call(app, 'GET', '/v2.1/servers/' + server_id,
                 version='2.52').json['server']
    assert shown['tags'] == ['db', 'web']


@pytest.mark.parametrize('tags', [['a/b'], ['a,b'], [''], ['x' * 61],
                                  ['t%d' % i for i in range(51)]])
def test_invalid_tags_on_create_are_400_and_nothing_created(
        app, conductor, tags):
    resp = _create(app, '2.52', tags=tags)
    assert resp.status_int == 400, resp.text
    assert db_instances.list_() == []


# -- 2.74 host and hypervisor_hostname -------------------------------------

def test_host_and_node_on_create_from_274(app, conductor):
    make_compute_host('compute-1')
    make_compute_host('compute-2')
    assert _create(app, '2.73', host='compute-2').status_int == 400
    resp = _create(app, '2.74', host='compute-2')
    assert resp.status_int == 202, resp.text
    assert _params(conductor, resp.json['server']['id']) == {
        'requested_host': 'compute-2'}
    resp = _create(app, '2.74', hypervisor_hostname='compute-1')
    assert _params(conductor, resp.json['server']['id']) == {
        'requested_host': 'compute-1'}
    resp = _create(app, '2.74', host='compute-1',
                   hypervisor_hostname='compute-1')
    assert _params(conductor, resp.json['server']['id']) == {
        'requested_host': 'compute-1'}


@pytest.mark.parametrize('server, message', [
    ({'host': 'nowhere'}, 'Compute host nowhere could not be found.'),
    ({'hypervisor_hostname': 'nowhere'},
     'Compute host node nowhere could not be found.'),
    ({'host': 'compute-1', 'hypervisor_hostname': 'compute-2'},
     'Compute host compute-1 has no node compute-2.'),
    ({'host': 'compute-1', 'availability_zone': 'nova:compute-1'},
     'cannot be combined'),
    ({'host': 'bad host!'}, 'host'),
])
def test_bad_requested_destination_is_400(app, conductor, server, message):
    make_compute_host('compute-1')
    make_compute_host('compute-2')
    resp = _create(app, '2.74', **server)
    assert resp.status_int == 400, resp.text
    assert message in resp.json['badRequest']['message']
    assert db_instances.list_() == []


def test_requested_destination_is_admin_only(member_app, conductor):
    make_compute_host('compute-1')
    resp = _create(member_app, '2.74', host='compute-1')
    assert resp.status_int == 403, resp.text
    assert 'requested_destination' in resp.json['forbidden']['message']
    assert db_instances.list_() == []


# -- 2.63 trusted_image_certificates ---------------------------------------

def test_trusted_certs_refused_honestly(app, conductor):
    make_compute_host('host1')
    # Before 2.63 the field does not exist.
    assert _create(app, '2.62', trusted_image_certificates=['c1'],
                   ).status_int == 400
    # Malformed lists are schema errors.
    for bad in ([], ['c1', 'c1'], [''], ['c%d' % i for i in range(51)]):
        assert _create(app, '2.63', trusted_image_certificates=bad,
                       ).status_int == 400
    resp = _create(app, '2.63', trusted_image_certificates=['c1'])
    assert resp.status_int == 400
    assert 'does not verify image signatures' in \
        resp.json['badRequest']['message']
    assert db_instances.list_() == []
    # null asks for nothing.
    assert _create(app, '2.63', trusted_image_certificates=None,
                   ).status_int == 202
    server = make_instance(states.ACTIVE, host='host1')
    resp = _action(app, server['uuid'], {'rebuild': {
        'imageRef': CIRROS, 'trusted_image_certificates': ['c1']}}, '2.63')
    assert resp.status_int == 400
    assert db_instances.get(server['uuid'])['task_state'] is None


# -- 2.54 key_name and 2.57 user_data on rebuild ---------------------------

def test_rebuild_key_name_from_254(app, conductor):
    make_compute_host('host1')
    assert call(app, 'POST', '/v2.1/os-keypairs', {'keypair': {
        'name': 'k2', 'public_key': SSH_KEY}}).status_int == 200
    server = make_instance(states.ACTIVE, host='host1', key_name=None)
    body = {'rebuild': {'imageRef': CIRROS, 'key_name': 'k2'}}
    assert _action(app, server['uuid'], body, '2.53').status_int == 400
    bad = {'rebuild': {'imageRef': CIRROS, 'key_name': 'nope'}}
    resp = _action(app, server['uuid'], bad, '2.54')
    assert resp.status_int == 400
    assert resp.json['badRequest']['message'] == 'Invalid key_name provided.'
    resp = _action(app, server['uuid'], body, '2.54')
    shown = oracle.check(resp, 'v2_54', 'servers',
                         'rebuild_server_with_admin_pass')['server']
    assert shown['key_name'] == 'k2'
    assert _params(conductor, server['uuid'])['key_name'] == 'k2'


def test_rebuild_user_data_from_257_is_sealed_in_the_flow(app, conductor):
    make_compute_host('host1')
    server = make_instance(states.ACTIVE, host='host1')
    body = {'rebuild': {'imageRef': CIRROS, 'user_data': USER_DATA}}
    assert _action(app, server['uuid'], body, '2.56').status_int == 400
    resp = _action(app, server['uuid'], body, '2.57')
    shown = oracle.check(resp, 'v2_57', 'servers',
                         'rebuild_server_with_admin_pass')['server']
    assert shown['user_data'] == USER_DATA
    params = _params(conductor, server['uuid'])
    # The store holds it sealed only: never the plain text.
    assert USER_DATA not in repr(params)
    assert secret_box.unseal(params[keys.SEALED_USER_DATA]) == USER_DATA


def test_rebuild_user_data_null_removes_it(app, conductor):
    make_compute_host('host1')
    server = make_instance(states.ACTIVE, host='host1', user_data=USER_DATA)
    resp = _action(app, server['uuid'], {'rebuild': {
        'imageRef': CIRROS, 'user_data': None, 'key_name': None}}, '2.57')
    assert resp.status_int == 202, resp.text
    assert resp.json['server']['user_data'] is None
    assert _params(conductor, server['uuid'])['user_data'] is None


@pytest.mark.parametrize('params, expected', [
    ({'key_name': 'k2', keys.SEALED_USER_DATA: 'SEAL'},
     {'key_name': 'k2', 'user_data': USER_DATA}),
    ({'key_name': None, 'user_data': None},
     {'key_name': None, 'user_data': None}),
    ({}, {'key_name': 'k1', 'user_data': 'b2xk'}),
])
def test_finish_rebuild_records_key_and_user_data(conductor, params,
                                                  expected):
    """FinishRebuild writes what the request gave (opened from its seal),
    and leaves both as they were when it gave neither."""
    server = make_instance(states.ACTIVE, task_state=states.REBUILDING,
                           host='host1', key_name='k1', user_data='b2xk')
    if keys.SEALED_USER_DATA in params:
        params = dict(params, **{keys.SEALED_USER_DATA:
                                 secret_box.seal(USER_DATA)})
    rebuild_steps.FinishRebuild().execute(
        context={}, instance_uuid=server['uuid'], task_id=server['task_id'],
        params=dict(params, image_ref=CIRROS),
        image={'id': CIRROS}, power_state=states.RUNNING)
    after = db_instances.get(server['uuid'])
    assert {k: after[k] for k in expected} == expected
    assert after['task_state'] is None


# -- 2.56 migrate with a host ----------------------------------------------

def test_migrate_host_from_256(app, conductor):
    make_compute_host('host1')
    make_compute_host('host2')
    server = make_instance(states.ACTIVE, host='host1')
    with_host = {'migrate': {'host': 'host2'}}
    resp = _action(app, server['uuid'], with_host, '2.55')
    assert resp.status_int == 400, resp.text
    assert db_instances.get(server['uuid'])['task_state'] is None
    for body, message in (
            ({'migrate': {'host': 'host9'}},
             'Compute host host9 could not be found.'),
            ({'migrate': {'host': 'host1'}}, 'to current host (host1)'),
            ({'migrate': {'host': 'host2', 'x': 1}}, 'x')):
        resp = _action(app, server['uuid'], body, '2.56')
        assert resp.status_int == 400, resp.text
        assert message in resp.json['badRequest']['message']
    resp = _action(app, server['uuid'], with_host, '2.56')
    assert resp.status_int == 202, resp.text
    assert _params(conductor, server['uuid'])['requested_host'] == 'host2'


def test_migrate_null_or_empty_at_every_version(app, conductor):
    """No arguments is null or {} at every version (tempest's
    test_migrate_server_invalid_state sends {} at 2.1)."""
    make_compute_host('host1')
    make_compute_host('host2')
    for version in ('2.1', '2.55', '2.56'):
        for value in (None, {}):
            server = make_instance(states.ACTIVE, host='host1')
            resp = _action(app, server['uuid'], {'migrate': value}, version)
            assert resp.status_int == 202, resp.text
            assert 'requested_host' not in _params(conductor,
                                                   server['uuid'])


# -- 2.68 force removed ----------------------------------------------------

def test_force_refused_from_268(app, conductor):
    make_compute_host('host1')
    make_compute_host('host2')
    server = make_instance(states.ACTIVE, host='host1')
    live = {'os-migrateLive': {'host': 'host2', 'block_migration': 'auto',
                               'force': True}}
    resp = _action(app, server['uuid'], live, '2.68')
    assert resp.status_int == 400
    assert 'force' in resp.json['badRequest']['message']
    assert db_instances.get(server['uuid'])['task_state'] is None
    resp = _action(app, server['uuid'], live, '2.67')
    assert resp.status_int == 202, resp.text
    down = make_instance(states.ACTIVE, host='gone')
    make_compute_host('gone', up=False)
    evacuate = {'evacuate': {'host': 'host2', 'force': True}}
    resp = _action(app, down['uuid'], evacuate, '2.68')
    assert resp.status_int == 400
    assert 'force' in resp.json['badRequest']['message']
    del evacuate['evacuate']['force']
    assert _action(app, down['uuid'], evacuate, '2.68').status_int == 200


# -- 2.73 lock reason and the locked filter --------------------------------

def test_lock_reason_from_273(app, conductor):
    server = make_instance(states.ACTIVE, host='host1')
    path = '/v2.1/servers/' + server['uuid']
    with_reason = {'lock': {'locked_reason': 'under audit'}}
    # Before 2.73 a lock takes no arguments.
    assert _action(app, server['uuid'], with_reason, '2.72').status_int \
        == 400
    for bad in ({'lock': {'locked_reason': ''}},
                {'lock': {'locked_reason': 'x' * 256}},
                {'lock': {'reason': 'x'}}):
        assert _action(app, server['uuid'], bad, '2.73').status_int == 400
    assert not db_instances.get(server['uuid'])['locked']
    assert _action(app, server['uuid'], with_reason, '2.73').status_int \
        == 202
    shown = oracle.check(call(app, 'GET', path, version='2.73'), 'v2_73',
                         'servers', 'get_server')['server']
    assert (shown['locked'], shown['locked_reason']) == (True, 'under audit')
    listed = oracle.check(call(app, 'GET', '/v2.1/servers/detail',
                               version='2.73'), 'v2_73', 'servers',
                          'list_servers_detail')['servers']
    assert listed[0]['locked_reason'] == 'under audit'
    # Not shown before 2.73.
    assert 'locked_reason' not in call(app, 'GET', path, version='2.72'
                                       ).json['server']
    assert _action(app, server['uuid'], {'unlock': None}, '2.73'
                   ).status_int == 202
    shown = call(app, 'GET', path, version='2.73').json['server']
    assert (shown['locked'], shown['locked_reason']) == (False, None)
    # A lock without a reason has none.
    assert _action(app, server['uuid'], {'lock': None}, '2.73').status_int \
        == 202
    assert db_instances.get(server['uuid'])['locked_reason'] is None


def test_locked_filter_from_273(app, conductor):
    locked = make_instance(states.ACTIVE, locked=True)
    unlocked = make_instance(states.ACTIVE)

    def ids(query, version):
        resp = call(app, 'GET', '/v2.1/servers' + query, version=version)
        assert resp.status_int == 200, resp.text
        return {s['id'] for s in resp.json['servers']}
    assert ids('?locked=true', '2.73') == {locked['uuid']}
    assert ids('?locked=False', '2.73') == {unlocked['uuid']}
    assert ids('', '2.73') == {locked['uuid'], unlocked['uuid']}
    resp = call(app, 'GET', '/v2.1/servers?locked=maybe', version='2.73')
    assert resp.status_int == 400


# -- 2.55 flavor description, 2.61 extra_specs, 2.75 swap ------------------

def test_flavor_description_from_255(app, member_app):
    body = {'flavor': {'name': 'described', 'ram': 64, 'vcpus': 1,
                       'disk': 1, 'id': 'd1', 'description': 'for tests'}}
    assert call(app, 'POST', '/v2.1/flavors', body,
                version='2.54').status_int == 400
    resp = call(app, 'POST', '/v2.1/flavors', body, version='2.55')
    created = oracle.check(resp, 'v2_55', 'flavors',
                           'create_update_get_flavor_details')['flavor']
    assert created['description'] == 'for tests'
    listed = oracle.check(call(app, 'GET', '/v2.1/flavors', version='2.55'),
                          'v2_55', 'flavors', 'list_flavors')['flavors']
    assert {f['id']: f['description'] for f in listed}['d1'] == 'for tests'
    assert 'description' not in call(app, 'GET', '/v2.1/flavors/d1',
                                     version='2.54').json['flavor']
    update = {'flavor': {'description': 'changed'}}
    # No update before 2.55; administrators only; the description only.
    assert call(app, 'PUT', '/v2.1/flavors/d1', update,
                version='2.54').status_int == 404
    assert call(member_app, 'PUT', '/v2.1/flavors/d1', update,
                version='2.55').status_int == 403
    for bad in ({'flavor': {'description': 'x', 'name': 'y'}},
                {'flavor': {}}, {'flavor': {'description': 'a\x01b'}}):
        assert call(app, 'PUT', '/v2.1/flavors/d1', bad,
                    version='2.55').status_int == 400
    assert call(app, 'PUT', '/v2.1/flavors/nope', update,
                version='2.55').status_int == 404
    resp = call(app, 'PUT', '/v2.1/flavors/d1', update, version='2.55')
    assert oracle.check(resp, 'v2_55', 'flavors',
                        'create_update_get_flavor_details'
                        )['flavor']['description'] == 'changed'
    resp = call(app, 'PUT', '/v2.1/flavors/d1',
                {'flavor': {'description': None}}, version='2.55')
    assert resp.json['flavor']['description'] is None


def test_flavor_extra_specs_from_261_and_swap_from_275(app):
    call(app, 'POST', '/v2.1/flavors', {'flavor': {
        'name': 'spec', 'ram': 64, 'vcpus': 1, 'disk': 1, 'id': 's1'}})
    call(app, 'POST', '/v2.1/flavors/s1/os-extra_specs',
         {'extra_specs': {'hw:cpu_policy': 'dedicated'}})
    assert 'extra_specs' not in call(app, 'GET', '/v2.1/flavors/s1',
                                     version='2.60').json['flavor']
    shown = oracle.check(call(app, 'GET', '/v2.1/flavors/s1',
                              version='2.61'), 'v2_61', 'flavors',
                         'create_update_get_flavor_details')['flavor']
    assert shown['extra_specs'] == {'hw:cpu_policy': 'dedicated'}
    assert shown['swap'] == ''
    details = call(app, 'GET', '/v2.1/flavors/detail', version='2.61')
    oracle.check(details, 'v2_61', 'flavors', 'list_flavors_details')
    assert call(app, 'GET', '/v2.1/flavors/s1', version='2.75'
                ).json['flavor']['swap'] == 0


def test_flavor_extra_specs_follow_the_policy(app, conf, tmp_path):
    """A caller whom policy refuses extra specs sees flavors without
    them (as Nova), not a 403."""
    rules = tmp_path / 'policy.yaml'
    rules.write_text('"os_compute_api:os-flavor-extra-specs:index": '
                     '"!"\n')
    conf.set_override('policy_file', str(rules), group='oslo_policy')
    resp = call(app, 'GET', '/v2.1/flavors/1', version='2.61')
    assert resp.status_int == 200
    assert 'extra_specs' not in resp.json['flavor']
    oracle.check(resp, 'v2_61', 'flavors', 'create_update_get_flavor_details')


# -- 2.75 unknown query parameters -----------------------------------------

@pytest.mark.parametrize('path', ['/v2.1/servers', '/v2.1/servers/detail'])
def test_unknown_list_parameters_are_400_from_275(app, path):
    make_instance(states.ACTIVE)
    assert call(app, 'GET', path + '?foo=1', version='2.74').status_int \
        == 200
    resp = call(app, 'GET', path + '?foo=1&bar=2', version='2.75')
    assert resp.status_int == 400
    assert '(bar, foo)' in resp.json['badRequest']['message']
    known = ('?name=vm&status=ACTIVE&limit=5&sort_key=created_at&vm_state='
             'active&locked=false&changes-before=2030-01-01T00:00:00Z&ip=1')
    resp = call(app, 'GET', path + known, version='2.75')
    assert resp.status_int == 200, resp.text


def test_bdm_volume_type_is_a_field_of_267(app, conductor):
    bdm = [{'uuid': CIRROS, 'source_type': 'image',
            'destination_type': 'local', 'boot_index': 0,
            'volume_type': 'fast'}]
    resp = _create(app, '2.66', block_device_mapping_v2=bdm)
    assert resp.status_int == 400
    assert 'volume_type' in resp.json['badRequest']['message']
    # From 2.67 it is known, and refused on a local disk (as Nova).
    resp = _create(app, '2.67', block_device_mapping_v2=bdm)
    assert resp.status_int == 400
    assert 'destination_type=local is not supported' in \
        resp.json['badRequest']['message']
    assert db_instances.list_() == []


def test_hypervisors_always_show_servers_from_275(app):
    make_compute_host('empty-host')

    def node(version):
        nodes = call(app, 'GET', '/v2.1/os-hypervisors/detail?with_servers='
                     'true', version=version).json['hypervisors']
        return [n for n in nodes if n['hypervisor_hostname'] ==
                'empty-host'][0]
    assert 'servers' not in node('2.74')
    assert node('2.75')['servers'] == []
    shown = call(app, 'GET', '/v2.1/os-hypervisors/%s?with_servers=true'
                 % node('2.75')['id'], version='2.75').json['hypervisor']
    assert shown['servers'] == []
