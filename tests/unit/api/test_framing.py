"""orchestrator.httpd.framing: where a request ends, byte by byte."""

import pytest

from orchestrator.httpd import framing

GET = b'GET /v2.1/ HTTP/1.1\r\nHost: t\r\n\r\n'
CHUNKED = (b'POST /s HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n'
           b'3;ext=1\r\nabc\r\n2\r\nde\r\n0\r\nTrailer: x\r\n\r\n')


def _first_ready(request, max_head=1024, max_body=100):
    """Feed ``request`` one byte at a time; the length at READY."""
    framer = framing.RequestFramer(max_head, max_body)
    for n in range(1, len(request) + 1):
        if framer.scan(bytearray(request[:n])) == framing.READY:
            return n
    return None


@pytest.mark.parametrize('request_bytes', [
    GET, b'\r\n' + GET,
    b'POST /s HTTP/1.1\r\nContent-Length: 4\r\n\r\nbody', CHUNKED,
    # HTTP/1.0 has no chunked coding: cheroot reads Content-Length.
    b'POST /s HTTP/1.0\r\nTransfer-Encoding: chunked\r\n'
    b'Content-Length: 2\r\n\r\nab',
], ids=['get', 'leading-crlf', 'length', 'chunked', 'http10'])
def test_ready_exactly_when_the_request_is_whole(request_bytes):
    assert _first_ready(request_bytes) == len(request_bytes)


@pytest.mark.parametrize('request_bytes,ready_at', [
    (b'GET / HTTP/1.1\n\n', 16),                            # parser: 400
    (b'POST / HTTP/1.1\r\nContent-Length: x\r\n\r\n', 38),  # 400
    (b'POST / HTTP/1.1\r\nContent-Length: 101\r\n\r\n', 40),  # 413
    (b'POST / HTTP/1.1\r\nContent-Length: 1\r\nTransfer-Encoding: '
     b'chunked\r\n\r\n', 66),                               # 400
    (b'POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n', 51),
    (b'POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n65\r\n', 51),
    (b'GET /' + b'a' * 2000, 1025),                         # 414
], ids=['bare-lf', 'bad-length', 'too-long', 'both', 'bad-chunk',
        'chunks-too-long', 'head-too-long'])
def test_hopeless_requests_are_ready_at_once(request_bytes, ready_at):
    assert _first_ready(request_bytes) == ready_at


def test_incomplete_requests_need_more():
    assert _first_ready(GET[:-1]) is None
    assert _first_ready(CHUNKED[:-2]) is None
    assert _first_ready(b'POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\n'
                        b'abcd') is None


def test_expect_continue_is_noted_once_the_head_is_in():
    framer = framing.RequestFramer(1024, 100)
    head = (b'POST / HTTP/1.1\r\nExpect: 100-Continue\r\n'
            b'Content-Length: 2\r\n\r\n')
    assert framer.scan(bytearray(head)) == framing.MORE
    assert framer.expects_continue and framer.head_end == len(head)
    assert framer.scan(bytearray(head + b'ab')) == framing.READY
