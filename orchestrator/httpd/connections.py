"""The selector loop of the API's HTTP server.

cheroot (10, 11) hands a freshly accepted connection straight to a worker
thread, which then blocks reading it; its ``timeout`` bounds each
``recv``, not a request. So 16 silent connections held the 16 workers
for 10 s each, and a client sending a byte a second held one for ever.

This loop owns every connection that is not being answered:

* it accepts as fast as clients come, up to ``max_connections`` open at
  once; beyond that it closes the longest idle connection to make room,
  or answers 503 when every connection is mid-request;
* it reads each connection without blocking into its
  :class:`~orchestrator.httpd.protocol.RequestBuffer`, and hands it to a
  worker only when :class:`~orchestrator.httpd.framing.RequestFramer`
  says the request is whole (or hopeless): workers never wait for a
  client;
* it enforces three deadlines: ``idle_timeout_s`` for a connection on
  which no request has started (closed silently), ``header_timeout_s``
  from a request's first byte to the end of its headers and
  ``body_timeout_s`` from there to the end of its body (a JSON 408, then
  closed); a worker then has ``send_timeout_s`` to deliver the response;
* it takes kept-alive connections back from the workers (:meth:`put`).

It implements what cheroot's server calls on its connection manager:
``put``, ``run``, ``stop``, ``close`` and
``can_add_keepalive_connection``.
"""

import errno
import itertools
import logging
import queue
import selectors
import socket
import threading
import time

from cheroot import makefile

from orchestrator.httpd import framing
from orchestrator.httpd import protocol

LOG = logging.getLogger(__name__)

#: Most seconds between two deadline checks.
TICK_S = 0.25
RECV_SIZE = 65536
#: Most connections accepted in one wake-up (then the others get a turn).
ACCEPT_BATCH = 64
IDLE, HEAD, BODY = 'idle', 'head', 'body'
_LISTENER = object()
_WAKE = object()
_CONTINUE = b'HTTP/1.1 100 Continue\r\n\r\n'


def _send_and_close(sock, data):
    """Best effort: ``data`` goes if the socket buffer takes it."""
    try:
        sock.setblocking(False)
        sock.send(data)
    except OSError:
        pass
    try:
        sock.close()
    except OSError:
        pass


