"""The engine listener that writes the audit trail of every flow.

Each flow step becomes an instance action event (start, finish, result,
traceback); a revert step is the event ``<step>:revert``. A retry
controller (the boot flow's ScheduleInstance) is a step too, one event
per run; from the second attempt of a retried subflow on, the events of
its steps and of the controller carry the attempt: ``<step> (attempt
2)``, ``<step>:revert (attempt 2)``, so every attempt stays visible (the
controller's own final revert is ``<step>:revert``). The flow's end
finishes the instance action (Success, or Error with the reason). No task
writes audit rows by hand. An action something else finished first (the
deadline watchdog's decision) is not finished again.

It also enforces "never stuck": a flow that ends in FAILURE (its rollback
itself failed) leaves the instance in vm_state error with a fault and its
task_state cleared, if the flow still owns it.
"""

import logging

from taskflow.engines.action_engine import compiler as tf_compiler
from taskflow import exceptions as tf_exc
from taskflow.listeners import base as listener_base
from taskflow import states as tf_states

from orchestrator import exception
from orchestrator import redaction
from orchestrator import states
from orchestrator.conductor import atom_writes
from orchestrator.db import actions
from orchestrator.db import instances
from orchestrator.db import session

from flows import catalog
from flows import keys

LOG = logging.getLogger(__name__)

_EVENT_START = {tf_states.RUNNING: '', tf_states.REVERTING: ':revert'}
_EVENT_END = {
    tf_states.SUCCESS: ('', states.RESULT_SUCCESS),
    tf_states.FAILURE: ('', states.RESULT_ERROR),
    tf_states.REVERTED: (':revert', states.RESULT_SUCCESS),
    tf_states.REVERT_FAILURE: (':revert', states.RESULT_ERROR),
}


def attempt_name(event, attempt):
    """``event`` as recorded in attempt ``attempt`` of a retried subflow:
    unchanged for the first attempt, ``<event> (attempt N)`` after."""
    if attempt <= 1:
        return event
    return '%s (attempt %d)' % (event, attempt)


#: Final atom states whose last event (a run, or a revert) succeeded.
_ATOM_SUCCEEDED = frozenset([tf_states.SUCCESS, tf_states.REVERTED])


def close_open_events(action_id, atom_states):
    """Finish each unfinished event of action ``action_id`` as its step
    ended: Success when the step's last run or revert succeeded, else
    Error. ``atom_states`` maps step (event) names to their final atom
    states. Called once a flow ended, when every step is final, so an
    event still open is one whose end a crash lost (the conductor died
    between the logbook's write of the step's state and the audit's).
    Re-run: finds nothing open.
    """
    for row in actions.events_for(action_id):
        if row['finish_time'] is not None:
            continue
        step = row['event'].split(' (attempt ', 1)[0].split(':', 1)[0]
        result = (states.RESULT_SUCCESS
                  if atom_states.get(step) in _ATOM_SUCCEEDED
                  else states.RESULT_ERROR)
        actions.event_finish(action_id, row['event'], result)


def close_ended(flow_detail):
    """Close the audit of a flow that ended but whose audit the crash of
    its conductor may have left open (killed between the logbook's write
    and the audit's): its open events (:func:`close_open_events`), and
    the action as the flow ended, unless something finished it already.
    Re-run: finds nothing open.
    """
    store = (flow_detail.meta or {}).get('store') or {}
    action_id = store.get(keys.ACTION_ID)
    if action_id is None:
        return
    close_open_events(action_id, {catalog.short_name(ad.name): ad.state
                                  for ad in flow_detail})
    actions.finish_if_open(
        action_id, states.RESULT_SUCCESS
        if flow_detail.state == tf_states.SUCCESS else states.RESULT_ERROR)


def step_events(flow):
    """The events a run of ``flow`` records when nothing fails: its atoms
    in order, a subflow's retry controller before the subflow's steps.
    (For linear flows; the order of an unordered flow's steps varies.)"""
    return [catalog.short_name(atom.name)
            for atom in catalog.atoms_of(flow, retries=True)
            if atom is not flow.retry]


