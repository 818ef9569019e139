"""The console's flows: the listing and one flow's page (as JSON dicts).

A flow belongs to the project of the instance it works on (its store's
``instance_uuid`` -> ``instances.project_id``); every function takes the
project the caller may see (None: every project) and never returns
another project's flow (:class:`FlowNotFound` for one asked by id).

Costs are bounded by what is shown, not by the history
(:mod:`orchestrator.flow_index`): the default listing reads the flows in
flight or failed, their atoms and instances, and the board's claims (one
query each); ``state=all`` reads the newest flows in pages of
:data:`PAGE` until ``limit`` are found (among the newest
:data:`SCAN_LIMIT`); a listing for one instance reads
that instance's actions and their flows; one flow's page reads that flow,
its atoms, its action and events.
"""

import datetime

from taskflow import states as tf_states

from orchestrator import exception
from orchestrator import flow_index
from orchestrator import flow_views
from orchestrator.console import board as console_board
from orchestrator.console import flow_tree
from orchestrator.console import times
from orchestrator.conductor import jobs
from orchestrator.db import actions as db_actions
from orchestrator.db import instances as db_instances

from flows import keys

#: ``state`` filter -> flow states (None: every state).
STATE_FILTERS = {
    'open': flow_views.OPEN_STATES,
    'failed': frozenset([tf_states.FAILURE, tf_states.REVERTED]),
    'all': None,
}
#: Flows read per query while filtering ``state=all`` by project.
PAGE = 200
#: The newest flows ``state=all`` looks through for a project's (its
#: cost stays bounded whatever the history; one server's flows, with
#: ``instance``, are found by key at any age).
SCAN_LIMIT = 5000
#: Flows ``state=all`` shows by default (the newest).
DEFAULT_LIMIT = 200


class FlowNotFound(exception.NotFound):
    msg_fmt = 'Flow %(flow_id)s could not be found.'


def _visible(summary, project_id):
    if project_id is None:
        return True
    return summary is not None and summary['project_id'] == project_id


def _rows(flow_rows, project_id, claims, now):
    """Listing rows of ``flow_rows`` the project may see."""
    summaries = db_instances.summaries(
        r['store'].get(keys.INSTANCE_UUID) for r in flow_rows)
    shown = [r for r in flow_rows if _visible(
        summaries.get(r['store'].get(keys.INSTANCE_UUID)), project_id)]
    # Where a flow is needs its atoms; a flow that ended well has none
    # running or failed.
    atoms = flow_index.atoms([r['uuid'] for r in shown if r['state']
                              not in (tf_states.SUCCESS,
                                      tf_states.REVERTED)])
    out = []
    for row in shown:
        instance = row['store'].get(keys.INSTANCE_UUID)
        summary = summaries.get(instance) or {}
        claim = claims.get(row['uuid']) or {}
        out.append({
            'uuid': row['uuid'], 'name': row['name'],
            'state': row['state'] or tf_states.PENDING,
            'instance': instance,
            'instance_name': summary.get('display_name'),
            'project_id': summary.get('project_id'),
            'owner': claim.get('owner'), 'job': claim.get('job'),
            'lease_expires': times.iso(claim.get('expires')),
            'age_s': times.seconds_between(row['created_at'], now),
            'step': flow_views.current_step(atoms.get(row['uuid'], [])),
        })
    return out


def _instance_books(instance_uuid):
    return [b for b in (flow_index.book_uuid_of(a) for a in
                        db_actions.list_for_instance(instance_uuid))
            if b is not None]


