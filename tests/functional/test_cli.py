"""The ``orchestrator`` command, run as a subprocess, against a real
all-in-one process (one a module and xdist worker), with a clouds.yaml as
openstackclient reads it (``auth_type: none``):

create --wait, list -f json, every single-host and move action with
--wait, a failed spawn (exit 1), a --wait that times out (exit 3), a 409
(exit 2), an unreachable API (exit 4), flow list / show / watch, and an
evacuation off a host forced down.
"""

import contextlib
import io
import json
import os
import shutil
import subprocess
import sys

import pytest

from orchestrator.cli import main

from tests.crash import harness
from tests.functional.systems import free_port
from tests.waiting import wait_for

ORCHESTRATOR_ENV = ('ORCHESTRATOR_URL', 'ORCHESTRATOR_TOKEN',
                    'ORCHESTRATOR_USER', 'ORCHESTRATOR_PASSWORD')
CLOUDS_YAML = """\
clouds:
  aio:
    auth_type: none
    auth:
      endpoint: {url}/v2.1
    compute_endpoint_override: {url}/v2.1
    image_endpoint_override: {url}/image
  nowhere:
    auth_type: none
    auth:
      endpoint: http://127.0.0.1:{closed}/v2.1
    compute_endpoint_override: http://127.0.0.1:{closed}/v2.1
"""


@pytest.fixture(scope='module')
def aio(tmp_path_factory):
    node = harness.AllInOneProcess(
        tmp_path_factory.mktemp('cli') / 'state', free_port(), hosts=2)
    node.start()
    yield node
    node.stop()
    node.close()


def _binary():
    candidate = os.path.join(os.path.dirname(sys.executable),
                             'orchestrator')
    return candidate if os.path.exists(candidate) else shutil.which(
        'orchestrator')


@pytest.fixture(scope='module')
def cli(aio, tmp_path_factory):
    """run(*args, stdin=None) -> CompletedProcess of ``orchestrator``
    with OS_CLOUD=aio."""
    binary = _binary()
    if binary is None:
        pytest.fail('the orchestrator console script is not installed')
    workdir = tmp_path_factory.mktemp('cli-client')
    clouds = workdir / 'clouds.yaml'
    clouds.write_text(CLOUDS_YAML.format(url=aio.url, closed=free_port()))
    env = harness.child_env({'OS_CLIENT_CONFIG_FILE': str(clouds),
                             'OS_CLOUD': 'aio'})
    for name in ORCHESTRATOR_ENV:
        env.pop(name, None)

    def run(*args, stdin=None):
        return subprocess.run([binary] + list(args), env=env, input=stdin,
                              capture_output=True, text=True, timeout=120,
                              cwd=str(workdir))
    run.clouds = str(clouds)
    return run


@pytest.fixture
def in_process(cli, monkeypatch):
    """run(*args, stdin=None) like ``cli``'s, through
    :func:`orchestrator.cli.main.main` in this process."""
    monkeypatch.setenv('OS_CLIENT_CONFIG_FILE', cli.clouds)
    monkeypatch.setenv('OS_CLOUD', 'aio')
    for name in ORCHESTRATOR_ENV:
        monkeypatch.delenv(name, raising=False)

    def run(*args, stdin=None):
        monkeypatch.setattr('sys.stdin', io.StringIO(stdin or ''))
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stderr(err):
            code = main.main(list(args), out=out)
        return subprocess.CompletedProcess(args, code, out.getvalue(),
                                           err.getvalue())
    return run


def ok(result):
    assert result.returncode == 0, (result.args, result.stdout,
                                    result.stderr)
    return result.stdout


def _server(aio, name):
    servers = aio.api('GET', '/v2.1/servers/detail',
                      params={'name': '^%s$' % name}).json()['servers']
    return servers[0] if servers else None


@pytest.fixture(scope='module')
def vm1(aio):
    """An ACTIVE server vm1 of the module's all-in-one, booted over
    HTTP (tests on another xdist worker have an all-in-one of their
    own: each test that acts on vm1 asks for it)."""
    flavor = aio.api('GET', '/v2.1/flavors/detail').json()['flavors'][0]
    image = aio.api('GET', '/image/v2/images',
                    params={'name': 'cirros-0.6.2'}).json()['images'][0]
    resp = aio.api('POST', '/v2.1/servers', json={'server': {
        'name': 'vm1', 'flavorRef': flavor['id'], 'imageRef': image['id']}})
    assert resp.status_code == 202, resp.text
    assert _wait_stable(aio, 'vm1')['status'] == 'ACTIVE'
    return resp.json()['server']['id']


def _wait_stable(aio, name):
    return wait_for(lambda: (lambda s: s if s and s[
        'OS-EXT-STS:task_state'] is None and s['status'] != 'BUILD'
        else None)(_server(aio, name)), timeout=60, what=name + ' stable')


