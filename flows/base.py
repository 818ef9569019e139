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

import oslo_messaging as messaging

from taskflow import retry
from taskflow import task
from taskflow.types import failure as tf_failure

from orchestrator import context as orch_context
from orchestrator import exception
from orchestrator import failpoints
from orchestrator import redaction
from orchestrator import states
from orchestrator.compute import rpcapi as compute_rpcapi
from orchestrator.db import hosts as db_hosts
from orchestrator.db import instances

from flows import atoms

LOG = logging.getLogger(__name__)

#: The compute RPC client steps call (one per transport: see
#: :func:`orchestrator.compute.rpcapi.client`).
compute_api = compute_rpcapi.client


def undo_on_host(host, undo):
    """Run ``undo()`` (a revert's RPC to ``host``) unless the host is
    gone: when the call times out and the host is down by its heartbeat,
    the undo is left to reconciliation (the host's next power-state
    report destroys what nothing accounts for) and the rollback goes on,
    so a dead host never keeps other resources claimed. A timeout from
    a host still up is raised: the rollback fails honestly."""
    try:
        return undo()
    except messaging.MessagingTimeout:
        if db_hosts.host_is_up(host):
            raise
        LOG.warning('Host %s is down; undoing on it is left to '
                    'reconciliation when it is back', host)
        return None


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
