"""Real all-in-one processes that tests start, SIGKILL and start again.

:class:`AllInOneProcess` runs ``orchestrator.cmd.allinone`` on a state
directory (its SQLite database and the fake hosts' files), talks to it
over HTTP only, and reads what it left behind: the host files and the
database. Starting it again on the same directory is what a restart after
a crash is.

Two launchers make the process:

* :class:`SubprocessLauncher` (the default): ``python -m
  orchestrator.cmd.allinone``, a fresh interpreter each time;
* :class:`ZygoteLauncher`: a fork of :mod:`tests.crash.zygote`, a process
  that imported everything once, so a start costs the all-in-one's own
  start-up only. The crash suite uses it (it starts hundreds).

Either way the all-in-one is a separate OS process with its own
environment (the failpoints of :mod:`orchestrator.failpoints` come in
through it) and dies by a real SIGKILL.
"""

import json
import os
import signal
import subprocess
import sys
import threading
import time

import requests
import sqlalchemy as sa

from orchestrator.compute.drivers import fake_faults
from orchestrator import failpoints

from tests.waiting import wait_for

DEFAULT_HOSTS = 2
REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))

#: The options every test all-in-one runs with (fast heartbeats, polling
#: and lease renewal).
BASE_CONFIG = {
    'compute': {'heartbeat_interval_s': 0.5},
    'conductor': {'job_poll_interval_s': 0.1, 'lease_renew_interval_s': 1},
}


def host_names(count):
    """The all-in-one's host names (as orchestrator.cmd.allinone)."""
    return ['compute-%d' % (i + 1) for i in range(count)]


def child_env(extra=None):
    """The environment of an all-in-one: ours, warnings off, the repo on
    the path, failpoints only when ``extra`` arms them."""
    env = dict(os.environ, PYTHONWARNINGS='ignore')
    env.pop(failpoints.ENV_VAR, None)
    env['PYTHONPATH'] = os.pathsep.join(
        [REPO_ROOT] + [p for p in [env.get('PYTHONPATH')] if p])
    env.update(extra or {})
    return env


def write_config(path, extra=None):
    """Write BASE_CONFIG updated with ``extra`` ({group: {opt: value}})
    as an ini file."""
    groups = {group: dict(opts) for group, opts in BASE_CONFIG.items()}
    for group, opts in (extra or {}).items():
        groups.setdefault(group, {}).update(opts)
    with open(path, 'w') as f:
        for group, opts in groups.items():
            f.write('[%s]\n' % group)
            for name, value in opts.items():
                f.write('%s = %s\n' % (name, value))


class SubprocessLauncher:
    """Starts ``python -m orchestrator.cmd.allinone``."""

    def spawn(self, argv, env, log_path):
        """A :class:`subprocess.Popen` of the all-in-one."""
        log = open(log_path, 'a')
        try:
            return subprocess.Popen(
                [sys.executable, '-m', 'orchestrator.cmd.allinone'] + argv,
                stdout=log, stderr=subprocess.STDOUT, env=env, cwd=REPO_ROOT)
        finally:
            log.close()

    def close(self):
        pass


class ForkedProcess:
    """A child of the zygote, with the part of Popen's interface the
    tests use (pid, poll, wait, returncode, send_signal, kill)."""

    def __init__(self, launcher, pid):
        self._launcher = launcher
        self.pid = pid

    @property
    def returncode(self):
        return self._launcher.returncode(self.pid)

    def poll(self):
        return self.returncode

    def wait(self, timeout=None):
        """The exit status; subprocess.TimeoutExpired after ``timeout``."""
        code = self._launcher.wait(self.pid, timeout)
        if code is None:
            raise subprocess.TimeoutExpired('all-in-one %d' % self.pid,
                                            timeout)
        return code

    def send_signal(self, sig):
        if self.returncode is None:
            try:
                os.kill(self.pid, sig)
            except ProcessLookupError:
                pass

    def kill(self):
        self.send_signal(signal.SIGKILL)


class ZygoteLauncher:
    """Forks all-in-ones from one :mod:`tests.crash.zygote` process."""

    def __init__(self):
        self._proc = subprocess.Popen(
            [sys.executable, '-m', 'tests.crash.zygote'],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            env=child_env(), cwd=REPO_ROOT)
        self._cond = threading.Condition()
        self._started = {}
        self._exited = {}
        self._ready = False
        self._next_id = 0
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        with self._cond:
            if not self._cond.wait_for(lambda: self._ready or self._dead(),
                                       timeout=300):
                raise AssertionError('the zygote did not start')
        if not self._ready:
            raise AssertionError('the zygote exited with %s'
                                 % self._proc.returncode)

    def _dead(self):
        return self._proc.poll() is not None

    def _read(self):
        for line in self._proc.stdout:
            message = json.loads(line)
            with self._cond:
                if 'ready' in message:
                    self._ready = True
                elif 'exited' in message:
                    self._exited[message['exited']] = message['returncode']
                else:
                    # A pid the kernel reused: its earlier owner's exit is
                    # not this child's (the zygote reported it first).
                    self._exited.pop(message['pid'], None)
                    self._started[message['id']] = message['pid']
                self._cond.notify_all()
        with self._cond:
            self._cond.notify_all()

    def spawn(self, argv, env, log_path):
        """A :class:`ForkedProcess` running the all-in-one."""
        with self._cond:
            self._next_id += 1
            request_id = self._next_id
            self._proc.stdin.write((json.dumps(
                {'id': request_id, 'argv': argv, 'env': env,
                 'log': log_path}) + '\n').encode())
            self._proc.stdin.flush()
            if not self._cond.wait_for(
                    lambda: request_id in self._started or self._dead(),
                    timeout=60):
                raise AssertionError('the zygote did not fork')
            if request_id not in self._started:
                raise AssertionError('the zygote died')
            return ForkedProcess(self, self._started.pop(request_id))

    def returncode(self, pid):
        with self._cond:
            return self._exited.get(pid)

    def wait(self, pid, timeout):
        with self._cond:
            self._cond.wait_for(lambda: pid in self._exited or self._dead(),
                                timeout=timeout)
            return self._exited.get(pid)

    def close(self):
        """End the zygote (it SIGKILLs the children still running)."""
        if self._proc.poll() is None:
            self._proc.stdin.close()
            try:
                self._proc.wait(30)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()


