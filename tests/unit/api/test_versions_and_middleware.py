"""Version documents, microversion headers, request ids, faults."""

import re

import pytest

from orchestrator.api import app as api_app
from orchestrator.api import microversion
from tests.unit.api import oracle
from tests.unit.api.conftest import call
from tests.unit.api.conftest import make_instance

REQ_ID = re.compile(r'^req-[0-9a-f-]{36}$')
VERSION_HEADERS = ('OpenStack-API-Version', 'X-OpenStack-Nova-API-Version')


def test_root_lists_v20_and_v21_per_tempest(app):
    resp = call(app, 'GET', '/')
    body = oracle.check(resp, 'v2_1', 'versions', 'list_versions')
    v20, v21 = body['versions']
    assert v21['id'] == 'v2.1' and v21['status'] == 'CURRENT'
    assert v21['version'] == '2.79' and v21['min_version'] == '2.1'
    assert v21['links'][0]['href'] == 'http://localhost/v2.1/'
    assert (v20['id'], v20['status'], v20['version'],
            v20['min_version']) == ('v2.0', 'SUPPORTED', '', '')
    assert v20['links'] == [{'rel': 'self', 'href': 'http://localhost/v2/'}]


def test_every_listed_version_link_is_its_document(app):
    """What tempest's test_get_version_details follows: each self link
    of the list is a version document whose self link is the same."""
    for version in call(app, 'GET', '/').json['versions']:
        [link] = [x for x in version['links'] if x['rel'] == 'self']
        path = link['href'][len('http://localhost'):]
        body = oracle.check(call(app, 'GET', path), 'v2_1', 'versions',
                            'get_one_version')
        assert [x for x in body['version']['links']
                if x['rel'] == 'self'] == [link]
        assert body['version']['id'] == version['id']


def test_legacy_v2_is_v21_at_2_1_without_version_headers(app):
    instance = make_instance('active')
    resp = call(app, 'GET', '/v2/servers/' + instance['uuid'],
                version='2.47')
    assert resp.status_int == 200
    body = resp.json['server']
    assert body['id'] == instance['uuid']
    # 2.1's body whatever the request asked for, and no version headers.
    assert 'locked' not in body and 'description' not in body
    assert body['flavor']['id'] == '1'
    for header in VERSION_HEADERS:
        assert header not in resp.headers
    assert call(app, 'GET', '/v2/servers/detail').status_int == 200
    assert call(app, 'GET', '/v2/no-such-thing').status_int == 404


@pytest.mark.parametrize('path', ['/v2.1', '/v2.1/'])
def test_v21_document_per_tempest(app, path):
    resp = call(app, 'GET', path)
    body = oracle.check(resp, 'v2_1', 'versions', 'get_one_version')
    assert body['version']['media-types'][0]['base'] == 'application/json'
    assert body['version']['links'][0] == {
        'rel': 'self', 'href': 'http://localhost/v2.1/'}


def test_links_follow_proxy_headers_when_enabled(app, conf):
    conf.set_override('enable_proxy_headers_parsing', True,
                      group='oslo_middleware')
    resp = call(app, 'GET', '/', headers={
        'X-Forwarded-Proto': 'https', 'X-Forwarded-Host': 'api.example.org'})
    assert resp.json['versions'][1]['links'][0]['href'] == \
        'https://api.example.org/v2.1/'


def test_links_use_the_host_the_client_used(app):
    resp = call(app, 'GET', '/v2.1', headers={'Host': 'cloud:8774'})
    assert resp.json['version']['links'][0]['href'] == \
        'http://cloud:8774/v2.1/'


@pytest.mark.parametrize('headers,expected', [
    ({}, '2.1'),
    ({'OpenStack-API-Version': 'compute 2.19'}, '2.19'),
    ({'OpenStack-API-Version': 'compute latest'}, '2.79'),
    ({'OpenStack-API-Version': 'volume 3.0, compute 2.9'}, '2.9'),
    ({'OpenStack-API-Version': 'volume 3.0'}, '2.1'),
    ({'X-OpenStack-Nova-API-Version': '2.16'}, '2.16'),
    ({'X-OpenStack-Nova-API-Version': 'latest'}, '2.79'),
    ({'OpenStack-API-Version': 'compute 2.26',
      'X-OpenStack-Nova-API-Version': '2.3'}, '2.26'),
])
def test_both_microversion_headers_are_read_and_echoed(app, headers,
                                                       expected):
    resp = call(app, 'GET', '/v2.1/flavors', headers=headers)
    assert resp.status_int == 200
    assert resp.headers['OpenStack-API-Version'] == 'compute ' + expected
    assert resp.headers['X-OpenStack-Nova-API-Version'] == expected
    assert 'OpenStack-API-Version' in resp.headers['Vary']
    assert 'X-OpenStack-Nova-API-Version' in resp.headers['Vary']


@pytest.mark.parametrize('headers', [
    {'OpenStack-API-Version': 'compute 2.80'},
    {'OpenStack-API-Version': 'compute 2.0'},
    {'OpenStack-API-Version': 'compute 3.0'},
    {'X-OpenStack-Nova-API-Version': '2.99'},
    {'X-OpenStack-Nova-API-Version': '1.1'},
])
def test_version_outside_the_range_is_406_compute_fault(app, headers):
    resp = call(app, 'GET', '/v2.1/servers', headers=headers)
    assert resp.status_int == 406
    fault = resp.json['computeFault']
    assert fault['code'] == 406
    assert 'Minimum is 2.1 and maximum is 2.79' in fault['message']
    assert REQ_ID.match(resp.headers['x-openstack-request-id'])


