"""Power-state reconciliation: the database follows what hosts report.

Every compute host reports ``{instance uuid: power state}`` of its guests
every ``[compute] sync_power_state_interval_s`` and at once when its driver
signals a change made outside the orchestrator
(:meth:`orchestrator.compute.service.ComputeService.send_power_states`).
:func:`apply_report` reconciles the database with one report. Nova's
``_sync_instance_power_state`` is the reference; DESIGN section 7 the
intent.

An instance with a task running (task_state set), or whose task has just
ended but not yet finished its action, is skipped entirely: the task owns
it, and drift is handled at the first report after it ended. With
no task running, :data:`RULES` (data, keyed by (vm_state, power state the
host shows, None for "no guest")) decides; :func:`decide` reads it::

    vm_state               guest on the instance's host   correction
    ---------------------  -----------------------------  -----------------
    active                 shutdown, crashed              -> stopped
                                                          (an implicit stop)
    active                 paused                         -> paused
    active                 suspended                      -> suspended
    paused                 running                        -> active
    paused                 shutdown, crashed              -> stopped
    suspended              running                        -> active
    stopped, soft-delete,  running, paused, suspended     power it off again
    shelved
    active, stopped,       none                           -> error + fault
    paused, suspended,
    rescued, resized
    deleted                any guest (on any host)        destroy it again
    error                  anything                       nothing (sticky)
    anything else          anything                       nothing

(A suspended instance whose guest shows shut down is left alone, as in
Nova: some hypervisors show a suspended guest so.) In every case without a
task, the instance's power_state column is refreshed to what the host
shows (nostate when it has no guest) if it differs; that is not audited.
A guest that belongs to no instance is logged and left alone. A guest
of a live instance that lives on another host (or none) is a leftover of
a rollback that could not reach this host while it was down, and is
destroyed (audited) unless a task runs on the instance or one of its
unfinished migrations names this host.

Each vm_state correction is one transaction
(:func:`orchestrator.db.instances.sync_vm_state`): a conditional UPDATE
(still as read, no task running), a ``sync_power_state`` action recorded
and finished with the reason as its message, and a fault where the rule
says so. A correction on the host first claims the instance
(:func:`~orchestrator.db.instances.claim_for_sync`, task_state
powering-off, a fresh task_id, the action started), then calls the host,
then finishes with a compare-and-swap on that task_id; a user action that
claimed first wins, and one that comes during the correction gets 409. If
the conductor dies in between, the instance stays claimed (reports skip
it) until the task-deadline watchdog or an administrator's reset decides
it. Destroying the guest of a deleted instance needs
no claim (nothing can claim a deleted instance); it is audited on the
deleted instance's actions when a guest was really destroyed.

Reports are snapshots taken before the conductor reads the database, so a
report may predate a task that ended in between. Before writing anything
the conductor asks the host again (``get_info``) *after* its read, and
every write is conditional on the row being as read: what ended before the
read is in the fresh answer, what starts after it makes the write a no-op.
"""

import dataclasses

from oslo_log import log as logging

from orchestrator import context as orch_context
from orchestrator import exception
from orchestrator import redaction
from orchestrator import state_machine
from orchestrator import states as s
from orchestrator.compute import rpcapi as compute_rpcapi
from orchestrator.db import actions as db_actions
from orchestrator.db import instances as db_instances
from orchestrator.db import migration_records

LOG = logging.getLogger(__name__)

#: Rule kinds.
SET_VM_STATE = 'set_vm_state'
POWER_OFF = 'power_off'
DESTROY = 'destroy'

#: The fault code of an instance whose guest vanished.
VANISHED_FAULT_CODE = 500
#: An unfinished action younger than this keeps the sync off its
#: instance (its task ended a moment ago); an older one is abandoned.
ACTION_ENDING_S = 60


@dataclasses.dataclass(frozen=True)
class Rule:
    """One correction of :data:`RULES`.

    :ivar kind: SET_VM_STATE, POWER_OFF or DESTROY.
    :ivar outcome: what is done, for the action's message.
    :ivar vm_state: the vm_state SET_VM_STATE moves the instance to.
    :ivar fault: record a fault with the correction.
    """

    kind: str
    outcome: str
    vm_state: str | None = None
    fault: bool = False


_IMPLICIT_STOP = Rule(SET_VM_STATE, 'recorded as stopped (an implicit stop)',
                      s.STOPPED)
_TO_ACTIVE = Rule(SET_VM_STATE, 'recorded as active', s.ACTIVE)
_POWER_OFF_AGAIN = Rule(POWER_OFF, 'powered off again')
_VANISHED = Rule(SET_VM_STATE, 'set to error (the guest vanished)', s.ERROR,
                 fault=True)
_DESTROY_AGAIN = Rule(DESTROY, 'destroyed again')

#: Power states of a guest that is not off.
_NOT_OFF = (s.RUNNING, s.POWER_PAUSED, s.POWER_SUSPENDED)

