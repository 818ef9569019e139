"""The real API server (orchestrator.httpd on cheroot) against slow, idle
and malformed clients: 200 of them leave everyone else served within 1 s,
deadlines end them with a JSON 408, the connection cap holds, and the
server's own errors are JSON faults."""

import contextlib
import json
import socket
import threading
import time

import pytest

from orchestrator.cmd import api as api_cmd
from orchestrator.httpd import server as httpd_server

HOLDERS = 200
HEAD = b'GET /v2.1/flavors HTTP/1.1\r\nHost: slow.test\r\n'


@contextlib.contextmanager
def serving(app, **limits):
    server = api_cmd.serve(app, '127.0.0.1', 0, threads=16,
                           limits=httpd_server.Limits(**limits))
    try:
        yield server
    finally:
        server.stop()


def _connect(port):
    return socket.create_connection(('127.0.0.1', port), timeout=5)


def _response(sock):
    """(status, headers, body) of one response read from ``sock``."""
    data = b''
    while b'\r\n\r\n' not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError('closed before a response: %r' % data)
        data += chunk
    head, _, body = data.partition(b'\r\n\r\n')
    lines = head.decode('latin-1').split('\r\n')
    headers = {k.lower(): v.strip() for k, _, v in
               (line.partition(':') for line in lines[1:])}
    length = int(headers.get('content-length', 0))
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        body += chunk
    return int(lines[0].split()[1]), headers, body[:length]


def _exchange(port, raw):
    with _connect(port) as sock:
        sock.sendall(raw)
        return _response(sock)


def _fault(status, headers, body, code):
    assert status == code, body
    assert headers['content-type'].startswith('application/json')
    (fault,) = json.loads(body).values()
    assert fault['code'] == code
    return fault['message']


def _wait_until(predicate, timeout=5.0):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, 'condition not met in time'
        time.sleep(0.02)


def _timed_get(port):
    started = time.monotonic()
    status, _headers, body = _exchange(
        port, b'GET /v2.1/flavors HTTP/1.1\r\nHost: t\r\n'
              b'Connection: close\r\n\r\n')
    assert status == 200 and json.loads(body)['flavors']
    return time.monotonic() - started


def test_200_slow_or_idle_clients_leave_others_served_within_a_second(app):
    with serving(app) as server:
        holders = [_connect(server.port) for _ in range(HOLDERS)]
        tricklers = holders[::2]    # one byte a second; the rest silent
        stop = threading.Event()

        def trickle():
            sent = 0
            while not stop.wait(1.0):
                for sock in tricklers:
                    sock.send(HEAD[sent % len(HEAD):][:1])
                sent += 1
        thread = threading.Thread(target=trickle, daemon=True)
        thread.start()
        try:
            times = []
            for _ in range(8):
                times.append(_timed_get(server.port))
                time.sleep(0.5)
            assert max(times) < 1.0, times
            # The holders are still open: none was dropped to make room.
            assert server.open_connections >= HOLDERS
        finally:
            stop.set()
            thread.join()
            for sock in holders:
                sock.close()


def test_deadlines_end_idle_and_trickling_connections(app):
    with serving(app, idle_timeout_s=0.5, header_timeout_s=1.0,
                 body_timeout_s=1.0) as server:
        idle = _connect(server.port)
        trickler = _connect(server.port)
        body_late = _connect(server.port)
        body_late.sendall(b'POST /v2.1/servers HTTP/1.1\r\nHost: t\r\n'
                          b'Content-Type: application/json\r\n'
                          b'Content-Length: 10\r\n\r\n{')
        started = time.monotonic()
        trickler.sendall(HEAD[:5])
        assert idle.recv(10) == b''     # closed silently
        assert time.monotonic() - started < 3
        message = _fault(*_response(trickler), 408)
        assert 'headers did not arrive within 1.0 s' in message
        message = _fault(*_response(body_late), 408)
        assert 'body did not arrive' in message
        for sock in (idle, trickler, body_late):
            sock.close()


def test_connection_cap_evicts_the_longest_idle_then_refuses(app):
    with serving(app, max_connections=4) as server:
        idle = [_connect(server.port) for _ in range(4)]
        time.sleep(0.3)
        assert _timed_get(server.port) < 1.0
        assert idle[0].recv(10) == b''      # the oldest made room
        # The server closes the finished GET's socket after the client
        # has read the answer: wait for it, or a busy connection below
        # would find no idle one to evict and be refused instead.
        _wait_until(lambda: server.open_connections == 3)
        busy = [_connect(server.port) for _ in range(4)]
        for sock in busy:
            sock.sendall(HEAD[:3])
        time.sleep(1.0)     # read by the loop: mid-request, not idle
        _fault(*_exchange(server.port, HEAD + b'\r\n'), 503)
        for sock in idle + busy:
            sock.close()


BIG = 32 * 1024 * 1024


