"""Exit codes and error lines of the CLI against the real API app
(in-process, served on a loopback port by wsgiref)."""

import io
import json
import socket
import threading
import wsgiref.simple_server

import pytest

from orchestrator.api import app as api_app
from orchestrator.cli import main

from tests.unit.api import conftest as api_fixtures


class _QuietHandler(wsgiref.simple_server.WSGIRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture
def served(db, conf):
    """The API app (noauth) on a free loopback port; yields its URL."""
    server = wsgiref.simple_server.make_server(
        '127.0.0.1', 0, api_app.build_app(conf),
        handler_class=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield 'http://127.0.0.1:%d' % server.server_port
    server.shutdown()
    server.server_close()


def run(url, *argv):
    out = io.StringIO()
    code = main.main(['--url', url] + list(argv), out=out)
    return code, out.getvalue()


def test_list_and_show_exit_0(served):
    instance = api_fixtures.make_instance('active')
    code, out = run(served, 'server', 'list', '-f', 'json')
    assert code == 0
    assert [s['id'] for s in json.loads(out)] == [instance['uuid']]
    code, out = run(served, 'server', 'show', instance['uuid'], '-f',
                    'json')
    assert code == 0 and json.loads(out)['status'] == 'ACTIVE'


def test_a_404_exits_2_with_one_line_on_stderr(served, capsys):
    code, out = run(served, 'server', 'show', 'no-such-server')
    err = capsys.readouterr().err
    assert (code, out) == (2, '')
    assert err == "error: no server named or with id 'no-such-server'\n"


def test_a_409_exits_2_with_the_apis_message(served, capsys):
    instance = api_fixtures.make_instance_in_state('stopped')
    code, _out = run(served, 'server', 'stop', instance['uuid'])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith('error: ') and err.endswith('(HTTP 409)\n')
    assert err.count('\n') == 1 and 'stop' in err


def test_nothing_listening_exits_4(capsys):
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        port = s.getsockname()[1]
    code, _out = run('http://127.0.0.1:%d' % port, 'server', 'list')
    err = capsys.readouterr().err
    assert code == 4
    assert err.startswith('error: cannot reach http://127.0.0.1:%d' % port)
    assert err.count('\n') == 1
