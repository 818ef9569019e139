"""Operator repair of a failed flow: retry it, or revert it (audited).

A flow that failed stays in its logbook with every step's state. Two
repairs, both without editing the database by hand:

* **retry** (a flow in FAILURE or REVERTED): every step that was undone
  or failed runs again, from the first of them; steps whose work still
  stands are not run again (every step's execute is idempotent).
* **revert** (a flow in FAILURE, i.e. whose rollback failed): the steps
  whose revert failed are reverted again; the rollback ends as any
  rollback does. A retry inside the flow (the boot's reschedule) decides
  as it always does once its attempt is undone: it may try its next
  option rather than revert further.

Either way, in this order: the instance is claimed again by the flow's
own task_id (refused if anything happened to the instance since: a newer
task, a delete), back in the vm_state the flow started from and with the
action's task_state, the flow's action reopened and a ``repairFlow``
action recorded (one transaction); the steps' states are set in the
logbook; a job for the same flow is posted, and a conductor runs it with
the usual listeners (audit, claims, leases). Crash between these: the
claim holds without a job, and the deadline watchdog decides.
"""

import contextlib

from taskflow import engines
from taskflow import states as tf_states

from orchestrator import exception
from orchestrator import state_machine
from orchestrator.db import actions as db_actions
from orchestrator.db import instances
from orchestrator import flow_views

from flows import catalog
from flows import keys

RETRY = 'retry'
REVERT = 'revert'
MODES = (RETRY, REVERT)

#: Flow states each repair starts from.
REPAIRABLE = {RETRY: (tf_states.FAILURE, tf_states.REVERTED),
              REVERT: (tf_states.FAILURE,)}


def _flow_module(flow_name):
    module = catalog.by_flow_name(flow_name)
    if module is None:
        raise exception.Invalid(reason='no flow module is named %s'
                                       % flow_name)
    return module


def _start_vm_state(action_name, current, recorded=None):
    """The vm_state the action started from: as recorded in the flow's
    store, else its only allowed start, else the current one when that
    is an allowed start."""
    rules = state_machine.ACTIONS.get(action_name)
    if rules is None:
        raise exception.Invalid(reason='action %s has no rules; cannot '
                                       'repair it' % action_name)
    if recorded in rules.vm_states:
        return recorded, rules.task_state
    if len(rules.vm_states) == 1:
        return next(iter(rules.vm_states)), rules.task_state
    if current in rules.vm_states:
        return current, rules.task_state
    raise exception.Invalid(
        reason='cannot tell which vm_state %s started from (now %s); '
               'reset the server\'s state first' % (action_name, current))


def _set_steps(engine, flow, mode):
    """Set the steps' states in the logbook for the repair."""
    storage = engine.storage
    changed = []
    for atom in catalog.atoms_of(flow):
        name = atom.name
        state = storage.get_atom_state(name)
        done = (state == tf_states.SUCCESS and storage.get_atom_intention(
            name) == tf_states.EXECUTE)
        if mode == RETRY and not done:
            storage.reset(name, state=tf_states.PENDING)
            storage.set_atom_intention(name, tf_states.EXECUTE)
            changed.append(name)
        elif mode == REVERT and state == tf_states.REVERT_FAILURE:
            storage.set_atom_state(name, tf_states.SUCCESS)
            storage.set_atom_intention(name, tf_states.REVERT)
            changed.append(name)
    storage.set_flow_state(tf_states.RUNNING)
    return changed


def repair(persistence, board, flow_id, mode, ctxt):
    """Repair the flow ``flow_id`` (uuid or unique 8+ prefix) by ``mode``
    (retry or revert) as the operator ``ctxt``.

    :returns: {'flow', 'job', 'instance', 'steps'} (the steps set to run
        again).
    :raises exception.Invalid: the flow is not in a state this repair
        starts from, or its job is still on the board (in flight).
    :raises exception.InstanceInvalidState: the instance moved on.
    """
    if mode not in MODES:
        raise exception.Invalid(reason='mode must be retry or revert')
    book, flow_detail = flow_views.find_flow(persistence, flow_id)
    if flow_detail.state not in REPAIRABLE[mode]:
        raise exception.Invalid(
            reason='flow %s is %s; %s repairs flows in %s' % (
                flow_detail.uuid, flow_detail.state, mode,
                ' or '.join(REPAIRABLE[mode])))
    for job in board.iterjobs(ensure_fresh=True):
        if (job.details or {}).get('flow_uuid') == flow_detail.uuid:
            raise exception.Invalid(
                reason='flow %s still has job %s on the board: it is in '
                       'flight, not failed' % (flow_detail.uuid, job.uuid))
    store = (flow_detail.meta or {}).get('store') or {}
    instance_uuid = store.get(keys.INSTANCE_UUID)
    task_id = store.get(keys.TASK_ID)
    action_id = store.get(keys.ACTION_ID)
    if not (instance_uuid and task_id and action_id):
        raise exception.Invalid(reason='flow %s is not an instance task; '
                                       'nothing to claim' % flow_detail.uuid)
    action = db_actions.get(action_id)
    current = instances.get(instance_uuid, read_deleted=True)
    vm_state, task_state = _start_vm_state(
        action['action'], current['vm_state'],
        store.get(keys.START_VM_STATE))
    flow = _flow_module(flow_detail.name).get_flow()
    engine = engines.load(flow, flow_detail=flow_detail,
                          book=book, backend=persistence, store=store)
    engine.compile()
    engine.prepare()
    instances.claim_for_repair(
        instance_uuid, task_id, task_state, vm_state, action_id,
        {'request_id': ctxt.request_id, 'user_id': ctxt.user_id,
         'project_id': ctxt.project_id,
         'message': '%s of flow %s (%s)' % (mode, flow_detail.uuid,
                                            flow_detail.name)})
    steps = _set_steps(engine, flow, mode)
    with contextlib.closing(persistence.get_connection()) as conn:
        book = conn.get_logbook(book.uuid)
    job = board.post(flow_detail.name, book=book,
                     details={'flow_uuid': flow_detail.uuid,
                              'store': store})
    return {'flow': flow_detail.uuid, 'job': job.uuid,
            'instance': instance_uuid,
            'steps': [catalog.short_name(s) for s in steps]}
