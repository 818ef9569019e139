"""Delays and injected faults of the fake driver.

Two sources, looked up on every driver call:

* configuration, ``[fake_driver] delays_s`` (``spawn:2,fetch_image:5``)
  and ``[fake_driver] faults`` (``spawn:raise,destroy:hang``);
* the run-time faults file ``<state_dir>/<host>.faults.json``, re-read on
  every call (a missing file costs one failed ``open``), so a test can
  change the faults of a host running in another process. Write it with
  :func:`write_runtime_faults` (atomically: a half-written file makes the
  call fail with :class:`~orchestrator.exception.Invalid`).

Run-time file format, one entry per driver method name::

    {
      "spawn": "raise",
      "fetch_image": {"delay_s": 5},
      "destroy": {"fault": "crash", "when": "after"},
      "prepare_networks": {"fault": "hang", "delay_s": 1}
    }

An entry is a fault name (shorthand for ``{"fault": name}``) or an object
with any of:

* ``fault``: ``"raise"`` (raise :class:`~orchestrator.exception.
  InjectedFault`), ``"hang"`` (block until the driver is stopped, then raise
  InjectedFault), ``"crash"`` (end the process at once with exit code
  :data:`CRASH_EXIT_CODE`, like ``kill -9``), or null (no fault);
* ``delay_s``: seconds to sleep before acting (``fetch_image`` spreads
  them over its progress steps instead);
* ``when``: ``"before"`` (default: the fault fires before the method
  changes anything) or ``"after"`` (the method's change is written first,
  then the fault fires: the caller never learns that it succeeded).

A method's entry in the file replaces its configured fault and delay
entirely; ``{}`` clears both.
"""

import contextlib
import dataclasses
import json
import os
import threading

from orchestrator import file_modes
from orchestrator.compute.drivers import fake_host_file
from orchestrator import exception

FAULT_RAISE = 'raise'
FAULT_HANG = 'hang'
FAULT_CRASH = 'crash'
FAULTS = frozenset([FAULT_RAISE, FAULT_HANG, FAULT_CRASH])

WHEN_BEFORE = 'before'
WHEN_AFTER = 'after'

#: Exit status of a process ended by a ``crash`` fault.
CRASH_EXIT_CODE = 86


@dataclasses.dataclass(frozen=True)
class FaultPlan:
    """What happens around one call of a driver method."""

    fault: str = None
    delay_s: float = 0.0
    when: str = WHEN_BEFORE


NO_FAULT = FaultPlan()


def faults_file_path(state_dir, host):
    """Where the run-time faults of ``host`` are read from."""
    return os.path.join(state_dir, '%s.faults.json' % host)


def write_runtime_faults(state_dir, host, faults):
    """Replace the run-time faults of ``host`` (atomically).

    :param faults: ``{method: entry}`` in the file format; empty or None
        removes the file.
    """
    path = faults_file_path(state_dir, host)
    if not faults:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)
        return
    for method, entry in faults.items():
        parse_entry(method, entry)
    file_modes.make_dirs(state_dir)
    fake_host_file.write_json_atomically(path, faults)


def parse_entry(method, entry):
    """A :class:`FaultPlan` from one entry of the faults file.

    :raises orchestrator.exception.Invalid: the entry is malformed.
    """
    if entry is None or isinstance(entry, str):
        entry = {'fault': entry}
    if not isinstance(entry, dict):
        raise _invalid(method, 'an entry is a fault name or an object, '
                               'not %r' % (entry,))
    unknown = set(entry) - {'fault', 'delay_s', 'when'}
    if unknown:
        raise _invalid(method, 'unknown keys %s' % sorted(unknown))
    fault = entry.get('fault')
    if fault is not None and fault not in FAULTS:
        raise _invalid(method, 'fault %r is not one of %s'
                               % (fault, sorted(FAULTS)))
    when = entry.get('when', WHEN_BEFORE)
    if when not in (WHEN_BEFORE, WHEN_AFTER):
        raise _invalid(method, 'when must be "before" or "after", not %r'
                               % (when,))
    return FaultPlan(fault=fault, delay_s=_seconds(method, entry.get(
        'delay_s', 0)), when=when)


