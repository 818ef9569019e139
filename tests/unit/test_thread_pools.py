"""The pool that reuses idle threads keeps track of every thread it
started (futurist 3.5's dynamic pool lost the busy workers listed before
the idle one it dropped)."""

import threading

import futurist._thread as futurist_thread

from orchestrator import thread_pools

from tests.waiting import wait_for


def _pool_threads(pool):
    return [t for t in threading.enumerate()
            if isinstance(t, futurist_thread.ThreadWorker)
            and t.executor_ref() is pool and not t.should_stop]


def test_shrinking_keeps_the_busy_workers_listed():
    pool = thread_pools.idle_first_pool(8)
    gates = [threading.Event() for _ in range(5)]
    runners = {}

    def hold(index):
        runners[index] = threading.current_thread()
        gates[index].wait(10)

    try:
        for index in range(5):
            pool.submit(hold, index)
        wait_for(lambda: len(runners) == 5, timeout=10, what='5 runners')
        first = pool._workers[0]
        for index, runner in runners.items():
            if runner is not first:
                gates[index].set()
        wait_for(lambda: sum(w.idle for w in pool._workers) == 4,
                 timeout=10, what='4 idle workers')
        # 1 busy of 5: this submit shrinks the pool by one idle worker.
        pool.submit(lambda: None).result(10)
        assert first in pool._workers
        assert len(pool._workers) == 4
        assert sorted(map(id, _pool_threads(pool))) == \
            sorted(map(id, pool._workers))
    finally:
        for gate in gates:
            gate.set()
        pool.shutdown(wait=True)


def test_a_bound_below_two_is_a_plain_pool():
    pool = thread_pools.idle_first_pool(1)
    try:
        assert pool.submit(lambda: 42).result(10) == 42
    finally:
        pool.shutdown(wait=True)
