"""Polling helper shared by tests that wait for the system to converge."""

import time


def wait_for(predicate, timeout=30.0, interval=0.05, what='condition'):
    """Poll ``predicate`` until it returns a true value; return it.

    :raises AssertionError: ``timeout`` seconds passed first.
    """
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError('timed out after %.0fs waiting for %s'
                                 % (timeout, what))
        time.sleep(interval)
