"""Accepted requests not yet posted as jobs (``instance_actions.
pending_request``).

The API records the request it hands to a conductor (:func:`record`)
before the RPC call; the conductor clears it once the flow's job is on
the board (:func:`clear`). :func:`unposted_claims` finds the claims a
crash may have orphaned on the way, for
:mod:`orchestrator.conductor.accepted` to post or release.
"""

import sqlalchemy as sa

from orchestrator.db import models
from orchestrator.db import session

#: Context keys never kept in a pending request (secrets).
_SECRET_CONTEXT_KEYS = ('auth_token', 'auth_token_info')


def request_of(ctxt, method, extra):
    """The JSON-safe request to record: the conductor ``method``, its
    extra keyword arguments, and the context without its token."""
    context = {k: v for k, v in ctxt.to_dict().items()
               if k not in _SECRET_CONTEXT_KEYS}
    return {'method': method, 'extra': dict(extra), 'context': context}


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
