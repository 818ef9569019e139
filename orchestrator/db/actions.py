"""Instance actions (one per request) and their events (one per flow step).

Events are keyed by (action, event name): writing the start or finish of an
event again (a step re-run after a crash) updates the same row, so the audit
never shows a step twice and never loses one.
"""

import datetime

import sqlalchemy as sa

from orchestrator import exception
from orchestrator.db import models
from orchestrator.db import paging
from orchestrator.db import session


def start_in(s, instance_uuid, action, request_id, task_id=None,
             user_id=None, project_id=None):
    """Record the start of an action inside the session ``s``."""
    row = models.InstanceAction(
        instance_uuid=instance_uuid, action=action, request_id=request_id,
        task_id=task_id, user_id=user_id, project_id=project_id,
        start_time=models.utcnow())
    s.add(row)
    s.flush()
    return row.as_dict()


def finish_in(s, action_id, result, message=None, only_open=False):
    """Mark the action finished inside the session ``s``; with
    ``only_open``, an action something finished first keeps that finish.
    A finished action has no request waiting to be posted any more
    (:mod:`orchestrator.db.pending_requests`). Returns True if it
    wrote."""
    where = [models.InstanceAction.id == action_id]
    if only_open:
        where.append(models.InstanceAction.finish_time.is_(None))
    return s.execute(sa.update(models.InstanceAction).where(*where).values(
        finish_time=models.utcnow(), result=result, pending_request=None,
        message=(message or None) and message[:255])).rowcount == 1


def start(instance_uuid, action, request_id, task_id=None, user_id=None,
          project_id=None):
    """Record an action that is not a claim (e.g. a reconciliation)."""
    with session.writer() as s:
        return start_in(s, instance_uuid, action, request_id, task_id,
                        user_id, project_id)


def record(instance_uuid, action, result, message, request_id,
           user_id=None, project_id=None):
    """Record an action that started and finished at once (e.g. a
    reconciliation's correction on a deleted instance), in one
    transaction. Returns the action dict; a re-run records another."""
    with session.writer() as s:
        row = start_in(s, instance_uuid, action, request_id,
                       user_id=user_id, project_id=project_id)
        finish_in(s, row['id'], result, message)
        return s.execute(sa.select(models.InstanceAction).where(
            models.InstanceAction.id == row['id']).execution_options(
                populate_existing=True)).scalar_one().as_dict()


def finish(action_id, result, message=None):
    """Mark the action finished with ``result`` (Success/Error); re-runs
    overwrite the same row."""
    with session.writer() as s:
        finish_in(s, action_id, result, message)


def finish_if_open(action_id, result, message=None):
    """Finish the action unless something finished it already.

    For the end of a flow: an action another component decided first (the
    deadline watchdog, a claim released because no conductor answered)
    keeps that decision and its message. A flow ending again after a
    crash finds its own finish and leaves it. Returns True if it wrote.
    """
    with session.writer() as s:
        result_ = s.execute(sa.update(models.InstanceAction).where(
            models.InstanceAction.id == action_id,
            models.InstanceAction.finish_time.is_(None)).values(
                finish_time=models.utcnow(), result=result,
                pending_request=None,
                message=(message or None) and message[:255]))
        return result_.rowcount == 1


def ending(instance_uuid, within_s):
    """True when an action of the instance started in the last
    ``within_s`` seconds is not finished yet: a task that just cleared
    its task_state finishes its action right after. (An older open
    action is abandoned and does not count.)"""
    since = models.utcnow() - datetime.timedelta(seconds=within_s)
    with session.reader() as s:
        return s.execute(sa.select(models.InstanceAction.id).where(
            models.InstanceAction.instance_uuid == instance_uuid,
            models.InstanceAction.finish_time.is_(None),
            models.InstanceAction.start_time >= since).limit(1)
        ).first() is not None


def get(action_id):
    with session.reader() as s:
        row = s.get(models.InstanceAction, action_id)
        return row.as_dict() if row is not None else None


def _changed_at():
    """When an action last changed: its updated_at (bumped by every event
    write), else its creation."""
    return sa.func.coalesce(models.InstanceAction.updated_at,
                            models.InstanceAction.created_at)


def list_for_instance(instance_uuid, limit=None, marker=None,
                      changed_since=None, changed_before=None):
    """Actions of the instance, newest first.

    :param marker: the request id of the last action of the previous
        page (InstanceActionNotFound when the instance has none such).
    :param changed_since: only actions changed at or after this time.
    :param changed_before: only actions changed at or before this time.
    """
    with session.reader() as s:
        q = sa.select(models.InstanceAction).where(
            models.InstanceAction.instance_uuid == instance_uuid)
        if marker is not None:
            q = paging.older_than_marker(
                s, q, models.InstanceAction,
                [models.InstanceAction.instance_uuid == instance_uuid,
                 models.InstanceAction.request_id == marker],
                lambda: exception.InstanceActionNotFound(
                    request_id=marker, instance_id=instance_uuid))
        if changed_since is not None:
            q = q.where(_changed_at() >= changed_since)
        if changed_before is not None:
            q = q.where(_changed_at() <= changed_before)
        q = q.order_by(models.InstanceAction.id.desc())
        if limit is not None:
            q = q.limit(limit)
        return [r.as_dict() for r in s.execute(q).scalars()]


