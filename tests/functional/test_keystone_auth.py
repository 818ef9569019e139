"""The API with ``[api] auth_strategy = keystone`` against a real Keystone
(tests/keystone_server.py) and real tokens, end to end: keystonemiddleware
checks every token with Keystone, openstackclient authenticates with a
password and finds the API in Keystone's catalog.

The all-in-one reads its authentication from a configuration file, as
the README's example has it.
"""

import io
import json
import os
import subprocess

from keystoneauth1 import loading
import pytest
import requests

from tests import auth_checks
from tests import keystone_server
from tests.functional import conftest as functional
from tests.functional.systems import start_all_in_one
from tests.functional.test_real_clients import _openstack_bin
from tests.waiting import wait_for

HEADERS = {'OpenStack-API-Version': 'compute 2.47'}


@pytest.fixture
def keystone_api(request, keystone, conf, tmp_path):
    """An all-in-one whose API checks Keystone tokens; the catalog's
    compute and image endpoints point at it."""
    lines = ['[api]', 'auth_strategy = keystone', '[keystone_authtoken]']
    lines += ['%s = %s' % item
              for item in keystone.authtoken_options().items()]
    config = tmp_path / 'orchestrator.conf'
    config.write_text('\n'.join(lines) + '\n')
    conf(['--config-file', str(config)], project='orchestrator',
         default_config_files=[], default_config_dirs=[])
    try:
        node = start_all_in_one(conf, tmp_path, serve_api=True)
        try:
            keystone.set_endpoint('compute', 'nova', node.url + '/v2.1')
            keystone.set_endpoint('image', 'glance', node.url + '/image')
            yield node
            functional.check_after_test(request, node)
        finally:
            node.stop()
    finally:
        # auth_token registered its password plugin's options (auth_url
        # is required) on the global configuration: later tests parse it
        # without them.
        conf.reset()
        conf.unregister_opts(loading.get_auth_plugin_conf_options(
            'password'), group='keystone_authtoken')


class Caller:
    """Requests to the API with one user's token."""

    def __init__(self, node, token):
        self.node = node
        self.token = token

    def __call__(self, method, path, **kwargs):
        headers = dict(HEADERS, **kwargs.pop('headers', {}))
        if self.token is not None:
            headers['X-Auth-Token'] = self.token
        return requests.request(method, self.node.url + path,
                                headers=headers, timeout=30, **kwargs)

    def boot(self, name):
        """Create a server; wait until ACTIVE; return its id."""
        image = self('GET', '/image/v2/images').json()['images'][0]
        resp = self('POST', '/v2.1/servers', json={'server': {
            'name': name, 'flavorRef': '1', 'imageRef': image['id'],
            'networks': 'auto'}})
        assert resp.status_code == 202, resp.text
        server_id = resp.json()['server']['id']

        def active():
            found = self('GET', '/v2.1/servers/' + server_id).json()[
                'server']
            return found['OS-EXT-STS:task_state'] is None and found
        assert wait_for(active, timeout=60, what='boot')['status'] == \
            'ACTIVE'
        return server_id

    def delete(self, server_id):
        assert self('DELETE', '/v2.1/servers/' + server_id).status_code \
            == 204
        wait_for(lambda: self('GET', '/v2.1/servers/' + server_id)
                 .status_code == 404, timeout=60, what='delete')

    def server_ids(self, query=''):
        resp = self('GET', '/v2.1/servers' + query)
        assert resp.status_code == 200, resp.text
        return sorted(s['id'] for s in resp.json()['servers'])


def test_without_a_valid_token_every_request_is_401(keystone_api, keystone):
    challenge = 'Keystone uri="%s"' % keystone.url
    for token in (None, 'not-a-token', keystone.token('alpha-member')[:-4]):
        caller = Caller(keystone_api, token)
        for method, path in (('GET', '/v2.1/servers'),
                             ('GET', '/v2.1/flavors'),
                             ('POST', '/v2.1/servers'),
                             ('GET', '/image/v2/images')):
            auth_checks.assert_unauthorized(caller(method, path), challenge)
    # The version documents are public, as Nova's.
    anonymous = Caller(keystone_api, None)
    assert anonymous('GET', '/').json()['versions'][1]['id'] == 'v2.1'
    assert anonymous('GET', '/v2.1').status_code == 200


