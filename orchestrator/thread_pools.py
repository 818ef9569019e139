"""Thread pools that reuse their idle threads and shrink back.

futurist's ``ThreadPoolExecutor`` (what oslo.messaging's threading
executor and TaskFlow's conductors use by default) starts a new thread on
every ``submit`` until it has ``max_workers``, idle ones or not, and never
ends one before ``shutdown``. A long-lived pool therefore grows to its
bound whatever its load: the all-in-one's four RPC servers (64 each) and
its conductor's job pool (16) grew by 7 to 11 threads per boot and delete,
from 36 to 306 threads.

:func:`idle_first_pool` gives futurist's ``DynamicThreadPoolExecutor``
(fixed, below) instead: a submit goes to an idle thread when one is
there, a new thread starts only when most are busy (never beyond
``max_workers``), and idle threads end as the load drops. The bound on
simultaneous work is the same.

futurist 3.5's dynamic pool loses track of threads when it shrinks: its
``_drop_thread`` keeps only the workers after the idle one it stops, so
the busy ones before it leave its list without being stopped; they go on
serving, uncounted, and the pool starts others in their place (the
all-in-one gained 10 threads over 180 cycles). :class:`IdleFirstPool`
drops exactly one idle worker, and forgets those of its dropped workers
that have ended (futurist keeps them until ``maintain`` or ``shutdown``).
"""

import futurist


class IdleFirstPool(futurist.DynamicThreadPoolExecutor):
    """futurist's dynamic pool whose shrinking stops the idle worker it
    drops and keeps every other in its list."""

    def _drop_thread(self):
        # Called with the pool's lock held (as futurist's own).
        self._dead_workers = [w for w in self._dead_workers if w.is_alive()]
        for index, worker in enumerate(self._workers):
            if worker.idle:
                worker.stop()
                del self._workers[index]
                self._dead_workers.append(worker)
                return True
        return False


def idle_first_pool(max_workers):
    """A futures executor of at most ``max_workers`` threads that starts a
    thread only when its others are busy and drops idle ones. A bound
    below 2 gives a plain pool of that size (the dynamic pool keeps at
    least one thread and needs room above it)."""
    if max_workers is None or max_workers < 2:
        return futurist.ThreadPoolExecutor(max_workers=max_workers)
    return IdleFirstPool(max_workers=max_workers)