class ConnectionManager:
    """Accepts, reads and times connections; see the module docstring.

    :param server: the cheroot server (its ``socket`` is listening).
    :param limits: an :class:`orchestrator.httpd.server.Limits`.
    """

    def __init__(self, server, limits):
        self.server = server
        self.limits = limits
        self._selector = selectors.DefaultSelector()
        self._returned = queue.SimpleQueue()
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._wake_w.setblocking(False)
        server.socket.setblocking(False)
        self._selector.register(server.socket, selectors.EVENT_READ,
                                _LISTENER)
        self._selector.register(self._wake_r, selectors.EVENT_READ, _WAKE)
        self._waiting = set()   # connections registered for reading
        self._lock = threading.Lock()
        self._open = 0
        self._stop_requested = False
        self._serving = False
        self._next_expiry = 0.0
        self._idle_order = itertools.count()

    # -- cheroot's interface ------------------------------------------------
    @property
    def can_add_keepalive_connection(self):
        """Always: the connection cap is enforced at accept."""
        return True

    def put(self, conn):
        """A worker is done with a kept-alive connection (any thread)."""
        self._returned.put(conn)
        self._wake()

    def run(self, expiration_interval):
        """Serve until :meth:`stop` (``expiration_interval`` is unused:
        deadlines are checked every :data:`TICK_S`)."""
        self._serving = True
        try:
            while not self._stop_requested:
                self._turn()
        finally:
            self._serving = False

    def stop(self):
        """Stop :meth:`run` (returns once it has)."""
        self._stop_requested = True
        self._wake()
        while self._serving:
            time.sleep(0.01)

    def close(self):
        """Close every connection this loop holds, and the loop."""
        for conn in list(self._waiting):
            self._drop(conn)
        while True:
            try:
                self._returned.get_nowait().close()
            except queue.Empty:
                break
        self._selector.close()
        self._wake_r.close()
        self._wake_w.close()

    @property
    def open_connections(self):
        """Connections open now (waiting here or with a worker)."""
        return self._open

    # -- the loop -------------------------------------------------------------
    def _wake(self):
        try:
            self._wake_w.send(b'w')
        except OSError:
            pass    # already awake (buffer full) or closed

    def _turn(self):
        try:
            events = self._selector.select(timeout=TICK_S)
        except OSError:
            LOG.exception('API connection selector failed')
            events = []
        now = time.monotonic()
        for key, _mask in events:
            try:
                if key.data is _LISTENER:
                    self._accept(now)
                elif key.data is _WAKE:
                    self._drain_wake()
                else:
                    self._receive(key.data, now)
            except Exception:  # noqa: BLE001 - the loop must go on
                LOG.exception('API connection handling failed')
                if key.data not in (_LISTENER, _WAKE):
                    self._drop(key.data)
        self._take_returned(now)
        if now >= self._next_expiry:
            self._expire(now)
            self._next_expiry = now + TICK_S

    def _drain_wake(self):
        try:
            while self._wake_r.recv(4096):
                pass
        except OSError:
            pass

    def _accept(self, now):
        for _ in range(ACCEPT_BATCH):
            try:
                sock, addr = self.server.socket.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as e:
                if e.errno in (errno.EMFILE, errno.ENFILE):
                    LOG.error('API cannot accept: %s (raise the open files '
                              'limit or lower [api] max_connections)', e)
                    return
                if e.errno in (errno.ECONNABORTED, errno.EPROTO):
                    continue
                raise
            if self._open >= self.limits.max_connections and \
                    not self._evict_idle():
                _send_and_close(sock, protocol.fault_bytes(
                    503, 'The API has %d connections open, its maximum. '
                         'Try again later.' % self.limits.max_connections))
                continue
            self._admit(sock, addr, now)

    def _admit(self, sock, addr, now):
        conn = self.server.ConnectionClass(self.server, sock,
                                           makefile.MakeFile,
                                           on_close=self._closed)
        if isinstance(addr, tuple) and len(addr) >= 2:
            conn.remote_addr, conn.remote_port = addr[0], addr[1]
        conn.ssl_env = {}
        with self._lock:
            self._open += 1
        self._next_request(conn, now)

    def _closed(self, _conn):
        with self._lock:
            self._open -= 1

    def _evict_idle(self):
        """Close the connection idle the longest; False if none is."""
        idle = [c for c in self._waiting if c.phase == IDLE]
        if not idle:
            return False
        self._drop(min(idle, key=lambda c: c.idle_since))
        return True

    def _next_request(self, conn, now):
        """Wait for ``conn``'s next request (new or kept alive)."""
        conn.socket.setblocking(False)
        conn.rfile.compact()
        conn.framer = framing.RequestFramer(self.limits.max_header_bytes,
                                            self.limits.max_body_bytes)
        conn.sent_continue = False
        conn.phase, conn.deadline = IDLE, now + self.limits.idle_timeout_s
        conn.idle_since = next(self._idle_order)
        self._selector.register(conn.socket, selectors.EVENT_READ, conn)
        self._waiting.add(conn)
        if conn.rfile.has_data():   # pipelined: already received
            self._advance(conn, now)

    def _take_returned(self, now):
        while True:
            try:
                conn = self._returned.get_nowait()
            except queue.Empty:
                return
            if not conn.closed:
                self._next_request(conn, now)

    def _receive(self, conn, now):
        try:
            data = conn.socket.recv(RECV_SIZE)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b''
        if not data:
            if conn.phase != IDLE:
                # A half-closed client may still read its answer.
                self._send_fault(conn, 400, 'The connection ended before '
                                 'the whole request arrived.')
            self._drop(conn)
            return
        conn.rfile.feed(data)
        self._advance(conn, now)

    def _advance(self, conn, now):
        """Frame what ``conn`` received: dispatch it, or move its phase."""
        if conn.phase == IDLE:
            conn.phase = HEAD
            conn.deadline = now + self.limits.header_timeout_s
        framer = conn.framer
        if framer.scan(conn.rfile.unread()) == framing.READY:
            self._dispatch(conn)
            return
        if framer.head_end is not None and conn.phase == HEAD:
            conn.phase = BODY
            conn.deadline = now + self.limits.body_timeout_s
            if framer.expects_continue and not conn.sent_continue:
                conn.sent_continue = True
                try:
                    conn.socket.send(_CONTINUE)
                except OSError:
                    pass    # the client sends its body anyway

    def _dispatch(self, conn):
        self._forget(conn)
        conn.socket.settimeout(self.limits.send_timeout_s)
        conn.wfile.deadline = time.monotonic() + self.limits.send_timeout_s
        self.server.process_conn(conn)

    def _forget(self, conn):
        if conn in self._waiting:
            self._waiting.discard(conn)
            self._selector.unregister(conn.socket)

    def _drop(self, conn):
        self._forget(conn)
        conn.close()

    def _expire(self, now):
        for conn in [c for c in self._waiting if c.deadline <= now]:
            self._forget(conn)
            if conn.phase == IDLE:
                conn.close()
                continue
            what = ('request line and headers' if conn.phase == HEAD
                    else 'request body')
            timeout = (self.limits.header_timeout_s if conn.phase == HEAD
                       else self.limits.body_timeout_s)
            self._send_fault(conn, 408, 'The %s did not arrive within %s s.'
                             % (what, timeout))
            conn.close()

    @staticmethod
    def _send_fault(conn, code, message):
        """Best effort: a JSON fault if the socket buffer takes it."""
        try:
            conn.socket.send(protocol.fault_bytes(code, message))
        except OSError:
            pass
