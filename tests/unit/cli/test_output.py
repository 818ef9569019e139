"""Tables and JSON, and where the CLI finds the API (clouds.yaml or the
environment)."""

import io
import json

from keystoneauth1 import http_basic
from keystoneauth1 import noauth
from keystoneauth1 import token_endpoint

from orchestrator.cli import config
from orchestrator.cli import main
from orchestrator.cli import output

ROWS = [{'id': 'a', 'name': 'vm1', 'status': 'ACTIVE', 'extra': 1},
        {'id': 'b', 'name': 'vm2', 'status': 'ERROR', 'extra': 2}]
COLUMNS = (('ID', 'id'), ('Name', 'name'), ('Status', 'status'))


def test_table_has_the_columns_and_a_row_each():
    out = io.StringIO()
    output.table(out, COLUMNS, ROWS)
    lines = out.getvalue().splitlines()
    assert lines[0].split() == ['ID', 'Name', 'Status']
    assert [line.split() for line in lines[2:]] == [
        ['a', 'vm1', 'ACTIVE'], ['b', 'vm2', 'ERROR']]


def test_json_is_a_list_of_the_columns_keys():
    out = io.StringIO()
    output.table(out, COLUMNS, ROWS, output.JSON)
    assert json.loads(out.getvalue()) == [
        {'id': 'a', 'name': 'vm1', 'status': 'ACTIVE'},
        {'id': 'b', 'name': 'vm2', 'status': 'ERROR'}]


def test_key_values_and_missing_values():
    out = io.StringIO()
    output.key_values(out, {'b': None, 'a': {'k': [1]}, 'c': '[x]'})
    rows = [line.split(None, 1) for line in out.getvalue().splitlines()[2:]]
    assert rows == [['a', '{"k": [1]}'], ['b', '-'], ['c', '[x]']]
    out = io.StringIO()
    output.key_values(out, {'b': None}, output.JSON)
    assert json.loads(out.getvalue()) == {'b': None}


def _args(*argv):
    return main.build_parser().parse_args(list(argv) + ['server', 'list'])


def test_environment_credentials_choose_the_auth_plugin():
    url = 'http://api.example.org:8774'
    found = config.connect(_args('--url', url), environ={})
    assert isinstance(found.session.auth, noauth.NoAuth)
    assert (found.root, found.compute, found.image, found.console) == (
        url, url + '/v2.1', url + '/image', url + '/console/api')
    found = config.connect(_args(), environ={
        'ORCHESTRATOR_URL': url + '/v2.1/', 'ORCHESTRATOR_TOKEN': 't'})
    assert isinstance(found.session.auth, token_endpoint.Token)
    assert found.root == url
    found = config.connect(_args('--url', url), environ={
        'ORCHESTRATOR_USER': 'alice', 'ORCHESTRATOR_PASSWORD': 'pw'})
    assert isinstance(found.session.auth, http_basic.HTTPBasicAuth)
    assert config.connect(_args(), environ={}).root == config.DEFAULT_URL


CLOUDS = """\
clouds:
  none-cloud:
    auth_type: none
    auth:
      endpoint: http://a.example.org:8774/v2.1
    compute_endpoint_override: http://a.example.org:8774/v2.1
    image_endpoint_override: http://a.example.org:8774/image
  basic-cloud:
    auth_type: http_basic
    auth:
      username: alice
      password: s3cret
      endpoint: http://b.example.org/compute/v2.1
    compute_endpoint_override: http://b.example.org/compute/v2.1
"""


def test_clouds_yaml_as_openstackclient_reads_it(tmp_path, monkeypatch):
    clouds = tmp_path / 'clouds.yaml'
    clouds.write_text(CLOUDS)
    monkeypatch.setenv('OS_CLIENT_CONFIG_FILE', str(clouds))
    found = config.connect(_args('--os-cloud', 'none-cloud'), environ={})
    assert (found.root, found.compute, found.image) == (
        'http://a.example.org:8774', 'http://a.example.org:8774/v2.1',
        'http://a.example.org:8774/image')
    # OS_CLOUD when no URL is given; --url wins over it.
    found = config.connect(_args(), environ={'OS_CLOUD': 'basic-cloud'})
    assert found.root == 'http://b.example.org/compute'
    assert found.image == 'http://b.example.org/compute/image'
    assert found.session.auth.get_headers(found.session)[
        'Authorization'].startswith('Basic ')
    found = config.connect(_args('--url', 'http://c:1'),
                           environ={'OS_CLOUD': 'basic-cloud'})
    assert found.root == 'http://c:1'


def test_an_unknown_cloud_is_a_usage_error(tmp_path, monkeypatch, capsys):
    clouds = tmp_path / 'clouds.yaml'
    clouds.write_text(CLOUDS)
    monkeypatch.setenv('OS_CLIENT_CONFIG_FILE', str(clouds))
    assert main.main(['--os-cloud', 'nope', 'server', 'list']) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: cloud 'nope'") and err.count('\n') == 1
