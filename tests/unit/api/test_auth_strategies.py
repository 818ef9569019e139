"""[api] auth_strategy: noauth's start checks and context, keystone's
401 without a token (keystonemiddleware's real auth_token; the checks
with real tokens are in tests/functional/test_keystone_auth.py), and
the real ``orchestrator-api`` refusing to start."""

import logging
import os
import subprocess
import sys

import pytest

from orchestrator.api import app as api_app
from orchestrator.api import auth

from tests import auth_checks
from tests.unit.api.conftest import call

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..',
                                    '..'))


@pytest.mark.parametrize('host, loopback', [
    ('127.0.0.1', True), ('127.0.0.53', True), ('::1', True),
    ('[::1]', True), ('localhost', True),
    ('0.0.0.0', False), ('::', False), ('192.0.2.10', False),
    ('2001:db8::1', False), ('no-such-host.invalid', False),
])
def test_is_loopback(host, loopback):
    assert auth.is_loopback(host) is loopback


@pytest.mark.parametrize('host', ['0.0.0.0', '::', '192.0.2.10'])
def test_noauth_beyond_loopback_is_refused(conf, host):
    with pytest.raises(auth.AuthConfigError) as raised:
        auth.check_start(conf, host)
    message = str(raised.value)
    assert '\n' not in message
    assert message.startswith('refusing to serve [api] auth_strategy = '
                              'noauth on %s, beyond loopback' % host)
    assert 'allow_noauth_beyond_loopback = True' in message


def test_noauth_warns_on_every_start(conf, caplog):
    with caplog.at_level(logging.WARNING, logger=auth.__name__):
        auth.check_start(conf, '127.0.0.1')
        auth.check_start(conf, None)
        conf.set_override('allow_noauth_beyond_loopback', True, group='api')
        auth.check_start(conf, '0.0.0.0')
    warnings = [r.getMessage() for r in caplog.records
                if r.levelno == logging.WARNING]
    assert len(warnings) == 3
    assert all('auth_strategy = noauth: no authentication' in w
               for w in warnings)
    assert 'caller of 0.0.0.0 is an administrator of project default' \
        in warnings[2]


def test_other_strategies_start_anywhere_without_the_warning(conf, caplog):
    conf.set_override('auth_strategy', 'keystone', group='api')
    with caplog.at_level(logging.WARNING, logger=auth.__name__):
        auth.check_start(conf, '0.0.0.0')
    assert caplog.records == []


@pytest.fixture
def context_of(conf):
    """Builds the strategy's middleware in front of an application that
    answers with the context it was given."""
    def build():
        return api_app.wrap(auth.middleware_for(conf)(
            auth_checks.context_echo, conf), conf)
    return build


def test_noauth_makes_an_admin_of_the_default_project(context_of):
    resp = call(context_of(), 'GET', '/v2.1/servers', headers={
        'X-Auth-Token': 'secret-token', 'X-Roles': 'reader',
        'X-Project-Id': 'elsewhere'})
    assert resp.json['context'] == {
        'user_id': 'admin', 'project_id': 'default',
        'roles': ['admin', 'member', 'reader'], 'is_admin': True,
        'auth_token': None, 'system_scope': None}
    assert resp.json['identity_headers'] == []


def test_is_admin_is_the_policy_decision(conf, tmp_path):
    environ = {}
    assert auth.new_context(environ, conf, 'u', 'p', ['Admin']).is_admin
    member = auth.new_context(environ, conf, 'u', 'p',
                              ['member', ' Reader '])
    assert not member.is_admin
    assert member.roles == ['member', 'reader']
    # A policy file that makes operators administrators decides too.
    rules = tmp_path / 'policy.yaml'
    rules.write_text('"context_is_admin": "role:operator"\n')
    conf.set_override('policy_file', str(rules), group='oslo_policy')
    assert auth.new_context(environ, conf, 'u', 'p', ['operator']).is_admin
    assert not auth.new_context(environ, conf, 'u', 'p', ['admin']).is_admin


@pytest.fixture
def keystone_conf(conf):
    from keystonemiddleware import auth_token
    for group, opts in auth_token.list_opts():
        conf.register_opts(opts, group=group)
    conf.set_override('auth_strategy', 'keystone', group='api')
    # Never contacted: a request without a token is refused before.
    conf.set_override('www_authenticate_uri', 'http://127.0.0.1:1/v3',
                      group='keystone_authtoken')
    return conf


def test_keystone_without_a_token_is_a_nova_401(keystone_conf, context_of):
    application = context_of()
    for method, path in (('GET', '/v2.1/servers'), ('POST', '/v2.1'),
                         ('DELETE', '/v2.1/servers/x')):
        resp = call(application, method, path,
                    headers={'X-Roles': 'admin', 'X-User-Id': 'admin',
                             'X-Identity-Status': 'Confirmed'})
        auth_checks.assert_unauthorized(
            resp, 'Keystone uri="http://127.0.0.1:1/v3"')


def test_keystone_version_documents_are_public(keystone_conf, context_of,
                                               db):
    resp = call(context_of(), 'GET', '/', headers={'X-Roles': 'admin'})
    assert resp.status_int == 200
    assert resp.json['context']['user_id'] is None
    assert resp.json['context']['is_admin'] is False
    assert resp.json['identity_headers'] == []
    whole = api_app.build_app(keystone_conf)
    assert [v['id'] for v in call(whole, 'GET', '/').json['versions']] == [
        'v2.0', 'v2.1']
    assert call(whole, 'GET', '/v2.1/').json['version']['id'] == 'v2.1'
    assert call(whole, 'GET', '/v2.1/flavors').status_int == 401


def _config(tmp_path, api_lines):
    path = tmp_path / 'orchestrator.conf'
    path.write_text(
        '[DEFAULT]\ntransport_url = rabbit://guest:guest@127.0.0.1:1/\n'
        '[database]\nconnection = sqlite:///%s\n[api]\nlisten_port = 1\n%s'
        % (tmp_path / 'o.sqlite', api_lines))
    return path


def _run_api(config):
    return subprocess.run(
        [sys.executable, '-m', 'orchestrator.cmd.api', '--config-file',
         str(config)], env=dict(os.environ, PYTHONPATH=ROOT,
                                PYTHONWARNINGS='ignore'),
        capture_output=True, text=True, timeout=120, cwd=ROOT)


def test_orchestrator_api_refuses_noauth_beyond_loopback(tmp_path):
    result = _run_api(_config(tmp_path, 'listen_host = 0.0.0.0\n'))
    assert result.returncode == 2
    assert result.stderr.splitlines()[-1] == (
        'orchestrator-api: refusing to serve [api] auth_strategy = noauth '
        'on 0.0.0.0, beyond loopback: every caller would be an '
        'administrator (use keystone or http_basic, listen on 127.0.0.1, '
        'or set [api] allow_noauth_beyond_loopback = True)')


def test_orchestrator_api_refuses_a_malformed_user_file(tmp_path):
    users = tmp_path / 'htpasswd'
    users.write_text('alice:not-a-hash:alpha:member\n')
    result = _run_api(_config(
        tmp_path, 'listen_host = 0.0.0.0\nauth_strategy = http_basic\n'
                  'http_basic_auth_user_file = %s\n' % users))
    assert result.returncode == 2
    assert result.stderr.splitlines()[-1] == (
        'orchestrator-api: http_basic user file %s: line 1: the password '
        'of alice is not a bcrypt hash ($2b$NN$ and 53 characters)' % users)
