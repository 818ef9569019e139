"""What the logbook and the jobboard say about flows, for operators.

:func:`list_flows` gives one row per flow that is in flight or failed:
its name, state, instance, the conductor that owns its job (if any), its
age and the step it is at. :func:`show_flow` gives every step of one flow
with its state, timing (from the audit trail) and result or failure.

Read-only: nothing here changes a flow, a job or an instance.
"""

import datetime

from taskflow import exceptions as tf_exc
from taskflow import states as tf_states

from orchestrator import flow_index
from orchestrator.db import actions as db_actions

from flows import catalog
from flows import keys

#: Flow states a listing shows by default: in flight or failed.
OPEN_STATES = frozenset([tf_states.PENDING, tf_states.RUNNING,
                         tf_states.REVERTING, tf_states.SUSPENDED,
                         tf_states.RESUMING, tf_states.FAILURE])
#: Step states that mark where a flow is.
_CURRENT = (tf_states.RUNNING, tf_states.REVERTING, tf_states.FAILURE,
            tf_states.REVERT_FAILURE)


def _text(failure):
    return None if failure is None else failure.pformat()


def _jobs_by_flow(board):
    """{flow uuid: (job, owner)} of every job on the board."""
    out = {}
    if board is None:
        return out
    for job in board.iterjobs(ensure_fresh=True):
        flow_uuid = (job.details or {}).get('flow_uuid')
        if flow_uuid:
            out[flow_uuid] = (job, board.find_owner(job))
    return out


def current_step(atoms):
    """Where a flow is, from its atom details (in order): the step
    running, reverting or failed, else the last one done; '' when
    none or all are done."""
    atoms = list(atoms)
    for atom in atoms:
        if atom.state in _CURRENT:
            return '%s (%s)' % (catalog.short_name(atom.name), atom.state)
    done = [a for a in atoms if a.state == tf_states.SUCCESS]
    if done and len(done) < len(atoms):
        return 'after %s' % catalog.short_name(done[-1].name)
    return ''


def _store(flow_detail, job):
    store = (flow_detail.meta or {}).get('store')
    if store is None and job is not None:
        store = (job.details or {}).get('store')
    return store or {}


def list_flows(persistence, board=None, include_all=False, now=None):
    """Rows (dicts) of flows in flight or failed (every flow with
    ``include_all``), oldest first."""
    now = now or datetime.datetime.now(datetime.timezone.utc)
    jobs = _jobs_by_flow(board)
    rows = []
    with _closing(persistence.get_connection()) as conn:
        for book in conn.get_logbooks():
            for flow_detail in book:
                if not include_all and flow_detail.state not in OPEN_STATES:
                    continue
                job, owner = jobs.get(flow_detail.uuid, (None, None))
                created = book.created_at
                if created is not None and created.tzinfo is None:
                    created = created.replace(tzinfo=datetime.timezone.utc)
                store = _store(flow_detail, job)
                rows.append({
                    'uuid': flow_detail.uuid,
                    'name': flow_detail.name,
                    'state': flow_detail.state or tf_states.PENDING,
                    'instance': store.get(keys.INSTANCE_UUID),
                    'owner': owner,
                    'job': job.uuid if job is not None else None,
                    'age_s': (now - created).total_seconds()
                    if created else None,
                    'step': current_step(flow_detail),
                })
    rows.sort(key=lambda r: -(r['age_s'] or 0))
    return rows


def find_flow(persistence, flow_uuid):
    """(logbook, flow detail) of ``flow_uuid`` (a prefix of at least 8
    characters is enough when it is unique); LookupError if none.

    The flow is found by its key (:func:`orchestrator.flow_index.find`),
    then only its own logbook is read."""
    row = flow_index.find(flow_uuid)
    with _closing(persistence.get_connection()) as conn:
        try:
            book = conn.get_logbook(row['book'])
        except tf_exc.NotFound:
            raise LookupError('no flow matches %r' % flow_uuid) from None
    flow_detail = book.find(row['uuid'])
    if flow_detail is None:
        raise LookupError('no flow matches %r' % flow_uuid)
    return book, flow_detail


def show_flow(persistence, flow_uuid, board=None):
    """A dict with the flow's summary and ``steps``: every step in order
    with its state, intention, start and finish (from the audit trail),
    result, failure and revert failure."""
    book, flow_detail = find_flow(persistence, flow_uuid)
    job, owner = _jobs_by_flow(board).get(flow_detail.uuid, (None, None))
    store = _store(flow_detail, job)
    events = {}
    if store.get(keys.ACTION_ID) is not None:
        events = {e['event']: e for e in
                  db_actions.events_for(store[keys.ACTION_ID])}
    steps = []
    for atom in flow_detail:
        name = catalog.short_name(atom.name)
        event = events.get(name, {})
        revert = events.get(name + ':revert', {})
        steps.append({
            'name': name,
            'state': atom.state,
            'intention': atom.intention,
            'start': event.get('start_time'),
            'finish': event.get('finish_time'),
            'revert_finish': revert.get('finish_time'),
            'result': atom.results if atom.failure is None else None,
            'failure': _text(atom.failure),
            'revert_failure': _text(atom.revert_failure),
        })
    return {'uuid': flow_detail.uuid, 'name': flow_detail.name,
            'state': flow_detail.state, 'book': book.uuid,
            'instance': store.get(keys.INSTANCE_UUID),
            'action_id': store.get(keys.ACTION_ID),
            'resume_policy': (flow_detail.meta or {}).get('resume_policy'),
            'owner': owner, 'job': job.uuid if job is not None else None,
            'steps': steps}


class _closing:
    def __init__(self, conn):
        self._conn = conn

    def __enter__(self):
        return self._conn

    def __exit__(self, *exc):
        self._conn.close()