class AuditListener(listener_base.Listener):
    """Writes instance action events and finishes the instance action."""

    def __init__(self, engine, host=None):
        super().__init__(engine)
        self._host = host
        self._retry_of = None
        # A task's event is written in its transition's own transaction
        # (:mod:`orchestrator.conductor.atom_writes`).
        setattr(engine.storage, atom_writes.COMPANION_ATTR,
                self.companion_for)
        setattr(engine.storage, atom_writes.RETRY_COMPANION_ATTR,
                self.retry_companion_for)

    def companion_for(self, task_name, state, result):
        """The write of task ``task_name``'s event for ``state``, as a
        callable on a SQLAlchemy connection (run in the transaction that
        saves the transition), or None when ``state`` has no event."""
        if state not in _EVENT_START and state not in _EVENT_END:
            return None
        action_id = self._fetch(keys.ACTION_ID)
        if action_id is None:
            return None
        retry_name = self._controller(task_name)
        attempt = self._attempts(retry_name) if retry_name else 1
        name = catalog.short_name(task_name)
        return self._event_writer(action_id, state, result,
                                  lambda suffix: attempt_name(name + suffix,
                                                              attempt))

    def retry_companion_for(self, retry_name, state, result, saved=False):
        """:meth:`companion_for` of a retry controller: its run for
        attempt N, or its revert (``<step>:revert``, once, when the
        subflow is given up). N - 1 runs are in its history before this
        transition is saved, whatever it is; once ``saved``, a success
        is in it too."""
        if state not in _EVENT_START and state not in _EVENT_END:
            return None
        action_id = self._fetch(keys.ACTION_ID)
        if action_id is None:
            return None
        name = catalog.short_name(retry_name)
        attempt = self._attempts(retry_name)
        if not (saved and state == tf_states.SUCCESS):
            attempt += 1

        def event(suffix):
            return name + suffix if suffix else attempt_name(name, attempt)

        return self._event_writer(action_id, state, result, event)

    def _event_writer(self, action_id, state, result, event):
        """The write of ``event(suffix)``'s start or end for ``state``."""
        host = self._host
        if state in _EVENT_START:
            started = event(_EVENT_START[state])
            return lambda conn: actions.event_start_on(conn, action_id,
                                                       started, host=host)
        suffix, outcome = _EVENT_END[state]
        ended = event(suffix)
        traceback = None
        if outcome == states.RESULT_ERROR and hasattr(result, 'pformat'):
            traceback = redaction.redact(result.pformat(traceback=True))
        return lambda conn: actions.event_finish_on(
            conn, action_id, ended, outcome, traceback=traceback, host=host)

    def _fetch(self, key):
        try:
            return self._engine.storage.fetch(key)
        except tf_exc.NotFound:
            return None

    def _controller(self, atom_name):
        """The name of the retry controlling ``atom_name``, or None."""
        if self._retry_of is None:
            graph = self._engine.compilation.execution_graph
            self._retry_of = {
                node.name: data[tf_compiler.RETRY].name
                for node, data in graph.nodes(data=True)
                if data.get(tf_compiler.RETRY) is not None}
        return self._retry_of.get(atom_name)

    def _attempts(self, retry_name):
        """How many runs of ``retry_name`` succeeded (its history)."""
        return len(self._engine.storage.get_retry_history(retry_name))

    def _write_alone(self, writer, state, atom_name):
        """Run an event write (:meth:`companion_for`) in a transaction
        of its own: for a transition saved without its event (a backend
        that is not ours). A failure is logged: the audit never breaks
        the flow."""
        if writer is None:
            return
        try:
            with session.writer() as s:
                writer(s.connection())
        except Exception:  # noqa: BLE001 - audit must not break the flow
            LOG.exception('Could not record event of %s (%s)', atom_name,
                          state)

    def _task_receiver(self, state, details):
        if details.get(atom_writes.AUDITED):
            return  # written with the transition (companion_for)
        name = details['task_name']
        self._write_alone(self.companion_for(name, state,
                                             details.get('result')),
                          state, name)

    def _retry_receiver(self, state, details):
        if details.get(atom_writes.AUDITED):
            return  # written with the transition (retry_companion_for)
        name = details['retry_name']
        self._write_alone(self.retry_companion_for(
            name, state, details.get('result'), saved=True), state, name)

    def _flow_receiver(self, state, details):
        if state not in (tf_states.SUCCESS, tf_states.REVERTED,
                         tf_states.FAILURE):
            return
        action_id = self._fetch(keys.ACTION_ID)
        try:
            if state == tf_states.FAILURE:
                self._error_out()
            if action_id is None:
                return
            # A step whose end a crash kept from the audit (its state
            # was saved, the listener never told) is closed now.
            self._close_lost_events(action_id)
            # An action already finished (the deadline watchdog decided
            # it) keeps that decision.
            if state == tf_states.SUCCESS:
                actions.finish_if_open(action_id, states.RESULT_SUCCESS)
            else:
                actions.finish_if_open(action_id, states.RESULT_ERROR,
                                       self._failure_message())
        except Exception:  # noqa: BLE001 - audit must not break the flow
            LOG.exception('Could not finish action %s', action_id)

    def _close_lost_events(self, action_id):
        """:func:`close_open_events` with this engine's atom states; a
        failure is logged and does not keep the action open."""
        try:
            graph = self._engine.compilation.execution_graph
            names = [node.name for node, data in graph.nodes(data=True)
                     if data.get('kind') in tf_compiler.ATOMS]
            atom_states = {
                catalog.short_name(name): state for name, (state, _intention)
                in self._engine.storage.get_atoms_states(names).items()}
            close_open_events(action_id, atom_states)
        except Exception:  # noqa: BLE001 - audit must not break the flow
            LOG.exception('Could not close the open events of action %s',
                          action_id)

    def _failure_message(self):
        """The message of the failure that ended the flow, as every caller
        may read it (:func:`orchestrator.redaction.public_message`).
        Failures of steps under a retry controller come last: TaskFlow
        keeps those of earlier attempts, and the controller's own failure
        (it gave up) says more."""
        failures = self._engine.storage.get_failures()
        ordered = sorted(failures.items(),
                         key=lambda item: self._controller(item[0])
                         is not None)
        for _name, failure in ordered:
            return redaction.public_message(
                failure.exception_str, tuple(failure))[:255]
        return None

    def _error_out(self):
        """The rollback failed: the instance goes to error, not stuck."""
        instance_uuid = self._fetch(keys.INSTANCE_UUID)
        task_id = self._fetch(keys.TASK_ID)
        if instance_uuid is None or task_id is None:
            return
        message = self._failure_message() or 'rollback failed'
        try:
            instances.cas_update(
                instance_uuid, task_id,
                {'vm_state': states.ERROR, 'task_state': None},
                action='fail',
                fault=(500, 'Rollback failed: %s' % message, None))
        except exception.Preempted:
            LOG.info('Instance %s has a new owner; leaving it', instance_uuid)