@pytest.mark.parametrize('value', ['2', '2.x', 'two', '2.1.1', '02.1',
                                   '2.01', ''])
def test_malformed_version_is_400(app, value):
    resp = call(app, 'GET', '/v2.1/servers',
                headers={'OpenStack-API-Version': 'compute %s' % value})
    assert resp.status_int == 400
    assert 'invalid format' in resp.json['badRequest']['message']


def test_microversion_parse_and_compare():
    assert microversion.parse('2.10') > microversion.parse('2.9')
    assert str(microversion.parse('2.47')) == '2.47'


@pytest.mark.parametrize('method,path,code', [
    ('GET', '/', 200),
    ('GET', '/v2.1', 200),
    ('GET', '/nothing/here', 404),
    ('GET', '/v2.1/servers/%s' % ('0' * 8), 404),
    ('PUT', '/v2.1/flavors', 405),
    ('GET', '/v2.1/os-services', 200),
    ('GET', '/image/v2/images', 200),
    ('POST', '/v2.1/servers', 400),
])
def test_every_response_has_a_request_id(app, method, path, code):
    resp = call(app, method, path)
    assert resp.status_int == code
    assert REQ_ID.match(resp.headers['x-openstack-request-id'])


def test_unknown_route_is_item_not_found(app):
    resp = call(app, 'GET', '/v2.1/no-such-thing')
    assert resp.status_int == 404
    assert resp.content_type == 'application/json'
    assert resp.json == {'itemNotFound': {
        'code': 404, 'message': 'The resource could not be found.'}}


def test_wrong_method_is_405_bad_method_with_allow(app):
    # NOTE: a route with GET only (flavors can be deleted now).
    resp = call(app, 'DELETE', '/v2.1/os-availability-zone')
    assert resp.status_int == 405
    assert resp.json['badMethod']['code'] == 405
    assert resp.headers['Allow'] == 'GET'


@pytest.mark.parametrize('method,path', [
    ('DELETE', '/v2.1/images/'),
    ('GET', '/v2.1/images/%s' % ('0' * 8)),
    ('DELETE', '/v2.1/images/%s' % ('0' * 8)),
    ('PUT', '/v2.1/flavors/'),
    ('DELETE', '/v2.1/servers/'),
])
def test_blank_or_unknown_id_is_404_not_405(app, method, path):
    """A trailing slash where the method takes an id names a blank id:
    404 as Nova (tempest's image delete with a blank id), not the
    collection's 405."""
    resp = call(app, method, path)
    assert resp.status_int == 404
    assert resp.json['itemNotFound']['code'] == 404
    assert 'Allow' not in resp.headers


@pytest.mark.parametrize('method,path,allow', [
    ('DELETE', '/v2.1/images', 'GET'),
    ('PUT', '/v2.1/flavors', 'GET, POST'),
    # No route of DELETE one segment further: the collection's 405.
    ('DELETE', '/v2.1/os-availability-zone/', 'GET'),
    ('POST', '/v2.1/images/', 'GET'),
])
def test_wrong_method_on_a_real_path_stays_405(app, method, path, allow):
    resp = call(app, method, path)
    assert resp.status_int == 405
    assert resp.headers['Allow'] == allow


def test_trailing_slash_is_accepted(app):
    assert call(app, 'GET', '/v2.1/flavors/').status_int == 200
    assert call(app, 'GET', '/v2.1/servers/detail/').status_int == 200


def test_body_over_the_size_limit_is_413_over_limit(app, conf):
    conf.set_override('max_request_body_size', 100, group='oslo_middleware')
    resp = call(app, 'POST', '/v2.1/servers', raw=b'{"x": "%s"}' % (
        b'a' * 500))
    assert resp.status_int == 413
    assert resp.json['overLimit']['code'] == 413
    assert 'x-openstack-request-id' in resp.headers


def test_unexpected_error_is_500_compute_fault_without_internals(
        db, conf, monkeypatch):
    def broken(req):
        raise RuntimeError('secret internals')
    monkeypatch.setattr(api_app, 'RESOURCES', ())
    router = api_app.build_router()
    router.add('GET', '/v2.1/broken', broken)
    monkeypatch.setattr(api_app, 'build_router', lambda: router)
    resp = call(api_app.build_app(conf), 'GET', '/v2.1/broken')
    assert resp.status_int == 500
    fault = resp.json['computeFault']
    assert fault['code'] == 500
    # Neither the error's message nor its type (issue 10, item 6).
    assert fault['message'] == (
        'Unexpected API Error. Please report it with the request id %s; '
        'the API log has the details.'
        % resp.headers['x-openstack-request-id'])
    assert resp.headers['X-OpenStack-Nova-API-Version'] == '2.1'


def test_error_of_a_middleware_becomes_a_json_fault(db, conf):
    import webob.exc
    from orchestrator.api import errors

    app = errors.FaultWrapper(webob.exc.HTTPUnsupportedMediaType(
        detail='No XML here.'))
    resp = call(app, 'POST', '/v2.1/servers')
    assert resp.status_int == 415
    assert resp.content_type == 'application/json'
    assert 'No XML here.' in resp.json['badMediaType']['message']


def test_any_token_or_none_is_accepted(app):
    for headers in ({}, {'X-Auth-Token': 'anything'}):
        assert call(app, 'GET', '/v2.1/servers',
                    headers=headers).status_int == 200
