"""A TCP proxy a test can cut, to take a service away from the processes
that use it without disturbing anything else using the real one.

``TcpProxy(target_port).start()`` listens on a free local port and
forwards every connection to ``127.0.0.1:target_port``. ``cut()`` closes
every open connection and refuses new ones (as a stopped server would);
``restore()`` accepts again.
"""

import socket
import threading


class TcpProxy:
    """Forward 127.0.0.1:<port> to 127.0.0.1:<target_port>, cuttable."""

    def __init__(self, target_port, target_host='127.0.0.1'):
        self.target = (target_host, target_port)
        self._listener = socket.socket()
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(('127.0.0.1', 0))
        self.port = self._listener.getsockname()[1]
        self._open = set()
        self._lock = threading.Lock()
        self._cut = threading.Event()
        self._stopped = threading.Event()

    def start(self):
        self._listener.listen(256)
        threading.Thread(target=self._accept, daemon=True,
                         name='proxy-%d' % self.port).start()
        return self

    def _accept(self):
        while not self._stopped.is_set():
            try:
                client, _addr = self._listener.accept()
            except OSError:
                return
            if self._cut.is_set():
                client.close()
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            with self._lock:
                self._open.update((client, upstream))
            for src, dst in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(src, dst),
                                 daemon=True).start()

    def _pump(self, src, dst):
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (src, dst):
                self._close(sock)

    def _close(self, sock):
        with self._lock:
            self._open.discard(sock)
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        sock.close()

    def cut(self):
        """Drop every connection and refuse new ones."""
        self._cut.set()
        with self._lock:
            socks = list(self._open)
        for sock in socks:
            self._close(sock)

    def restore(self):
        """Accept connections again."""
        self._cut.clear()

    def stop(self):
        self._stopped.set()
        self.cut()
        self._listener.close()
