"""The engine listener that writes the audit trail of every flow.

Each flow step becomes an instance action event (start, finish, result,
traceback); a revert step is the event ``<step>:revert``. The flow's end
finishes the instance action (Success, or Error with the reason). No task
writes audit rows by hand. An action something else finished first (the
deadline watchdog's decision) is not finished again.

It also enforces "never stuck": a flow that ends in FAILURE (its rollback
itself failed) leaves the instance in vm_state error with a fault and its
task_state cleared, if the flow still owns it.
"""

import logging

from taskflow import exceptions as tf_exc
from taskflow.listeners import base as listener_base
from taskflow import states as tf_states

from orchestrator import exception
from orchestrator import states
from orchestrator.db import actions
from orchestrator.db import instances

from flows import keys

LOG = logging.getLogger(__name__)

_EVENT_START = {tf_states.RUNNING: '', tf_states.REVERTING: ':revert'}
_EVENT_END = {
    tf_states.SUCCESS: ('', states.RESULT_SUCCESS),
    tf_states.FAILURE: ('', states.RESULT_ERROR),
    tf_states.REVERTED: (':revert', states.RESULT_SUCCESS),
    tf_states.REVERT_FAILURE: (':revert', states.RESULT_ERROR),
}


def event_name(atom_name):
    """The audit name of a step: its class name, without the module."""
    return atom_name.rsplit('.', 1)[-1]


class AuditListener(listener_base.Listener):
    """Writes instance action events and finishes the instance action."""

    def __init__(self, engine, host=None):
        super().__init__(engine)
        self._host = host

    def _fetch(self, key):
        try:
            return self._engine.storage.fetch(key)
        except tf_exc.NotFound:
            return None

    def _task_receiver(self, state, details):
        action_id = self._fetch(keys.ACTION_ID)
        if action_id is None:
            return
        name = event_name(details['task_name'])
        try:
            if state in _EVENT_START:
                actions.event_start(action_id, name + _EVENT_START[state],
                                    host=self._host)
            elif state in _EVENT_END:
                suffix, result = _EVENT_END[state]
                traceback = None
                failure = details.get('result')
                if result == states.RESULT_ERROR and failure is not None:
                    traceback = failure.pformat(traceback=True)
                actions.event_finish(action_id, name + suffix, result,
                                     traceback=traceback, host=self._host)
        except Exception:  # noqa: BLE001 - audit must not break the flow
            LOG.exception('Could not record event %s of action %s',
                          name, action_id)

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
            # An action already finished (the deadline watchdog decided
            # it) keeps that decision.
            if state == tf_states.SUCCESS:
                actions.finish_if_open(action_id, states.RESULT_SUCCESS)
            else:
                actions.finish_if_open(action_id, states.RESULT_ERROR,
                                       self._failure_message())
        except Exception:  # noqa: BLE001 - audit must not break the flow
            LOG.exception('Could not finish action %s', action_id)

    def _failure_message(self):
        for failure in self._engine.storage.get_failures().values():
            return failure.exception_str[:255]
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
