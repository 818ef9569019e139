"""The task base class every flow step derives from.

An :class:`InstanceTask` gets the request context back from the store,
writes instance state only through compare-and-swap on the flow's task_id
(:meth:`update_instance`), and checks its claim before each side effect
(:meth:`check_claim`). A write or check that finds another task_id raises
:class:`orchestrator.exception.Preempted`: the flow stops and reverts what
it did.

Contract of every subclass:

* ``execute`` may run again after a crash (TaskFlow re-runs an atom that
  was RUNNING): before acting it looks at reality and converges.
* ``revert`` may run again too, and must be safe when ``execute`` never ran
  or ran only partly.
"""

import logging
import time

import oslo_messaging as messaging

from taskflow import retry
from taskflow import task
from taskflow.types import failure as tf_failure

from orchestrator import context as orch_context
from orchestrator import exception
from orchestrator import failpoints
from orchestrator import redaction
from orchestrator import state_machine
from orchestrator import states
from orchestrator.compute import rpcapi as compute_rpcapi
from orchestrator.db import hosts as db_hosts
from orchestrator.db import instances
from orchestrator.db import migration_records

from flows import atoms

LOG = logging.getLogger(__name__)

#: The compute RPC client steps call (one per transport: see
#: :func:`orchestrator.compute.rpcapi.client`).
compute_api = compute_rpcapi.client


#: How many times a revert's host call that timed out is made while its
#: host is up (heartbeating) before it is treated as a host that is down.
UNDO_ATTEMPTS_WHEN_UP = 2

#: How the note of an undo left to reconciliation starts (instance faults).
LEFT_TO_RECONCILIATION = 'Left to reconciliation: '


def _left_key(task_id):
    """The details of the faults that note what task ``task_id``'s
    rollback left to reconciliation."""
    return 'left to reconciliation by task %s' % task_id


def left_to_reconciliation(instance_uuid, task_id):
    """What task ``task_id``'s rollback left to reconciliation on the
    instance's hosts, as notes ('<undo> on <host> (<why>)'), oldest
    first."""
    return [message[len(LEFT_TO_RECONCILIATION):] for message in
            instances.fault_messages(instance_uuid, _left_key(task_id))]


def summarize_left(notes):
    """The notes of :func:`left_to_reconciliation` in few characters: the
    undos on one host for one reason said once ('destroy, unplug_networks
    on h1 (host down)'), so the failure after them in a fault's message
    (cut at 255 characters) is still read."""
    grouped = {}
    for note in notes:
        what, _on, where = note.partition(' on ')
        grouped.setdefault(where, []).append(what)
    return '; '.join('%s on %s' % (', '.join(whats), where)
                     for where, whats in grouped.items())


def _leave_to_reconciliation(instance_uuid, task_id, host, what, why):
    note = '%s on %s (%s)' % (what, host, why)
    LOG.warning('Rollback of task %s on %s: %s left to reconciliation',
                task_id, instance_uuid, note)
    if note not in left_to_reconciliation(instance_uuid, task_id):
        instances.add_fault(instance_uuid, 500,
                            LEFT_TO_RECONCILIATION + note,
                            details=_left_key(task_id), host=host)


def _end_migration_in_error(migration_uuid):
    """A rollback that cannot finish: the migration ends in error at once
    (if the rules allow it from where it is), instead of staying in
    progress with nobody left to end it."""
    try:
        current = migration_records.get(migration_uuid)
        if state_machine.migration_may_transition(
                current['migration_type'], current['status'],
                states.MIGRATION_ERROR):
            migration_records.set_status(
                migration_uuid, states.MIGRATION_ERROR,
                from_statuses={current['status']})
    except Exception:  # noqa: BLE001 - the first failure matters
        LOG.exception('Could not end migration %s in error',
                      migration_uuid)


