"""A conductor waiting for jobs is woken at once, and a wake is never
lost."""

import threading
import time

import pytest

from orchestrator.conductor import wakeup

pytestmark = pytest.mark.timeout(30)


def timed_wait(timeout):
    started = time.monotonic()
    timeout.wait()
    return time.monotonic() - started


def test_a_wake_ends_a_running_wait_at_once():
    timeout = wakeup.WakeableTimeout(10.0)
    threading.Timer(0.1, timeout.wake).start()
    assert timed_wait(timeout) < 2.0
    assert not timeout.is_stopped()


def test_a_wake_before_the_wait_ends_the_next_wait_then_is_spent():
    timeout = wakeup.WakeableTimeout(0.3)
    timeout.wake()
    assert timed_wait(timeout) < 0.1
    assert timed_wait(timeout) >= 0.25


def test_interrupt_stops_every_wait_for_good():
    timeout = wakeup.WakeableTimeout(10.0)
    timeout.interrupt()
    assert timeout.is_stopped()
    assert timed_wait(timeout) < 0.1
    assert timed_wait(timeout) < 0.1
