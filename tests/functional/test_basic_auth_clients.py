"""openstackclient against the API with ``[api] auth_strategy =
http_basic``: keystoneauth's ``http_basic`` plugin sends the user's
password on every request; there is no catalog, so the endpoints are
given (compute with ``--os-endpoint``, image and the identity stand-in
with their endpoint overrides). Our own ``orchestrator`` CLI too, with
``ORCHESTRATOR_USER`` and ``ORCHESTRATOR_PASSWORD``."""

import io
import json
import os
import subprocess

import pytest
import requests

from orchestrator.api import auth_basic
from orchestrator.cmd import client

from tests.functional import conftest as functional
from tests.functional.systems import start_all_in_one
from tests.functional.test_real_clients import _openstack_bin
from tests.waiting import wait_for

#: {user: (password, project, roles)}
USERS = {'alice': ('alice-pw', 'alpha', ['member', 'reader']),
         'bob': ('bob-pw', 'beta', ['member'])}


@pytest.fixture
def basic_api(request, conf, tmp_path):
    users = tmp_path / 'htpasswd'
    for name, (password, project, roles) in USERS.items():
        auth_basic.add_user(str(users), name, password, project, roles,
                            rounds=4)
    conf.set_override('auth_strategy', 'http_basic', group='api')
    conf.set_override('http_basic_auth_user_file', str(users), group='api')
    node = start_all_in_one(conf, tmp_path, serve_api=True)
    try:
        yield node
        functional.check_after_test(request, node)
    finally:
        node.stop()


@pytest.fixture
def openstack_basic(basic_api, tmp_path):
    binary = _openstack_bin()
    if binary is None:
        pytest.fail('openstackclient is not installed (test-requirements)')
    env = {k: v for k, v in os.environ.items() if not k.startswith('OS_')}
    env.update(PYTHONWARNINGS='ignore',
               OS_IMAGE_ENDPOINT_OVERRIDE=basic_api.url + '/image',
               OS_IDENTITY_ENDPOINT_OVERRIDE=basic_api.url + '/identity')

    def run(user, *args, password=None, check=True):
        result = subprocess.run(
            [binary, '--os-auth-type', 'http_basic',
             '--os-identity-api-version', '3',
             '--os-endpoint', basic_api.url + '/v2.1',
             '--os-username', user,
             '--os-password', password or USERS[user][0]] + list(args),
            env=env, capture_output=True, text=True, timeout=180,
            cwd=str(tmp_path))
        if not check:
            return result
        assert result.returncode == 0, (args, result.stdout, result.stderr)
        return json.loads(result.stdout)
    return run


def test_openstackclient_with_http_basic_auth(openstack_basic, basic_api,
                                              monkeypatch):
    created = openstack_basic('alice', 'server', 'create', '--flavor',
                              'm1.tiny', '--image', 'cirros-0.6.2', '-f',
                              'json', 'basic-vm')
    alice = requests.Session()
    alice.auth = ('alice', USERS['alice'][0])
    url = basic_api.url + '/v2.1/servers/' + created['id']
    wait_for(lambda: alice.get(url, timeout=30).json()['server'][
        'status'] == 'ACTIVE', timeout=60, what='ACTIVE')
    listed = openstack_basic('alice', 'server', 'list', '-f', 'json')
    assert [(s['ID'], s['Name'], s['Status']) for s in listed] == [
        (created['id'], 'basic-vm', 'ACTIVE')]
    assert openstack_basic('bob', 'server', 'list', '-f', 'json') == []
    refused = openstack_basic('alice', 'server', 'list', '-f', 'json',
                              password='wrong', check=False)
    assert refused.returncode != 0
    assert '401' in refused.stderr
    assert 'requires authentication' in refused.stderr
    # Our own CLI, with the credentials in its environment.
    assert _orchestrator_cli(monkeypatch, basic_api, 'alice', 'server',
                             'list') == (0, True)
    assert _orchestrator_cli(monkeypatch, basic_api, 'bob', 'server',
                             'list') == (0, False)
    assert _orchestrator_cli(monkeypatch, basic_api, 'alice', 'server',
                             'list', password='wrong')[0] == 4
    assert alice.delete(url, timeout=30).status_code == 204
    wait_for(lambda: alice.get(url, timeout=30).status_code == 404,
             timeout=60, what='deleted')


def _orchestrator_cli(monkeypatch, node, user, *args, password=None):
    """(exit status, whether basic-vm was in the output) of the
    ``orchestrator`` CLI run as ``user``."""
    monkeypatch.setenv('ORCHESTRATOR_USER', user)
    monkeypatch.setenv('ORCHESTRATOR_PASSWORD', password or USERS[user][0])
    out = io.StringIO()
    code = client.main(['--url', node.url] + list(args), out=out)
    return code, 'basic-vm' in out.getvalue()
