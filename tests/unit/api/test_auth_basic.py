"""[api] auth_strategy = http_basic: the user file and the middleware."""

import base64
import logging
import os

import bcrypt
import pytest

from orchestrator.api import app as api_app
from orchestrator.api import auth
from orchestrator.api import auth_basic

from tests import auth_checks
from tests.unit.api.conftest import call
from tests.unit.api.conftest import make_instance

#: bcrypt's lowest cost: the tests check the format, not the cost.
ROUNDS = 4


def _line(name, password, project, roles):
    return auth_basic.user_line(name, password, project, roles,
                                rounds=ROUNDS)


def _basic(name, password):
    raw = ('%s:%s' % (name, password)).encode('utf-8')
    return {'Authorization': 'Basic ' + base64.b64encode(raw).decode()}


@pytest.fixture
def user_file(tmp_path, conf):
    path = tmp_path / 'htpasswd'
    path.write_text('\n'.join([
        '# the test users',
        _line('alice', 'alice-pw', 'alpha', ['member', 'reader']),
        '',
        _line('root', 'root-pw', 'ops', ['Admin']),
        _line('bob', 'bob-pw', 'beta', ['member']),
    ]) + '\n')
    os.chmod(path, 0o600)
    conf.set_override('auth_strategy', 'http_basic', group='api')
    conf.set_override('http_basic_auth_user_file', str(path), group='api')
    return path


@pytest.fixture
def seen(user_file, conf):
    """The middleware in front of an application that answers with the
    context and the identity headers it was given."""
    return api_app.wrap(auth.middleware_for(conf)(
        auth_checks.context_echo, conf), conf)


def test_the_file_parses_to_users_with_lower_case_roles(user_file):
    users = auth_basic.load_users(str(user_file))
    assert sorted(users) == ['alice', 'bob', 'root']
    assert users['alice'].project_id == 'alpha'
    assert users['alice'].roles == ('member', 'reader')
    assert users['root'].roles == ('admin',)
    assert bcrypt.checkpw(b'alice-pw', users['alice'].password_hash)


HASH = '$2b$04$' + 'a' * 53


@pytest.mark.parametrize('line, reason', [
    ('alice:%s:alpha' % HASH, 'got 3 field(s)'),
    ('alice:%s:alpha:member:extra' % HASH, 'got 5 field(s)'),
    ('alice:plain-password:alpha:member', 'not a bcrypt hash'),
    (':%s:alpha:member' % HASH, 'user name is empty'),
    ('al ice:%s:alpha:member' % HASH, 'user name is empty or holds'),
    ('alice:%s::member' % HASH, 'the project of alice is empty'),
    ('alice:%s:alpha:' % HASH, 'the roles of alice'),
    ('alice:%s:alpha:member,,reader' % HASH, 'the roles of alice'),
    ('alice:%s:alpha:mem ber' % HASH, 'the roles of alice'),
])
def test_a_malformed_line_is_one_error_naming_file_and_line(
        tmp_path, line, reason):
    path = tmp_path / 'htpasswd'
    path.write_text('# header\n%s\n' % line)
    with pytest.raises(auth_basic.UserFileError) as raised:
        auth_basic.load_users(str(path))
    message = str(raised.value)
    assert '\n' not in message
    assert message.startswith('http_basic user file %s: line 2: ' % path)
    assert reason in message


def test_a_user_twice_is_an_error(tmp_path):
    path = tmp_path / 'htpasswd'
    path.write_text('alice:%s:alpha:member\nalice:%s:beta:member\n'
                    % (HASH, HASH))
    with pytest.raises(auth_basic.UserFileError,
                       match='line 2: user alice appears twice'):
        auth_basic.load_users(str(path))


def test_a_missing_file_is_one_error(tmp_path, conf):
    path = tmp_path / 'nowhere'
    conf.set_override('auth_strategy', 'http_basic', group='api')
    conf.set_override('http_basic_auth_user_file', str(path), group='api')
    with pytest.raises(auth.AuthConfigError,
                       match='^http_basic user file %s cannot be read'
                             % path):
        auth.check_start(conf, '0.0.0.0')
    with pytest.raises(auth.AuthConfigError):
        api_app.build_app(conf)


def test_a_file_readable_by_others_is_warned_about(user_file, caplog):
    os.chmod(user_file, 0o644)
    with caplog.at_level(logging.WARNING, logger=auth_basic.__name__):
        auth_basic.load_users(str(user_file))
    assert 'readable by others (mode 644)' in caplog.text


def test_good_password_makes_the_users_context(seen):
    resp = call(seen, 'GET', '/v2.1/servers',
                headers=_basic('alice', 'alice-pw'))
    assert resp.status_int == 200
    assert resp.json['context'] == {
        'user_id': 'alice', 'project_id': 'alpha',
        'roles': ['member', 'reader'], 'is_admin': False,
        'system_scope': None, 'auth_token': None}
    resp = call(seen, 'GET', '/v2.1/servers',
                headers=_basic('root', 'root-pw'))
    assert resp.json['context']['is_admin'] is True
    assert resp.json['context']['roles'] == ['admin']


def _assert_401(resp):
    auth_checks.assert_unauthorized(resp, 'Basic realm="orchestrator"')