def read_runtime_faults(path):
    """``{method: FaultPlan}`` from the faults file; {} when absent.

    :raises orchestrator.exception.Invalid: the file is malformed.
    """
    try:
        with open(path, encoding='utf-8') as f:
            entries = json.load(f)
    except FileNotFoundError:
        return {}
    except json.JSONDecodeError as e:
        raise exception.Invalid(reason='faults file %s is not valid JSON: '
                                       '%s' % (path, e)) from e
    if not isinstance(entries, dict):
        raise exception.Invalid(reason='faults file %s must hold an object '
                                       'keyed by method name' % path)
    return {method: parse_entry(method, entry)
            for method, entry in entries.items()}


def configured_plan(conf, method):
    """The plan ``[fake_driver] faults`` and ``delays_s`` give ``method``."""
    group = conf.fake_driver
    fault = group.faults.get(method) or None
    if fault is not None and fault not in FAULTS:
        raise _invalid(method, '[fake_driver] faults: %r is not one of %s'
                               % (fault, sorted(FAULTS)))
    return FaultPlan(fault=fault,
                     delay_s=_seconds(method, group.delays_s.get(method, 0)))


class FaultInjector:
    """Applies the plan of each call of one fake host's driver methods."""

    def __init__(self, host, state_dir, conf):
        self.host = host
        self.conf = conf
        self.faults_path = faults_file_path(state_dir, host)
        self._stopped = threading.Event()

    def start(self):
        """Allow waits again (after :meth:`stop`)."""
        self._stopped.clear()

    def stop(self):
        """Wake every hang and delay; they raise InjectedFault."""
        self._stopped.set()

    def plan_for(self, method):
        """The run-time file's entry for ``method``, else configuration."""
        runtime = read_runtime_faults(self.faults_path)
        if method in runtime:
            return runtime[method]
        return configured_plan(self.conf, method)

    @contextlib.contextmanager
    def around(self, method, sleep_delay=True):
        """Delay and fault before the block, or after it (``when``).

        Yields the plan, so a method that paces itself (``fetch_image``)
        can pass ``sleep_delay=False`` and use ``plan.delay_s``.
        """
        plan = self.plan_for(method)
        if sleep_delay and plan.delay_s:
            self.wait(method, plan.delay_s)
        if plan.when == WHEN_BEFORE:
            self._fire(method, plan.fault)
        yield plan
        if plan.when == WHEN_AFTER:
            self._fire(method, plan.fault)

    def wait(self, method, seconds):
        """Sleep; raise InjectedFault if the driver stops meanwhile."""
        if self._stopped.wait(seconds):
            raise exception.InjectedFault(
                message='%s on %s interrupted: the driver stopped'
                        % (method, self.host),
                method=method, host=self.host)

    def _fire(self, method, fault):
        if fault is None:
            return
        if fault == FAULT_RAISE:
            raise exception.InjectedFault(method=method, host=self.host)
        if fault == FAULT_HANG:
            self._stopped.wait()
            raise exception.InjectedFault(
                message='%s on %s hung until the driver stopped'
                        % (method, self.host),
                method=method, host=self.host)
        if fault == FAULT_CRASH:
            _crash(method, self.host)


def _crash(method, host):
    """End the process now: no cleanup, no reply, like ``kill -9``."""
    note = ('orchestrator fake driver: injected crash in %s on %s '
            '(exit %d)\n' % (method, host, CRASH_EXIT_CODE))
    with contextlib.suppress(OSError):
        os.write(2, note.encode())
    os._exit(CRASH_EXIT_CODE)


def _seconds(method, value):
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        raise _invalid(method, 'delay %r is not a number of seconds'
                               % (value,)) from None
    if seconds < 0:
        raise _invalid(method, 'delay %r is negative' % (value,))
    return seconds


def _invalid(method, reason):
    return exception.Invalid(reason='fake driver fault for %s: %s'
                                    % (method, reason))
