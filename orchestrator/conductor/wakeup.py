"""Waking a conductor that waits for jobs, instead of letting it poll.

TaskFlow's conductors look at the board, and when they found nothing to
run they sleep their ``wait_timeout`` before looking again: a job posted
just after a look waited that long (the all-in-one's 0.5 s was a third
of a boot). :class:`WakeableTimeout` is TaskFlow's ``Timeout`` with a
second event: :meth:`WakeableTimeout.wake` ends the current (or the
next) wait at once without stopping the conductor. The conductor is woken
when this process posts a job (:class:`orchestrator.conductor.jobs.
JobPoster`'s ``on_posted``), when one of its runs ends (a slot is free)
and when a job it gave back is claimable again; jobs posted by other
processes are found by the polling, which stays as the fallback.

A wake is never lost: one that comes while the conductor looks at the
board (not yet waiting) ends its next wait at once, and it looks again.
"""

import threading

from taskflow.types import timing


class WakeableTimeout(timing.Timeout):
    """A ``Timeout`` whose wait also ends on :meth:`wake`.

    ``interrupt`` (stop) works as TaskFlow's: it ends every wait for
    good. ``wake`` ends one wait: the first wait that starts or is
    running after it returns at once, and the wake is then spent.
    """

    def __init__(self, value):
        super().__init__(value)
        self._woken = threading.Event()

    def interrupt(self):
        super().interrupt()
        self._woken.set()

    def wake(self):
        """End the current or next wait now (idempotent until spent)."""
        self._woken.set()

    def wait(self):
        """Wait up to the timeout, until woken or stopped."""
        self._woken.wait(self.value)
        if not self.is_stopped():
            self._woken.clear()
