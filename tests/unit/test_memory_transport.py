"""The in-memory transport sleeps on empty queues until a message comes
instead of polling them, and delivers at once across connections."""

import threading
import time

import kombu
import oslo_messaging as messaging

from orchestrator import memory_transport
from orchestrator import rpc


def test_memory_connections_use_the_transport_woken_by_puts():
    memory_transport.install()
    with kombu.Connection('memory://') as connection:
        assert isinstance(connection.transport, memory_transport.Transport)


def test_a_consumer_waiting_on_empty_queues_gets_a_message_at_once():
    """A put wakes a consumer sleeping in drain_events: no poll delay
    (the wait would otherwise last MAX_IDLE_WAIT_S)."""
    memory_transport.install()
    got = []
    with kombu.Connection('memory://') as consumer_conn, \
            kombu.Connection('memory://') as producer_conn:
        queue = kombu.Queue('wake-test', kombu.Exchange('wake-test'),
                            routing_key='wake-test')
        with consumer_conn.Consumer(queue, callbacks=[
                lambda body, message: (got.append((body, time.monotonic())),
                                       message.ack())]):
            def put_later():
                time.sleep(0.3)
                got.append(('sent', time.monotonic()))
                producer_conn.Producer().publish(
                    'hello', exchange=queue.exchange,
                    routing_key='wake-test', declare=[queue])

            threading.Thread(target=put_later).start()
            consumer_conn.drain_events(timeout=5)
    (_, sent_at), (body, received_at) = got
    assert body == 'hello'
    assert received_at - sent_at < 0.1, received_at - sent_at
    memory_transport.reset()


def test_drain_events_times_out_on_empty_queues():
    import socket
    memory_transport.install()
    with kombu.Connection('memory://') as connection:
        queue = kombu.Queue('timeout-test', kombu.Exchange('timeout-test'),
                            routing_key='timeout-test')
        with connection.Consumer(queue, callbacks=[]):
            started = time.monotonic()
            try:
                connection.drain_events(timeout=0.2)
            except socket.timeout:
                pass
            else:
                raise AssertionError('drain_events returned on no message')
            assert 0.15 < time.monotonic() - started < 1.0
    memory_transport.reset()


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