#: (vm_state, observed power state or None for "no guest") -> Rule. A pair
#: that is not here needs no correction.
RULES = {
    (s.ACTIVE, s.SHUTDOWN): _IMPLICIT_STOP,
    (s.ACTIVE, s.CRASHED): _IMPLICIT_STOP,
    (s.ACTIVE, s.POWER_PAUSED): Rule(SET_VM_STATE, 'recorded as paused',
                                     s.PAUSED),
    (s.ACTIVE, s.POWER_SUSPENDED): Rule(SET_VM_STATE,
                                        'recorded as suspended',
                                        s.SUSPENDED),
    (s.PAUSED, s.RUNNING): _TO_ACTIVE,
    (s.PAUSED, s.SHUTDOWN): _IMPLICIT_STOP,
    (s.PAUSED, s.CRASHED): _IMPLICIT_STOP,
    (s.SUSPENDED, s.RUNNING): _TO_ACTIVE,
    **{(vm, power): _POWER_OFF_AGAIN
       for vm in (s.STOPPED, s.SOFT_DELETED, s.SHELVED)
       for power in _NOT_OFF},
    **{(vm, None): _VANISHED
       for vm in (s.ACTIVE, s.STOPPED, s.PAUSED, s.SUSPENDED, s.RESCUED,
                  s.RESIZED)},
    **{(s.DELETED, power): _DESTROY_AGAIN for power in s.POWER_STATES},
}


def decide(vm_state, task_state, observed):
    """The correction for an instance in (vm_state, task_state) whose
    host shows ``observed`` (a power state, or None: no guest), or None
    when there is none. Pure: reads :data:`RULES` only.

    A running task (task_state set) always gets None: the task owns the
    instance. ERROR is never in the table: nothing clears it.
    """
    if task_state is not None:
        return None
    return RULES.get((vm_state, observed))


def recorded_power_state(observed):
    """The power_state column value for what a host shows (nostate when
    it has no guest)."""
    return s.NOSTATE if observed is None else observed


def describe(rule, vm_state, observed, host):
    """The action message of ``rule``: what was seen, where, and why."""
    if observed is None:
        seen = 'no guest on %s' % host
    else:
        seen = 'guest %s on %s' % (
            s.POWER_STATE_NAMES.get(observed, observed), host)
    return 'Power-state sync: %s while %s: %s' % (seen, vm_state,
                                                   rule.outcome)


def _action_values(ctxt):
    return {'request_id': ctxt.request_id, 'user_id': ctxt.user_id,
            'project_id': ctxt.project_id}


def apply_report(host, power_states, compute=None):
    """Reconcile the database with one report of ``host``.

    :param power_states: ``{instance uuid: power state}`` of every guest
        on ``host``.
    :param compute: the compute RPC client (default: the process's).
    :returns: ``{instance uuid: Rule}`` of the corrections it attempted
        (a correction that lost a race to a task is in it too).

    Instances are handled one by one; a failure on one is logged and does
    not stop the others. Re-run (a repeated, or older, report): every
    write is conditional and confirmed with the host first, so a report
    that is no longer true changes nothing.
    """
    compute = compute or compute_rpcapi.client()
    report = {uuid: int(power) for uuid, power in
              (power_states or {}).items()}
    ctxt = orch_context.get_admin_context()
    attempted = {}
    on_host = set()
    for instance in db_instances.list_(host=host):
        on_host.add(instance['uuid'])
        rule = _guarded(sync_instance, ctxt, compute, host, instance,
                        report.get(instance['uuid']))
        if rule is not None:
            attempted[instance['uuid']] = rule
    for uuid in sorted(set(report) - on_host):
        rule = _guarded(sync_stray_guest, ctxt, compute, host, uuid,
                        report[uuid])
        if rule is not None:
            attempted[uuid] = rule
    return attempted


def _guarded(func, ctxt, compute, host, what, observed):
    try:
        return func(ctxt, compute, host, what, observed)
    except Exception:  # noqa: BLE001 - the next report tries again
        uuid = what['uuid'] if isinstance(what, dict) else what
        LOG.warning('Power-state sync of %s on %s failed', uuid, host,
                    exc_info=True)
        return None


def sync_instance(ctxt, compute, host, instance, observed):
    """Apply the rules to ``instance`` (a live instance on ``host``, as
    read after the report was taken) whose guest the report showed as
    ``observed``.

    Asks the host again before any write, decides on that answer, and
    writes conditionally (see the module docstring). Returns the Rule it
    applied (or tried to), or None.
    """
    if instance['task_state'] is not None:
        return None
    rule = decide(instance['vm_state'], None, observed)
    if rule is None and (instance['power_state']
                         == recorded_power_state(observed)):
        return None
    if db_actions.ending(instance['uuid'], ACTION_ENDING_S):
        # The task that just ended has not finished its action yet: it
        # is still the task's moment; the next report decides.
        return None
    observed = compute.get_info(ctxt, host, instance['uuid'])
    rule = decide(instance['vm_state'], None, observed)
    power = recorded_power_state(observed)
    if rule is None:
        if instance['power_state'] != power:
            db_instances.refresh_power_state(instance, power)
        return None
    message = describe(rule, instance['vm_state'], observed, host)
    if rule.kind == SET_VM_STATE:
        fault = ((VANISHED_FAULT_CODE, message, None) if rule.fault
                 else None)
        done = db_instances.sync_vm_state(instance, rule.vm_state, power,
                                          message, _action_values(ctxt),
                                          fault=fault)
        if done is None:
            LOG.info('Power-state sync of %s lost to a task: %s',
                     instance['uuid'], message)
        else:
            LOG.warning('Instance %s: %s', instance['uuid'], message)
    elif rule.kind == POWER_OFF:
        _power_off_again(ctxt, compute, host, instance, message)
    else:
        raise ValueError('rule %r does not apply to a live instance'
                         % (rule,))
    return rule


