"""The deadline watchdog: no instance keeps a task_state past its deadline
without a recorded decision (DESIGN section 5).

A conductor periodic (``[conductor] deadline_check_interval_s``). Each run
first gives a deadline to any instance in a task_state without one, then
decides, once, for every live instance whose ``task_deadline_at``
(:mod:`orchestrator.db.deadlines`) has passed:

* vm_state building (a boot that did not finish) -> error;
* vm_state error -> stays error;
* otherwise the instance's host is asked for the guest's power state
  (compute ``get_info``, waiting ``[conductor] deadline_host_timeout_s``).
  If it is what vm_state expects (:data:`EXPECTED_POWER`: active ->
  running, stopped -> shutdown, paused -> paused, suspended ->
  suspended, ...) the task counts as reverted and vm_state stays; if it
  is not, the guest is missing, the instance has no host or the host does
  not answer -> error.

The decision is one transaction (:func:`orchestrator.db.deadlines.
record_decision`), a compare-and-swap on (uuid, task_id, task_state,
vm_state, deadline passed): of several conductors deciding at once exactly
one writes. It clears task_state and passes the claim to a fresh task_id,
so the stuck flow, when it wakes, finds itself preempted and writes
nothing (a power flow leaves the guest alone; boot's host steps still
destroy the guest they made and release the allocation).

How it is audited:

* a fault (code 500) ``"<action> passed its deadline of N s in
  task_state X"``, the decision in its details;
* the task's unfinished instance action finished as Error with that
  message (the flow's audit listener, ending later, keeps it: it only
  finishes actions still open);
* an instance action ``deadline`` (:data:`DEADLINE_ACTION`) under the new
  task_id, finished at once: Success when the task counts as reverted,
  Error when the instance went to error; its message is the fault's
  followed by what was decided and why.

Re-run: a decided instance is no longer overdue; a run that lost the CAS
writes nothing; a conductor dying between asking the host and the CAS
leaves the decision to the next run.
"""

import logging

from orchestrator import context as orch_context
from orchestrator import states
from orchestrator.compute import rpcapi as compute_rpcapi
from orchestrator.db import deadlines as db_deadlines

LOG = logging.getLogger(__name__)

#: The instance action recording a decision; persisted, chosen once.
DEADLINE_ACTION = 'deadline'
#: Most instances one run decides on; the rest wait for the next run.
BATCH_SIZE = 100

#: vm_state -> guest power states that agree with it. A vm_state not
#: here (building, error) never counts as reverted.
EXPECTED_POWER = {
    states.ACTIVE: frozenset([states.RUNNING]),
    states.STOPPED: frozenset([states.SHUTDOWN, states.CRASHED]),
    states.PAUSED: frozenset([states.POWER_PAUSED]),
    states.SUSPENDED: frozenset([states.POWER_SUSPENDED]),
    states.RESCUED: frozenset([states.RUNNING]),
    states.RESIZED: frozenset([states.RUNNING, states.SHUTDOWN]),
    states.SOFT_DELETED: frozenset([states.SHUTDOWN]),
}


def _power_name(power_state):
    """A power state's name for messages; 'missing' for no guest."""
    if power_state is None:
        return 'missing'
    return states.POWER_STATE_NAMES.get(power_state, str(power_state))


def verdict(vm_state, power_state):
    """(vm_state to keep or error, True if the task counts as reverted)
    for a guest the host reports in ``power_state`` (None: no guest)."""
    expected = EXPECTED_POWER.get(vm_state, frozenset())
    if power_state is not None and power_state in expected:
        return vm_state, True
    return states.ERROR, False


def overdue_message(action_name, seconds, task_state):
    """The fault message of a task past its deadline."""
    return ('%s passed its deadline of %g s in task_state %s'
            % (action_name or 'task', seconds, task_state))


