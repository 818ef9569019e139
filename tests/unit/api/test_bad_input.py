"""Bad input is a clear 4xx in Nova's shape, never a 500 (issue 10, item
6): paths and query strings that are not UTF-8, deeply nested or
unstorable JSON, absurd microversions, ids beyond the column's range,
and the 413's message. (A 500 saying nothing of its cause: in
test_versions_and_middleware.)"""

import json
import time

import hypothesis
import pytest
from hypothesis import strategies as st

from orchestrator.api import json_input
from orchestrator.api import microversion
from orchestrator.api import query
from tests.unit.api.conftest import call
from tests.unit.api.conftest import make_instance


def _fault(resp, code, name='badRequest'):
    assert resp.status_int == code, resp.text
    assert resp.content_type == 'application/json'
    assert list(resp.json) == [name]
    assert resp.json[name]['code'] == code
    assert resp.headers['x-compute-request-id'] == \
        resp.headers['x-openstack-request-id']
    return resp.json[name]['message']


@pytest.mark.parametrize('path, where', [
    ('/v2.1/servers/%ff', 'path'),
    ('/v2.1/servers/%ED%A0%80/action', 'path'),
    ('/image/v2/images/%c0%af', 'path'),
    ('/v2.1/flavors/%e2%82', 'path'),
    ('/v2.1/servers?name=%ff', 'query string'),
    ('/image/v2/images?limit=%ED%A0%80', 'query string'),
    ('/v2.1/flavors?minRam=%80', 'query string'),
    ('/v2.1/os-migrations?%ff=1', 'query string'),
])
def test_path_or_query_not_utf8_is_400(app, path, where):
    message = _fault(call(app, 'GET', path), 400)
    assert message == ('The request %s is not valid UTF-8 once '
                       'percent-decoded.' % where)


@pytest.mark.parametrize('path', ['/v2.1/servers/a%00b',
                                  '/v2.1/servers?host=h%001'])
def test_nul_in_path_or_query_is_400(app, path):
    assert 'contains a NUL character' in _fault(call(app, 'GET', path), 400)


def test_utf8_path_and_query_still_work(app):
    make_instance('active', display_name='caf\u00e9')
    resp = call(app, 'GET', '/v2.1/servers?name=caf%C3%A9')
    assert [s['name'] for s in resp.json['servers']] == ['caf\u00e9']
    _fault(call(app, 'GET', '/v2.1/servers/caf%C3%A9'), 404, 'itemNotFound')


@pytest.mark.parametrize('raw', [
    b'[' * 50000,
    b'{"s":' * 20000,
    b'[' * 33 + b']' * 33,
])
def test_deeply_nested_json_is_400_before_parsing(app, raw):
    started = time.monotonic()
    message = _fault(call(app, 'POST', '/v2.1/servers', raw=raw), 400)
    assert message == ('Malformed request body: arrays and objects are '
                       'nested more than 32 deep')
    assert time.monotonic() - started < 1.0


def test_depth_ignores_brackets_in_strings():
    text = json.dumps({'a': ['[[[[{{{{"\\' * 50]})
    assert json_input.nesting_depth(text, 32) == 2
    assert json_input.loads(text.encode('utf-8')) == json.loads(text)
    deep = '[' * 32 + ']' * 32
    assert json_input.nesting_depth(deep, 32) == 32
    assert json_input.nesting_depth('[' * 100, 32) == 33


@pytest.mark.parametrize('raw, reason', [
    (b'{"server": {"name": "a\\u0000b"}}', 'a string contains a NUL'),
    (b'{"\\ud800": null}', 'lone surrogate'),
    (b'{"os-stop": NaN}', None),
    (b'{"os-stop": 1e999}', None),
    (b'{"os-stop": 1}' + b'\xff', None),
])
def test_unstorable_json_is_400(app, conductor, raw, reason):
    server = make_instance('active')
    message = _fault(call(app, 'POST', '/v2.1/servers/%s/action'
                          % server['uuid'], raw=raw), 400)
    assert message.startswith('Malformed request body')
    if reason:
        assert reason in message


@pytest.mark.parametrize('version, code', [
    ('2.' + '9' * 5000, 406),
    ('9' * 5000 + '.1', 406),
    ('2.1' + '0' * 4000, 406),
    ('2.0000001', 400),
    ('\u0662.\u0661', 400),
])
def test_huge_or_odd_microversion(app, version, code):
    resp = call(app, 'GET', '/v2.1/servers', version=version)
    message = _fault(resp, code, 'badRequest' if code == 400
                     else 'computeFault')
    assert len(message) < 200


def test_migration_id_beyond_the_column_is_404(app):
    server = make_instance('active')
    for migration_id in ('99999999999999999999', '2147483648',
                         '-99999999999999999999', '9' * 5000):
        for method in ('GET', 'DELETE'):
            resp = call(app, method, '/v2.1/servers/%s/migrations/%s'
                        % (server['uuid'], migration_id), version='2.24')
            assert resp.status_int in (404, 409), resp.text
            assert resp.status_int != 500
        _fault(call(app, 'GET', '/v2.1/servers/%s/migrations/%s'
                    % (server['uuid'], migration_id), version='2.24'),
               404, 'itemNotFound')


def test_flavor_min_filters_beyond_the_column_are_400(app):
    for param in ('minRam', 'minDisk'):
        message = _fault(call(app, 'GET', '/v2.1/flavors?%s=%s'
                              % (param, '9' * 20)), 400)
        assert message == 'Invalid %s filter [%s]' % (param, '9' * 20)


def test_db_integer():
    assert query.db_integer(' 42 ') == 42
    assert query.db_integer('-7') == -7
    assert query.db_integer(str(query.MAX_DB_INT)) == query.MAX_DB_INT
    for text in (str(query.MAX_DB_INT + 1), '1_000', '\u0661', '', '-',
                 '1.0', '9' * 5000):
        assert query.db_integer(text) is None


def test_413_message_has_the_limit_not_a_placeholder(app, conf):
    conf.set_override('max_request_body_size', 100, group='oslo_middleware')
    resp = call(app, 'POST', '/v2.1/servers', raw=b'{"x": "%s"}' % (
        b'a' * 500))
    message = _fault(resp, 413, 'overLimit')
    assert message == ('Request is too large: the body has 509 bytes, '
                       'max_request_body_size is 100.')


def test_max_echo_bounds_the_microversion_in_messages():
    with pytest.raises(Exception) as raised:
        microversion.parse('x' * 1000)
    assert len(str(raised.value)) < 100 + microversion.MAX_ECHO


def _depth(value):
    if isinstance(value, dict):
        return 1 + max(map(_depth, value.values()), default=0)
    if isinstance(value, list):
        return 1 + max(map(_depth, value), default=0)
    return 0


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(
        alphabet='[]{}"\\ab\u00e9', max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
        st.text(alphabet='[]{}"\\a', max_size=4), inner, max_size=3),
    max_leaves=20)


@hypothesis.settings(max_examples=100, derandomize=True, deadline=None,
                     database=None)
@hypothesis.given(value=_json, ensure_ascii=st.booleans())
def test_nesting_depth_is_the_json_depth(value, ensure_ascii):
    """Brackets, quotes and backslashes inside strings never count."""
    text = json.dumps(value, ensure_ascii=ensure_ascii)
    assert json_input.nesting_depth(text, 64) == _depth(value)
