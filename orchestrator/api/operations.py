"""Hand a claimed instance's operation to a conductor, honestly.

The API claims the instance in the database first, then asks a conductor
(an RPC ``call``, ``[DEFAULT] conductor_rpc_timeout_s``) to post the
operation's job. If that call fails, nobody may be working on the claim:
:func:`start` gives the claim back (a building instance goes to ERROR
with a fault, any other keeps its vm_state), marks the action failed and
answers 503. A job the conductor posted after all finds its claim gone and
stops (it was preempted), so nothing runs twice.

Before the call the request is recorded on its action
(:mod:`orchestrator.db.pending_requests`) until the conductor has posted
the job: if this process or the conductor dies in between, a conductor
posts it from there (:mod:`orchestrator.conductor.accepted`), so an
accepted request is never lost.
"""

import logging

import oslo_messaging as messaging

from orchestrator import exception
from orchestrator import failpoints
from orchestrator import states
from orchestrator.conductor import rpcapi as conductor_rpcapi
from orchestrator.db import actions as db_actions
from orchestrator.db import instances as db_instances
from orchestrator.db import pending_requests

from flows import catalog
from flows import cleanup

LOG = logging.getLogger(__name__)


def conductor():
    """A conductor client (built per request: it reads the timeout)."""
    return conductor_rpcapi.ConductorAPI()


def start(ctxt, method, instance, action, **extra):
    """Call ``ConductorAPI.<method>`` for a claimed instance.

    :param method: ``'build_instance'``, ``'delete_instance'`` or
        ``'start_action'`` (with ``operation=<action name>`` in ``extra``).
    :param instance: the instance dict after the claim (uuid, task_id).
    :param action: the action dict the claim recorded.
    :returns: what the conductor returned (the job id).
    :raises ServiceUnavailable: the call failed; the claim is released.
    """
    uuid, task_id = instance['uuid'], instance['task_id']
    flow = catalog.flow_for(action['action'])
    _failpoint(flow, 'after-claim')
    pending_requests.record(action['id'],
                            pending_requests.request_of(ctxt, method, extra))
    _failpoint(flow, 'after-accept')
    try:
        return getattr(conductor(), method)(
            ctxt, instance_uuid=uuid, task_id=task_id,
            action_id=action['id'], **extra)
    except messaging.MessagingException as e:
        reason = ('no conductor took the %s of server %s (%s: %s)'
                  % (action['action'], uuid, type(e).__name__, e))
        LOG.error('Request %s: %s; releasing the claim',
                  ctxt.request_id, reason)
        db_instances.release_claim(uuid, task_id, fault=reason)
        pending_requests.clear(action['id'])
        db_actions.finish(action['id'], states.RESULT_ERROR,
                          message='Conductor unavailable')
        raise exception.ServiceUnavailable(
            reason='%s. Nothing was done; try again later.' % reason
        ) from None


def _failpoint(flow, phase):
    if flow is not None:
        failpoints.hit('%s:job:%s' % (flow.FLOW_NAME, phase))


def cleanup_after_force_delete(ctxt, instance_uuid, host, action_id):
    """Ask for the host-side cleanup of a force-deleted instance.

    The instance is deleted in the database whatever happens here. The
    request is recorded on the force delete's action first: if no
    conductor answers (or a process dies on the way), a conductor posts
    the cleanup later (:mod:`orchestrator.conductor.accepted`), and
    power-state reconciliation destroys what is left meanwhile.
    :returns: True if the cleanup was posted.
    """
    pending_requests.record(action_id, pending_requests.request_of(
        ctxt, 'cleanup_instance', {'host': host}))
    _failpoint(cleanup, 'after-accept')
    try:
        conductor().cleanup_instance(ctxt, instance_uuid, host, action_id)
    except messaging.MessagingException as e:
        LOG.warning('Request %s: cleanup of force-deleted server %s on %s '
                    'was not posted (%s); a conductor will post it',
                    ctxt.request_id, instance_uuid, host, e)
        return False
    return True
