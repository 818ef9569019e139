"""The conductor's periodic runner: one thread, tasks at their intervals,
failures logged and survived, disabled tasks never run, a clean stop."""

import threading
import time

import pytest

from orchestrator.conductor import periodic

from tests.waiting import wait_for


class Recorder:
    """A task that records when it ran and can be told to fail."""

    def __init__(self, fail_first=0, block=None):
        self.times = []
        self.threads = set()
        self.fail_first = fail_first
        self.block = block

    def __call__(self):
        self.times.append(time.monotonic())
        self.threads.add(threading.current_thread().name)
        if self.block is not None:
            self.block.wait(10)
        if len(self.times) <= self.fail_first:
            raise RuntimeError('injected failure %d' % len(self.times))


@pytest.fixture
def runner():
    r = periodic.PeriodicRunner('test-periodic')
    yield r
    assert r.stop(timeout=10)


def test_tasks_run_at_their_intervals_on_one_thread(runner):
    fast, slow = Recorder(), Recorder()
    runner.register('fast', 0.05, fast)
    runner.register('slow', lambda: 0.3, slow)
    started = time.monotonic()
    runner.start()
    wait_for(lambda: len(slow.times) >= 2, timeout=10, what='slow twice')
    assert len(fast.times) >= 4
    # The first run comes one interval after start, not at once.
    assert slow.times[0] - started >= 0.29
    assert fast.threads == slow.threads == {'test-periodic'}
    assert runner.stats()['slow'] == (len(slow.times), 0)


def test_a_failing_task_keeps_running_and_others_too(runner):
    failing, other = Recorder(fail_first=3), Recorder()
    runner.register('failing', 0.02, failing)
    runner.register('other', 0.02, other)
    runner.start()
    wait_for(lambda: len(failing.times) >= 6 and len(other.times) >= 6,
             timeout=10, what='both tasks to run on')
    runs, failures = runner.stats()['failing']
    assert failures == 3 and runs >= 6


def test_a_negative_interval_disables_the_task(runner):
    disabled, enabled = Recorder(), Recorder()
    runner.register('disabled', -1, disabled)
    runner.register('enabled', 0.02, enabled)
    runner.start()
    wait_for(lambda: len(enabled.times) >= 10, timeout=10,
             what='the enabled task')
    assert disabled.times == []
    assert runner.stats()['disabled'] == (0, 0)


def test_the_interval_is_read_before_every_run(runner):
    interval = {'s': 0.02}
    task = Recorder()
    runner.register('changing', lambda: interval['s'], task)
    runner.start()
    wait_for(lambda: len(task.times) >= 3, timeout=10, what='three runs')
    interval['s'] = 60
    count = len(task.times)
    time.sleep(0.3)
    # At most the run already scheduled with the old interval.
    assert len(task.times) <= count + 1


def test_register_after_start_and_duplicates(runner):
    runner.start()
    late = Recorder()
    runner.register('late', 0.02, late)
    wait_for(lambda: late.times, timeout=10, what='the late task')
    with pytest.raises(ValueError):
        runner.register('late', 1, Recorder())
    with pytest.raises(RuntimeError):
        runner.start()


def test_stop_wakes_a_long_wait_and_waits_for_a_run_in_progress():
    r = periodic.PeriodicRunner('test-stop')
    idle = Recorder()
    r.register('idle', 3600, idle)
    r.start()
    began = time.monotonic()
    assert r.stop(timeout=10)
    assert time.monotonic() - began < 2
    assert idle.times == []

    release = threading.Event()
    busy = Recorder(block=release)
    r2 = periodic.PeriodicRunner('test-stop-busy')
    r2.register('busy', 0.01, busy)
    r2.start()
    wait_for(lambda: busy.times, timeout=10, what='the run to begin')
    # The run in progress is not interrupted: stop times out...
    assert not r2.stop(timeout=0.2)
    release.set()
    # ...and the thread ends once it finishes, without another run.
    assert r2.stop(timeout=10)
    assert len(busy.times) == 1
    assert r2.stop(timeout=1)


def test_stop_before_start_is_fine():
    assert periodic.PeriodicRunner().stop(timeout=1)