def list_flows(conf, project_id, state='open', instance_uuid=None,
               limit=DEFAULT_LIMIT):
    """Rows of the flows in ``state`` (a key of :data:`STATE_FILTERS`),
    oldest first; of one instance with ``instance_uuid`` (none when the
    caller may not see it); ``limit`` caps ``all`` (the newest)."""
    states = STATE_FILTERS[state]
    claims = console_board.claims(conf)
    now = times.now()
    if instance_uuid is not None:
        summary = db_instances.summaries([instance_uuid]).get(instance_uuid)
        if not _visible(summary, project_id) or summary is None:
            return []
        found = flow_index.flows(states=states,
                                 books=_instance_books(instance_uuid))
        return _rows(found, project_id, claims, now)
    if states is not None:
        return _rows(flow_index.flows(states=states), project_id, claims,
                     now)
    out, offset = [], 0
    while len(out) < limit and offset < SCAN_LIMIT:
        page = flow_index.flows(newest=PAGE, offset=offset)
        rows = _rows(page, project_id, claims, now)
        if rows:
            out = rows[-(limit - len(out)):] + out
        if len(page) < PAGE:
            break
        offset += PAGE
    return out[-limit:]


def _what(event_name, ended):
    _step, revert, attempt = flow_tree.parse_event(event_name)
    what = '%s %s' % ('revert' if revert else 'run',
                      'finished' if ended else 'started')
    return what if attempt <= 1 else '%s (attempt %d)' % (what, attempt)


def timeline(action, events):
    """The flow's action and its events as entries {time, step, what,
    result}, oldest first."""
    entries = []
    if action is not None:
        entries.append({'time': action['start_time'], 'step': None,
                        'what': 'action %s started' % action['action'],
                        'result': None})
        if action['finish_time'] is not None:
            entries.append({'time': action['finish_time'], 'step': None,
                            'what': 'action %s finished'
                                    % action['action'],
                            'result': action['result']})
    for event in events:
        step = flow_tree.parse_event(event['event'])[0]
        start = event['start_time'] or event['created_at']
        entries.append({'time': start, 'step': step,
                        'what': _what(event['event'], False),
                        'result': None})
        if event['finish_time'] is not None:
            entries.append({'time': event['finish_time'], 'step': step,
                            'what': _what(event['event'], True),
                            'result': event['result']})
    # Stable: at one instant a start stays before its finish.
    entries.sort(key=lambda e: e['time'] or datetime.datetime.max)
    return [dict(e, time=times.iso(e['time'])) for e in entries]


def find(flow_id, project_id):
    """(flow row, instance summary or None) of ``flow_id`` (uuid or a
    unique 8+ prefix) if the project may see it, else FlowNotFound."""
    try:
        row = flow_index.find(flow_id)
    except LookupError:
        raise FlowNotFound(flow_id=flow_id) from None
    instance = row['store'].get(keys.INSTANCE_UUID)
    summary = db_instances.summaries([instance]).get(instance)
    if not _visible(summary, project_id):
        raise FlowNotFound(flow_id=flow_id)
    return row, summary


def show_flow(conf, flow_id, project_id):
    """One flow's page: summary, tree and timeline."""
    row, summary = find(flow_id, project_id)
    summary = summary or {}
    store = row['store']
    action_id = store.get(keys.ACTION_ID)
    action = db_actions.get(action_id) if action_id is not None else None
    events = db_actions.events_for(action_id) if action is not None else []
    atoms = flow_index.atoms([row['uuid']])[row['uuid']]
    claim = console_board.claims(conf).get(row['uuid']) or {}
    tree = flow_tree.tree(row['name'], atoms, events)
    return {
        'uuid': row['uuid'], 'name': row['name'],
        'state': row['state'] or tf_states.PENDING,
        'instance': store.get(keys.INSTANCE_UUID),
        'instance_name': summary.get('display_name'),
        'project_id': summary.get('project_id'),
        'action_id': action_id,
        'request_id': action['request_id'] if action else None,
        'resume_policy': row['meta'].get('resume_policy'),
        'owner': claim.get('owner'), 'job': claim.get('job'),
        'lease_expires': times.iso(claim.get('expires')),
        'age_s': times.seconds_between(row['created_at'], times.now()),
        'final': row['state'] in jobs.ENDED_FLOW_STATES,
        'tree': flow_tree.iso_times(tree, times.iso),
        'timeline': timeline(action, events),
    }
