"""Server tags (2.26+): the six routes, Nova's limits and statuses, the
tags in server bodies, and who may read and change them."""

import pytest

from orchestrator import states
from orchestrator.db import tags as db_tags
from tests.unit.api import oracle
from tests.unit.api.conftest import call
from tests.unit.api.conftest import make_instance
from tests.unit.api.conftest import persona_app

V = '2.26'


def _tags(app, server_id, version=V):
    return call(app, 'GET', '/v2.1/servers/%s/tags' % server_id,
                version=version)


def test_tags_lifecycle(app):
    server = make_instance(states.ACTIVE)['uuid']
    base = '/v2.1/servers/%s/tags' % server
    assert _tags(app, server).json == {'tags': []}

    resp = call(app, 'PUT', base + '/web', version=V)
    assert resp.status_int == 201
    assert resp.headers['Location'].endswith(base + '/web')
    assert call(app, 'PUT', base + '/web', version=V).status_int == 204
    assert call(app, 'GET', base + '/web', version=V).status_int == 204
    resp = call(app, 'GET', base + '/db', version=V)
    assert resp.status_int == 404
    assert resp.json['itemNotFound']['message'] == \
        "Instance %s has no tag 'db'" % server

    resp = call(app, 'PUT', base, {'tags': ['b', 'a', 'b']}, version=V)
    assert resp.status_int == 200
    assert resp.json == {'tags': ['a', 'b']}
    assert _tags(app, server).json == {'tags': ['a', 'b']}

    # Shown in the server's body from 2.26, not before.
    body = oracle.check(call(app, 'GET', '/v2.1/servers/%s' % server,
                             version=V), 'v2_26', 'servers', 'get_server')
    assert body['server']['tags'] == ['a', 'b']
    listed = call(app, 'GET', '/v2.1/servers/detail', version=V).json
    assert [s['tags'] for s in listed['servers']] == [['a', 'b']]
    assert 'tags' not in call(app, 'GET', '/v2.1/servers/%s' % server,
                              version='2.25').json['server']

    assert call(app, 'DELETE', base + '/a', version=V).status_int == 204
    assert call(app, 'DELETE', base + '/a', version=V).status_int == 404
    assert call(app, 'DELETE', base, version=V).status_int == 204
    assert _tags(app, server).json == {'tags': []}


def test_before_226_the_routes_do_not_exist(app):
    server = make_instance(states.ACTIVE)['uuid']
    assert _tags(app, server, version='2.25').status_int == 404
    assert call(app, 'PUT', '/v2.1/servers/%s/tags/x' % server,
                version='2.25').status_int == 404


@pytest.mark.parametrize('tag', ['a/b', 'a,b', 'x' * 61])
def test_bad_tags_are_400(app, tag):
    server = make_instance(states.ACTIVE)['uuid']
    resp = call(app, 'PUT', '/v2.1/servers/%s/tags' % server,
                {'tags': [tag]}, version=V)
    assert resp.status_int == 400
    if '/' not in tag:
        resp = call(app, 'PUT', '/v2.1/servers/%s/tags/%s' % (server, tag),
                    version=V)
        assert resp.status_int == 400
        assert 'is invalid' in resp.json['badRequest']['message']


def test_fifty_tags_at_most(app):
    server = make_instance(states.ACTIVE)['uuid']
    base = '/v2.1/servers/%s/tags' % server
    fifty = ['t%02d' % i for i in range(50)]
    assert call(app, 'PUT', base, {'tags': fifty + ['x']},
                version=V).status_int == 400
    assert call(app, 'PUT', base, {'tags': fifty},
                version=V).status_int == 200
    resp = call(app, 'PUT', base + '/x', version=V)
    assert resp.status_int == 400
    assert resp.json['badRequest']['message'] == \
        'The number of tags exceeded the per-server limit 50'
    assert len(db_tags.get_all(server)) == 50


def test_a_building_server_is_409(app):
    server = make_instance()['uuid']
    resp = call(app, 'PUT', '/v2.1/servers/%s/tags/x' % server, version=V)
    assert resp.status_int == 409
    assert _tags(app, server).json == {'tags': []}


def test_who_sees_and_changes_tags(conf, db, other_member_app):
    reader = persona_app(conf, 'reader', 'default', ['reader'])
    member = persona_app(conf, 'member', 'default', ['member'])
    server = make_instance(states.ACTIVE)['uuid']
    assert call(member, 'PUT', '/v2.1/servers/%s/tags/m' % server,
                version=V).status_int == 201
    assert _tags(reader, server).json == {'tags': ['m']}
    assert call(reader, 'DELETE', '/v2.1/servers/%s/tags/m' % server,
                version=V).status_int == 403
    assert _tags(other_member_app, server).status_int == 404
    assert call(other_member_app, 'PUT', '/v2.1/servers/%s/tags/x' % server,
                version=V).status_int == 404
