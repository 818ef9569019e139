"""Flavor create and delete, extra specs and flavor access (admin), the
visibility of non-public flavors, in Nova's shapes (tempest.lib's
schemas)."""

import pytest

from orchestrator import states

from tests.unit.api import oracle
from tests.unit.api.conftest import CIRROS
from tests.unit.api.conftest import call
from tests.unit.api.conftest import make_compute_host
from tests.unit.api.conftest import make_instance


def _flavor(**values):
    body = {'name': 'f1', 'ram': 128, 'vcpus': 1, 'disk': 1}
    body.update(values)
    return {'flavor': body}


def test_create_show_delete(app):
    resp = call(app, 'POST', '/v2.1/flavors', _flavor(
        id='x1', swap=16, rxtx_factor='1.5', ram='256',
        **{'OS-FLV-EXT-DATA:ephemeral': 2}))
    flavor = oracle.check(resp, 'v2_1', 'flavors',
                          'create_update_get_flavor_details')['flavor']
    assert (flavor['id'], flavor['ram'], flavor['swap'],
            flavor['rxtx_factor'], flavor['OS-FLV-EXT-DATA:ephemeral'],
            flavor['os-flavor-access:is_public']) == (
        'x1', 256, 16, 1.5, 2, True)
    assert call(app, 'GET', '/v2.1/flavors/x1').json['flavor'] == flavor
    # No id: a generated one.
    resp = call(app, 'POST', '/v2.1/flavors', _flavor(name='f2', id=None))
    assert len(resp.json['flavor']['id']) == 36

    oracle.check(call(app, 'DELETE', '/v2.1/flavors/x1'), 'v2_1',
                 'flavors', 'delete_flavor')
    assert call(app, 'GET', '/v2.1/flavors/x1').status_int == 404
    assert call(app, 'DELETE', '/v2.1/flavors/x1').status_int == 404


def test_duplicates_are_409(app):
    assert call(app, 'POST', '/v2.1/flavors',
                _flavor(id='d1')).status_int == 200
    resp = call(app, 'POST', '/v2.1/flavors', _flavor(id='d2'))
    assert resp.status_int == 409
    assert resp.json['conflictingRequest']['message'] == \
        'Flavor with name f1 already exists.'
    resp = call(app, 'POST', '/v2.1/flavors', _flavor(name='other', id='1'))
    assert resp.status_int == 409
    assert 'Flavor with ID 1 already exists.' in resp.text


@pytest.mark.parametrize('body,field', [
    (_flavor(ram=0), 'ram'),
    (_flavor(vcpus='x'), 'vcpus'),
    (_flavor(disk=-1), 'disk'),
    (_flavor(name=' lead'), 'name'),
    (_flavor(id='a/b'), 'id'),
    (_flavor(rxtx_factor=0), 'rxtx_factor'),
    (_flavor(**{'os-flavor-access:is_public': 'maybe'}),
     'os-flavor-access:is_public'),
    ({'flavor': {'name': 'n', 'ram': 1, 'vcpus': 1}}, 'flavor'),
])
def test_bad_create_is_400(app, body, field):
    resp = call(app, 'POST', '/v2.1/flavors', body)
    assert resp.status_int == 400, resp.text
    assert 'field/attribute %s' % field in resp.json['badRequest']['message']


def test_members_may_not_manage_flavors(member_app, app):
    assert call(member_app, 'POST', '/v2.1/flavors',
                _flavor()).status_int == 403
    assert call(member_app, 'DELETE', '/v2.1/flavors/1').status_int == 403
    assert call(member_app, 'POST', '/v2.1/flavors/1/os-extra_specs',
                {'extra_specs': {'a': 'b'}}).status_int == 403
    assert call(member_app, 'GET',
                '/v2.1/flavors/1/os-flavor-access').status_int == 403


def test_extra_specs(app, member_app):
    base = '/v2.1/flavors/1/os-extra_specs'
    body = oracle.check(call(app, 'GET', base), 'v2_1',
                        'flavors_extra_specs', 'set_get_flavor_extra_specs')
    assert body == {'extra_specs': {}}
    resp = call(app, 'POST', base, {'extra_specs': {
        'hw:cpu_policy': 'dedicated', 'quota:cpu_shares': 1024}})
    body = oracle.check(resp, 'v2_1', 'flavors_extra_specs',
                        'set_get_flavor_extra_specs')
    assert body['extra_specs']['quota:cpu_shares'] == '1024'
    resp = call(app, 'PUT', base + '/hw:cpu_policy',
                {'hw:cpu_policy': 'shared'})
    oracle.check(resp, 'v2_1', 'flavors_extra_specs',
                 'set_get_flavor_extra_specs_key')
    # Readers see them.
    resp = call(member_app, 'GET', base + '/hw:cpu_policy')
    assert oracle.check(resp, 'v2_1', 'flavors_extra_specs',
                        'set_get_flavor_extra_specs_key') == {
        'hw:cpu_policy': 'shared'}
    assert call(member_app, 'GET', base).json == {'extra_specs': {
        'hw:cpu_policy': 'shared', 'quota:cpu_shares': '1024'}}
    oracle.check(call(app, 'DELETE', base + '/quota:cpu_shares'), 'v2_1',
                 'flavors_extra_specs', 'unset_flavor_extra_specs')
    resp = call(app, 'GET', base + '/quota:cpu_shares')
    assert resp.status_int == 404
    assert resp.json['itemNotFound']['message'] == \
        'Flavor 1 has no extra specs with key quota:cpu_shares.'
    assert call(app, 'DELETE',
                base + '/quota:cpu_shares').status_int == 404
    # The body must name the key of the URI; one key; valid keys.
    resp = call(app, 'PUT', base + '/a', {'b': 'x'})
    assert resp.status_int == 400
    assert 'mismatch' in resp.json['badRequest']['message']
    assert call(app, 'PUT', base + '/a',
                {'a': 'x', 'b': 'y'}).status_int == 400
    assert call(app, 'POST', base,
                {'extra_specs': {'a/b': 'x'}}).status_int == 400
    assert call(app, 'POST', base,
                {'extra_specs': {'a': 'x' * 256}}).status_int == 400
    assert call(app, 'GET',
                '/v2.1/flavors/nope/os-extra_specs').status_int == 404