def get_by_request_id(instance_uuid, request_id):
    """The action of the request on the instance, or InstanceActionNotFound."""
    with session.reader() as s:
        row = s.execute(sa.select(models.InstanceAction).where(
            models.InstanceAction.instance_uuid == instance_uuid,
            models.InstanceAction.request_id == request_id).order_by(
                models.InstanceAction.id.desc()).limit(1)
        ).scalar_one_or_none()
        if row is None:
            raise exception.InstanceActionNotFound(
                request_id=request_id, instance_id=instance_uuid)
        return row.as_dict()


def event_start(action_id, event, host=None):
    """Record that a step started (again, after a crash: same row)."""
    with session.writer() as s:
        event_start_on(s.connection(), action_id, event, host=host)


def event_finish(action_id, event, result, traceback=None, details=None,
                 host=None):
    """Record how a step ended; creates the row if its start was lost."""
    with session.writer() as s:
        event_finish_on(s.connection(), action_id, event, result,
                        traceback=traceback, details=details, host=host)


_EVENTS = models.InstanceActionEvent.__table__
_ACTIONS = models.InstanceAction.__table__


def _event_is(action_id, event):
    return sa.and_(_EVENTS.c.action_id == action_id, _EVENTS.c.event == event)


def _upsert_event(conn, action_id, event, insert_values, update_values):
    """Write event ``event`` of ``action_id``: ``update_values`` on its
    row, or a new row of ``insert_values`` (plus the update values).
    One statement (INSERT .. ON CONFLICT DO UPDATE) on PostgreSQL and
    SQLite, one more on MySQL's and other dialects (an UPDATE, then an
    INSERT when it matched no row)."""
    row = dict(insert_values, **update_values)
    row.update(action_id=action_id, event=event)
    dialect = conn.dialect.name
    if dialect in ('postgresql', 'sqlite'):
        if dialect == 'postgresql':
            from sqlalchemy.dialects.postgresql import insert
        else:
            from sqlalchemy.dialects.sqlite import insert
        statement = insert(_EVENTS).values(**row)
        conn.execute(statement.on_conflict_do_update(
            index_elements=[_EVENTS.c.action_id, _EVENTS.c.event],
            set_=dict(update_values, updated_at=models.utcnow())))
        _touch_action(conn, action_id)
        return
    if conn.execute(sa.update(_EVENTS).where(
            _event_is(action_id, event)).values(update_values)).rowcount == 0:
        conn.execute(sa.insert(_EVENTS).values(**row))
    _touch_action(conn, action_id)


def _touch_action(conn, action_id):
    """The action changed when one of its events did (its updated_at, the
    2.58 ``changes-since`` of instance actions, as Nova)."""
    conn.execute(sa.update(_ACTIONS).where(_ACTIONS.c.id == action_id)
                 .values(updated_at=models.utcnow()))


def event_start_on(conn, action_id, event, host=None):
    """:func:`event_start` on ``conn`` (a SQLAlchemy Connection in a
    transaction of the caller's). Re-run: the same row, started again."""
    values = {'start_time': models.utcnow(), 'finish_time': None,
              'result': None, 'traceback': None}
    if host:
        values['host'] = host
    _upsert_event(conn, action_id, event, {}, values)


def event_finish_on(conn, action_id, event, result, traceback=None,
                    details=None, host=None):
    """:func:`event_finish` on ``conn`` (a transaction of the caller's);
    a row whose start was lost is started now. Re-run: the same row,
    finished again."""
    now = models.utcnow()
    values = {'finish_time': now, 'result': result, 'traceback': traceback,
              'details': details}
    if host:
        values['host'] = host
    _upsert_event(conn, action_id, event, {'start_time': now}, values)


def events_for(action_id):
    """Events of the action, in the order they started."""
    with session.reader() as s:
        rows = s.execute(sa.select(models.InstanceActionEvent).where(
            models.InstanceActionEvent.action_id == action_id).order_by(
                models.InstanceActionEvent.id)).scalars()
        return [r.as_dict() for r in rows]


def events_of_actions(action_ids):
    """{action id: its events in the order they started} of the given
    actions (every id a key), in one query per 500 ids."""
    ids = sorted(set(action_ids))
    out = {action_id: [] for action_id in ids}
    event = models.InstanceActionEvent
    with session.reader() as s:
        for start in range(0, len(ids), 500):
            rows = s.execute(sa.select(event).where(
                event.action_id.in_(ids[start:start + 500])).order_by(
                    event.id)).scalars()
            for row in rows:
                out[row.action_id].append(row.as_dict())
    return out
