"""The conductor's periodic tasks, run one after another on one thread.

Register a task with a name, an interval and a callable taking no
arguments, before or after :meth:`PeriodicRunner.start`::

    runner.register('task deadlines',
                    lambda: conf.conductor.deadline_check_interval_s,
                    watchdog.run_once)

* The interval is seconds or a callable returning seconds, read again
  before every run, so a changed option applies from the next run. Less
  than 0 disables the task (it is looked at again every
  :data:`DISABLED_RECHECK_S`); 0 runs it back to back, at most every
  :data:`MIN_INTERVAL_S`.
* A task first runs one interval after it was registered or the runner
  started, whichever is later, then one interval after each run ended: a
  slow run delays the next one instead of piling up runs.
* An exception is logged and the task runs again at its next time; it
  never ends the thread.
* Tasks share the thread: one that blocks delays the others, so each
  task bounds its own waits (RPC timeouts, batch sizes).
* :meth:`PeriodicRunner.stop` lets a run in progress finish and runs
  nothing after it.

Every conductor runs the same tasks, so each task must be safe to run in
several conductors at once (a compare-and-swap per decision, as
:mod:`orchestrator.conductor.deadlines` does).
"""

import dataclasses
import logging
import threading
import time
import typing

LOG = logging.getLogger(__name__)

#: A disabled task's interval is read again this often.
DISABLED_RECHECK_S = 30.0
#: Shortest pause between two runs of one task.
MIN_INTERVAL_S = 0.01


@dataclasses.dataclass
class _Task:
    """One registered task and when it runs next (monotonic seconds)."""

    name: str
    interval: typing.Callable[[], float]
    func: typing.Callable[[], object]
    next_run: float = 0.0
    runs: int = 0
    failures: int = 0


class PeriodicRunner:
    """Runs registered periodic tasks on one daemon thread."""

    def __init__(self, name='periodic'):
        self.name = name
        self._tasks = {}
        self._cond = threading.Condition()
        self._thread = None
        self._stopping = False

    def register(self, name, interval_s, func):
        """Add the task ``name``: ``func()`` every ``interval_s`` seconds.

        :param interval_s: seconds, or a callable returning them (read
            before each run); less than 0 disables the task.
        :raises ValueError: a task of that name is registered already.
        """
        interval = interval_s if callable(interval_s) else (
            lambda: interval_s)
        with self._cond:
            if name in self._tasks:
                raise ValueError('periodic task %r is registered already'
                                 % name)
            task = _Task(name, interval, func)
            task.next_run = time.monotonic() + self._delay(task)
            self._tasks[name] = task
            self._cond.notify_all()

    def stats(self):
        """{task name: (runs, failures)} so far (for tests and logs)."""
        with self._cond:
            return {t.name: (t.runs, t.failures)
                    for t in self._tasks.values()}

    def start(self):
        """Start the thread; every task's first run is one interval away.

        :raises RuntimeError: already started.
        """
        with self._cond:
            if self._thread is not None:
                raise RuntimeError('periodic runner %s already started'
                                   % self.name)
            now = time.monotonic()
            for task in self._tasks.values():
                task.next_run = max(task.next_run, now + self._delay(task))
            self._thread = threading.Thread(target=self._loop,
                                            name=self.name, daemon=True)
            self._thread.start()

    def stop(self, timeout=None):
        """Run nothing more; wait up to ``timeout`` for a run in progress.

        Returns True when the thread ended (or never started). Safe to
        call again.
        """
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
            thread = self._thread
        if thread is None:
            return True
        thread.join(timeout)
        return not thread.is_alive()

    @staticmethod
    def _delay(task):
        """Seconds until the task's next look: its interval (at least
        MIN_INTERVAL_S), or DISABLED_RECHECK_S when it is disabled or its
        interval cannot be read."""
        try:
            interval = float(task.interval())
        except Exception:  # noqa: BLE001 - a bad option must not kill us
            LOG.exception('Interval of periodic task %s unreadable; '
                          'looking again later', task.name)
            return DISABLED_RECHECK_S
        if interval < 0:
            return DISABLED_RECHECK_S
        return max(interval, MIN_INTERVAL_S)

    @staticmethod
    def _enabled(task):
        """True when the task's interval reads as 0 or more now."""
        try:
            return float(task.interval()) >= 0
        except Exception:  # noqa: BLE001 - logged by _delay
            return False

    def _next_due(self):
        """The task due first and its time; call with the lock held."""
        if not self._tasks:
            return None, None
        task = min(self._tasks.values(), key=lambda t: t.next_run)
        return task, task.next_run

    def _loop(self):
        """The thread: sleep until the next due task, run it, reschedule
        it; return once stop() was called."""
        while True:
            with self._cond:
                while True:
                    if self._stopping:
                        return
                    task, due = self._next_due()
                    wait = None if task is None else due - time.monotonic()
                    if wait is not None and wait <= 0:
                        break
                    self._cond.wait(wait)
            ran = self._enabled(task)
            failed = ran and not self._run(task)
            with self._cond:
                task.runs += ran
                task.failures += failed
                task.next_run = time.monotonic() + self._delay(task)

    @staticmethod
    def _run(task):
        """Run the task once; False (logged) if it raised."""
        try:
            task.func()
        except Exception:  # noqa: BLE001 - one failed run is not fatal
            LOG.exception('Periodic task %s failed; it runs again in its '
                          'next interval', task.name)
            return False
        return True
