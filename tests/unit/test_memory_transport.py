"""The in-memory transport waits between looks at empty queues instead
of spinning, and still delivers at once across connections."""

import threading
import time

import kombu
import oslo_messaging as messaging

from orchestrator import memory_transport
from orchestrator import rpc


def test_memory_connections_use_the_transport_with_a_floor():
    memory_transport.install()
    with kombu.Connection('memory://') as connection:
        transport = connection.transport
        assert isinstance(transport, memory_transport.Transport)
        # What oslo.messaging does to every memory:// connection.
        transport.polling_interval = 0.0
        assert transport.polling_interval == memory_transport.POLL_FLOOR_S
        transport.polling_interval = 0.5
        assert transport.polling_interval == 0.5


def _cpu_seconds_of(thread_work, seconds):
    """CPU time this process spends while ``thread_work`` runs."""
    start = time.process_time()
    thread_work(seconds)
    return time.process_time() - start


class Echo:
    target = messaging.Target(version='1.0')

    def echo(self, ctxt, value):
        return value


def test_an_idle_rpc_server_does_not_spin_and_calls_still_answer(conf):
    rpc.register_opts(conf)
    conf.set_override('transport_url', rpc.DEFAULT_IN_MEMORY_URL)
    transport = rpc.init(conf)
    server = messaging.get_rpc_server(
        transport, messaging.Target(topic='echo-test', server='only'),
        [Echo()], executor='threading')
    server.start()
    try:
        client = messaging.get_rpc_client(
            transport, messaging.Target(topic='echo-test', version='1.0'),
            timeout=10)
        assert client.call({}, 'echo', value=1) == 1
        # Idle for a second: oslo.messaging's interval of 0 would keep
        # the listener's thread busy the whole time.
        used = _cpu_seconds_of(lambda s: threading.Event().wait(s), 1.0)
        assert used < 0.6, used
        started = time.monotonic()
        for value in range(20):
            assert client.call({}, 'echo', value=value) == value
        assert time.monotonic() - started < 5
    finally:
        server.stop()
        server.wait()
        rpc.cleanup()


class Recorder:
    target = messaging.Target(version='1.0')

    def __init__(self):
        self.heard = []
        self.arrived = threading.Event()

    def note(self, ctxt, value):
        self.heard.append(value)
        self.arrived.set()


def _serve(transport, endpoint):
    server = messaging.get_rpc_server(
        transport, messaging.Target(topic='note-test', server='only'),
        [endpoint], executor='threading')
    server.start()
    return server


def _cast(transport, value):
    messaging.get_rpc_client(
        transport, messaging.Target(topic='note-test', server='only',
                                    version='1.0')).cast({}, 'note',
                                                         value=value)


def test_a_cast_left_unconsumed_does_not_reach_the_next_transport(conf):
    """What one all-in-one sent just before it stopped never reaches the
    next all-in-one of the same process (a stale heartbeat used to
    overwrite a new test's host capacity)."""
    rpc.register_opts(conf)
    conf.set_override('transport_url', rpc.DEFAULT_IN_MEMORY_URL)
    first = Recorder()
    transport = rpc.init(conf)
    server = _serve(transport, first)
    _cast(transport, 'delivered')
    assert first.arrived.wait(10)
    server.stop()
    server.wait()
    _cast(transport, 'left behind')
    rpc.cleanup()

    second = Recorder()
    transport = rpc.init(conf)
    server = _serve(transport, second)
    try:
        _cast(transport, 'new')
        assert second.arrived.wait(10)
        time.sleep(0.2)
        assert second.heard == ['new']
        assert first.heard == ['delivered']
    finally:
        server.stop()
        server.wait()
        rpc.cleanup()
