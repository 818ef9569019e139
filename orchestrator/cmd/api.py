"""``orchestrator-api``: the Compute API on cheroot, a production WSGI
server, hardened against slow and idle clients (:mod:`orchestrator.httpd`).

``main()`` parses the configuration (``--config-file``), checks the
authentication strategy (:func:`orchestrator.api.auth.check_start`:
noauth beyond loopback or an unusable user file is one line on stderr and
exit status 2), configures the database and RPC (a broker is required)
and serves the API on ``[api] listen_host``:``listen_port`` (an address
it cannot listen on is one line too) with ``[api] threads`` until
SIGTERM or SIGINT, then stops accepting, finishes the requests in
flight and exits.

:func:`serve` is what the all-in-one uses to run the same server in its
own process.
"""

import logging
import sys
import threading

from orchestrator import rpc
from orchestrator.api import app as api_app
from orchestrator.api import auth
from orchestrator.api import links
from orchestrator.cmd import bootstrap
from orchestrator.cmd import start_errors
from orchestrator.httpd import server as httpd_server

LOG = logging.getLogger(__name__)
#: The listen backlog when none is given ([api] backlog's default).
DEFAULT_BACKLOG = 4096


class APIServer:
    """A cheroot server running in a background thread.

    :ivar host: the address it listens on.
    :ivar port: the port it listens on (the real one when asked for 0),
        known once :meth:`start` returned.
    """

    def __init__(self, app, host, port, threads, backlog=DEFAULT_BACKLOG,
                 limits=None):
        self.host = host
        self.port = port
        # NOTE: cheroot's own listen backlog is 5: with every thread busy,
        # a burst of clients beyond it would be reset.
        self._server = httpd_server.Server(
            (host, port), app, threads, backlog,
            limits or httpd_server.Limits())
        self._bound = False
        self._thread = None

    @property
    def url(self):
        host = '[%s]' % self.host if ':' in self.host else self.host
        return 'http://%s:%d' % (host, self.port)

    @property
    def open_connections(self):
        """Client connections open now (idle, being read or answered)."""
        return self._server.open_connections

    def bind(self):
        """Bind and listen without serving yet: a client that connects
        waits in the backlog until :meth:`start`. Idempotent.

        :raises OSError: the address cannot be bound (the socket's own
            error, with its errno).
        """
        if self._bound:
            return
        try:
            self._server.prepare()
        except OSError as e:
            raise (self._server.bind_error or e) from None
        self._bound = True
        self.port = self._server.bind_addr[1]

    def start(self):
        """Bind (unless :meth:`bind` did) and serve in a daemon thread;
        returns once listening.

        :raises OSError: the address cannot be bound.
        """
        self.bind()
        self._thread = threading.Thread(target=self._server.serve,
                                        name='orchestrator-api',
                                        daemon=True)
        self._thread.start()
        LOG.info('Compute API listening on %s', self.url)
        return self

    def stop(self):
        """Stop accepting, let requests in flight finish, join. Idempotent.
        """
        self._server.stop()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None

    def wait(self, timeout=None):
        """Block until the server thread ends (after :meth:`stop`)."""
        if self._thread is not None:
            self._thread.join(timeout)


def serve(app, host, port, threads=16, backlog=DEFAULT_BACKLOG,
          limits=None):
    """Start serving ``app`` on (host, port) and return the APIServer.

    ``port`` 0 picks a free port (read it from ``server.port``);
    ``limits`` (:class:`orchestrator.httpd.server.Limits`, the ``[api]``
    defaults when None) bounds what each client may cost.
    """
    return APIServer(app, host, port, threads, backlog, limits).start()


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    conf = bootstrap.parse_config(argv, 'Orchestrator Compute API')
    try:
        auth.check_start(conf, conf.api.listen_host)
        links.check_start(conf, conf.api.listen_host)
        app = api_app.build_app(conf)
    except auth.AuthConfigError as e:
        sys.stderr.write('orchestrator-api: %s\n' % e)
        return 2
    bootstrap.init_database(conf)
    try:
        bootstrap.init_rpc(conf, allow_in_memory=False)
    except rpc.InMemoryTransportRefused as e:
        sys.stderr.write('orchestrator-api: %s\n' % e)
        return 2
    bootstrap.require_secrets_key(conf, 'orchestrator-api')
    try:
        server = serve(app, conf.api.listen_host, conf.api.listen_port,
                       conf.api.threads, conf.api.backlog,
                       httpd_server.Limits.from_conf(conf))
    except OSError as e:
        error = start_errors.listen_error(conf.api.listen_host,
                                          conf.api.listen_port, e)
        sys.stderr.write('orchestrator-api: %s\n' % error)
        return 2
    signum = bootstrap.wait_for_signal()
    LOG.info('Signal %d: stopping the API', signum)
    server.stop()
    rpc.cleanup()
    return 0


if __name__ == '__main__':
    sys.exit(main())