def undo_on_host(host, undo, instance_uuid, task_id, what,
                 migration_uuid=None, nothing_if_gone=False):
    """The one policy for a host call inside a revert: every revert that
    calls a host makes its calls in ``undo()`` through this.

    * The host is down (its heartbeat is older than ``[DEFAULT]
      service_down_time_s``): nothing is asked of it. The undo is left
      to reconciliation, noted on the instance (a fault ``Left to
      reconciliation: <what> on <host> (host down)`` keyed by the task,
      which the flow's sentinel repeats in the fault it ends the task
      with) and the rollback goes on: the other steps' reverts release
      claims, the sentinel ends the migration (error or failed) and the
      instance per the flow's revert rules. The host's next reports
      reconcile it: power-state sync destroys a guest nothing accounts
      for and corrects vm_state to what the guest does.
    * The call times out while the host is up: it is made once more
      (:data:`UNDO_ATTEMPTS_WHEN_UP` attempts in all; every undo is
      idempotent, so a call made twice is safe). A second timeout is
      treated as a host that is down (noted ``no answer``): a host that
      heartbeats but does not answer twice in a row is stuck or
      partitioned from us, and failing the rollback instead would keep
      the destination's claim, leave the migration in progress and the
      instance waiting for an operator, while the host's own reports,
      which it still sends, are what reconciles it. Retrying once
      absorbs a host that was only slow (a busy RPC worker) without
      waiting more than two timeouts.
    * ``nothing_if_gone``: GuestNotFound means there is nothing left to
      undo (None).
    * Any other failure is an answer: the host refused or failed the
      undo, so the rollback fails honestly (the error goes on up, the
      flow ends in FAILURE and the instance in error), and the migration
      ``migration_uuid`` (if any) ends in error first.

    Re-run (a revert resumed after a crash): the undo is asked again or
    found noted already. Returns ``undo()``'s result, or None.
    """
    attempt = 0
    while True:
        if not db_hosts.host_is_up(host):
            _leave_to_reconciliation(instance_uuid, task_id, host, what,
                                     'host down')
            return None
        attempt += 1
        try:
            return undo()
        except messaging.MessagingTimeout:
            if attempt < UNDO_ATTEMPTS_WHEN_UP:
                LOG.warning('%s on %s timed out; asking once more', what,
                            host)
                continue
            _leave_to_reconciliation(instance_uuid, task_id, host, what,
                                     'no answer')
            return None
        except exception.GuestNotFound:
            if not nothing_if_gone:
                if migration_uuid is not None:
                    _end_migration_in_error(migration_uuid)
                raise
            LOG.info('%s on %s: the guest of %s is gone, nothing to undo',
                     what, host, instance_uuid)
            return None
        except Exception:
            if migration_uuid is not None:
                _end_migration_in_error(migration_uuid)
            raise


def first_failure(flow_failures):
    """The first Failure of a flow's failures dict, or None."""
    for value in (flow_failures or {}).values():
        if isinstance(value, tf_failure.Failure):
            return value
    return None


def describe_failure(failure):
    """(message, details) for a fault record from a TaskFlow Failure.

    The message is what every caller may read
    (:func:`orchestrator.redaction.public_message`: one line, no path,
    the class name of an exception not ours); the details (the traceback,
    for administrators) have their secrets masked.
    """
    if failure is None:
        return 'Unknown error', None
    message = redaction.public_message(failure.exception_str,
                                       tuple(failure))
    return (message or 'Unknown error',
            redaction.redact(failure.pformat(traceback=True)))


def was_preempted(flow_failures):
    """True when the flow stopped because another task took the instance
    (any of its failures is Preempted: a flow with a retry may also keep
    failures of attempts before)."""
    return any(isinstance(value, tf_failure.Failure)
               and value.check(exception.Preempted)
               for value in (flow_failures or {}).values())


#: persisted name -> (module, qualified name) of the class declaring it.
_PERSISTED_NAMES = {}


