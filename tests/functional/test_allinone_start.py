"""``orchestrator-allinone`` as its operator meets it: what stops a start
is one line on stderr and exit status 2, never a traceback (each case
fails before any part starts, so each run takes about a second); once it
serves it prints the first-minute guide and writes a clouds.yaml that
openstackclient uses as it is."""

import json
import os
import socket
import stat
import subprocess
import sys

import pytest

from orchestrator.api import auth_basic
from orchestrator.cmd import first_minute

from tests import keystone_server
from tests.functional.systems import free_port

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
PROGRAM = 'orchestrator-allinone: '
#: Seconds a failing start may take (imports included, on a busy CI).
FAIL_TIMEOUT_S = 60


def _env():
    # NOTE: no PYTHONWARNINGS: the operator's stderr, warnings included.
    env = dict(os.environ)
    env.pop('PYTHONWARNINGS', None)
    env['PYTHONPATH'] = os.pathsep.join(
        [REPO_ROOT] + [p for p in [env.get('PYTHONPATH')] if p])
    return env


def _run(args, timeout=FAIL_TIMEOUT_S):
    return subprocess.run(
        [sys.executable, '-m', 'orchestrator.cmd.allinone'] + args,
        capture_output=True, text=True, env=_env(), cwd=REPO_ROOT,
        timeout=timeout)


def _write(path, text):
    path.write_text(text)
    return str(path)


def _assert_refused(proc, message):
    """Exit 2, ``message`` on one stderr line of its own, no traceback,
    and the API never announced."""
    assert proc.returncode == 2, (proc.returncode, proc.stderr)
    lines = [line for line in proc.stderr.splitlines()
             if line.startswith(PROGRAM) or message in line]
    assert lines == [PROGRAM + message], proc.stderr
    assert 'Traceback' not in proc.stderr + proc.stdout
    assert 'Eventlet is deprecated' not in proc.stderr
    assert 'is serving' not in proc.stdout


def _unwritable_dir(tmp_path):
    """A directory this process cannot create files in (root may write
    in any mode-0500 directory, not in /proc)."""
    if os.geteuid() == 0:
        return '/proc/1/fdinfo'
    path = tmp_path / 'read-only'
    path.mkdir(mode=0o500)
    return str(path)


@pytest.fixture
def listening():
    """A port some other socket listens on."""
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        s.listen()
        yield s.getsockname()[1]


def test_a_port_in_use(tmp_path, listening):
    proc = _run(['--state-dir', str(tmp_path / 'state'),
                 '--listen', '127.0.0.1:%d' % listening])
    _assert_refused(proc, 'cannot listen on 127.0.0.1:%d: Address already '
                          'in use (another process listens there: stop it, '
                          'or choose another port with --listen HOST:PORT)'
                    % listening)
    # Refused before anything started: no database, no hosts.
    assert not os.path.exists(tmp_path / 'state' / 'orchestrator.sqlite')
    assert not os.path.exists(tmp_path / 'state' / 'fake-hosts')


def test_an_address_of_no_interface(tmp_path):
    config = _write(tmp_path / 'far.conf',
                    '[api]\nallow_noauth_beyond_loopback = true\n')
    proc = _run(['--config-file', config, '--state-dir',
                 str(tmp_path / 'state'), '--listen', '192.0.2.1:8774'])
    _assert_refused(proc, 'cannot listen on 192.0.2.1:8774: Cannot assign '
                          'requested address (no interface of this machine '
                          'has that address)')


@pytest.mark.parametrize('listen', ['nonsense', '127.0.0.1:70000'])
def test_a_bad_listen(tmp_path, listen):
    proc = _run(['--state-dir', str(tmp_path / 'state'), '--listen', listen])
    _assert_refused(proc, '--listen must be HOST:PORT, got %r' % listen)


def test_a_state_dir_that_is_a_file(tmp_path):
    path = _write(tmp_path / 'state', 'not a directory\n')
    proc = _run(['--state-dir', path, '--listen', '127.0.0.1:%d'
                 % free_port()])
    _assert_refused(proc, 'state dir %s is not a directory' % path)


def test_a_state_dir_below_a_file(tmp_path):
    _write(tmp_path / 'file', 'x\n')
    path = str(tmp_path / 'file' / 'state')
    proc = _run(['--state-dir', path, '--listen', '127.0.0.1:%d'
                 % free_port()])
    _assert_refused(proc, 'state dir %s cannot be created (Not a directory)'
                    % path)