class DeadlineWatchdog:
    """Decides on instances past their task deadline (see the module).

    :param conf: the configuration (``[conductor]`` deadline options).
    :param power_state_of: ``f(instance dict) -> power_state or None``,
        raising when the host does not answer; default: compute
        ``get_info`` on the instance's host. Tests without hosts pass
        their own.
    """

    def __init__(self, conf, power_state_of=None):
        self._conf = conf
        self._power_state_of = power_state_of or self._ask_host
        self._compute = None
        # Read once here, so a bad [conductor] task_deadlines_s stops the
        # conductor at start with oslo.config's message.
        conf.conductor.task_deadlines_s  # noqa: B018 - validates

    def run_once(self):
        """One round: stamp missing deadlines, decide on overdue instances.

        Returns the decisions this call recorded, as dicts (instance_uuid,
        vm_state, reverted, message, task_id); an instance another
        conductor or its own flow settled meanwhile is left out. One
        instance's failure is logged and does not stop the others.
        """
        stamped = db_deadlines.stamp_missing()
        if stamped:
            LOG.info('Gave a task deadline to %d instance(s) without one',
                     stamped)
        self._compute = None
        silent_hosts = {}
        decisions = []
        for instance in db_deadlines.list_overdue(limit=BATCH_SIZE):
            try:
                decision = self.decide(instance, silent_hosts)
            except Exception:  # noqa: BLE001 - decide the others still
                LOG.exception('Could not decide on overdue instance %s',
                              instance['uuid'])
                continue
            if decision is not None:
                decisions.append(decision)
        return decisions

    def decide(self, instance, silent_hosts=None):
        """Decide on one overdue instance (a dict from list_overdue).

        :param silent_hosts: {host: reason} of hosts that did not answer
            in this round; they are not asked again.
        :returns: the decision dict, or None when the CAS found the
            instance settled by someone else (nothing written).
        """
        silent_hosts = {} if silent_hosts is None else silent_hosts
        task_state = instance['task_state']
        seconds = db_deadlines.deadline_for(task_state, self._conf)
        running = db_deadlines.running_action(instance['uuid'],
                                              instance['task_id'])
        message = overdue_message(running and running['action'], seconds,
                                  task_state)
        vm_state, reverted, why = self._judge(instance, silent_hosts)
        decision = '%s; %s' % (message, why)
        recorded = db_deadlines.record_decision(
            instance, vm_state, (500, message, decision), decision,
            DEADLINE_ACTION,
            states.RESULT_SUCCESS if reverted else states.RESULT_ERROR)
        if recorded is None:
            LOG.info('Instance %s was settled before its deadline '
                     'decision; nothing decided', instance['uuid'])
            return None
        task_id, _action = recorded
        LOG.warning('Instance %s: %s', instance['uuid'], decision)
        return {'instance_uuid': instance['uuid'], 'vm_state': vm_state,
                'reverted': reverted, 'message': decision,
                'task_id': task_id}

    def _judge(self, instance, silent_hosts):
        """(vm_state, reverted, why) for one overdue instance."""
        vm_state = instance['vm_state']
        if vm_state == states.BUILDING:
            return states.ERROR, False, 'the build did not finish: ' \
                                        'vm_state error'
        if vm_state == states.ERROR:
            return states.ERROR, False, 'vm_state stays error'
        host = instance['host']
        if not host:
            return states.ERROR, False, 'no host to ask for its guest: ' \
                                        'vm_state error'
        if host in silent_hosts:
            return states.ERROR, False, silent_hosts[host]
        try:
            power_state = self._power_state_of(instance)
        except Exception as e:  # noqa: BLE001 - no answer is an answer
            why = ('host %s did not answer (%s): vm_state error'
                   % (host, type(e).__name__))
            silent_hosts[host] = why
            return states.ERROR, False, why
        new_vm_state, reverted = verdict(vm_state, power_state)
        if reverted:
            return vm_state, True, (
                'host %s reports the guest %s as vm_state %s expects: '
                'task reverted' % (host, _power_name(power_state),
                                   vm_state))
        expected = '/'.join(sorted(_power_name(p) for p in
                                   EXPECTED_POWER.get(vm_state, ())))
        return new_vm_state, False, (
            'host %s reports the guest %s where vm_state %s expects %s: '
            'vm_state error' % (host, _power_name(power_state), vm_state,
                                expected or 'nothing'))

    def _ask_host(self, instance):
        """The guest's power state from its host (None: no guest)."""
        if self._compute is None:
            self._compute = compute_rpcapi.ComputeAPI(
                timeout=self._conf.conductor.deadline_host_timeout_s)
        return self._compute.get_info(orch_context.get_admin_context(),
                                      instance['host'], instance['uuid'])
