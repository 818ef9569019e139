"""The in-memory (``kombu+memory``) transport, without its busy loop.

kombu's memory transport has no way to wait for a message: a consumer
asks every queue, and when all are empty it sleeps ``polling_interval``
and asks again. oslo.messaging sets that interval to 0 on every
``memory://`` connection (to speed up its own tests), so each consumer of
the all-in-one (every host, the conductor, every reply waiter) spins on
the GIL while it waits: an idle all-in-one used 85% of a core, and a
busy one spent half its time polling empty queues (13% and 2x faster
flows with the floor).

:func:`install` makes ``memory://`` connections use :class:`Transport`,
kombu's memory transport whose polling interval never goes below
:data:`POLL_FLOOR_S`: a message waits at most that long for its consumer,
and an idle consumer wakes 200 times a second instead of spinning.

kombu keeps the memory broker's queues and bindings in class attributes,
so they outlive every connection: a cast sent just before an all-in-one
stopped would be delivered to the next all-in-one of the same process
(a test's hosts then reported a previous test's capacity). Our broker
keeps its own state, and :func:`reset` empties it; ``rpc.cleanup``
calls it, so an in-memory broker ends with the transport that used it,
as a real process's would.
"""

import collections

from kombu import transport as kombu_transport
from kombu.transport import memory
from kombu.transport import virtual

#: The shortest pause between two looks at empty queues, in seconds.
POLL_FLOOR_S = 0.005

_ALIAS = 'memory'
_PATH = 'orchestrator.memory_transport:Transport'


class Channel(memory.Channel):
    """kombu's memory channel on this module's own queues."""

    events = collections.defaultdict(set)
    queues = {}


class Transport(memory.Transport):
    """kombu's memory transport; its polling interval has a floor."""

    Channel = Channel
    global_state = virtual.BrokerState()
    _polling_interval = POLL_FLOOR_S

    @property
    def polling_interval(self):
        return self._polling_interval

    @polling_interval.setter
    def polling_interval(self, seconds):
        self._polling_interval = max(seconds or 0.0, POLL_FLOOR_S)


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
