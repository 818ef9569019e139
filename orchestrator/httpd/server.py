"""The API's WSGI server: cheroot with the connection manager of
:mod:`orchestrator.httpd.connections` and the requests of
:mod:`orchestrator.httpd.protocol`.

:class:`Limits` holds what bounds a client (deadlines, sizes, the
connection cap); :meth:`Limits.from_conf` reads them from ``[api]`` (and
the body size from ``[oslo_middleware] max_request_body_size``, the
application's own limit).
"""

import dataclasses
import logging
import resource

from cheroot import wsgi as cheroot_wsgi
from oslo_middleware import sizelimit

from orchestrator.httpd import connections
from orchestrator.httpd import protocol

LOG = logging.getLogger(__name__)

#: File descriptors kept for everything but client connections (database
#: and broker connections, logs, the listening socket, ...).
FD_RESERVE = 256


@dataclasses.dataclass(frozen=True)
class Limits:
    """What a client may cost the API (the ``[api]`` option defaults)."""

    max_connections: int = 1000
    idle_timeout_s: float = 30.0
    header_timeout_s: float = 20.0
    body_timeout_s: float = 60.0
    send_timeout_s: float = 30.0
    max_header_bytes: int = 65536
    #: 0 is unlimited; the default is oslo.middleware's.
    max_body_bytes: int = 114688

    @classmethod
    def from_conf(cls, conf):
        conf.register_opts(sizelimit.OPTS, group='oslo_middleware')
        api = conf.api
        return cls(max_connections=api.max_connections,
                   idle_timeout_s=api.idle_timeout_s,
                   header_timeout_s=api.header_timeout_s,
                   body_timeout_s=api.body_timeout_s,
                   send_timeout_s=api.send_timeout_s,
                   max_header_bytes=api.max_header_bytes,
                   max_body_bytes=conf.oslo_middleware.max_request_body_size)


def connection_budget(wanted):
    """``wanted`` if the open files limit allows it (raising the soft
    limit up to the hard one if needed), else what it allows."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    need = wanted + FD_RESERVE
    if soft != resource.RLIM_INFINITY and soft < need:
        target = need if hard == resource.RLIM_INFINITY else min(need, hard)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (ValueError, OSError):
            pass
    if soft != resource.RLIM_INFINITY and soft < need:
        allowed = max(soft - FD_RESERVE, 1)
        LOG.warning('[api] max_connections %d exceeds what the open files '
                    'limit (%d) allows: at most %d connections', wanted,
                    soft, allowed)
        return allowed
    return wanted


class Server(cheroot_wsgi.Server):
    """cheroot's WSGI server; workers only ever get whole requests."""

    ConnectionClass = protocol.APIConnection

    def __init__(self, bind_addr, app, threads, backlog, limits):
        # NOTE: cheroot's timeout is left only in the Keep-Alive header
        # of HTTP/1.0 responses: our loop enforces every deadline.
        super().__init__(bind_addr, app, numthreads=threads,
                         request_queue_size=backlog,
                         timeout=limits.idle_timeout_s,
                         server_name='orchestrator-api')
        self.limits = dataclasses.replace(
            limits, max_connections=connection_budget(limits.max_connections))
        self.max_request_header_size = limits.max_header_bytes
        self.max_request_body_size = limits.max_body_bytes
        #: The last error of :meth:`bind` (cheroot's ``prepare`` folds it
        #: into a message without its errno).
        self.bind_error = None

    @property
    def open_connections(self):
        """Client connections open now (0 before :meth:`prepare`)."""
        manager = getattr(self, '_connections', None)
        return manager.open_connections if manager is not None else 0

    def bind(self, family, type, proto=0):  # noqa: A002 - cheroot's names
        """cheroot's bind, keeping its error in :attr:`bind_error`."""
        try:
            return super().bind(family, type, proto)
        except OSError as e:
            self.bind_error = e
            raise

    def prepare(self):
        """Bind and listen, with our connection manager for cheroot's."""
        super().prepare()
        self._connections.close()
        self._connections = connections.ConnectionManager(self, self.limits)
