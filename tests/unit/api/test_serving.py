"""The API over real HTTP: cmd.api.serve (cheroot), the orchestrator-api
daemon (start, serve, SIGTERM), and wsgi.application's lazy loading."""

import http.client
import json
import os
import signal
import subprocess
import sys
import time

import pytest

from orchestrator import secret_box
from orchestrator.api import wsgi
from orchestrator.cmd import api as api_cmd
from tests.unit.api.conftest import CIRROS

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.dirname(os.path.abspath(__file__)))))


def _get(port, path, headers=None):
    conn = http.client.HTTPConnection('127.0.0.1', port, timeout=10)
    try:
        conn.request('GET', path, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, dict(resp.getheaders()), resp.read()
    finally:
        conn.close()


def test_serve_runs_the_app_on_a_free_port_and_stops(app):
    server = api_cmd.serve(app, '127.0.0.1', 0, threads=4)
    try:
        assert server.port > 0
        status, headers, body = _get(server.port, '/v2.1/servers/detail',
                                     {'OpenStack-API-Version':
                                      'compute 2.47'})
        assert status == 200
        assert json.loads(body) == {'servers': []}
        assert headers['OpenStack-API-Version'] == 'compute 2.47'
        assert headers['x-openstack-request-id'].startswith('req-')
        status, _headers, body = _get(server.port, '/image/v2/images/' +
                                      CIRROS)
        assert status == 200 and json.loads(body)['id'] == CIRROS
        status, headers, body = _get(server.port, '/no/such/path')
        assert status == 404 and 'x-openstack-request-id' in headers
        assert json.loads(body)['itemNotFound']['code'] == 404
        # Links follow the Host header the client sent.
        status, _h, body = _get(server.port, '/', {'Host': 'api.test:8080'})
        assert json.loads(body)['versions'][1]['links'][0]['href'] == \
            'http://api.test:8080/v2.1/'
    finally:
        server.stop()
    with pytest.raises(OSError):
        _get(server.port, '/')
    server.stop()  # idempotent


def test_lazy_application_builds_once_on_first_request(app):
    built = []

    def loader():
        built.append(1)
        return app
    lazy = wsgi.LazyApplication(loader)
    assert built == []
    import webob
    for _ in range(2):
        assert webob.Request.blank('/').get_response(lazy).status_int == 200
    assert built == [1]


def _key_file(tmp_path):
    """A secrets key file (the API refuses to start without one)."""
    path = tmp_path / 'secrets.key'
    secret_box.create_key_file(str(path))
    return path


def _config(tmp_path, transport_url, port=0):
    path = tmp_path / 'orchestrator.conf'
    path.write_text(
        '[DEFAULT]\ntransport_url = %s\nsecrets_key_file = %s\n'
        '[database]\nconnection = '
        'sqlite:///%s\n[api]\nlisten_host = 127.0.0.1\nlisten_port = %d\n'
        'threads = 2\n' % (transport_url, _key_file(tmp_path),
                           tmp_path / 'o.sqlite', port))
    return path


def _free_port():
    import socket
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def _daemon(config):
    env = dict(os.environ, PYTHONPATH=ROOT)
    return subprocess.Popen(
        [sys.executable, '-m', 'orchestrator.cmd.api', '--config-file',
         str(config)], env=env, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, cwd=ROOT)


def test_daemon_refuses_the_in_memory_transport(tmp_path):
    proc = _daemon(_config(tmp_path, 'kombu+memory:////'))
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 2
    assert b'in-memory transport' in out


def test_daemon_serves_and_stops_cleanly_on_sigterm(tmp_path):
    port = _free_port()
    # NOTE(api): making a rabbit transport does not connect: the daemon
    # serves requests that need no RPC without a broker.
    proc = _daemon(_config(tmp_path, 'rabbit://guest:guest@127.0.0.1:1/',
                           port))
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                status, _h, body = _get(port, '/')
                break
            except OSError:
                assert proc.poll() is None, proc.stdout.read()
                assert time.monotonic() < deadline, 'API never listened'
                time.sleep(0.2)
        assert status == 200
        assert json.loads(body)['versions'][1]['id'] == 'v2.1'
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
        assert proc.returncode == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_load_app_configures_from_the_file(db, conf, tmp_path):
    from orchestrator import rpc
    path = tmp_path / 'api.conf'
    path.write_text('[DEFAULT]\ntransport_url = rabbit://guest:guest@'
                    '127.0.0.1:1/\nsecrets_key_file = %s\n'
                    '[database]\nconnection = %s\n'
                    '[api]\nmax_limit = 3\n'
                    % (_key_file(tmp_path), conf.database.connection))
    try:
        application = wsgi.load_app(conf, str(path))
        import webob
        resp = webob.Request.blank('/v2.1/flavors').get_response(
            application)
        assert resp.status_int == 200
        assert len(resp.json['flavors']) == 3
    finally:
        rpc.cleanup()


def test_load_app_refuses_the_in_memory_transport(db, conf, tmp_path):
    path = tmp_path / 'api.conf'
    path.write_text('[DEFAULT]\ntransport_url = kombu+memory:////\n'
                    '[database]\nconnection = %s\n'
                    % conf.database.connection)
    with pytest.raises(SystemExit):
        wsgi.load_app(conf, str(path))


def test_daemon_refuses_to_start_without_the_secrets_key(tmp_path):
    config = _config(tmp_path, 'rabbit://guest:guest@127.0.0.1:1/',
                     _free_port())
    os.unlink(tmp_path / 'secrets.key')
    proc = _daemon(config)
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 2
    assert (b'orchestrator-api: Secrets key file %s ([DEFAULT] '
            b'secrets_key_file) is missing' % bytes(tmp_path / 'secrets.key')
            in out), out


def test_load_app_refuses_an_unreadable_secrets_key(db, conf, tmp_path):
    from orchestrator import rpc
    path = tmp_path / 'api.conf'
    path.write_text('[DEFAULT]\ntransport_url = rabbit://guest:guest@'
                    '127.0.0.1:1/\nsecrets_key_file = %s\n'
                    '[database]\nconnection = %s\n'
                    % (tmp_path, conf.database.connection))
    # The file's value, not the tests' key (an override wins over files).
    conf.clear_override('secrets_key_file')
    try:
        with pytest.raises(secret_box.SecretsKeyError,
                           match='cannot be read'):
            wsgi.load_app(conf, str(path))
    finally:
        rpc.cleanup()