def test_projects_see_only_their_own_servers(keystone_api, keystone):
    alpha = Caller(keystone_api, keystone.token('alpha-member'))
    reader = Caller(keystone_api, keystone.token('alpha-reader'))
    beta = Caller(keystone_api, keystone.token('beta-member'))
    admin = Caller(keystone_api, keystone.token('admin'))
    server_id = alpha.boot('alpha-vm')
    shown = alpha('GET', '/v2.1/servers/' + server_id).json()['server']
    assert shown['tenant_id'] == keystone.project_ids['alpha']
    assert shown['user_id'] == keystone.user_ids['alpha-member']
    assert alpha.server_ids() == [server_id]
    assert reader.server_ids() == [server_id]
    assert beta.server_ids() == []
    # all_tenants is an administrator's (refused, or ignored).
    every = beta('GET', '/v2.1/servers?all_tenants=1')
    assert every.status_code == 403 or every.json()['servers'] == [], \
        every.text
    for method in ('GET', 'DELETE'):
        resp = beta(method, '/v2.1/servers/' + server_id)
        assert resp.status_code == 404, (method, resp.text)
    resp = beta('POST', '/v2.1/servers/%s/action' % server_id,
                json={'os-stop': None})
    assert resp.status_code == 404
    # Identity headers sent by the caller are not believed: auth_token
    # replaces them with the token's.
    spoofed = beta('GET', '/v2.1/servers/' + server_id, headers={
        'X-Project-Id': keystone.project_ids['alpha'], 'X-Roles': 'admin',
        'X-Identity-Status': 'Confirmed'})
    assert spoofed.status_code == 404
    # The admin role makes an administrator: every project's servers.
    assert admin('GET', '/v2.1/servers/' + server_id).status_code == 200
    assert server_id in admin.server_ids('?all_tenants=1')
    alpha.delete(server_id)


@pytest.fixture
def openstack_cli(keystone_api, keystone, tmp_path):
    """Runs the real ``openstack`` CLI as a Keystone user (password
    auth; ``admin`` in project admin); the API is found in the catalog.
    Returns the JSON it printed, None when it printed nothing."""
    binary = _openstack_bin()
    if binary is None:
        pytest.fail('openstackclient is not installed (test-requirements)')
    env = dict(os.environ, PYTHONWARNINGS='ignore')
    for key in [k for k in env if k.startswith('OS_')]:
        del env[key]

    def run(user, *args):
        result = subprocess.run(
            [binary, '--os-auth-url', keystone.url,
             '--os-identity-api-version', '3',
             '--os-username', user,
             '--os-password', keystone_server.password(user),
             '--os-project-name',
             keystone_server.USERS.get(user, ('admin',))[0],
             '--os-user-domain-id', 'default',
             '--os-project-domain-id', 'default'] + list(args),
            env=env, capture_output=True, text=True, timeout=180,
            cwd=str(tmp_path))
        assert result.returncode == 0, (args, result.stdout, result.stderr)
        return json.loads(result.stdout) if result.stdout.strip() else None
    return run


def test_openstackclient_with_password_auth(openstack_cli, keystone_api,
                                            keystone):
    created = openstack_cli('alpha-member', 'server', 'create', '--flavor',
                            'm1.tiny', '--image', 'cirros-0.6.2', '-f',
                            'json', 'osc-vm')
    caller = Caller(keystone_api, keystone.token('alpha-member'))
    wait_for(lambda: caller('GET', '/v2.1/servers/' + created['id']).json()
             ['server']['status'] == 'ACTIVE', timeout=60, what='ACTIVE')
    listed = openstack_cli('alpha-member', 'server', 'list', '-f', 'json')
    assert [(s['ID'], s['Name'], s['Status']) for s in listed] == [
        (created['id'], 'osc-vm', 'ACTIVE')]
    assert openstack_cli('beta-member', 'server', 'list', '-f',
                         'json') == []
    caller.delete(created['id'])


def _by(rows, key, value):
    """``{row[key]: row[value]}`` of an openstackclient JSON table."""
    return {row[key]: row[value] for row in rows}