class AllInOneProcess:
    """One all-in-one on ``state_dir``, listening on ``port``; restartable.

    :param hosts: how many fake hosts it runs (compute-1 .. compute-N);
        :meth:`start` may run fewer (a host that is down).
    :param launcher: a :class:`SubprocessLauncher` (default) or a
        :class:`ZygoteLauncher`.
    """

    def __init__(self, state_dir, port, hosts=DEFAULT_HOSTS, launcher=None):
        self.state_dir = str(state_dir)
        self.port = port
        self.url = 'http://127.0.0.1:%d' % port
        self.hosts = host_names(hosts)
        self.running_hosts = list(self.hosts)
        self.launcher = launcher or SubprocessLauncher()
        self.proc = None
        self.log_path = os.path.join(self.state_dir, 'allinone.log')
        self._engine = None

    def start(self, env=None, config=None, hosts=None, wait=True):
        """Start the all-in-one and (``wait``) wait until it serves.

        :param env: extra environment, e.g. ``{ORCHESTRATOR_FAILPOINTS:
            'orchestrator-stop-server:*:after-execute=kill'}``.
        :param config: extra options, ``{group: {option: value}}``.
        :param hosts: how many of the hosts run (default: all).
        """
        os.makedirs(self.state_dir, exist_ok=True)
        config_path = os.path.join(self.state_dir, 'test.conf')
        write_config(config_path, config)
        self.running_hosts = host_names(hosts or len(self.hosts))
        with open(self.log_path, 'a') as log:
            log.write('--- start %s (env %s)\n' % (
                time.strftime('%H:%M:%S'), env or {}))
        self.proc = self.launcher.spawn(
            ['--config-file', config_path, '--state-dir', self.state_dir,
             '--listen', '127.0.0.1:%d' % self.port,
             '--hosts', str(len(self.running_hosts))],
            child_env(env), self.log_path)
        if wait:
            self.wait_serving()

    def wait_serving(self, timeout=120):
        """Wait until the API answers and every running host is up."""
        wait_for(self._ready, timeout=timeout, what='all-in-one to serve')

    def _ready(self):
        if self.proc.poll() is not None:
            raise AssertionError('all-in-one exited with %s; log:\n%s' % (
                self.proc.returncode, self.log()))
        try:
            hypervisors = requests.get(
                self.url + '/v2.1/os-hypervisors/detail',
                timeout=5).json()['hypervisors']
        except (requests.RequestException, ValueError, KeyError):
            return False
        up = {h['hypervisor_hostname'] for h in hypervisors
              if h['state'] == 'up'}
        return up >= set(self.running_hosts)

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def wait_exit(self, timeout):
        """The exit status, or None if it still runs after ``timeout``."""
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def kill(self):
        """SIGKILL, and wait until it is gone."""
        if self.proc is not None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(30)

    def stop(self):
        """SIGTERM (a clean stop), SIGKILL if that takes too long."""
        if self.alive():
            self.proc.send_signal(signal.SIGTERM)
            if self.wait_exit(30) is None:
                self.kill()

    def log(self, tail=6000):
        try:
            with open(self.log_path) as f:
                return f.read()[-tail:]
        except FileNotFoundError:
            return ''

    def api(self, method, path, **kwargs):
        """One HTTP request to the all-in-one's API."""
        kwargs.setdefault('timeout', 30)
        return requests.request(method, self.url + path, **kwargs)

    def server(self, server_id):
        """The server as the API shows it, or None (404)."""
        resp = self.api('GET', '/v2.1/servers/%s' % server_id)
        return resp.json()['server'] if resp.status_code == 200 else None

    @property
    def hosts_dir(self):
        return os.path.join(self.state_dir, 'fake-hosts')

    def host_file(self, host):
        """What the fake host ``host`` holds (its JSON file)."""
        path = os.path.join(self.hosts_dir, '%s.json' % host)
        if not os.path.exists(path):
            return {'guests': {}, 'calls': {}}
        with open(path) as f:
            return json.load(f)

    def calls(self):
        """{host: {driver method: count}} of every host."""
        return {host: dict(self.host_file(host).get('calls', {}))
                for host in self.hosts}

    def faults(self, faults, hosts=None):
        """Replace the run-time faults of ``hosts`` (default: all)."""
        for host in hosts or self.hosts:
            fake_faults.write_runtime_faults(self.hosts_dir, host, faults)

    def db(self):
        """An SQLAlchemy engine on the all-in-one's SQLite database."""
        if self._engine is None:
            self._engine = sa.create_engine('sqlite:///%s' % os.path.join(
                self.state_dir, 'orchestrator.sqlite'))
        return self._engine

    def close(self):
        """Kill the process if it runs; release the database engine."""
        if self.alive():
            self.kill()
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None
