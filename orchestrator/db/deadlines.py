"""Deadlines of transient states, kept on the instance row.

Every write that puts an instance in a task_state sets
``task_deadline_at`` to now + :func:`deadline_for` (task_state); a write
that moves it to another task_state sets it again, and one that clears
task_state clears it (:mod:`orchestrator.db.instances` calls
:func:`deadline_at` in the same UPDATE). Times are naive UTC from
:func:`orchestrator.db.models.utcnow`, like every timestamp of this schema.

:func:`stamp_missing`, :func:`list_overdue` and :func:`record_decision`
are the database half of the conductor's deadline watchdog
(:mod:`orchestrator.conductor.deadlines`), which says what is decided.
"""

import datetime
import uuid as uuidlib

from oslo_config import cfg
import sqlalchemy as sa

from orchestrator import state_machine
from orchestrator import states
from orchestrator.db import actions as db_actions
from orchestrator.db import models
from orchestrator.db import session


def deadline_for(task_state, conf=None):
    """Seconds an instance may stay in ``task_state`` (None for None).

    ``[conductor] task_deadlines_s`` names the task_state, else
    ``[conductor] default_task_deadline_s``. Read at every call, so an
    override applies to the next claim.
    """
    if task_state is None:
        return None
    group = (conf or cfg.CONF).conductor
    return group.task_deadlines_s.get(task_state,
                                      group.default_task_deadline_s)


def deadline_at(task_state, now=None):
    """When an instance entering ``task_state`` at ``now`` passes its
    deadline; None when ``task_state`` is None (no task, no deadline)."""
    seconds = deadline_for(task_state)
    if seconds is None:
        return None
    return (now or models.utcnow()) + datetime.timedelta(seconds=seconds)


def _live_in_task():
    return (models.Instance.deleted == 0,
            models.Instance.task_state.is_not(None))


def stamp_missing(now=None):
    """Give a deadline to every live instance in a task_state without one.

    A row put in a task_state by a writer that does not set deadlines (an
    older release, a hand edit) gets ``now`` + its deadline, so it is
    decided at the latest one deadline after it was first seen. Re-run:
    rows that have a deadline are left alone. Returns how many it stamped.
    """
    now = now or models.utcnow()
    stamped = 0
    with session.writer() as s:
        rows = s.execute(sa.select(models.Instance.id,
                                   models.Instance.task_state).where(
            *_live_in_task(),
            models.Instance.task_deadline_at.is_(None))).all()
        for row_id, task_state in rows:
            result = s.execute(sa.update(models.Instance).where(
                models.Instance.id == row_id,
                models.Instance.task_state == task_state,
                models.Instance.task_deadline_at.is_(None)).values(
                    task_deadline_at=deadline_at(task_state, now)))
            stamped += result.rowcount
    return stamped


def list_overdue(now=None, limit=None):
    """Live instances in a task_state whose deadline is not after ``now``.

    Plain dicts (uuid, task_id, task_state, vm_state, host,
    task_deadline_at), earliest deadline first; reading changes nothing.
    """
    now = now or models.utcnow()
    cols = (models.Instance.uuid, models.Instance.task_id,
            models.Instance.task_state, models.Instance.vm_state,
            models.Instance.host, models.Instance.task_deadline_at)
    with session.reader() as s:
        q = sa.select(*cols).where(
            *_live_in_task(),
            models.Instance.task_deadline_at <= now).order_by(
                models.Instance.task_deadline_at, models.Instance.id)
        if limit is not None:
            q = q.limit(limit)
        return [dict(row._mapping) for row in s.execute(q)]


def running_action(instance_uuid, task_id):
    """The unfinished instance action of task ``task_id``, or None."""
    if task_id is None:
        return None
    with session.reader() as s:
        row = s.execute(sa.select(models.InstanceAction).where(
            models.InstanceAction.instance_uuid == instance_uuid,
            models.InstanceAction.task_id == task_id,
            models.InstanceAction.finish_time.is_(None)).order_by(
                models.InstanceAction.id.desc()).limit(1)
        ).scalar_one_or_none()
        return row.as_dict() if row is not None else None


def record_decision(instance, vm_state, fault, decision, action, result,
                    now=None):
    """Record the decision on an overdue task, if nobody else did first.

    One transaction. Its UPDATE is a compare-and-swap on what the decision
    was made from: the row must still be ``instance``'s (uuid), live, in
    the same task_id, task_state and vm_state, with its deadline passed at
    ``now``. If so it sets ``vm_state``, clears task_state and the
    deadline, and gives the claim a fresh task_id (the stuck flow's next
    write finds itself preempted and writes nothing); then it records the
    fault, finishes the task's unfinished instance action as Error with
    the fault's message, and records the decision as action ``action``
    under the new task_id, finished with ``result`` and ``decision`` as
    its message.

    Of concurrent callers on one instance exactly one decides; running it
    again after it decided finds the CAS false and writes nothing.

    :param instance: dict from :func:`list_overdue`.
    :param fault: (code, message, details) of the fault.
    :returns: (new task_id, decision action dict), or None when the row no
        longer matches (the flow ended, a user acted, another watchdog
        decided): nothing was written.
    :raises ValueError: ``vm_state`` is not a state a failed task may
        leave the instance in.
    """
    now = now or models.utcnow()
    if vm_state != instance['vm_state'] and not \
            state_machine.may_transition(instance['vm_state'], vm_state,
                                         'fail'):
        raise ValueError('a task past its deadline may not move an '
                         'instance from %s to %s'
                         % (instance['vm_state'], vm_state))
    old_task_id = instance['task_id']
    if old_task_id is None:
        same_task = models.Instance.task_id.is_(None)
    else:
        same_task = models.Instance.task_id == old_task_id
    new_task_id = str(uuidlib.uuid4())
    code, message, details = fault
    with session.writer() as s:
        updated = s.execute(sa.update(models.Instance).where(
            models.Instance.uuid == instance['uuid'],
            models.Instance.deleted == 0, same_task,
            models.Instance.task_state == instance['task_state'],
            models.Instance.vm_state == instance['vm_state'],
            models.Instance.task_deadline_at <= now).values(
                vm_state=vm_state, task_state=None, task_id=new_task_id,
                task_deadline_at=None, updated_at=now)
            .execution_options(synchronize_session=False))
        if updated.rowcount != 1:
            return None
        s.add(models.InstanceFault(
            instance_uuid=instance['uuid'], code=code,
            message=(message or '')[:255], details=details,
            host=instance.get('host')))
        if old_task_id is not None:
            open_ids = s.execute(sa.select(models.InstanceAction.id).where(
                models.InstanceAction.instance_uuid == instance['uuid'],
                models.InstanceAction.task_id == old_task_id,
                models.InstanceAction.finish_time.is_(None))).scalars()
            for action_id in list(open_ids):
                db_actions.finish_in(s, action_id, states.RESULT_ERROR,
                                     message)
        act = db_actions.start_in(
            s, instance['uuid'], action,
            request_id='req-%s' % uuidlib.uuid4(), task_id=new_task_id,
            user_id='orchestrator', project_id='orchestrator')
        db_actions.finish_in(s, act['id'], result, decision)
        return new_task_id, act
