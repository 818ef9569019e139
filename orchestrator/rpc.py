"""oslo.messaging plumbing: the transport, clients, servers, serializer.

One transport per process (:func:`init`), the threading executor always
(never eventlet), the request context carried as a dict. A standalone
daemon calls :func:`init` with ``allow_in_memory=False``: the in-memory
transport only reaches threads of the same process, so a separate daemon on
it would wait forever for peers that can never hear it.
"""

from oslo_config import cfg
import oslo_messaging as messaging
from oslo_messaging import serializer as om_serializer

from orchestrator import context as orch_context
from orchestrator import memory_transport
from orchestrator import thread_pools

EXCHANGE = 'orchestrator'
IN_MEMORY_SCHEMES = ('kombu+memory', 'fake')
DEFAULT_IN_MEMORY_URL = 'kombu+memory:////'

_TRANSPORT = None


class InMemoryTransportRefused(SystemExit):
    """Raised (exits) when a standalone daemon is given an in-memory URL."""


class ContextSerializer(om_serializer.Serializer):
    """Sends :class:`orchestrator.context.RequestContext` as a dict,
    without its token."""

    def serialize_entity(self, ctxt, entity):
        return entity

    def deserialize_entity(self, ctxt, entity):
        return entity

    def serialize_context(self, ctxt):
        # NOTE: never the caller's token (orchestrator.context).
        if isinstance(ctxt, dict):
            return {k: v for k, v in ctxt.items()
                    if k not in orch_context.SECRET_KEYS}
        return ctxt.to_dict()

    def deserialize_context(self, ctxt):
        return orch_context.RequestContext.from_dict(ctxt, overwrite=False)


def is_in_memory(url):
    """True when ``url`` names a transport that stays inside one process."""
    scheme = (url or '').split(':', 1)[0]
    return scheme in IN_MEMORY_SCHEMES


def register_opts(conf):
    """Register oslo.messaging's [DEFAULT] options (transport_url, ...).

    oslo.messaging registers them only when it first parses a URL; parsing
    once makes them readable (and overridable) before a transport exists.
    """
    try:
        messaging.TransportURL.parse(conf)
    except messaging.InvalidTransportURL:
        pass


def configured_url(conf):
    """``[DEFAULT] transport_url`` when set by configuration, else None.

    oslo.messaging's default ("rabbit://", i.e. a broker on localhost)
    does not count as set: an unconfigured all-in-one must stay in its own
    process, never join whatever broker happens to run on the machine.
    """
    register_opts(conf)
    try:
        url = conf.transport_url
        location = conf.get_location('transport_url')
    except cfg.NoSuchOptError:
        return None
    if location is not None and location.location == \
            cfg.Locations.opt_default:
        return None
    return url


def init(conf, allow_in_memory=True):
    """Create this process's transport from ``[DEFAULT] transport_url``.

    :param allow_in_memory: False in standalone daemons, which then exit
        with a clear message when the URL is in-memory.
    """
    global _TRANSPORT
    url = configured_url(conf)
    if not url:
        if not allow_in_memory:
            raise InMemoryTransportRefused(
                'transport_url is not set: a standalone service needs a '
                'broker (e.g. rabbit://user:pass@host:5672/); the '
                'in-memory transport only works inside orchestrator-allinone')
        url = DEFAULT_IN_MEMORY_URL
    if is_in_memory(url) and not allow_in_memory:
        raise InMemoryTransportRefused(
            'transport_url %s is an in-memory transport, which only reaches '
            'threads of one process: a standalone service needs a broker '
            '(e.g. rabbit://user:pass@host:5672/). Use orchestrator-allinone '
            'to run everything in one process.' % url)
    if is_in_memory(url):
        memory_transport.install()
    messaging.set_transport_defaults(control_exchange=EXCHANGE)
    _TRANSPORT = messaging.get_rpc_transport(
        conf, url=url, allowed_remote_exmods=['orchestrator.exception'])
    return _TRANSPORT


def cleanup():
    """Close the transport (tests and clean shutdown). An in-memory
    broker goes with it: messages nobody consumed are dropped, as they
    would be with the process that held them."""
    global _TRANSPORT
    if _TRANSPORT is not None:
        _TRANSPORT.cleanup()
        _TRANSPORT = None
        memory_transport.reset()


def get_transport():
    if _TRANSPORT is None:
        raise RuntimeError('RPC is not initialised: call orchestrator.rpc.'
                           'init() first')
    return _TRANSPORT


def get_client(target, version_cap=None, timeout=None):
    """An RPC client with our serializer."""
    return messaging.get_rpc_client(
        get_transport(), target, version_cap=version_cap,
        serializer=ContextSerializer(), timeout=timeout)


class NotThreadingExecutor(RuntimeError):
    """oslo.messaging picked another executor than threading."""


def get_server(target, endpoints):
    """An RPC server on the threading executor, whose pool reuses its
    idle threads (:func:`orchestrator.thread_pools.idle_first_pool`).

    oslo.messaging deprecated naming the executor: it picks threading
    unless eventlet monkey-patched the process, which nothing here does.
    The check makes sure it stays so.
    """
    server = messaging.get_rpc_server(
        get_transport(), target, endpoints,
        serializer=ContextSerializer())
    # Its pool (executor_thread_pool_size threads at most) reuses idle
    # threads instead of growing to its bound: see thread_pools. The
    # server builds the pool from this class at each start.
    server._executor_cls = thread_pools.idle_first_pool
    if server.executor_type != 'threading':
        raise NotThreadingExecutor(
            'RPC server executor is %r; this service runs on threads only'
            % server.executor_type)
    return server
