"""Thread pools that reuse their idle threads and shrink back.

futurist's ``ThreadPoolExecutor`` (what oslo.messaging's threading
executor and TaskFlow's conductors use by default) starts a new thread on
every ``submit`` until it has ``max_workers``, idle ones or not, and never
ends one before ``shutdown``. A long-lived pool therefore grows to its
bound whatever its load: the all-in-one's four RPC servers (64 each) and
its conductor's job pool (16) grew by 7 to 11 threads per boot and delete,
from 36 to 306 threads.

:func:`idle_first_pool` gives futurist's ``DynamicThreadPoolExecutor``
instead: a submit goes to an idle thread when one is there, a new thread
starts only when most are busy (never beyond ``max_workers``), and idle
threads end as the load drops. The bound on simultaneous work is the same.
"""

import futurist


def idle_first_pool(max_workers):
    """A futures executor of at most ``max_workers`` threads that starts a
    thread only when its others are busy and drops idle ones. A bound
    below 2 gives a plain pool of that size (the dynamic pool keeps at
    least one thread and needs room above it)."""
    if max_workers is None or max_workers < 2:
        return futurist.ThreadPoolExecutor(max_workers=max_workers)
    return futurist.DynamicThreadPoolExecutor(max_workers=max_workers)