def test_non_public_flavor_access(app, member_app, other_member_app,
                                  conductor):
    resp = call(app, 'POST', '/v2.1/flavors', _flavor(
        id='p1', **{'os-flavor-access:is_public': False}))
    assert resp.json['flavor']['os-flavor-access:is_public'] is False
    access = '/v2.1/flavors/p1/os-flavor-access'
    body = oracle.check(call(app, 'GET', access), 'v2_1', 'flavors_access',
                        'add_remove_list_flavor_access')
    assert body == {'flavor_access': []}

    def ids(persona_app):
        return [f['id'] for f in call(persona_app, 'GET',
                                      '/v2.1/flavors').json['flavors']]

    # Not shared: another project cannot find it anywhere.
    assert 'p1' not in ids(member_app)
    assert call(member_app, 'GET', '/v2.1/flavors/p1').status_int == 404
    server = {'server': {'name': 'vm', 'imageRef': CIRROS,
                         'flavorRef': 'p1'}}
    assert call(member_app, 'POST', '/v2.1/servers',
                server).status_int == 400

    resp = call(app, 'POST', '/v2.1/flavors/p1/action',
                {'addTenantAccess': {'tenant': 'default'}}, version='2.7')
    body = oracle.check(resp, 'v2_1', 'flavors_access',
                        'add_remove_list_flavor_access')
    assert body == {'flavor_access': [{'flavor_id': 'p1',
                                       'tenant_id': 'default'}]}
    resp = call(app, 'POST', '/v2.1/flavors/p1/action',
                {'addTenantAccess': {'tenant': 'default'}})
    assert resp.status_int == 409

    # Shared with 'default': its member lists, shows and boots it;
    # project beta still does not.
    assert 'p1' in ids(member_app)
    assert call(member_app, 'GET', '/v2.1/flavors/p1').status_int == 200
    assert call(member_app, 'POST', '/v2.1/servers',
                server).status_int == 202
    assert 'p1' not in ids(other_member_app)
    assert call(other_member_app, 'GET',
                '/v2.1/flavors/p1').status_int == 404

    resp = call(app, 'POST', '/v2.1/flavors/p1/action',
                {'removeTenantAccess': {'tenant': 'default'}})
    assert resp.json == {'flavor_access': []}
    assert call(app, 'POST', '/v2.1/flavors/p1/action', {
        'removeTenantAccess': {'tenant': 'default'}}).status_int == 404
    assert call(member_app, 'GET', '/v2.1/flavors/p1').status_int == 404


def test_resize_to_a_flavor_not_shared_is_400(app, member_app, conductor):
    assert call(app, 'POST', '/v2.1/flavors', _flavor(
        id='p2', disk=40,
        **{'os-flavor-access:is_public': False})).status_int == 200
    make_compute_host('h1')
    server = make_instance(states.ACTIVE, host='h1')['uuid']
    resize = {'resize': {'flavorRef': 'p2'}}
    resp = call(member_app, 'POST', '/v2.1/servers/%s/action' % server,
                resize)
    assert resp.status_int == 400
    assert resp.json['badRequest']['message'] == 'Unable to find flavor p2.'
    assert call(app, 'POST', '/v2.1/flavors/p2/action',
                {'addTenantAccess': {'tenant': 'default'}}).status_int == 200
    assert call(member_app, 'POST', '/v2.1/servers/%s/action' % server,
                resize).status_int == 202


def test_access_of_a_public_flavor(app):
    resp = call(app, 'GET', '/v2.1/flavors/1/os-flavor-access')
    assert resp.status_int == 404
    assert 'public flavors' in resp.json['itemNotFound']['message']
    resp = call(app, 'POST', '/v2.1/flavors/1/action',
                {'addTenantAccess': {'tenant': 'p'}}, version='2.7')
    assert resp.status_int == 409
    assert call(app, 'POST', '/v2.1/flavors/1/action',
                {'addTenantAccess': {}}).status_int == 400
    assert call(app, 'POST', '/v2.1/flavors/1/action',
                {'bogus': {}}).status_int == 400
