"""The systems a benchmark drives, as real processes: the all-in-one
(SQLite, in-memory transport) and the distributed system (PostgreSQL,
RabbitMQ, 1 or 2 conductors, 3 compute agents, the API).

Every system gets hosts large enough that capacity never limits a run
(``[compute] vcpus`` etc.), so what is measured is the control plane.
"""

import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid

import requests

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
API_HEADERS = {'OpenStack-API-Version': 'compute 2.47'}
BIG_HOST = {'vcpus': 100000, 'memory_mb': 100000000, 'disk_gb': 10000000}
#: No project quota: the load is many servers of one project.
NO_QUOTA = {'instances': -1, 'cores': -1, 'ram': -1}
PG_ADMIN_URL = os.environ.get(
    'ORCHESTRATOR_TEST_PG_URL',
    'postgresql+psycopg2://postgres@127.0.0.1/test')
RABBIT_URL = os.environ.get('ORCHESTRATOR_TEST_RABBIT_URL',
                            'rabbit://guest:guest@127.0.0.1:5672/')


def free_port():
    import socket
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def _env():
    env = dict(os.environ, PYTHONWARNINGS='ignore')
    env['PYTHONPATH'] = os.pathsep.join(
        [ROOT] + [p for p in [env.get('PYTHONPATH')] if p])
    return env


def _conf_lines(groups):
    lines = []
    for group, values in groups.items():
        lines.append('[%s]' % group)
        lines.extend('%s = %s' % item for item in values.items())
    return '\n'.join(lines) + '\n'


def wait_until(predicate, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise RuntimeError('timed out waiting for %s' % what)


class _System:
    """Processes, a directory, an API URL."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix='orch-bench-')
        self.port = free_port()
        self.url = 'http://127.0.0.1:%d' % self.port
        self.procs = {}

    def spawn(self, key, module, *args):
        log = open(os.path.join(self.dir, '%s.log' % key), 'a')
        self.procs[key] = subprocess.Popen(
            [sys.executable, '-m', 'orchestrator.cmd.%s' % module] +
            list(args), stdout=log, stderr=subprocess.STDOUT, env=_env(),
            cwd=ROOT)
        return self.procs[key]

    def log(self, key):
        with open(os.path.join(self.dir, '%s.log' % key)) as f:
            return f.read()[-4000:]

    def answering(self):
        for key, proc in self.procs.items():
            if proc.poll() is not None:
                raise RuntimeError('%s exited with %s:\n%s' % (
                    key, proc.returncode, self.log(key)))
        try:
            resp = requests.get(self.url + '/v2.1/os-hypervisors/detail',
                                headers=API_HEADERS, timeout=2)
            up = [h for h in resp.json()['hypervisors']
                  if h['state'] == 'up']
            return len(up) >= self.host_count
        except (requests.RequestException, ValueError, KeyError):
            return False

    def pids(self):
        return {key: proc.pid for key, proc in self.procs.items()
                if proc.poll() is None}

    def kill(self, key, sig=signal.SIGKILL):
        proc = self.procs[key]
        proc.send_signal(sig)
        proc.wait(30)

    def stop(self):
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 20
        for proc in self.procs.values():
            try:
                proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)


class AllInOne(_System):
    """``orchestrator-allinone`` with 3 big fake hosts on a fresh state
    directory."""

    host_count = 3

    def __init__(self, extra=None, state_dir=None):
        super().__init__()
        self.state_dir = state_dir or os.path.join(self.dir, 'state')
        groups = {'compute': dict(BIG_HOST), 'quota': dict(NO_QUOTA)}
        for group, values in (extra or {}).items():
            groups.setdefault(group, {}).update(values)
        self.config = os.path.join(self.dir, 'allinone.conf')
        with open(self.config, 'w') as f:
            f.write(_conf_lines(groups))

    def start(self, timeout=90):
        self.spawn('allinone', 'allinone', '--config-file', self.config,
                   '--state-dir', self.state_dir,
                   '--listen', '127.0.0.1:%d' % self.port)
        wait_until(self.answering, timeout, 'the all-in-one to answer')
        return self


def _scratch_postgres():
    import sqlalchemy as sa
    name = 'orch_bench_%s' % uuid.uuid4().hex[:10]
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level='AUTOCOMMIT')
    with admin.connect() as c:
        c.exec_driver_sql('CREATE DATABASE %s' % name)
    url = sa.engine.make_url(PG_ADMIN_URL).set(database=name)
    return admin, name, url.render_as_string(hide_password=False)


def _scratch_vhost():
    vhost = 'orch-bench-%s' % uuid.uuid4().hex[:10]
    subprocess.run(['rabbitmqctl', '-q', 'add_vhost', vhost], check=True,
                   capture_output=True, timeout=60)
    subprocess.run(['rabbitmqctl', '-q', 'set_permissions', '-p', vhost,
                    'guest', '.*', '.*', '.*'], check=True,
                   capture_output=True, timeout=60)
    return vhost, RABBIT_URL.rstrip('/') + '/' + vhost


class Distributed(_System):
    """API, ``conductors`` conductors and 3 compute agents as separate
    processes on a scratch PostgreSQL database and RabbitMQ vhost."""

    host_count = 3

    def __init__(self, conductors=1, extra=None):
        super().__init__()
        self.conductors = conductors
        self._admin, self._db_name, self.db_url = _scratch_postgres()
        self._vhost, transport_url = _scratch_vhost()
        name = os.path.basename(self.dir).replace('-', '')
        self.hosts = ['%s-compute-%d' % (name, i + 1) for i in range(3)]
        groups = {
            'DEFAULT': {'transport_url': transport_url,
                        'state_path': self.dir},
            'database': {'connection': self.db_url},
            'api': {'listen_host': '127.0.0.1',
                    'listen_port': self.port},
            'compute': dict(BIG_HOST),
            'quota': dict(NO_QUOTA),
        }
        for group, values in (extra or {}).items():
            groups.setdefault(group, {}).update(values)
        self.config = os.path.join(self.dir, 'orchestrator.conf')
        with open(self.config, 'w') as f:
            f.write(_conf_lines(groups))

    def _host_conf(self, host):
        path = os.path.join(self.dir, '%s.conf' % host)
        with open(path, 'w') as f:
            f.write('[DEFAULT]\nhost = %s\n' % host)
        return path

    def start(self, timeout=120):
        for command in (['db', 'sync'], ['secrets', 'create-key']):
            subprocess.run([sys.executable, '-m', 'orchestrator.cmd.manage',
                            '--config-file', self.config] + command,
                           env=_env(), cwd=ROOT, check=True,
                           capture_output=True, timeout=120)
        for i in range(self.conductors):
            self.spawn('conductor-%d' % i, 'conductor', '--config-file',
                       self.config, '--config-file',
                       self._host_conf('conductor-%d' % i))
        for host in self.hosts:
            self.spawn(host, 'compute', '--config-file', self.config,
                       '--config-file', self._host_conf(host))
        self.spawn('api', 'api', '--config-file', self.config,
                   '--config-file', self._host_conf('api'))
        wait_until(self.answering, timeout, 'the distributed system')
        return self

    def stop(self):
        super().stop()
        subprocess.run(['rabbitmqctl', '-q', 'delete_vhost', self._vhost],
                       capture_output=True, timeout=60)
        with self._admin.connect() as c:
            c.exec_driver_sql('DROP DATABASE IF EXISTS %s WITH (FORCE)'
                              % self._db_name)
        self._admin.dispose()
