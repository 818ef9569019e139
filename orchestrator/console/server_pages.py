"""The console's servers: the list and one server's page (JSON dicts).

A server's fields are those of docs/console_api.md (status as the
newest microversion shows it, the power state by name, the flavor's
size); its page adds the latest fault, its
actions (newest first, at most :data:`ACTIONS_SHOWN`) each with its
flow's uuid and its events (with their attempt and duration), and its
faults. The host and tracebacks are shown to those who may see them
(``show_host``, ``show_tracebacks``): the handler decides by policy.
"""

from orchestrator import state_machine
from orchestrator import states
from orchestrator import flow_index
from orchestrator.api.views import servers as server_views
from orchestrator.console import flow_tree
from orchestrator.console import times
from orchestrator.db import actions as db_actions
from orchestrator.db import instances as db_instances

#: Actions a server's page shows (the newest).
ACTIONS_SHOWN = 100
#: Faults a server's page shows (the newest).
FAULTS_SHOWN = 50
#: The status of the newest microversion (every status is shown).
_NEWEST = (9, 99)


def status(instance):
    return state_machine.status(instance['vm_state'],
                                instance['task_state'], _NEWEST)


def _flavor(instance):
    flavor = instance.get('flavor') or {}
    return {'name': flavor.get('name'),
            'vcpus': flavor.get('vcpus', instance.get('vcpus')),
            'ram': flavor.get('memory_mb', instance.get('memory_mb')),
            'disk': flavor.get('root_gb', instance.get('root_gb'))}


def server_body(instance, now, show_host):
    """The fields of one server in the list and on its page."""
    created = instance.get('created_at')
    return {
        'id': instance['uuid'], 'name': instance['display_name'] or '',
        'status': status(instance), 'vm_state': instance['vm_state'],
        'task_state': instance['task_state'],
        'power_state': states.POWER_STATE_NAMES.get(
            instance.get('power_state')),
        'progress': instance.get('progress') or 0,
        'host': instance.get('host') if show_host else None,
        'flavor': _flavor(instance),
        'project_id': instance['project_id'],
        'created': times.iso(created),
        'age_s': times.seconds_between(created, now),
        'locked': bool(instance.get('locked')),
    }


def list_servers(project_id, host=None, matchers=(), limit=1000):
    """Server bodies, newest first: of ``project_id`` (None: all), on
    ``host`` if given, those every matcher (``instance -> bool``)
    accepts, at most ``limit``."""
    found, marker = [], None
    while len(found) < limit:
        rows = db_instances.list_(project_id=project_id, host=host,
                                  limit=200, marker=marker)
        found.extend(r for r in rows if all(m(r) for m in matchers))
        if len(rows) < 200:
            break
        marker = rows[-1]['uuid']
    return found[:limit]


def _fault_body(fault, show_details):
    return {'code': fault['code'], 'message': fault['message'] or '',
            'details': fault['details'] if show_details else None,
            'created': times.iso(fault['created_at'])}


def _event_body(event, show_tracebacks):
    start = event['start_time'] or event['created_at']
    _step, _revert, attempt = flow_tree.parse_event(event['event'])
    return {'event': event['event'], 'start_time': times.iso(start),
            'finish_time': times.iso(event['finish_time']),
            'duration_s': times.seconds_between(start,
                                                event['finish_time']),
            'result': event['result'], 'attempts': attempt,
            'traceback': event['traceback'] if show_tracebacks else None}


def server_page(instance, show_host, show_tracebacks):
    """{'server', 'actions', 'faults'} of one instance (a dict of
    :func:`orchestrator.db.instances.get`)."""
    now = times.now()
    body = server_body(instance, now, show_host)
    faults = db_instances.faults_of(instance['uuid'], FAULTS_SHOWN)
    latest = faults[0] if faults and instance['vm_state'] in \
        server_views.FAULT_VM_STATES else None
    body['fault'] = _fault_body(latest, show_tracebacks) if latest else None
    actions = db_actions.list_for_instance(instance['uuid'],
                                           limit=ACTIONS_SHOWN)
    events = db_actions.events_of_actions([a['id'] for a in actions])
    flows = flow_index.flows_of_actions(actions)
    return {
        'server': body,
        'actions': [{
            'request_id': a['request_id'], 'action': a['action'],
            'start_time': times.iso(a['start_time']),
            'finish_time': times.iso(a['finish_time']),
            'message': a['message'], 'user_id': a['user_id'],
            'flow_uuid': flows[a['id']]['uuid'] if a['id'] in flows
            else None,
            'events': [_event_body(e, show_tracebacks)
                       for e in events[a['id']]],
        } for a in actions],
        'faults': [_fault_body(f, show_tracebacks) for f in faults],
    }