class PersistedName:
    """A step (task or retry) whose atom name is declared, not derived.

    TaskFlow finds a resumed flow's atoms in its logbook by name, so the
    name an atom is persisted under must never change with the code's
    layout. Every concrete subclass declares it in its own body::

        class ChangePowerOnHost(base.InstanceTask):
            persisted_name = 'flows.tasks.power.ChangePowerOnHost'

    and it becomes the atom's default name (a class moved to another
    module keeps it). A base class that is never put in a flow says
    ``abstract=True`` in its class statement. A concrete class that does
    not declare a name, or declares one another class has, is a
    TypeError when it is defined (see docs/evolution.md).
    """

    #: The atom name this step is persisted under (declared per class).
    persisted_name = None

    def __init_subclass__(cls, abstract=False, **kwargs):
        super().__init_subclass__(**kwargs)
        if abstract:
            return
        name = cls.__dict__.get('persisted_name')
        if not isinstance(name, str) or not name:
            raise TypeError(
                '%s.%s must declare persisted_name (the atom name its '
                'logbooks use; see docs/evolution.md)'
                % (cls.__module__, cls.__qualname__))
        where = (cls.__module__, cls.__qualname__)
        owner = _PERSISTED_NAMES.setdefault(name, where)
        if owner != where:
            raise TypeError(
                '%s.%s declares persisted_name %r, already declared by '
                '%s.%s' % (where + (name,) + owner))

    def __init__(self, *args, name=None, **kwargs):
        super().__init__(*args, name=name or self.persisted_name, **kwargs)


def persisted_names():
    """Every declared persisted name -> 'module.QualifiedName' of its
    class (the classes imported so far)."""
    return {name: '.'.join(where)
            for name, where in _PERSISTED_NAMES.items()}


class InstanceRetry(PersistedName, retry.Retry, abstract=True):
    """A retry controller of a flow (its name declared like a step's)."""


#: Pause before attempt n (n > 1) of steps rolled forward:
#: ROLL_FORWARD_BACKOFF_S * 2 ** (n - 2), at most ROLL_FORWARD_MAX_S.
ROLL_FORWARD_BACKOFF_S = 0.5
ROLL_FORWARD_MAX_S = 5.0


class RollForwardRetry(InstanceRetry, abstract=True):
    """Retry the steps past a flow's point of no return until they
    succeed, pausing longer each time (:data:`ROLL_FORWARD_BACKOFF_S`
    doubling up to :data:`ROLL_FORWARD_MAX_S`). Gives up only when the
    flow lost its claim (Preempted: a force delete, a reset, the
    deadline watchdog): the whole flow then reverts, and the reverts of
    the steps past the point of no return undo nothing.

    ``execute`` returns the attempt number. Re-run after a crash: the
    history is in the logbook, so the count goes on. Subclasses name
    what they retry (:attr:`what`, for the log).
    """

    #: What is retried (in the log line of each new attempt).
    what = 'steps'

    def execute(self, history, *args, **kwargs):
        attempt = len(history) + 1
        if attempt > 1:
            pause = min(ROLL_FORWARD_MAX_S,
                        ROLL_FORWARD_BACKOFF_S * 2 ** (attempt - 2))
            LOG.warning('%s past the point of no return: attempt %d in '
                        '%.1fs', self.what, attempt, pause)
            time.sleep(pause)
        return attempt

    def on_failure(self, history, *args, **kwargs):
        if history.caused_by(exception.Preempted, index=-1):
            return retry.REVERT_ALL
        return retry.RETRY