def test_a_state_dir_not_writable(tmp_path):
    path = _unwritable_dir(tmp_path)
    proc = _run(['--state-dir', path, '--listen', '127.0.0.1:%d'
                 % free_port()])
    _assert_refused(proc, 'state dir %s is not writable (Permission denied)'
                    % path)


def test_a_missing_config_file(tmp_path):
    path = str(tmp_path / 'missing.conf')
    proc = _run(['--config-file', path, '--state-dir',
                 str(tmp_path / 'state')])
    _assert_refused(proc, 'bad configuration: Failed to find some config '
                          'files: %s' % path)


def test_a_malformed_config_file(tmp_path):
    path = _write(tmp_path / 'bad.conf', '[api\nthreads = 4\n')
    proc = _run(['--config-file', path, '--state-dir',
                 str(tmp_path / 'state')])
    _assert_refused(proc, "bad configuration: Failed to parse %s: at %s:1, "
                          "Invalid section (must end with ]): '[api'"
                    % (path, path))


def test_a_config_value_of_the_wrong_type(tmp_path):
    path = _write(tmp_path / 'bad.conf', '[api]\nthreads = many\n')
    proc = _run(['--config-file', path, '--state-dir',
                 str(tmp_path / 'state')])
    assert proc.returncode == 2, proc.stderr
    line = [x for x in proc.stderr.splitlines() if x.startswith(PROGRAM)]
    assert len(line) == 1, proc.stderr
    assert line[0].startswith(PROGRAM + 'bad configuration: Value for '
                                        'option threads'), line
    assert "'many'" in line[0] and path in line[0]
    assert 'Traceback' not in proc.stderr


def test_a_command_line_value_out_of_range(tmp_path):
    proc = _run(['--hosts', '100', '--state-dir', str(tmp_path / 'state')])
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.strip().splitlines() == [
        'argument --hosts: Invalid Integer(min=1, max=64) value: 100']


def test_a_sqlite_file_that_cannot_be_created(tmp_path):
    _write(tmp_path / 'file', 'x\n')
    db = str(tmp_path / 'file' / 'x.sqlite')
    config = _write(tmp_path / 'db.conf',
                    '[database]\nconnection = sqlite:///%s\n' % db)
    proc = _run(['--config-file', config, '--state-dir',
                 str(tmp_path / 'state'), '--listen',
                 '127.0.0.1:%d' % free_port()])
    _assert_refused(proc, 'cannot open the database sqlite:///%s ([database] '
                          'connection): Not a directory (%s)' % (db, db))


def test_a_database_server_that_refuses_shows_no_password(tmp_path):
    port = free_port()
    config = _write(tmp_path / 'db.conf', (
        '[database]\nconnection = mysql+pymysql://orch:pw-s3cret@127.0.0.1:'
        '%d/orch\nmax_retries = 0\n' % port))
    proc = _run(['--config-file', config, '--state-dir',
                 str(tmp_path / 'state'), '--listen',
                 '127.0.0.1:%d' % free_port()])
    assert proc.returncode == 2, proc.stderr
    assert 'pw-s3cret' not in proc.stderr + proc.stdout
    line = [x for x in proc.stderr.splitlines() if x.startswith(PROGRAM)]
    assert line == [
        PROGRAM + 'cannot open the database mysql+pymysql://orch:***@'
                  '127.0.0.1:%d/orch ([database] connection): '
                  '(pymysql.err.OperationalError) (2003, "Can\'t connect to '
                  'MySQL server on \'127.0.0.1\' ([Errno 111] Connection '
                  'refused)")' % port], proc.stderr
    assert 'Traceback' not in proc.stderr


def test_an_unknown_database_driver(tmp_path):
    config = _write(tmp_path / 'db.conf',
                    '[database]\nconnection = nosuch://u:pw-s3cret@h/x\n')
    proc = _run(['--config-file', config, '--state-dir',
                 str(tmp_path / 'state'), '--listen',
                 '127.0.0.1:%d' % free_port()])
    _assert_refused(proc, 'cannot open the database nosuch://u:***@h/x '
                          '([database] connection): Can\'t load plugin: '
                          'sqlalchemy.dialects:nosuch')
    assert 'pw-s3cret' not in proc.stderr


