"""The first-minute text and clouds.yaml (orchestrator.cmd.first_minute):
the README shows the same text and the same clouds.yaml shapes."""

import os
import re
import stat

import yaml

from orchestrator.api import auth_basic
from orchestrator.cmd import first_minute

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.dirname(os.path.abspath(__file__)))))


def _readme():
    with open(os.path.join(REPO_ROOT, 'README.md')) as f:
        return f.read()


def _readme_cloud(name):
    """The README's yaml block that defines cloud ``name``."""
    for block in re.findall(r'```yaml\n(.*?)```', _readme(), re.S):
        doc = yaml.safe_load(block)
        if name in (doc or {}).get('clouds', {}):
            return doc['clouds'][name]
    raise AssertionError('no clouds.yaml of %s in the README' % name)


def test_the_readme_shows_the_default_guide_verbatim():
    guide = first_minute.default_guide()
    assert '```text\n%s\n```' % guide in _readme()
    assert 'http://127.0.0.1:8774/console/' in guide
    assert ('export OS_CLIENT_CONFIG_FILE=./state/clouds.yaml '
            'OS_CLOUD=orchestrator') in guide
    for command in ('openstack server create', 'orchestrator server create',
                    '--wait', 'orchestrator flow list'):
        assert command in guide


def test_noauth_clouds_yaml_is_the_readmes():
    text = first_minute.clouds_yaml(
        first_minute.base_url('127.0.0.1', 8774), 'noauth')
    clouds = yaml.safe_load(text)['clouds']
    assert list(clouds) == ['orchestrator']
    assert clouds['orchestrator'] == _readme_cloud('orchestrator')


def test_http_basic_clouds_yaml_has_the_readmes_shape_and_no_password():
    text = first_minute.clouds_yaml('https://compute.example.org',
                                    'http_basic', 'alice')
    cloud = yaml.safe_load(text)['clouds']['orchestrator']
    documented = _readme_cloud('orchestrator-basic')
    del documented['auth']['password']
    assert cloud == documented
    assert 'password' not in text


def test_keystone_gets_no_clouds_yaml_and_the_guide_says_so():
    assert first_minute.clouds_yaml('http://h:1', 'keystone') is None
    guide = first_minute.guide('http://h:1', '/s/clouds.yaml', 'keystone')
    assert 'none written' in guide and 'OS_CLIENT_CONFIG_FILE' not in guide


def test_http_basic_guide_asks_for_the_password_not_the_file():
    guide = first_minute.guide('http://h:1', '/s/clouds.yaml', 'http_basic')
    assert 'no password' in guide
    assert "read -rsp 'Password: ' OS_PASSWORD" in guide


def test_base_url_replaces_wildcards_and_brackets_ipv6():
    assert first_minute.base_url('0.0.0.0', 80) == 'http://127.0.0.1:80'
    assert first_minute.base_url('::', 8774) == 'http://[::1]:8774'
    assert first_minute.base_url('fd00::5', 1) == 'http://[fd00::5]:1'
    assert first_minute.base_url('api.example', 2) == 'http://api.example:2'
    assert first_minute.base_url(
        '0.0.0.0', 8774, 'https://c.example.org/compute/') == (
        'https://c.example.org/compute')


def test_clouds_yaml_is_written_owner_only_and_replaced(tmp_path):
    path = first_minute.write_clouds_yaml(str(tmp_path), 'old\n' * 10)
    os.chmod(path, 0o644)
    assert first_minute.write_clouds_yaml(str(tmp_path), 'new\n') == path
    assert path == str(tmp_path / 'clouds.yaml')
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    with open(path) as f:
        assert f.read() == 'new\n'


def _user(name, roles):
    return auth_basic.User(name, b'', 'p', tuple(roles))


def test_first_username_prefers_an_administrator():
    users = {'bob': _user('bob', ['member']), 'ops': _user('ops', ['admin']),
             'zed': _user('zed', ['admin'])}
    assert first_minute.first_username(users) == 'ops'
    assert first_minute.first_username({'bob': users['bob']}) == 'bob'
    assert first_minute.first_username({}) is None
