"""Accepted requests not yet posted as jobs (``instance_actions.
pending_request``).

The API records the request it hands to a conductor (:func:`record`)
before the RPC call; the conductor clears it once the flow's job is on
the board (:func:`clear`). :func:`unposted_claims` finds the claims a
crash may have orphaned on the way, for
:mod:`orchestrator.conductor.accepted` to post or release.
"""

import sqlalchemy as sa
from sqlalchemy import orm

from orchestrator.db import models
from orchestrator.db import session

def request_of(ctxt, method, extra):
    """The JSON-safe request to record: the conductor ``method``, its
    extra keyword arguments (a password in them is sealed:
    :mod:`orchestrator.secret_box`), and the context, which never holds
    the caller's token (:meth:`orchestrator.context.RequestContext.
    to_dict`)."""
    return {'method': method, 'extra': dict(extra),
            'context': ctxt.to_dict()}


def record(action_id, request):
    """Keep ``request`` on the action (idempotent: written again, it is
    the same request)."""
    with session.writer() as s:
        s.execute(sa.update(models.InstanceAction).where(
            models.InstanceAction.id == action_id).values(
                pending_request=request))


def clear(action_id):
    """Forget the action's pending request (its job is posted, or it will
    never be). Clearing what is clear does nothing."""
    with session.writer() as s:
        s.execute(sa.update(models.InstanceAction).where(
            models.InstanceAction.id == action_id,
            models.InstanceAction.pending_request.is_not(None)).values(
                pending_request=None))


def unposted_claims(started_before):
    """Open actions started before ``started_before`` whose instance is
    still claimed by them: [(action dict, instance dict)], oldest first.

    Each is either running (its flow's job is on the board), waiting to
    be posted (a crash between the API's claim and the job's post), or
    orphaned; :mod:`orchestrator.conductor.accepted` tells which.
    """
    action, instance = models.InstanceAction, models.Instance
    with session.reader() as s:
        rows = s.execute(
            sa.select(action, instance)
            .join(instance, sa.and_(instance.uuid == action.instance_uuid,
                                    instance.task_id == action.task_id))
            .where(action.finish_time.is_(None),
                   action.start_time < started_before,
                   instance.deleted == 0,
                   instance.task_state.is_not(None))
            .order_by(action.start_time, action.id)).all()
        return [(a.as_dict(), i.as_dict()) for a, i in rows]


def superseded_open_actions(started_before):
    """Open claiming actions started before ``started_before`` whose
    instance is no longer claimed by them (another request took it, or
    it was deleted): [(action dict, holder action name or None)], oldest
    first. Their flows either run (their job is on the board and will
    end them) or never ran (:mod:`orchestrator.conductor.accepted`)."""
    action, instance = models.InstanceAction, models.Instance
    holder = orm.aliased(models.InstanceAction)
    with session.reader() as s:
        rows = s.execute(
            sa.select(action, holder.action)
            .join(instance, instance.uuid == action.instance_uuid)
            .outerjoin(holder, sa.and_(
                holder.instance_uuid == instance.uuid,
                holder.task_id == instance.task_id))
            .where(action.finish_time.is_(None),
                   action.task_id.is_not(None),
                   action.start_time < started_before,
                   sa.or_(instance.deleted != 0,
                          instance.task_id.is_(None),
                          instance.task_id != action.task_id))
            .order_by(action.start_time, action.id)).all()
        return [(a.as_dict(), name) for a, name in rows]


def pending_of_action(action_name, started_before):
    """Actions named ``action_name`` started before ``started_before``
    whose pending request is still recorded (e.g. a force delete's
    cleanup a crash left unposted), oldest first."""
    action = models.InstanceAction
    with session.reader() as s:
        rows = s.execute(sa.select(action).where(
            action.action == action_name,
            action.pending_request.is_not(None),
            action.start_time < started_before)
            .order_by(action.start_time, action.id)).scalars()
        return [r.as_dict() for r in rows]


def clear_finished(except_action, started_before):
    """Forget the pending requests of finished actions (a crash between
    a flow's end and the clearing left them), except those of
    ``except_action`` (a force delete is finished at once; its pending
    request is its cleanup's). Returns how many."""
    action = models.InstanceAction
    with session.writer() as s:
        return s.execute(sa.update(action).where(
            action.finish_time.is_not(None),
            action.pending_request.is_not(None),
            action.action != except_action,
            action.start_time < started_before).values(
                pending_request=None)).rowcount