def test_help_ends_with_the_guide():
    proc = _run(['--help'])
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.rstrip().endswith(first_minute.default_guide())
    assert '--listen LISTEN' in proc.stdout


def _start(tmp_path, args):
    """A running all-in-one and the text it printed up to its guide."""
    proc = subprocess.Popen(
        [sys.executable, '-m', 'orchestrator.cmd.allinone'] + args,
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        env=_env(), cwd=REPO_ROOT)
    lines = []
    for line in proc.stdout:
        lines.append(line)
        if line.startswith('Stop with Ctrl-C'):
            break
    assert proc.poll() is None, ''.join(lines)
    return proc, ''.join(lines)




def _client(program, clouds, *args, password=None):
    """Run ``program`` (a console script of this environment) with only
    what the guide exports (and ``OS_PASSWORD``)."""
    env = dict(os.environ, OS_CLIENT_CONFIG_FILE=clouds,
               OS_CLOUD='orchestrator')
    for name in [k for k in env if k.startswith(('OS_', 'ORCHESTRATOR_'))
                 and k not in ('OS_CLIENT_CONFIG_FILE', 'OS_CLOUD')]:
        del env[name]
    if password is not None:
        env['OS_PASSWORD'] = password
    binary = os.path.join(os.path.dirname(sys.executable), program)
    return subprocess.run([binary] + list(args), capture_output=True,
                          text=True, env=env, timeout=120)


def _openstack(clouds, *args, password=None):
    return _client('openstack', clouds, *args, password=password)


def test_a_start_prints_the_guide_and_its_clouds_yaml_works(tmp_path):
    state = tmp_path / 'state'
    port = free_port()
    proc, out = _start(tmp_path, ['--state-dir', str(state), '--hosts', '1',
                                  '--listen', '127.0.0.1:%d' % port])
    try:
        clouds = str(state / 'clouds.yaml')
        base = 'http://127.0.0.1:%d' % port
        assert first_minute.guide(base, clouds, 'noauth') in out
        # The in-memory transport's warnings (no host name, no heartbeat)
        # would bury the guide under a screen of lines: kept at ERROR.
        assert 'No hostname was supplied' not in out
        assert 'Heartbeat support' not in out
        assert stat.S_IMODE(os.stat(clouds).st_mode) == 0o600
        listed = _openstack(clouds, 'flavor', 'list', '-f', 'value',
                            '-c', 'Name')
        assert listed.returncode == 0, listed.stderr
        assert 'm1.tiny' in listed.stdout.split()
        # Our CLI reads the same file: the guide's last command works.
        flows = _client('orchestrator', clouds, 'flow', 'list', '-f',
                        'json')
        assert flows.returncode == 0, flows.stderr
        assert json.loads(flows.stdout) == []
    finally:
        keystone_server.stop_process(proc, timeout=60)


def test_http_basic_clouds_yaml_names_a_user_and_takes_os_password(
        tmp_path):
    users = tmp_path / 'htpasswd'
    auth_basic.add_user(str(users), 'ops', 'ops-s3cret', 'ops', ['admin'],
                        rounds=4)
    config = _write(tmp_path / 'basic.conf', (
        '[api]\nauth_strategy = http_basic\nhttp_basic_auth_user_file = %s\n'
        % users))
    state = tmp_path / 'state'
    port = free_port()
    proc, out = _start(tmp_path, ['--config-file', config, '--hosts', '1',
                                  '--state-dir', str(state),
                                  '--listen', '127.0.0.1:%d' % port])
    try:
        clouds = str(state / 'clouds.yaml')
        assert first_minute.guide('http://127.0.0.1:%d' % port, clouds,
                                  'http_basic') in out
        with open(clouds) as f:
            text = f.read()
        assert 'username: ops' in text and 'ops-s3cret' not in text
        refused = _openstack(clouds, 'server', 'list', password='wrong')
        assert refused.returncode != 0
        listed = _openstack(clouds, 'server', 'list', '-f', 'json',
                            password='ops-s3cret')
        assert listed.returncode == 0, listed.stderr
        assert listed.stdout.strip() == '[]'
    finally:
        keystone_server.stop_process(proc, timeout=60)
