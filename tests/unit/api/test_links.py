"""Links need a usable scheme, host and mount point: proxy headers (and
a Host header) that cannot make one are a 400, never a 500 or a link
with whatever the header held (findings of the API fuzz test)."""

import logging

import pytest
import webob

from orchestrator.api import links
from tests.unit.api.conftest import CIRROS
from tests.unit.api.conftest import call


@pytest.fixture
def proxied(app, conf):
    conf.set_override('enable_proxy_headers_parsing', True,
                      group='oslo_middleware')
    return app


def _get(app, headers, path='/v2.1/flavors/1'):
    # Headers as a WSGI server hands them over: bytes in latin-1 strings.
    req = webob.Request.blank(path)
    for name, value in headers.items():
        req.environ['HTTP_' + name.upper().replace('-', '_')] = value
    return req.get_response(app)


@pytest.mark.parametrize('headers,named', [
    # Not UTF-8 once the WSGI server's latin-1 string is read as bytes:
    # webob raised UnicodeDecodeError building the links (a 500).
    ({'X-Forwarded-Prefix': '/comp\xe9'}, 'X-Forwarded-Prefix'),
    ({'X-Forwarded-Prefix': '/a b'}, 'X-Forwarded-Prefix'),
    ({'X-Forwarded-Prefix': '/a\x00'}, 'X-Forwarded-Prefix'),
    ({'X-Forwarded-Host': 'a b'}, 'X-Forwarded-Host'),
    ({'X-Forwarded-Host': 'api.example.org/evil?'}, 'X-Forwarded-Host'),
    ({'X-Forwarded-Host': 'h\xe9'}, 'X-Forwarded-Host'),
    ({'Forwarded': 'host="a b"'}, 'Forwarded'),
    ({'X-Forwarded-Proto': 'ht tp'}, 'X-Forwarded-Proto'),
    ({'X-Forwarded-Proto': '1http'}, 'X-Forwarded-Proto'),
])
def test_unusable_proxy_headers_are_400(proxied, headers, named):
    resp = _get(proxied, headers)
    assert resp.status_int == 400, resp.body
    message = resp.json['badRequest']['message']
    assert named in message
    for value in headers.values():
        assert value not in message


def test_a_bad_host_header_is_400_without_proxy_parsing(app):
    resp = _get(app, {'Host': 'a\x01b'})
    assert resp.status_int == 400, resp.body
    assert resp.json['badRequest']['code'] == 400


@pytest.mark.parametrize('headers,href', [
    ({'X-Forwarded-Proto': 'https', 'X-Forwarded-Host': 'api.example.org',
      'X-Forwarded-Prefix': '/compute'},
     'https://api.example.org/compute/v2.1/flavors/1'),
    ({'Forwarded': 'proto=https;host=[2001:db8::1]:8774'},
     'https://[2001:db8::1]:8774/v2.1/flavors/1'),
    ({'X-Forwarded-Host': '[fe80::1%25eth0]:8774'},
     'http://[fe80::1%25eth0]:8774/v2.1/flavors/1'),
    ({'X-Forwarded-Host': 'api.example.org:8443',
      'X-Forwarded-Prefix': '/caf%C3%A9'},
     'http://api.example.org:8443/caf%C3%A9/v2.1/flavors/1'),
])
def test_usable_proxy_headers_make_the_links(proxied, headers, href):
    resp = _get(proxied, headers)
    assert resp.status_int == 200, resp.body
    assert resp.json['flavor']['links'][0]['href'] == href


def test_plain_requests_keep_their_links(app):
    resp = call(app, 'GET', '/v2.1/flavors/1')
    assert resp.status_int == 200
    assert resp.json['flavor']['links'][0]['href'] == \
        'http://localhost/v2.1/flavors/1'


def _hrefs(body):
    """Every href in a JSON body."""
    if isinstance(body, dict):
        found = [body['href']] if isinstance(body.get('href'), str) else []
        return found + [h for v in body.values() for h in _hrefs(v)]
    if isinstance(body, list):
        return [h for v in body for h in _hrefs(v)]
    return []


def test_public_endpoint_makes_every_link_whatever_the_host_header(
        proxied, conf, conductor):
    conf.set_override('public_endpoint', 'https://compute.example.com/c/',
                      group='api')
    evil = {'Host': 'evil.example', 'X-Forwarded-Host': 'evil2.example',
            'X-Forwarded-Proto': 'http'}
    hrefs = []
    for path in ('/v2.1/flavors/1', '/v2.1', '/', '/v2.1/servers'):
        resp = _get(proxied, evil, path)
        assert resp.status_int in (200, 300), resp.text
        hrefs += _hrefs(resp.json)
    resp = call(proxied, 'POST', '/v2.1/servers', {'server': {
        'name': 'a', 'imageRef': CIRROS, 'flavorRef': '1'}}, headers=evil)
    assert resp.status_int == 202, resp.text
    hrefs += _hrefs(resp.json)
    assert resp.headers['Location'].startswith(
        'https://compute.example.com/c/v2.1/servers/')
    # The version documents' describedby link points at the API docs.
    hrefs = [h for h in hrefs if not h.startswith('https://docs.openstack')]
    assert hrefs and all(
        h.startswith('https://compute.example.com/c/') for h in hrefs), hrefs


@pytest.mark.parametrize('listen,endpoint,warned', [
    ('0.0.0.0', None, True),
    ('0.0.0.0', 'https://compute.example.com', False),
    ('127.0.0.1', None, False),
])
def test_a_daemon_beyond_loopback_without_public_endpoint_warns(
        conf, caplog, listen, endpoint, warned):
    conf.set_override('public_endpoint', endpoint, group='api')
    with caplog.at_level(logging.WARNING, logger=links.__name__):
        links.check_start(conf, listen)
    assert bool(caplog.records) is warned