def test_openstackclient_quotas_and_limits(openstack_cli, keystone_api,
                                          keystone):
    """An administrator sets alpha's quota with ``openstack quota set``;
    alpha's member sees it and its usage (``quota show``, ``limits
    show --absolute``) and is held to it; ``quota delete`` gives the
    defaults back."""
    openstack_cli('admin', 'quota', 'set', '--instances', '1', '--cores',
                  '4', 'alpha')
    limits = _by(openstack_cli('alpha-member', 'quota', 'show', '-f',
                               'json'), 'Resource', 'Limit')
    assert (limits['instances'], limits['cores'], limits['ram']) == (
        1, 4, 51200)
    defaults = _by(openstack_cli('alpha-member', 'quota', 'show',
                                 '--default', '-f', 'json'),
                   'Resource', 'Limit')
    assert (defaults['instances'], defaults['cores']) == (10, 20)

    caller = Caller(keystone_api, keystone.token('alpha-member'))
    server_id = caller.boot('quota-vm')
    usage = _by(openstack_cli('alpha-member', 'quota', 'show', '--usage',
                              '-f', 'json'), 'Resource', 'In Use')
    assert (usage['instances'], usage['cores'], usage['ram']) == (1, 1, 512)
    absolute = _by(openstack_cli('alpha-member', 'limits', 'show',
                                 '--absolute', '-f', 'json'),
                   'Name', 'Value')
    assert (absolute['total_instances_used'], absolute['instances'],
            absolute['total_cores_used'], absolute['total_cores'],
            absolute['total_ram_used']) == (1, 1, 1, 4, 512)
    image = caller('GET', '/image/v2/images').json()['images'][0]
    resp = caller('POST', '/v2.1/servers', json={'server': {
        'name': 'one-too-many', 'flavorRef': '1', 'imageRef': image['id'],
        'networks': 'auto'}})
    assert resp.status_code == 403
    assert resp.json()['forbidden']['message'] == (
        'Quota exceeded for instances: Requested 1, but already used 1 of '
        '1 instances')
    # Only an administrator sets quotas.
    member_put = caller('PUT', '/v2.1/os-quota-sets/%s'
                        % keystone.project_ids['alpha'],
                        json={'quota_set': {'instances': 5}})
    assert member_put.status_code == 403

    openstack_cli('admin', 'quota', 'delete', 'alpha')
    limits = _by(openstack_cli('admin', 'quota', 'show', 'alpha', '-f',
                               'json'), 'Resource', 'Limit')
    assert (limits['instances'], limits['cores']) == (10, 20)
    caller.delete(server_id)


def test_orchestrator_cli_with_password_auth_from_clouds_yaml(
        keystone_api, keystone, tmp_path, monkeypatch, capsys):
    """``orchestrator --os-cloud`` with ``auth_type: password``: a
    keystoneauth session gets a token from Keystone and the compute
    endpoint from its catalog; a wrong password exits 4."""
    from orchestrator.cli import main as cli_main
    clouds = ['clouds:']
    for name, user, password in (
            ('alpha', 'alpha-member', keystone_server.password(
                'alpha-member')),
            ('beta', 'beta-member', keystone_server.password('beta-member')),
            ('wrong', 'alpha-member', 'not-the-password')):
        clouds += ['  %s:' % name, '    auth_type: password', '    auth:',
                   '      auth_url: %s' % keystone.url,
                   '      username: %s' % user,
                   '      password: %s' % password,
                   '      project_name: %s' % keystone_server.USERS[user][0],
                   '      user_domain_id: default',
                   '      project_domain_id: default',
                   '    identity_api_version: 3']
    (tmp_path / 'clouds.yaml').write_text('\n'.join(clouds) + '\n')
    monkeypatch.setenv('OS_CLIENT_CONFIG_FILE', str(tmp_path / 'clouds.yaml'))
    for name in [k for k in os.environ if k.startswith('ORCHESTRATOR_')]:
        monkeypatch.delenv(name)

    def run(cloud, *args):
        out = io.StringIO()
        return cli_main.main(['--os-cloud', cloud] + list(args),
                             out=out), out.getvalue()

    code, out = run('alpha', 'server', 'create', 'cli-ks', '--flavor',
                    'm1.tiny', '--image', 'cirros-0.6.2', '--wait')
    assert code == 0 and out.strip().endswith('create done: ACTIVE'), out
    code, out = run('alpha', 'server', 'list', '-f', 'json')
    assert [s['name'] for s in json.loads(out)] == ['cli-ks']
    assert run('beta', 'server', 'list', '-f', 'json') == (0, '[]\n')
    capsys.readouterr()
    assert run('wrong', 'server', 'list')[0] == 4
    assert capsys.readouterr().err.startswith(
        'error: cannot reach or authenticate to ')
    assert run('alpha', 'server', 'delete', 'cli-ks', '--wait')[0] == 0
