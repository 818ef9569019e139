"""cheroot's connection and request, as the API serves them.

* :class:`RequestBuffer` is a connection's ``rfile``: the bytes the
  selector loop received. A worker parses a request from it and never
  reads the socket, so a slow or silent client never holds a worker.
* :class:`APIRequest` answers every error cheroot itself detects (bad
  request line, ``//v2.1/servers``, oversized head, bad chunked coding,
  ...) as a Nova-shaped JSON fault instead of cheroot's text/plain; it
  refuses ``Content-Length`` with ``Transfer-Encoding`` (ambiguous
  framing, RFC 9112 6.3) and decodes a chunked body before the
  application runs, so the application only ever sees a body of known
  length and a bad chunk is a 400, not an exception inside the app.
* :class:`DeadlineWriter` bounds the time a whole response may take to
  reach the client (cheroot's ``timeout`` bounds each ``send``, which a
  client reading a byte at a time resets for ever);
* :func:`fault_bytes` is a whole error response, for the selector loop
  too (408 past a deadline, 503 over the connection cap).
"""

import http
import io
import socket
import struct
import time

from cheroot import errors as cheroot_errors
from cheroot import makefile
from cheroot import server as cheroot_server

from orchestrator.api import errors

CRLF = b'\r\n'


def fault_bytes(code, message, protocol='HTTP/1.1'):
    """A complete ``Connection: close`` JSON error response."""
    fault = errors.fault_response(code, message)
    head = ['%s %d %s' % (protocol, code, http.HTTPStatus(code).phrase),
            'Content-Type: %s' % fault.headers['Content-Type'],
            'Content-Length: %d' % len(fault.body),
            'Connection: close']
    return ('\r\n'.join(head) + '\r\n\r\n').encode('latin-1') + fault.body


class RequestBuffer:
    """Bytes received on one connection, read like a file.

    The selector loop :meth:`feed`\\ s it while the connection waits; a
    worker reads it only after the loop has framed a whole request, and
    reading past what was received returns ``b''`` (end of input) rather
    than waiting. The two never use it at the same time.
    """

    def __init__(self):
        self._buf = bytearray()
        self._pos = 0
        self.bytes_read = 0

    def feed(self, data):
        self._buf += data

    def compact(self):
        """Forget what was read: :meth:`unread` starts at offset 0."""
        del self._buf[:self._pos]
        self._pos = 0

    def unread(self):
        """The bytes not read yet (after :meth:`compact`, the buffer)."""
        return self._buf if not self._pos else self._buf[self._pos:]

    def has_data(self):
        return self._pos < len(self._buf)

    def _take(self, end):
        data = bytes(self._buf[self._pos:end])
        self._pos += len(data)
        self.bytes_read += len(data)
        return data

    def read(self, size=None):
        if size is None or size < 0:
            return self._take(len(self._buf))
        return self._take(self._pos + size)

    def readline(self, size=None):
        end = self._buf.find(b'\n', self._pos)
        end = len(self._buf) if end < 0 else end + 1
        if size is not None and size >= 0:
            end = min(end, self._pos + size)
        return self._take(end)

    def close(self):
        self._buf = bytearray()
        self._pos = 0


class DeadlineWriter(makefile.StreamWriter):
    """cheroot's socket writer, with a deadline for everything written
    until it is set again (:attr:`deadline`, a monotonic time; None: each
    ``send`` is bounded by the socket's own timeout only).

    Past it, a write raises ``TimeoutError('timed out')``: cheroot's
    worker then drops the connection and takes the next request, and the
    close resets it (what the kernel still queued for the client is
    discarded, not trickled out).
    """

    deadline = None

    def __init__(self, sock, mode='wb', bufsize=io.DEFAULT_BUFFER_SIZE):
        super().__init__(sock, mode, bufsize)
        self._sock = sock

    def _flush_unlocked(self):
        self._checkClosed('flush of closed file')
        while self._write_buf:
            if self.deadline is not None:
                remaining = self.deadline - time.monotonic()
                if remaining <= 0:
                    self._reset_on_close()
                    raise TimeoutError('timed out')
                self._sock.settimeout(remaining)
            try:
                written = self.raw.write(bytes(self._write_buf))
            except BlockingIOError as e:
                written = e.characters_written
            except TimeoutError:
                self._reset_on_close()
                raise
            del self._write_buf[:written or 0]

    def _reset_on_close(self):
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                              struct.pack('ii', 1, 0))


