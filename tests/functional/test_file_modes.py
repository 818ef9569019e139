"""The all-in-one as a real process keeps its state owner-only.

``python -m orchestrator.cmd.allinone --log-file`` is started on a state
dir an older version left readable by others (0755, a database 0644);
after a boot and a rescue over HTTP, the process's umask is 077, the
state dir 0700 and every file in it (the SQLite database and its WAL,
the fake hosts' files, the secrets key, the log file) 0600. The log
file holds neither the rescue password nor the token.
"""

import os
import signal
import stat
import subprocess
import sys
import uuid

import pytest
import requests

from tests.crash import harness
from tests.functional.systems import free_port
from tests.waiting import wait_for

PASSWORD = 'modes-rescue-pass-' + uuid.uuid4().hex[:8]
TOKEN = 'modes-token-' + uuid.uuid4().hex[:8]
HEADERS = {'OpenStack-API-Version': 'compute 2.47', 'X-Auth-Token': TOKEN}


class Process:
    def __init__(self, state_dir, out_path):
        self.state_dir = state_dir
        self.port = free_port()
        self.url = 'http://127.0.0.1:%d' % self.port
        config = os.path.join(os.path.dirname(out_path), 'test.conf')
        harness.write_config(config)
        with open(out_path, 'w') as out:
            self.proc = subprocess.Popen(
                [sys.executable, '-m', 'orchestrator.cmd.allinone',
                 '--config-file', config, '--state-dir', state_dir,
                 '--listen', '127.0.0.1:%d' % self.port, '--hosts', '1',
                 '--log-file', os.path.join(state_dir, 'allinone.log')],
                stdout=out, stderr=subprocess.STDOUT,
                env=harness.child_env(), cwd=harness.REPO_ROOT)
        self.out_path = out_path

    def output(self):
        with open(self.out_path) as f:
            return f.read()[-4000:]

    def serving(self):
        assert self.proc.poll() is None, self.output()
        try:
            hypervisors = requests.get(
                self.url + '/v2.1/os-hypervisors/detail', headers=HEADERS,
                timeout=5).json()['hypervisors']
        except (requests.RequestException, ValueError, KeyError):
            return False
        return any(h['state'] == 'up' for h in hypervisors)

    def api(self, method, path, **kwargs):
        return requests.request(method, self.url + path, headers=HEADERS,
                                timeout=30, **kwargs)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)


@pytest.fixture
def aio(tmp_path):
    state_dir = str(tmp_path / 'state')
    # What an older version left: a state dir and a database others read.
    os.mkdir(state_dir)
    os.chmod(state_dir, 0o755)
    db_path = os.path.join(state_dir, 'orchestrator.sqlite')
    with open(db_path, 'w'):
        pass
    os.chmod(db_path, 0o644)
    node = Process(state_dir, str(tmp_path / 'stdout.txt'))
    try:
        wait_for(node.serving, timeout=120, what='all-in-one to serve')
        yield node
    finally:
        node.stop()


def _wait_status(aio, server_id, status):
    def stable():
        server = aio.api('GET', '/v2.1/servers/' + server_id).json()[
            'server']
        return server if server['OS-EXT-STS:task_state'] is None else None
    server = wait_for(stable, timeout=60, what='%s to settle' % server_id)
    assert server['status'] == status, server


def _umask(pid):
    with open('/proc/%d/status' % pid) as f:
        for line in f:
            if line.startswith('Umask:'):
                return int(line.split()[1], 8)
    return None


def test_every_state_file_is_owner_only(aio):
    flavor = aio.api('GET', '/v2.1/flavors').json()['flavors'][0]
    image = aio.api('GET', '/image/v2/images').json()['images'][0]
    resp = aio.api('POST', '/v2.1/servers', json={'server': {
        'name': 'modes', 'flavorRef': flavor['id'],
        'imageRef': image['id'], 'networks': 'auto'}})
    assert resp.status_code == 202, resp.text
    server_id = resp.json()['server']['id']
    _wait_status(aio, server_id, 'ACTIVE')
    resp = aio.api('POST', '/v2.1/servers/%s/action' % server_id,
                   json={'rescue': {'adminPass': PASSWORD}})
    assert resp.status_code == 200, resp.text
    _wait_status(aio, server_id, 'RESCUE')

    umask = _umask(aio.proc.pid)
    state_dir = aio.state_dir
    modes = {'.': stat.S_IMODE(os.stat(state_dir).st_mode)}
    for top, dirs, files in os.walk(state_dir):
        for name in dirs + files:
            path = os.path.join(top, name)
            modes[os.path.relpath(path, state_dir)] = stat.S_IMODE(
                os.stat(path).st_mode)
    print('\nall-in-one process umask %s; %s' % (
        oct(umask) if umask is not None else '?',
        ', '.join('%s %s' % (p, oct(m)) for p, m in sorted(modes.items()))))
    if umask is not None:
        assert umask == 0o077
    for expected in ('orchestrator.sqlite', 'orchestrator.sqlite-wal',
                     'secrets.key', 'allinone.log', 'fake-hosts',
                     'fake-hosts/compute-1.json', 'fake-hosts/compute-1.lock'):
        assert expected in modes, sorted(modes)
    dirs = {'.', 'fake-hosts'}
    assert {p: oct(m) for p, m in modes.items() if p in dirs} == {
        p: '0o700' for p in dirs}
    assert {p: oct(m) for p, m in modes.items() if p not in dirs} == {
        p: '0o600' for p in modes if p not in dirs}
    with open(os.path.join(state_dir, 'allinone.log')) as f:
        log = f.read()
    assert 'Compute host compute-1 serving' in log
    assert PASSWORD not in log and TOKEN not in log


def test_an_unusable_secrets_key_stops_the_all_in_one(tmp_path):
    config = tmp_path / 'test.conf'
    harness.write_config(str(config), {'DEFAULT': {
        'secrets_key_file': str(tmp_path)}})
    proc = subprocess.run(
        [sys.executable, '-m', 'orchestrator.cmd.allinone',
         '--config-file', str(config), '--state-dir',
         str(tmp_path / 'state'), '--listen', '127.0.0.1:%d' % free_port()],
        capture_output=True, text=True, env=harness.child_env(),
        cwd=harness.REPO_ROOT, timeout=120)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert ('orchestrator-allinone: Secrets key file %s ([DEFAULT] '
            'secrets_key_file) cannot be read (Is a directory)' % tmp_path
            in proc.stderr), proc.stderr
