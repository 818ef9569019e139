"""A flow killed after its last step wrote the instance, before the
logbook recorded that step, has finished: never roll it back.

The last step of every flow that holds a claim is its final write: it
ends the task (task_state cleared, the task_id kept). If the process
died after that write's commit and before TaskFlow recorded the step,
the instance is free for the next request; when one claimed it before
the flow was resumed, the step run again finds another task_id and
raises Preempted, and the flow used to roll back a task that had
succeeded (a resumed boot destroyed the guest of a live, rebooted
server: found by the random-kill soak).

:func:`check` tells that case from a real preemption: the flow was
interrupted in its last step, and the instance's current claim was made
by a request that may only start while no task runs, the first claim
after the flow's own. Such a claim proves the flow's task had ended by
then, and only the flow's last step ends it. (A delete or a reset,
which may start while a task runs, proves nothing: the flow is rolled
back as before.)
"""

import logging

import sqlalchemy as sa
from taskflow import states as tf_states

from orchestrator import exception
from orchestrator import state_machine
from orchestrator.db import instances
from orchestrator.db import models
from orchestrator.db import session

from flows import catalog
from flows import keys

LOG = logging.getLogger(__name__)


def _claims_after(instance_uuid, task_id):
    """The claiming actions (with a task_id) of the instance recorded
    after the one of ``task_id``, oldest first."""
    action = models.InstanceAction
    with session.reader() as s:
        mine = s.execute(sa.select(sa.func.min(action.id)).where(
            action.instance_uuid == instance_uuid,
            action.task_id == task_id)).scalar()
        if mine is None:
            return []
        rows = s.execute(sa.select(action).where(
            action.instance_uuid == instance_uuid,
            action.id > mine, action.task_id.is_not(None),
            action.task_id != task_id).order_by(action.id)).scalars()
        return [r.as_dict() for r in rows]


def _needs_idle(action_name):
    """True when the action may only start while no task runs."""
    try:
        rules = state_machine.get_action(action_name)
    except (KeyError, ValueError, exception.Invalid):
        return False
    return rules.task_states == frozenset([None])


def released_by_its_end(instance_uuid, task_id):
    """True when the instance was claimed, after ``task_id``'s task, by
    an action that needs it idle (first such claim after it)."""
    try:
        instance = instances.get(instance_uuid, read_deleted=True)
    except exception.InstanceNotFound:
        return False
    if instance['task_id'] == task_id or instance['task_id'] is None:
        return False
    later = _claims_after(instance_uuid, task_id)
    return (bool(later) and later[0]['task_id'] == instance['task_id']
            and _needs_idle(later[0]['action']))


def check(engine):
    """Record the flow's last step as done when it was interrupted in it
    and its write is proven (see the module). Call with the engine
    compiled and prepared and its listeners registered.

    :returns: the step's name if it did, else None.
    """
    flow = getattr(engine, '_flow', None)
    if flow is None:
        return None
    atoms = list(catalog.atoms_of(flow))
    if not atoms:
        return None
    last = atoms[-1].name
    storage = engine.storage
    state = storage.get_atoms_states([last])[last]
    if state != (tf_states.RUNNING, tf_states.EXECUTE):
        return None
    try:
        instance_uuid = storage.fetch(keys.INSTANCE_UUID)
        task_id = storage.fetch(keys.TASK_ID)
    except Exception:  # noqa: BLE001 - a flow without a claim
        return None
    if not released_by_its_end(instance_uuid, task_id):
        return None
    storage.save(last, None, tf_states.SUCCESS)
    engine.atom_notifier.notify(tf_states.SUCCESS, {
        'task_name': last, 'task_uuid': storage.get_atom_uuid(last),
        'result': None})
    LOG.warning('Flow %s (%s) was interrupted in its last step %s after '
                'that step ended its task (the instance was claimed by '
                'the next request since): recorded as done, not rolled '
                'back', storage.flow_name, storage.flow_uuid, last)
    return last