class _CheckedHeaders:
    """cheroot's header reader, then the API's framing rules."""

    _read = cheroot_server.HeaderReader()

    def __init__(self, conn):
        self.conn = conn

    def __call__(self, rfile, hdict=None):
        hdict = self._read(rfile, hdict)
        if b'Transfer-Encoding' in hdict and b'Content-Length' in hdict:
            # NOTE: cheroot read such a body as chunked while the app
            # trusted Content-Length: a 500, or request smuggling.
            raise ValueError('Content-Length and Transfer-Encoding in one '
                             'request are ambiguous: send one of them.')
        if self.conn.sent_continue:
            # The selector loop already answered 100 Continue.
            hdict.pop(b'Expect', None)
        return hdict


class APIRequest(cheroot_server.HTTPRequest):
    """One request; errors before the application are JSON faults."""

    def __init__(self, server, conn, *args, **kwargs):
        super().__init__(server, conn, *args, **kwargs)
        self.header_reader = _CheckedHeaders(conn)

    def parse_request(self):
        """cheroot's, with 414 for a long request line and 431 for
        headers over ``max_request_header_size`` (line and headers)."""
        limit = self.server.max_request_header_size
        self.rfile = cheroot_server.SizeCheckWrapper(self.conn.rfile, limit)
        try:
            if not self.read_request_line():
                return
        except cheroot_errors.MaxSizeExceeded:
            self.simple_response(
                414, 'The request line is longer than %d bytes.' % limit)
            return
        try:
            if not self.read_request_headers():
                return
        except cheroot_errors.MaxSizeExceeded:
            self.simple_response(
                431, 'The request line and headers are longer than %d '
                     'bytes.' % limit)
            return
        self.ready = True

    def _decoded_chunked_body(self):
        """The whole chunked body, or None once a 400/413 is answered."""
        limit = self.server.max_request_body_size
        chunked = cheroot_server.ChunkedRFile(self.conn.rfile, limit)
        try:
            body = chunked.read()
            for _line in chunked.read_trailer_lines():
                pass
        except cheroot_errors.MaxSizeExceeded:
            self.simple_response(
                413, 'The request body is larger than %d bytes.' % limit)
            return None
        except ValueError as e:
            self.simple_response(400, 'Bad chunked transfer coding: %s'
                                 % e.args[0])
            return None
        except OSError:     # cheroot's own "too large" is an IOError
            self.simple_response(
                413, 'The request body is larger than %d bytes.' % limit)
            return None
        return body

    def respond(self):
        """Run the application on a body of known length."""
        if self.chunked_read:
            body = self._decoded_chunked_body()
            if body is None:
                return
            self.chunked_read = False
            del self.inheaders[b'Transfer-Encoding']
            self.inheaders[b'Content-Length'] = b'%d' % len(body)
            self.rfile = cheroot_server.KnownLengthRFile(io.BytesIO(body),
                                                         len(body))
        else:
            length = int(self.inheaders.get(b'Content-Length', 0))
            self.rfile = cheroot_server.KnownLengthRFile(self.conn.rfile,
                                                         length)
        self.server.gateway(self).respond()
        if self.ready:
            self.ensure_headers_sent()
        if self.chunked_write:
            self.conn.wfile.write(b'0\r\n\r\n')

    def simple_response(self, status, msg=''):
        """A JSON fault (``status`` like cheroot's ``'400 Bad Request'``
        or a bare code), and the connection closes after it."""
        code = int(str(status)[:3])
        if isinstance(msg, bytes):
            msg = msg.decode('latin-1')
        message = msg or http.HTTPStatus(code).phrase
        self.close_connection = True
        try:
            self.conn.wfile.write(fault_bytes(code, message))
        except OSError as e:
            if e.args[0] not in cheroot_errors.socket_errors_to_ignore:
                raise


class APIConnection(cheroot_server.HTTPConnection):
    """A connection whose ``rfile`` is a :class:`RequestBuffer`.

    :ivar framer: the :class:`~orchestrator.httpd.framing.RequestFramer`
        of the request being received (selector loop only).
    :ivar phase: 'idle', 'head' or 'body' (selector loop only).
    :ivar deadline: monotonic time the phase must end by.
    :ivar idle_since: rank of the moment it became idle (the lowest is
        the one idle the longest).
    :ivar sent_continue: ``100 Continue`` was sent for this request.
    """

    RequestHandlerClass = APIRequest

    def __init__(self, server, sock, make_file, on_close=None):
        super().__init__(server, sock, make_file)
        self.rfile = RequestBuffer()
        self.wfile = DeadlineWriter(sock, 'wb', self.wbufsize)
        self.framer = None
        self.phase = None
        self.deadline = None
        self.idle_since = None
        self.sent_continue = False
        self.closed = False
        self._on_close = on_close

    def close(self):
        """Close once (cheroot may call it again); tell the manager."""
        if self.closed:
            return
        self.closed = True
        super().close()
        if self._on_close is not None:
            self._on_close(self)