def _big_response(environ, start_response):
    """A WSGI app answering 32 MiB (more than socket buffers hold)."""
    if environ['PATH_INFO'] == '/small':
        start_response('200 OK', [('Content-Length', '2')])
        return [b'ok']
    start_response('200 OK', [('Content-Length', str(BIG))])
    return (b'x' * 65536 for _ in range(BIG // 65536))


def test_a_client_reading_slowly_loses_its_worker_at_the_deadline():
    server = api_cmd.serve(_big_response, '127.0.0.1', 0, threads=1,
                           limits=httpd_server.Limits(send_timeout_s=1.0))
    slow = socket.socket()
    slow.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    slow.settimeout(5)
    received = []
    try:
        slow.connect(('127.0.0.1', server.port))
        slow.sendall(b'GET /big HTTP/1.1\r\nHost: t\r\n\r\n')

        def read_slowly():     # ~3 MiB/s: no send waits long, all do
            with contextlib.suppress(OSError):
                while chunk := slow.recv(65536):
                    received.append(len(chunk))
                    time.sleep(0.02)
        reader = threading.Thread(target=read_slowly, daemon=True)
        reader.start()
        time.sleep(0.3)
        started = time.monotonic()
        status, _h, body = _exchange(server.port, b'GET /small HTTP/1.1'
                                     b'\r\nHost: t\r\n\r\n')
        assert status == 200 and body == b'ok'
        assert time.monotonic() - started < 3
        reader.join(10)
        assert not reader.is_alive() and sum(received) < BIG
    finally:
        slow.close()
        server.stop()


@pytest.mark.parametrize('raw,code,words', [
    (b'GET //v2.1/servers HTTP/1.1\r\nHost: t\r\n\r\n', 400, 'Absolute'),
    (b'GET /v2.1/ HTTP/1.1\nHost: t\n\n', 400, 'CRLF'),
    (b'GET /v2.1/ HTTP/3.0\r\nHost: t\r\n\r\n', 505, 'Cannot fulfill'),
    (b'POST /v2.1/servers HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n'
     b'Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n', 400, 'ambiguous'),
    (b'POST /v2.1/servers HTTP/1.1\r\nHost: t\r\n'
     b'Transfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n', 400,
     'Bad chunked transfer size'),
    (b'POST /v2.1/servers HTTP/1.1\r\nHost: t\r\n'
     b'Transfer-Encoding: chunked\r\n\r\n1\r\n{}}\r\n0\r\n\r\n', 400,
     'Bad chunked transfer coding'),
    (b'POST /v2.1/servers HTTP/1.1\r\nHost: t\r\n'
     b'Transfer-Encoding: chunked\r\n\r\n100000\r\n', 413, 'larger than'),
    (b'POST /v2.1/servers HTTP/1.1\r\nHost: t\r\n'
     b'Content-Length: 999999999\r\n\r\n', 413, 'exceeds the maximum'),
    (b'GET /' + b'a' * 70000 + b' HTTP/1.1\r\n\r\n', 414, 'request line'),
    (b'GET / HTTP/1.1\r\nX-Big: ' + b'a' * 70000 + b'\r\n\r\n', 431,
     'headers are longer'),
    (b'GET / HTTP/1.1\r\nContent-Length: x\r\n\r\n', 400, 'Content-Length'),
], ids=['double-slash', 'bare-lf', 'http3', 'chunked-and-length',
        'bad-chunk-size', 'bad-chunk-end', 'chunked-too-large',
        'length-too-large', 'long-line', 'big-headers', 'bad-length'])
def test_server_errors_are_json_faults(app, raw, code, words):
    with serving(app) as server:
        assert words in _fault(*_exchange(server.port, raw), code)


def test_a_body_cut_short_is_a_400(app):
    with serving(app) as server, _connect(server.port) as sock:
        sock.sendall(b'POST /v2.1/servers HTTP/1.1\r\nHost: t\r\n'
                     b'Content-Type: application/json\r\n'
                     b'Content-Length: 10\r\n\r\n{}')
        sock.shutdown(socket.SHUT_WR)
        assert 'ended before' in _fault(*_response(sock), 400)


def test_chunked_body_reaches_the_app_and_pipelining_works(app):
    body = b'{"server": {"name": "x"}}'
    chunked = (b'POST /v2.1/servers HTTP/1.1\r\nHost: t\r\n'
               b'Content-Type: application/json\r\n'
               b'Transfer-Encoding: chunked\r\n\r\n'
               + b'%x\r\n%s\r\n' % (10, body[:10])
               + b'%x\r\n%s\r\n' % (len(body) - 10, body[10:])
               + b'0\r\nX-Trailer: 1\r\n\r\n')
    with serving(app) as server, _connect(server.port) as sock:
        # Split mid chunk-size line, then the rest with a pipelined GET.
        sock.sendall(chunked[:75])
        time.sleep(0.1)
        sock.sendall(chunked[75:] + HEAD + b'\r\n')
        message = _fault(*_response(sock), 400)
        assert 'flavorRef' in message or 'imageRef' in message, message
        status, _headers, flavors = _response(sock)
        assert status == 200 and json.loads(flavors)['flavors']


def test_expect_100_continue_is_answered_before_the_body(app):
    body = b'{"server": {"name": "x"}}'
    with serving(app) as server, _connect(server.port) as sock:
        sock.sendall(b'POST /v2.1/servers HTTP/1.1\r\nHost: t\r\n'
                     b'Content-Type: application/json\r\nExpect: '
                     b'100-continue\r\nContent-Length: %d\r\n\r\n'
                     % len(body))
        assert sock.recv(100) == b'HTTP/1.1 100 Continue\r\n\r\n'
        sock.sendall(body)
        status, _headers, answer = _response(sock)
        assert status == 400 and b'100 Continue' not in answer