def test_create_wait_list_show_delete(aio, cli):
    out = ok(cli('server', 'create', 'web1', '--flavor', 'm1.tiny',
                 '--image', 'cirros-0.6.2', '--property', 'role=web',
                 '--tag', 'blue', '--description', 'first', '--wait'))
    lines = out.strip().splitlines()
    assert lines[0].startswith('create web1 (')
    assert lines[-1] == 'create done: ACTIVE'
    assert any(' BUILD ' in line for line in lines[1:-1])
    listed = json.loads(ok(cli('server', 'list', '--name', '^web1$',
                               '-f', 'json')))
    assert [(s['name'], s['status'], s['task_state']) for s in listed] == [
        ('web1', 'ACTIVE', None)]
    shown = json.loads(ok(cli('server', 'show', 'web1', '-f', 'json')))
    assert (shown['metadata'], shown['tags'], shown['description']) == (
        {'role': 'web'}, ['blue'], 'first')
    out = ok(cli('server', 'delete', 'web1', '--wait'))
    assert out.strip().splitlines()[-1] == 'deleted'
    assert _server(aio, 'web1') is None


# (verb arguments, status after it)
ACTIONS = [
    (('stop',), 'SHUTOFF'), (('start',), 'ACTIVE'),
    (('reboot', '--hard'), 'ACTIVE'), (('reboot',), 'ACTIVE'),
    (('pause',), 'PAUSED'), (('unpause',), 'ACTIVE'),
    (('suspend',), 'SUSPENDED'), (('resume',), 'ACTIVE'),
    (('rescue', '--password-stdin'), 'RESCUE'), (('unrescue',), 'ACTIVE'),
    (('rebuild', '--image', 'cirros-0.6.2'), 'ACTIVE'),
    (('resize', '--flavor', 'm1.small'), 'VERIFY_RESIZE'),
    (('resize-revert',), 'ACTIVE'),
    (('migrate',), 'VERIFY_RESIZE'), (('resize-confirm',), 'ACTIVE'),
    (('live-migrate', '--block-migration'), 'ACTIVE'),
    (('lock', '--reason', 'test'), 'ACTIVE'), (('unlock',), 'ACTIVE'),
    (('shelve',), 'SHELVED_OFFLOADED'), (('unshelve',), 'ACTIVE'),
]


def test_every_action_with_wait(aio, cli, in_process, vm1):
    """The first two actions through the command, the others through
    its main() in this process (the same code without a Python start
    each: about 2 s a command on a busy CI machine)."""
    for number, (args, status) in enumerate(ACTIONS):
        verb = args[0]
        host = _server(aio, 'vm1')['OS-EXT-SRV-ATTR:host']
        run = cli if number < 2 else in_process
        out = ok(run('server', verb, 'vm1', *args[1:], '--wait',
                     stdin='pw-1\n'))
        assert out.strip().splitlines()[-1] == '%s done: %s' % (
            verb, status), (args, out)
        assert _server(aio, 'vm1')['status'] == status
        if verb == 'live-migrate':
            assert _server(aio, 'vm1')['OS-EXT-SRV-ATTR:host'] != host
    # A snapshot with -f json: the image id, then (--wait) the result.
    done = json.loads(ok(cli('server', 'snapshot', 'vm1', 'vm1-snap',
                             '--wait', '-f', 'json')))
    assert (done['result'], done['server']['status']) == ('done', 'ACTIVE')
    images = aio.api('GET', '/image/v2/images',
                     params={'name': 'vm1-snap'}).json()['images']
    assert len(images) == 1


def test_live_migrate_abort(aio, cli, vm1):
    aio.faults({'live_migration': {'delay_s': 8}})
    try:
        accepted = json.loads(ok(cli('server', 'live-migrate', 'vm1',
                                     '-f', 'json')))
        assert accepted['action'] == 'live-migrate'
        wait_for(lambda: aio.api(
            'GET', '/v2.1/servers/%s/migrations' % accepted['server'],
            headers={'OpenStack-API-Version': 'compute 2.79'}).json()[
                'migrations'], timeout=30, what='a running live migration')
        out = ok(cli('server', 'live-migrate-abort', 'vm1', '--wait'))
        assert out.strip().splitlines()[-1] == \
            'live-migrate abort done: ACTIVE'
    finally:
        aio.faults({})