def _power_off_again(ctxt, compute, host, instance, message):
    claimed = db_instances.claim_for_sync(instance, s.POWERING_OFF,
                                          _action_values(ctxt))
    if claimed is None:
        LOG.info('Power-state sync of %s lost to a task: %s',
                 instance['uuid'], message)
        return
    instance, action = claimed
    LOG.warning('Instance %s: %s', instance['uuid'], message)
    try:
        power = compute.set_power_state(
            ctxt, host, compute_rpcapi.instance_payload(instance),
            'power_off')
    except Exception as e:  # noqa: BLE001 - recorded in the action
        LOG.warning('Powering off %s on %s again failed: %s',
                    instance['uuid'], host, e)
        db_instances.finish_sync(
            instance['uuid'], instance['task_id'], action['id'], {},
            s.RESULT_ERROR, '%s; failed: %s' % (
                message, redaction.public_error(e)))
        return
    db_instances.finish_sync(instance['uuid'], instance['task_id'],
                             action['id'], {'power_state': power},
                             s.RESULT_SUCCESS, message)


def sync_stray_guest(ctxt, compute, host, instance_uuid, observed):
    """Handle a guest on ``host`` of an instance that is not a live
    instance of ``host``: destroy it again when its instance is deleted
    (audited on the deleted instance when a guest was really destroyed);
    log and leave it otherwise. Re-run: a guest already destroyed is
    neither destroyed nor audited again. Returns the Rule applied, or
    None.
    """
    try:
        instance = db_instances.get(instance_uuid, read_deleted=True)
    except exception.InstanceNotFound:
        LOG.warning('Guest %s on %s belongs to no instance; leaving it '
                    'alone', instance_uuid, host)
        return None
    if not instance['deleted']:
        return _leftover_of_live_instance(ctxt, compute, host, instance)
    rule = decide(instance['vm_state'], instance['task_state'], observed)
    if rule is None or rule.kind != DESTROY:
        return None
    if _not_settled(ctxt, compute, host, instance_uuid):
        return None
    if compute.destroy(ctxt, host,
                       compute_rpcapi.instance_payload(instance)):
        message = describe(rule, instance['vm_state'], observed, host)
        LOG.warning('Instance %s: %s', instance_uuid, message)
        db_actions.record(instance_uuid, state_machine.SYNC_POWER_STATE,
                          s.RESULT_SUCCESS, message, **_action_values(ctxt))
    return rule


def _not_settled(ctxt, compute, host, instance_uuid):
    """True when a guest the report showed on ``host`` is not to be
    destroyed now: the task that just ended (a migration's own cleanup
    of that guest, a delete's) has not finished its action yet, or the
    host, asked again, no longer has the guest (the report was taken
    before a flow removed it). The next report decides."""
    if db_actions.ending(instance_uuid, ACTION_ENDING_S):
        return True
    return compute.get_info(ctxt, host, instance_uuid) is None


def _leftover_of_live_instance(ctxt, compute, host, instance):
    """A guest on ``host`` of a live instance that lives elsewhere (or
    nowhere): a leftover of a rollback that could not reach ``host``
    while it was down, unless a task or a migration accounts for it.
    Destroyed, audited on the instance, when no task runs on the
    instance and none of its migrations that is not final (or waits, as
    a resize does for its confirm) names ``host``; left alone otherwise.
    Re-run: destroying a gone guest destroys and audits nothing."""
    instance_uuid = instance['uuid']
    busy = instance['task_state'] is not None or any(
        host in (m['source_compute'], m['dest_compute'])
        for m in migration_records.in_progress(instance_uuid))
    if busy:
        LOG.info('Guest of instance %s found on %s, which a task or a '
                 'migration accounts for; leaving it alone',
                 instance_uuid, host)
        return None
    if _not_settled(ctxt, compute, host, instance_uuid):
        return None
    if compute.destroy(ctxt, host,
                       compute_rpcapi.instance_payload(instance)):
        message = ('leftover guest on %s destroyed (the instance lives on '
                   '%s)' % (host, instance['host'] or 'no host'))
        LOG.warning('Instance %s: %s', instance_uuid, message)
        db_actions.record(instance_uuid, state_machine.SYNC_POWER_STATE,
                          s.RESULT_SUCCESS, message, **_action_values(ctxt))
    return None
