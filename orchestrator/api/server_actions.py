"""``POST /v2.1/servers/{id}/action``: one action per request, dispatched
by name through :data:`HANDLERS`.

An action is added by writing ``handler(req, server_id, value)`` and
decorating it with :func:`action`; the name is the body's single key, as
in Nova (``{"forceDelete": null}``). Admin-only actions (per
:data:`orchestrator.state_machine.ACTIONS`) are refused with 403 for
others before the handler runs. Any other name is a 400 "Unsupported
action", including actions the state machine knows but the API does not
offer yet.
"""

from orchestrator import exception
from orchestrator import state_machine
from orchestrator.api import operations
from orchestrator.api import request as api_request
from orchestrator.api import servers
from orchestrator.db import instances as db_instances

#: action name -> handler(req, server_id, value) -> webob.Response
HANDLERS = {}


def action(name):
    """Register the decorated function as the handler of ``name``."""
    def register(handler):
        HANDLERS[name] = handler
        return handler
    return register


@action(state_machine.FORCE_DELETE)
def force_delete(req, server_id, value):
    """Delete now, preempting whatever runs (202).

    The database delete always succeeds while the database is up; the
    host-side cleanup is posted if the server had a host, and left to
    reconciliation if no conductor answers.
    """
    ctxt = req.context
    before, act = db_instances.force_delete(
        server_id, {'request_id': ctxt.request_id, 'user_id': ctxt.user_id,
                    'project_id': ctxt.project_id},
        project_id=servers.owner_project(ctxt))
    if before.get('host'):
        operations.cleanup_after_force_delete(ctxt, server_id,
                                              before['host'], act['id'])
    return api_request.empty_response(202)


def _claim_and_start(req, server_id, name):
    """Claim the server for action ``name`` (409 when the table forbids it
    now) and have a conductor run its flow."""
    ctxt = req.context
    instance, act = db_instances.claim(
        server_id, name, {'request_id': ctxt.request_id,
                          'user_id': ctxt.user_id,
                          'project_id': ctxt.project_id},
        project_id=servers.owner_project(ctxt))
    operations.start(ctxt, 'start_action', instance, act, operation=name)
    return api_request.empty_response(202)


def _claimed_action(key, name):
    """A handler for body key ``key`` that claims the server for action
    ``name`` (409 when the table forbids it now) and has a conductor run
    its flow (202)."""

    def handler(req, server_id, value):
        if value is not None:
            raise exception.Invalid('%s takes no arguments (null)' % key)
        return _claim_and_start(req, server_id, name)

    return handler


#: Request body key -> action name, for the single-host power actions.
POWER_ACTIONS = {
    'os-stop': state_machine.STOP,
    'os-start': state_machine.START,
    'pause': state_machine.PAUSE,
    'unpause': state_machine.UNPAUSE,
    'suspend': state_machine.SUSPEND,
    'resume': state_machine.RESUME,
}
for _key, _name in POWER_ACTIONS.items():
    action(_key)(_claimed_action(_key, _name))


@action('reboot')
def reboot(req, server_id, value):
    """{"reboot": {"type": "SOFT" | "HARD"}} (202). A soft reboot that
    does not finish in time becomes hard; a hard reboot may preempt a
    soft one that runs."""
    reboot_type = value.get('type') if isinstance(value, dict) else None
    if not isinstance(reboot_type, str) or reboot_type.upper() not in (
            'SOFT', 'HARD'):
        raise exception.ValidationError(
            field='reboot.type', reason='must be "SOFT" or "HARD"')
    name = (state_machine.REBOOT_HARD if reboot_type.upper() == 'HARD'
            else state_machine.REBOOT_SOFT)
    return _claim_and_start(req, server_id, name)


@action('os-resetState')
def reset_state(req, server_id, value):
    """{"os-resetState": {"state": "active" | "error"}} (admin, 202):
    vm_state set at once, task_state cleared, whatever ran preempted;
    audited as action resetState."""
    state = value.get('state') if isinstance(value, dict) else None
    if state not in ('active', 'error'):
        raise exception.ValidationError(
            field='os-resetState.state', reason='must be "active" or "error"')
    ctxt = req.context
    db_instances.reset_state(server_id, state, {
        'request_id': ctxt.request_id, 'user_id': ctxt.user_id,
        'project_id': ctxt.project_id})
    return api_request.empty_response(202)


#: Request body keys whose action name differs from the key.
ACTION_NAMES = dict(POWER_ACTIONS, **{
    'os-resetState': state_machine.RESET_STATE})


def dispatch(req, server_id):
    """POST /servers/{id}/action."""
    body = req.json_body()
    if not isinstance(body, dict) or len(body) != 1:
        raise exception.Invalid('An action request is a JSON object with '
                                'exactly one key, the action name.')
    name, value = next(iter(body.items()))
    handler = HANDLERS.get(name)
    if handler is None:
        raise exception.Invalid('Unsupported action: %s' % name)
    rules = state_machine.ACTIONS.get(ACTION_NAMES.get(name, name))
    if rules is not None and rules.admin_only:
        req.require_admin('os_compute_api:os-admin-actions:%s' % name)
    return handler(req, server_id, value)


def register(router):
    router.add('POST', '/v2.1/servers/{server_id}/action', dispatch)
