"""``/v2.1/servers/{id}/os-instance-actions``: the audit of a server.

One action per request (and per automatic correction), newest first;
showing one by request id adds its events (one per flow step).
Tracebacks of events are for administrators only. Actions of a deleted
server stay visible, as in Nova.

From 2.58 each action shows ``updated_at`` (when it or one of its events
last changed) and the list pages: ``limit`` (capped at ``[api]
max_limit``), ``marker`` (a request id; 400 if the server has no such
action), ``changes-since``, and from 2.66 ``changes-before`` (400 for a
time that is no date-time or a window that ends before it starts); a
full page links to the next. Before 2.58 these parameters are ignored,
as Nova. From 2.62 each event shows ``hostId`` (the server's opaque id
of the host) and, to those who may see tracebacks, ``host``.
"""

from orchestrator import exception
from orchestrator import state_machine
from orchestrator.api import links
from orchestrator.api import query
from orchestrator.api import request as api_request
from orchestrator.api import servers
from orchestrator.api.views import servers as server_views
from orchestrator.api.views import timestamps
from orchestrator.db import actions as db_actions
from orchestrator.policies import server_records as record_rules


#: Actions recorded under a name of ours, shown under Nova's (clients and
#: tempest look for Nova's): a hard reboot is a "reboot" to Nova, its
#: events (the steps of the hard reboot flow) tell the two apart.
NOVA_ACTION_NAMES = {state_machine.REBOOT_HARD: 'reboot',
                     state_machine.UNSHELVE_ON_HOST: 'unshelve'}


def _action_body(req, action):
    body = {
        'action': NOVA_ACTION_NAMES.get(action['action'], action['action']),
        'instance_uuid': action['instance_uuid'],
        'request_id': action['request_id'],
        'user_id': action['user_id'] or '',
        'project_id': action['project_id'] or '',
        'start_time': timestamps.iso(action['start_time']),
        'message': action['message'],
    }
    if req.at_least(2, 58):
        body['updated_at'] = timestamps.iso(action['updated_at']
                                            or action['created_at'])
    return body


def _event_body(req, instance, event, with_traceback):
    body = {
        'event': event['event'],
        'start_time': timestamps.iso(event['start_time']
                                     or event['created_at']),
        'finish_time': timestamps.iso(event['finish_time']),
        'result': event['result'],
    }
    if with_traceback:
        body['traceback'] = event['traceback']
    if req.at_least(2, 62):
        body['hostId'] = server_views.host_id(
            {'project_id': instance['project_id'], 'host': event['host']})
        if with_traceback:
            body['host'] = event['host'] or ''
    return body


def _paging(req):
    """Keyword arguments of :func:`db_actions.list_for_instance` for the
    request's paging and time window (2.58 on; none before)."""
    if not req.at_least(2, 58):
        return {}
    since, before = query.changes_window(req)
    return {'limit': query.limit(req), 'marker': query.one(req, 'marker'),
            'changed_since': since, 'changed_before': before}


def index(req, server_id):
    """GET /servers/{id}/os-instance-actions (200, 400, 404)."""
    instance = servers.get_instance(req, server_id, read_deleted=True,
                                    rule=record_rules.ACTIONS_LIST)
    paging = _paging(req)
    try:
        actions = db_actions.list_for_instance(instance['uuid'], **paging)
    except exception.InstanceActionNotFound:
        raise exception.Invalid('Marker %s could not be found.'
                                % paging['marker']) from None
    body = {'instanceActions': [_action_body(req, a) for a in actions]}
    if paging:
        next_links = query.next_link(
            req, links.compute_url(req, 'servers', instance['uuid'],
                                   'os-instance-actions'),
            actions, paging['limit'], key='request_id')
        if next_links:
            body['links'] = next_links
    return api_request.json_response(body)


def show(req, server_id, request_id):
    """GET /servers/{id}/os-instance-actions/{request_id} (200, 404)."""
    instance = servers.get_instance(req, server_id, read_deleted=True,
                                    rule=record_rules.ACTIONS_SHOW)
    action = db_actions.get_by_request_id(instance['uuid'], request_id)
    body = _action_body(req, action)
    target = servers.target(instance)
    if req.can(record_rules.ACTION_EVENTS, target):
        with_traceback = req.can(record_rules.ACTION_EVENT_DETAILS, target)
        body['events'] = [_event_body(req, instance, e, with_traceback)
                          for e in db_actions.events_for(action['id'])]
    return api_request.json_response({'instanceAction': body})


def register(router):
    router.add('GET', '/v2.1/servers/{server_id}/os-instance-actions', index)
    router.add('GET',
               '/v2.1/servers/{server_id}/os-instance-actions/{request_id}',
               show)