def test_a_failed_spawn_exits_1_and_its_flow_shows_why(aio, cli):
    aio.faults({'spawn': 'raise'})
    try:
        result = cli('server', 'create', 'broken', '--flavor', 'm1.tiny',
                     '--image', 'cirros-0.6.2', '--wait')
    finally:
        aio.faults({})
    assert result.returncode == 1, (result.stdout, result.stderr)
    last = result.stdout.strip().splitlines()[-1]
    assert last.startswith('create failed: No valid host was found')
    assert 'Injected fault in spawn' in last
    shown = cli('flow', 'show', 'broken')
    out = ok(shown)
    # The boot reverted; the steps the retry ran again are pending once
    # it gave up, and the spawn step keeps its failure.
    assert 'REVERTED' in out.splitlines()[0]
    assert '↩ BuildToErrorOnRevert  reverted' in out
    spawn = out[out.index('SpawnOnHost'):]
    assert spawn.splitlines()[1].strip(' │└─').startswith(
        'Injected fault in spawn on compute-')
    flows = json.loads(ok(cli('flow', 'list', '--state', 'all',
                              '--server', 'broken', '-f', 'json')))
    assert [f['state'] for f in flows] == ['REVERTED']
    assert flows[0]['instance_name'] == 'broken'
    ok(cli('server', 'delete', 'broken', '--wait'))


def test_a_wait_that_times_out_exits_3_then_flow_watch(aio, cli):
    aio.faults({'spawn': {'delay_s': 4}})
    try:
        result = cli('server', 'create', 'slow', '--flavor', 'm1.tiny',
                     '--image', 'cirros-0.6.2', '--wait', '--timeout', '1')
        assert result.returncode == 3, (result.stdout, result.stderr)
        assert 'timed out after 1s' in result.stdout
        watched = cli('flow', 'watch', 'slow')
    finally:
        aio.faults({})
    out = ok(watched)
    assert 'Spawn' in out or 'spawn' in out.lower()
    tree = out[out.index('orchestrator-'):]
    assert 'SUCCESS' in tree.splitlines()[0]
    assert '▶' not in tree and '✔' in tree
    assert _wait_stable(aio, 'slow')['status'] == 'ACTIVE'
    ok(cli('server', 'delete', 'slow', '--force', '--wait'))


def test_a_refused_request_exits_2_with_the_apis_message(aio, cli, vm1):
    ok(cli('server', 'stop', 'vm1', '--wait'))
    result = cli('server', 'stop', 'vm1')
    ok(cli('server', 'start', 'vm1'))
    assert result.returncode == 2
    assert result.stderr.count('\n') == 1
    assert result.stderr.startswith('error: ') and '(HTTP 409)' in \
        result.stderr
    result = cli('server', 'show', 'no-such-server')
    assert (result.returncode, result.stderr) == (
        2, "error: no server named or with id 'no-such-server'\n")


def test_an_unreachable_api_exits_4(cli):
    result = cli('--os-cloud', 'nowhere', 'server', 'list')
    assert result.returncode == 4
    assert result.stderr.startswith('error: cannot reach http://127.0.0.1')
    assert result.stderr.count('\n') == 1


def _force_down(aio, host, down):
    """Mark ``host``'s compute service forced down (or not), 2.53."""
    version = {'OpenStack-API-Version': 'compute 2.53'}
    services = aio.api('GET', '/v2.1/os-services', params={'host': host},
                       headers=version).json()['services']
    service = next(s for s in services if s['binary'].endswith('compute'))
    resp = aio.api('PUT', '/v2.1/os-services/%s' % service['id'],
                   json={'forced_down': down}, headers=version)
    assert resp.status_code == 200, resp.text


def test_evacuate_with_wait_off_a_host_forced_down(aio, cli):
    # Last in the module: the guest's copy stays on the old host, which
    # is not restarted to clean it up (tests/functional/test_evacuate
    # covers that).
    ok(cli('server', 'create', 'evac1', '--flavor', 'm1.tiny',
           '--image', 'cirros-0.6.2', '--wait'))
    source = _server(aio, 'evac1')['OS-EXT-SRV-ATTR:host']
    result = cli('server', 'evacuate', 'evac1')
    # Refused while its host is up, as Nova refuses it (a 400).
    assert (result.returncode, result.stderr) == (
        2, 'error: Compute service of %s is still in use. (HTTP 400)\n'
        % source)
    _force_down(aio, source, True)
    try:
        out = ok(cli('server', 'evacuate', 'evac1', '--wait'))
    finally:
        _force_down(aio, source, False)
    lines = out.strip().splitlines()
    assert lines[0].startswith('evacuate evac1 (')
    assert lines[-1] == 'evacuate done: ACTIVE'
    moved = _server(aio, 'evac1')
    assert (moved['status'], moved['OS-EXT-STS:task_state']) == (
        'ACTIVE', None)
    assert moved['OS-EXT-SRV-ATTR:host'] != source
    ok(cli('server', 'delete', 'evac1', '--wait'))