@pytest.mark.parametrize('headers', [{}, _basic('alice', 'wrong')])
def test_the_console_api_challenges_with_a_scheme_no_browser_prompts_for(
        seen, headers):
    # A Basic challenge to a script's request makes a browser show its
    # own sign-in dialog over the console; the console signs in itself.
    resp = call(seen, 'GET', '/console/api/servers', headers=headers)
    auth_checks.assert_unauthorized(
        resp, 'OrchestratorConsole realm="orchestrator"')
    # The Compute API keeps Basic: curl and the SDKs answer it.
    _assert_401(call(seen, 'GET', '/v2.1/servers', headers=headers))
    # And valid credentials open the console's data as before.
    assert call(seen, 'GET', '/console/api/servers',
                headers=_basic('alice', 'alice-pw')).status_int == 200


@pytest.mark.parametrize('headers', [
    _basic('alice', 'wrong'),
    _basic('alice', 'bob-pw'),
    _basic('alice', ''),
    _basic('nobody', 'alice-pw'),
    {},
    {'Authorization': 'Basic not-base64!'},
    {'Authorization': 'Basic ' + base64.b64encode(b'alice').decode()},
    {'Authorization': 'Bearer alice-pw'},
    {'Authorization': 'Basic ' + base64.b64encode(
        b'alice:' + b'x' * 100).decode()},
    {'X-Auth-Token': 'anything'},
    {'X-User-Id': 'alice', 'X-Project-Id': 'alpha', 'X-Roles': 'admin',
     'X-Identity-Status': 'Confirmed'},
])
def test_anything_but_a_good_password_is_401(seen, headers):
    _assert_401(call(seen, 'GET', '/v2.1/servers', headers=headers))


def test_identity_headers_of_the_client_are_stripped(seen):
    spoofed = {
        'X-User-Id': 'root', 'X-User-Name': 'root', 'X-Project-Id': 'ops',
        'X-Tenant-Id': 'ops', 'X-Roles': 'admin', 'X-Role': 'admin',
        'X-Identity-Status': 'Confirmed', 'X-Service-Roles': 'service',
        'X-Service-Identity-Status': 'Confirmed',
        'OpenStack-System-Scope': 'all', 'X-System-Scope': 'all',
        'X-Domain-Id': 'default', 'X-Is-Admin-Project': 'True',
        'X-Auth-Token': 'forged'}
    spoofed.update(_basic('alice', 'alice-pw'))
    resp = call(seen, 'GET', '/v2.1/servers', headers=spoofed)
    assert resp.status_int == 200
    assert resp.json['identity_headers'] == []
    context = resp.json['context']
    assert (context['user_id'], context['project_id'], context['roles'],
            context['is_admin'], context['system_scope']) == (
        'alice', 'alpha', ['member', 'reader'], False, None)


def test_version_documents_are_public(seen):
    for path in ('/', '/v2.1', '/v2.1/', '/image', '/image/v2', '/identity',
                 '/identity/v3'):
        resp = call(seen, 'GET', path, headers={'X-Roles': 'admin'})
        assert resp.status_int == 200, path
        assert resp.json['context']['user_id'] is None
        assert resp.json['context']['is_admin'] is False
        assert resp.json['identity_headers'] == []
    _assert_401(call(seen, 'POST', '/v2.1'))
    _assert_401(call(seen, 'GET', '/v2.1/flavors'))
    _assert_401(call(seen, 'GET', '/image/v2/images'))


def test_the_file_is_read_again_when_it_changes(seen, user_file, caplog):
    auth_basic.add_user(str(user_file), 'carol', 'carol-pw', 'gamma',
                        ['reader'], rounds=ROUNDS)
    resp = call(seen, 'GET', '/v2.1/servers',
                headers=_basic('carol', 'carol-pw'))
    assert resp.json['context']['project_id'] == 'gamma'
    # A good request was remembered; a new password for the same user
    # replaces it at once.
    assert call(seen, 'GET', '/v2.1/servers',
                headers=_basic('alice', 'alice-pw')).status_int == 200
    lines = user_file.read_text().splitlines()
    lines = [_line('alice', 'new-pw', 'alpha', ['member'])
             if line.startswith('alice:') else line for line in lines]
    user_file.write_text('\n'.join(lines) + '\n')
    _assert_401(call(seen, 'GET', '/v2.1/servers',
                     headers=_basic('alice', 'alice-pw')))
    assert call(seen, 'GET', '/v2.1/servers',
                headers=_basic('alice', 'new-pw')).status_int == 200
    # A malformed new version is logged; the users stay as they were.
    with caplog.at_level(logging.ERROR, logger=auth_basic.__name__):
        before = user_file.read_text()
        user_file.write_text(before + 'garbage\n')
        assert call(seen, 'GET', '/v2.1/servers',
                    headers=_basic('alice', 'new-pw')).status_int == 200
    assert 'line %d: expected NAME:BCRYPT_HASH' % (
        len(before.splitlines()) + 1) in caplog.text
    assert 'the previous users stay' in caplog.text


def test_the_api_shows_a_member_only_its_projects_servers(user_file, conf,
                                                          db):
    mine = make_instance(vm_state='active', project_id='alpha')
    make_instance(vm_state='active', project_id='beta')
    app = api_app.build_app(conf)
    listed = call(app, 'GET', '/v2.1/servers',
                  headers=_basic('alice', 'alice-pw')).json['servers']
    assert [s['id'] for s in listed] == [mine['uuid']]
    everyone = call(app, 'GET', '/v2.1/servers?all_tenants=1',
                    headers=_basic('root', 'root-pw')).json['servers']
    assert len(everyone) == 2
    other = call(app, 'GET', '/v2.1/servers/%s' % mine['uuid'],
                 headers=_basic('bob', 'bob-pw'))
    assert other.status_int == 404
