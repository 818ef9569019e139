"""``{"lock": null}`` and ``{"unlock": null}`` (202): a server's lock.

A locked server refuses every other action, its delete and its metadata
changes with 409 to anyone but an administrator, until it is unlocked
(:func:`orchestrator.api.servers.check_unlocked`); it is shown as
``locked`` from microversion 2.9. Its name, description and access
addresses may still change, as in Nova.

Lock and unlock run no flow, unlike every other action: as in Nova, where
they are API-side writes of the instance's ``locked`` field with no call
to a compute host, they change a flag the API itself reads, not the
guest or any resource. There is nothing to roll back, resume or
reconcile, so one UPDATE (with the instance action recorded in its
transaction, as Nova records lock and unlock) is the whole operation,
durable when it returns; they take no claim, so they work while a task
runs (locking a server while it resizes is how an operator keeps its
owner from touching it next).

From 2.73 a lock may give a reason (``{"lock": {"locked_reason":
"..."}}``, 1 to 255 characters), shown as ``locked_reason`` and cleared
by unlock; before 2.73 a lock takes no arguments. Who locked it (Nova's
``locked_by`` with the ``unlock_override`` rule) is not kept: here any
member of the project may unlock a server an administrator locked.
"""

from orchestrator.api import request as api_request
from orchestrator.api import server_actions
from orchestrator.api import validation
from orchestrator.db import instances as db_instances

#: ``lock``'s body from 2.73 (Nova's): null, or an object with at most a
#: reason.
LOCK_V273 = {'type': 'object', 'properties': {'lock': {
    'type': ['object', 'null'],
    'properties': {'locked_reason': {'type': 'string', 'minLength': 1,
                                     'maxLength': 255}},
    'additionalProperties': False}},
    'required': ['lock'], 'additionalProperties': False}


def _set_locked(req, server_id, value, name, locked):
    if locked and req.at_least(2, 73):
        validation.validate({name: value}, LOCK_V273)
        reason = (value or {}).get('locked_reason')
    else:
        server_actions.check_no_arguments(name, value)
        reason = None
    ctxt = req.context
    db_instances.update_fields(
        server_id, {'locked': locked, 'locked_reason': reason},
        project_id=req.owner_project(),
        action=(name, {'request_id': ctxt.request_id,
                       'user_id': ctxt.user_id,
                       'project_id': ctxt.project_id}))
    return api_request.empty_response(202)


@server_actions.action('lock')
def lock(req, server_id, value):
    """{"lock": null} or from 2.73 {"lock": {"locked_reason"?}} (202)."""
    return _set_locked(req, server_id, value, 'lock', True)


@server_actions.action('unlock')
def unlock(req, server_id, value):
    """{"unlock": null} (202): the reason goes too."""
    return _set_locked(req, server_id, value, 'unlock', False)
