"""The distributed system as separate processes on real services.

:class:`Cluster` writes one configuration file, runs ``orchestrator-manage
db sync`` and starts ``orchestrator-conductor``, ``orchestrator-api`` and
one ``orchestrator-compute`` per host as separate processes (``python -m
orchestrator.cmd.<name>``), each logging to its own file. Every cluster
gets its own database, its own RabbitMQ exchange, its own host names and,
for the Redis jobboard, its own namespace, so clusters of tests running in
parallel never see each other.
"""

import json
import os
import signal
import subprocess
import sys
import time
import uuid

import pytest
import requests

from tests.functional.systems import free_port
from tests.waiting import wait_for

pytestmark = pytest.mark.integration


class Cluster:
    """API, conductor(s) and compute hosts as separate processes."""

    def __init__(self, tmp_path, db_url, transport_url, jobboard='sql',
                 redis_url=None, hosts=3, overrides=None):
        self.name = 'it%s' % uuid.uuid4().hex[:8]
        self.dir = str(tmp_path / self.name)
        os.makedirs(self.dir)
        self.port = free_port()
        self.url = 'http://127.0.0.1:%d' % self.port
        self.hosts = ['%s-compute-%d' % (self.name, i + 1)
                      for i in range(hosts)]
        self.procs = {}
        self.config = os.path.join(self.dir, 'orchestrator.conf')
        lines = [
            '[DEFAULT]',
            'transport_url = %s' % transport_url,
            'control_exchange = %s' % self.name,
            'state_path = %s' % self.dir,
            'service_down_time_s = 15',
            'compute_rpc_timeout_s = 30',
            '[database]',
            'connection = %s' % db_url,
            '[api]',
            'listen_host = 127.0.0.1',
            'listen_port = %d' % self.port,
            '[compute]',
            'heartbeat_interval_s = 1',
            '[conductor]',
            'job_poll_interval_s = 0.2',
            'lease_renew_interval_s = 2',
            'claim_lease_s = 10',
            '[jobboard]',
            'backend = %s' % jobboard,
            'board_name = %s' % self.name,
            'redis_namespace = %s' % self.name,
        ]
        if redis_url:
            lines.append('redis_url = %s' % redis_url)
        # Later lines win: ``overrides`` ({group: {option: value}})
        # replace the defaults above.
        for group, values in (overrides or {}).items():
            lines.append('[%s]' % group)
            lines.extend('%s = %s' % item for item in values.items())
        with open(self.config, 'w') as f:
            f.write('\n'.join(lines) + '\n')

    def _env(self):
        env = dict(os.environ, PYTHONWARNINGS='ignore')
        env['PYTHONPATH'] = os.pathsep.join(
            [os.getcwd()] + [p for p in [env.get('PYTHONPATH')] if p])
        return env

    def _host_config(self, host):
        path = os.path.join(self.dir, '%s.conf' % host)
        with open(path, 'w') as f:
            f.write('[DEFAULT]\nhost = %s\n' % host)
        return path

    def run(self, module, *args, check=True, timeout=120):
        """Run ``python -m orchestrator.cmd.<module>`` to completion."""
        return subprocess.run(
            [sys.executable, '-m', 'orchestrator.cmd.%s' % module,
             '--config-file', self.config] + list(args),
            env=self._env(), capture_output=True, text=True, check=check,
            timeout=timeout)

    def spawn(self, key, module, host=None):
        """Start ``orchestrator.cmd.<module>`` as a daemon named ``key``."""
        args = [sys.executable, '-m', 'orchestrator.cmd.%s' % module,
                '--config-file', self.config]
        if host:
            args += ['--config-file', self._host_config(host)]
        log = open(os.path.join(self.dir, '%s.log' % key), 'a')
        self.procs[key] = subprocess.Popen(
            args, stdout=log, stderr=subprocess.STDOUT, env=self._env())
        return self.procs[key]

    def start(self):
        self.run('manage', 'db', 'sync')
        # The API and the conductors share the key that seals the rescue
        # password ($state_path/secrets.key).
        self.run('manage', 'secrets', 'create-key')
        self.spawn('conductor', 'conductor', host='%s-conductor' % self.name)
        for host in self.hosts:
            self.spawn(host, 'compute', host=host)
        self.spawn('api', 'api', host='%s-api' % self.name)
        wait_for(self._ready, timeout=90, what='cluster to come up')
        return self

    def _ready(self):
        for key, proc in self.procs.items():
            if proc.poll() is not None:
                raise AssertionError('%s exited with %s:\n%s' % (
                    key, proc.returncode, self.log(key)))
        try:
            resp = requests.get(self.url + '/v2.1/os-hypervisors/detail',
                                timeout=2)
            up = [h for h in resp.json()['hypervisors']
                  if h['state'] == 'up']
            return len(up) == len(self.hosts)
        except (requests.RequestException, ValueError, KeyError):
            return False

    def log(self, key):
        with open(os.path.join(self.dir, '%s.log' % key)) as f:
            return f.read()[-8000:]

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

    def api(self, method, path, **kwargs):
        headers = {'OpenStack-API-Version': 'compute 2.47'}
        return requests.request(method, self.url + path, timeout=30,
                                headers=headers, **kwargs)

    def host_file(self, host):
        path = os.path.join(self.dir, 'fake-hosts', '%s.json' % host)
        if not os.path.exists(path):
            return {'guests': {}}
        with open(path) as f:
            return json.load(f)

    def guests(self):
        """{instance uuid: [hosts that hold a guest of it]}."""
        out = {}
        for host in self.hosts:
            for instance_uuid in self.host_file(host)['guests']:
                out.setdefault(instance_uuid, []).append(host)
        return out


@pytest.fixture
def cluster_factory(tmp_path):
    clusters = []

    def make(**kwargs):
        cluster = Cluster(tmp_path, **kwargs)
        clusters.append(cluster)
        return cluster.start()

    yield make
    for cluster in clusters:
        cluster.stop()
