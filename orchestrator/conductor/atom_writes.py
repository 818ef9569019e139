"""A task's transition written in one transaction: its state, its result,
its progress and its audit event.

TaskFlow's ``TaskAction.change_state`` saves a task's new state (with
its result when it has one), then its progress, as two writes of the
logbook, and then notifies the listeners, of which ours writes the
transition's audit event: three transactions per transition, six per
step. :func:`change_state` does the same things in the same order, but
inside :func:`orchestrator.conductor.persistence.joined_writes`, with
the audit event as the companion write, so the transition is one
transaction: a crash leaves all of it or none of it, and the audit can
never show a step the logbook does not (or the reverse).

The audit event comes from the engine's audit listener, which offers it
through :data:`COMPANION_ATTR` on the engine's storage
(:meth:`orchestrator.conductor.audit.AuditListener.companion_for`); the
listener is then told (``details[AUDITED]``) that the event is written.
An engine without the listener, or a storage backend that is not ours,
gets TaskFlow's behaviour unchanged (writes outside a join are
immediate).

:func:`install` replaces ``TaskAction.change_state`` once per process;
importing :mod:`orchestrator.conductor.runner` installs it.
"""

import contextlib

from taskflow.engines.action_engine.actions import base as tf_action_base
from taskflow.engines.action_engine.actions import retry as tf_retry_action
from taskflow.engines.action_engine.actions import task as tf_task_action
from taskflow import states as tf_states

from orchestrator.conductor import persistence

#: The storage attributes the audit listener offers its companions on
#: (for tasks, for retry controllers).
COMPANION_ATTR = 'orchestrator_audit_companion'
RETRY_COMPANION_ATTR = 'orchestrator_audit_retry_companion'

#: Key of the notification details telling the event is written.
AUDITED = 'orchestrator_audited'

_NO_RESULT = tf_action_base.Action.NO_RESULT
_STOCK_CHANGE_STATE = tf_task_action.TaskAction.change_state
_STOCK_RETRY_CHANGE_STATE = tf_retry_action.RetryAction.change_state


def _our_backend(storage):
    backend = getattr(storage, '_backend', None)
    return backend if isinstance(backend, persistence.Backend) else None


@contextlib.contextmanager
def _undone_unless_written(storage, atom_name):
    """Put the engine's copy of the atom back as it was when the block's
    joined write fails.

    TaskFlow updates its in-memory atom only after a write succeeded;
    inside a join the writes are gathered, so the copy changed before
    the one real write. Were it left changed after that write failed
    (the database away), a later write of the flow (the engine's own
    FAILURE) would store a transition that never was.
    """
    source, _same = storage._atomdetail_by_name(atom_name)
    before = source.copy()
    try:
        yield
    except BaseException:
        source.update(before)
        raise


def _notify(action, kind, name, state, old_state, result, companion):
    """Tell the listeners, with the details TaskFlow gives them
    (``<kind>_name``, ``<kind>_uuid``, ``old_state``, ``result``), and
    whether the audit event is written."""
    details = {'%s_name' % kind: name,
               '%s_uuid' % kind: action._storage.get_atom_uuid(name),
               'old_state': old_state}
    if result is not _NO_RESULT:
        details['result'] = result
    if companion is not None:
        details[AUDITED] = True
    action._notifier.notify(state, details)


def change_state(self, task, state, progress=None, result=_NO_RESULT):
    """TaskFlow's task transition, as one transaction (module doc).

    Identity transitions write and notify nothing, as in TaskFlow.
    """
    storage = self._storage
    backend = _our_backend(storage)
    if backend is None:
        return _STOCK_CHANGE_STATE(self, task, state, progress=progress,
                                   result=result)
    old_state = storage.get_atom_state(task.name)
    if self._is_identity_transition(old_state, state, task,
                                    progress=progress):
        return
    offer = getattr(storage, COMPANION_ATTR, None)
    companion = offer(task.name, state, result) if offer else None
    with _undone_unless_written(storage, task.name), \
            persistence.joined_writes(backend, companion):
        if state in self.SAVE_RESULT_STATES:
            storage.save(task.name,
                         None if result is _NO_RESULT else result, state)
        else:
            storage.set_atom_state(task.name, state)
        if progress is not None:
            storage.set_task_progress(task.name, progress)
    _notify(self, 'task', task.name, state, old_state, result, companion)
    if progress is not None:
        task.update_progress(progress)


def retry_change_state(self, retry, state, result=_NO_RESULT):
    """TaskFlow's retry controller transition, as one transaction: its
    state, result (an attempt added to its history), the history cleared
    at REVERTED, and its audit event."""
    storage = self._storage
    backend = _our_backend(storage)
    if backend is None:
        return _STOCK_RETRY_CHANGE_STATE(self, retry, state, result=result)
    old_state = storage.get_atom_state(retry.name)
    saves_result = state in self.SAVE_RESULT_STATES
    if not saves_result and state == old_state:
        return  # nothing changed: no write, no notification (as TaskFlow)
    offer = getattr(storage, RETRY_COMPANION_ATTR, None)
    companion = offer(retry.name, state, result) if offer else None
    with _undone_unless_written(storage, retry.name), \
            persistence.joined_writes(backend, companion):
        if saves_result:
            storage.save(retry.name,
                         None if result is _NO_RESULT else result, state)
            if state == tf_states.REVERTED:
                storage.cleanup_retry_history(retry.name, state)
        else:
            storage.set_atom_state(retry.name, state)
    _notify(self, 'retry', retry.name, state, old_state, result, companion)


def install():
    """Make every TaskFlow task transition :func:`change_state` and every
    retry controller transition :func:`retry_change_state`. Idempotent."""
    tf_task_action.TaskAction.change_state = change_state
    tf_retry_action.RetryAction.change_state = retry_change_state
