"""The in-memory (``kombu+memory``) transport, woken by its messages.

kombu's memory transport has no way to wait for a message: a consumer
asks every queue, and when all are empty it sleeps ``polling_interval``
and asks again. oslo.messaging sets that interval to 0 on every
``memory://`` connection (to speed up its own tests), so each consumer of
the all-in-one (every host, the conductor, every reply waiter) spun on
the GIL while it waited: an idle all-in-one used 85% of a core. A floor
on the interval (5 ms) cut that, but still woke every consumer 200 times
a second and made each message wait half a poll on average, at each hop
of every RPC call.

:func:`install` makes ``memory://`` connections use :class:`Transport`:
a consumer that found its queues empty sleeps until a message is put on
one of ITS queues (each put wakes that queue's consumers only) or its
timeout ends, and looks again at least every :data:`MAX_IDLE_WAIT_S` (in
case a message arrived by a path that does not wake it).

kombu keeps the memory broker's queues and bindings in class attributes,
so they outlive every connection: a cast sent just before an all-in-one
stopped would be delivered to the next all-in-one of the same process
(a test's hosts then reported a previous test's capacity). Our broker
keeps its own state, and :func:`reset` empties it; ``rpc.cleanup``
calls it, so an in-memory broker ends with the transport that used it,
as a real process's would.
"""

import collections
import socket
import threading
import time
import weakref

from kombu import transport as kombu_transport
from kombu.transport import memory
from kombu.transport import virtual
from queue import Empty

#: The longest a consumer with empty queues sleeps before looking again
#: although no put notified it, in seconds.
MAX_IDLE_WAIT_S = 1.0

_ALIAS = 'memory'
_PATH = 'orchestrator.memory_transport:Transport'


class _Arrivals:
    """Who waits for which queue: a put on a queue wakes the consumers of
    that queue only (not every consumer of the broker)."""

    def __init__(self):
        self._lock = threading.Lock()
        # queue name -> the wake-up events of its waiting consumers (weak:
        # a transport that is gone stops being woken).
        self._waiting = collections.defaultdict(weakref.WeakSet)

    def announce(self, queue):
        """Wake the consumers of ``queue``."""
        with self._lock:
            events = list(self._waiting.get(queue, ()))
        for event in events:
            event.set()

    def listen(self, queues, event):
        """Have ``event`` set when a message is put on any of ``queues``."""
        with self._lock:
            for queue in queues:
                self._waiting[queue].add(event)

    def forget_all(self):
        with self._lock:
            self._waiting.clear()


_ARRIVALS = _Arrivals()


class Channel(memory.Channel):
    """kombu's memory channel on this module's own queues; every put
    wakes the consumers waiting in :meth:`Transport.drain_events`."""

    events = collections.defaultdict(set)
    queues = {}

    def _put(self, queue, message, **kwargs):
        super()._put(queue, message, **kwargs)
        _ARRIVALS.announce(queue)

    def _put_fanout(self, exchange, message, routing_key=None, **kwargs):
        for queue in self._lookup(exchange, routing_key):
            self._queue_for(queue).put(message)
            _ARRIVALS.announce(queue)


class Transport(memory.Transport):
    """kombu's memory transport; a consumer waits for a put instead of
    polling."""

    Channel = Channel
    global_state = virtual.BrokerState()

    def drain_events(self, connection, timeout=None):
        """Deliver one message to its consumer's callback.

        :raises socket.timeout: none came within ``timeout`` seconds
            (None: wait for ever).
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        arrived = self.__dict__.setdefault('_arrived', threading.Event())
        while True:
            # Listen and clear before looking: a put after the look (the
            # queues found empty) sets the event, and the wait is over.
            _ARRIVALS.listen(tuple(self._callbacks), arrived)
            arrived.clear()
            try:
                self.cycle.get(self._deliver, timeout=timeout)
                return
            except Empty:
                pass
            wait = MAX_IDLE_WAIT_S
            if deadline is not None:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise socket.timeout()
                wait = min(wait, left)
            arrived.wait(wait)


def install():
    """Route ``memory://`` to :class:`Transport` in this process.
    Idempotent."""
    kombu_transport.TRANSPORT_ALIASES[_ALIAS] = _PATH


def reset():
    """Forget every queue, undelivered message, exchange and binding of
    the in-memory broker. Call it once nothing uses the broker (no
    server or client left); the next connection starts on an empty one.
    Idempotent."""
    Channel.queues.clear()
    Channel.events.clear()
    Transport.global_state.clear()
    _ARRIVALS.forget_all()
