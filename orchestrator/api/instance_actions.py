"""``/v2.1/servers/{id}/os-instance-actions``: the audit of a server.

One action per request (and per automatic correction), newest first;
showing one by request id adds its events (one per flow step).
Tracebacks of events are for administrators only. Actions of a deleted
server stay visible, as in Nova.
"""

from orchestrator import state_machine
from orchestrator.api import request as api_request
from orchestrator.api import servers
from orchestrator.api.views import timestamps
from orchestrator.db import actions as db_actions
from orchestrator.policies import server_records as record_rules


#: Actions recorded under a name of ours, shown under Nova's (clients and
#: tempest look for Nova's): a hard reboot is a "reboot" to Nova, its
#: events (the steps of the hard reboot flow) tell the two apart.
NOVA_ACTION_NAMES = {state_machine.REBOOT_HARD: 'reboot'}


def _action_body(action):
    return {
        'action': NOVA_ACTION_NAMES.get(action['action'], action['action']),
        'instance_uuid': action['instance_uuid'],
        'request_id': action['request_id'],
        'user_id': action['user_id'] or '',
        'project_id': action['project_id'] or '',
        'start_time': timestamps.iso(action['start_time']),
        'message': action['message'],
    }


def _event_body(event, with_traceback):
    body = {
        'event': event['event'],
        'start_time': timestamps.iso(event['start_time']
                                     or event['created_at']),
        'finish_time': timestamps.iso(event['finish_time']),
        'result': event['result'],
    }
    if with_traceback:
        body['traceback'] = event['traceback']
    return body


def index(req, server_id):
    """GET /servers/{id}/os-instance-actions (200, 404)."""
    instance = servers.get_instance(req, server_id, read_deleted=True,
                                    rule=record_rules.ACTIONS_LIST)
    actions = db_actions.list_for_instance(instance['uuid'])
    return api_request.json_response(
        {'instanceActions': [_action_body(a) for a in actions]})


def show(req, server_id, request_id):
    """GET /servers/{id}/os-instance-actions/{request_id} (200, 404)."""
    instance = servers.get_instance(req, server_id, read_deleted=True,
                                    rule=record_rules.ACTIONS_SHOW)
    action = db_actions.get_by_request_id(instance['uuid'], request_id)
    body = _action_body(action)
    target = servers.target(instance)
    if req.can(record_rules.ACTION_EVENTS, target):
        with_traceback = req.can(record_rules.ACTION_EVENT_DETAILS, target)
        body['events'] = [_event_body(e, with_traceback)
                          for e in db_actions.events_for(action['id'])]
    return api_request.json_response({'instanceAction': body})


def register(router):
    router.add('GET', '/v2.1/servers/{server_id}/os-instance-actions', index)
    router.add('GET',
               '/v2.1/servers/{server_id}/os-instance-actions/{request_id}',
               show)
