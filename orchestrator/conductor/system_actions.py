"""Actions the system starts on its own (periodics), claimed and posted
exactly as a user's request would be.

:func:`claim_and_post` makes the same atomic claim the API makes, as the
user ``orchestrator`` (so a user's request racing it makes exactly one of
them win, and the audit shows who acted), and posts the action's flow.
"""

import logging

from orchestrator import context as orch_context
from orchestrator import exception
from orchestrator.db import instances

from flows import keys

LOG = logging.getLogger(__name__)


def claim_and_post(poster, instance_uuid, action_name, flow_module,
                   params=None):
    """Claim the instance for ``action_name`` and post ``flow_module``.

    :returns: the claimed instance dict, or None when the claim was
        refused (the instance moved on or is gone) or joined the same
        action already running (a delete): nothing posted.
    """
    ctxt = orch_context.get_admin_context()
    try:
        claimed, action = instances.claim(
            instance_uuid, action_name,
            {'request_id': ctxt.request_id, 'user_id': ctxt.user_id,
             'project_id': ctxt.project_id})
    except (exception.InstanceInvalidState,
            exception.InstanceNotFound) as e:
        LOG.info('Not starting %s on %s: %s', action_name, instance_uuid,
                 e)
        return None
    if action is None:
        LOG.info('Not starting %s on %s: one runs already (task_state %s)',
                 action_name, instance_uuid, claimed['task_state'])
        return None
    store = keys.make_store(ctxt.to_dict(), claimed['uuid'], action['id'],
                            task_id=claimed['task_id'], params=params)
    poster.post(flow_module, store, claimed['task_id'])
    return claimed