class InstanceTask(PersistedName, task.Task, abstract=True):
    """A step on one instance, under the flow's claim (task_id).

    Around ``execute`` and ``revert`` it passes the failpoints
    ``<flow>:<step>:before-execute`` / ``after-execute`` /
    ``before-revert`` / ``after-revert`` (:mod:`orchestrator.failpoints`;
    ``after-execute`` is reached when the step did its work and before
    its result is recorded). The conductor names the flow
    (:attr:`failpoint_flow`) when it loads the flow.
    """

    #: The flow this step runs in, set by the conductor (None: no
    #: failpoints, e.g. a step run outside an engine).
    failpoint_flow = None

    def _failpoint(self, phase):
        if self.failpoint_flow is not None:
            failpoints.hit(failpoints.step_name(self.failpoint_flow,
                                                self.name, phase))

    def pre_execute(self):
        self._failpoint('before-execute')

    def post_execute(self):
        self._failpoint('after-execute')

    def pre_revert(self):
        self._failpoint('before-revert')

    def post_revert(self):
        self._failpoint('after-revert')

    def context(self, ctxt_dict):
        return orch_context.from_store(ctxt_dict)

    def check_claim(self, instance_uuid, task_id):
        """Raise Preempted unless ``task_id`` still owns the instance."""
        instances.check_claim(instance_uuid, task_id)

    def update_instance(self, instance_uuid, task_id, action=None,
                        fault=None, **values):
        """CAS write of ``values`` (and ``fault``, a (code, message,
        details) tuple); raises Preempted if the claim is gone."""
        return instances.cas_update(instance_uuid, task_id, values,
                                    action=action, fault=fault)

    def load_instance(self, instance_uuid, task_id):
        """The instance, checking the claim in the same read."""
        instance = instances.get(instance_uuid, read_deleted=True)
        if instance['task_id'] != task_id or instance['deleted']:
            # NOTE: a deleted row is never "ours" to act on, even when our
            # own delete flow deleted it: nothing is left to do on it.
            raise exception.Preempted(task_id=task_id,
                                      instance_uuid=instance_uuid)
        return instance


class FinishTaskOnRevert(InstanceTask, abstract=True):
    """A flow's first task: its revert ends the task honestly.

    ``execute`` does nothing. ``revert`` (the last step of any rollback)
    clears task_state (the task_id stays, see db.instances), records a
    fault from the failure and sets ``revert_vm_state`` if the subclass
    names one (else vm_state stays as it was). When the flow was preempted
    it writes nothing: the instance belongs to the task that preempted it.
    Re-running the revert after a crash finds the task already finished
    and does nothing.
    """

    #: vm_state after a rollback; None keeps vm_state unchanged.
    revert_vm_state = None
    #: Steps (class names) past a point of no return: when the flow failed
    #: in one of them, the rollback cannot restore the guest and vm_state
    #: becomes error.
    error_if_failed_in = frozenset()

    def execute(self, context, instance_uuid, task_id):
        pass

    def failure_to_record(self, flow_failures):
        """The failure the fault describes: the first one. A flow whose
        failures may include stale ones (a retry's earlier attempts)
        overrides it."""
        return first_failure(flow_failures)

    def revert(self, context, instance_uuid, task_id, flow_failures=None,
               **kwargs):
        if was_preempted(flow_failures):
            LOG.info('Flow on %s was preempted; nothing to finish',
                     instance_uuid)
            return
        current = instances.get(instance_uuid, read_deleted=True)
        if current['task_id'] == task_id and current['task_state'] is None:
            return  # this revert already ran (a re-run after a crash)
        message, details = describe_failure(
            self.failure_to_record(flow_failures))
        left = left_to_reconciliation(instance_uuid, task_id)
        if left:
            # The undo the rollback could not make is said first (the
            # message is cut at 255 characters), the failure after it.
            message = '%s%s; %s' % (LEFT_TO_RECONCILIATION,
                                    summarize_left(left), message)
        values = {'task_state': None}
        if self.revert_vm_state is not None:
            values['vm_state'] = self.revert_vm_state
        failed_in = {atoms.short_name(name)
                     for name in (flow_failures or {})}
        if failed_in & self.error_if_failed_in:
            values['vm_state'] = states.ERROR
        try:
            self.update_instance(instance_uuid, task_id, action='fail',
                                 fault=(500, message, details), **values)
        except exception.Preempted:
            LOG.info('Claim on %s already released', instance_uuid)
