"""The audit event writes made inside a flow transition's transaction
(orchestrator.db.actions.event_start_on / event_finish_on): one row per
(action, event), started again on a re-run, finished with its start kept,
created when its start was lost, on every database we support."""

from orchestrator.db import actions
from orchestrator.db import instances


def _action_id():
    _inst, action = instances.create(
        {'display_name': 'events', 'project_id': 'p', 'user_id': 'u',
         'flavor_id': '1', 'flavor': {'flavorid': '1', 'vcpus': 1,
                                      'memory_mb': 512, 'root_gb': 1},
         'vcpus': 1, 'memory_mb': 512, 'root_gb': 1, 'image_ref': 'img'},
        {'request_id': 'req-events', 'user_id': 'u', 'project_id': 'p'})
    return action['id']


def _events(action_id):
    return {e['event']: e for e in actions.events_for(action_id)}


def test_start_finish_restart_and_lost_start(database):
    action_id = _action_id()
    with database.begin() as conn:
        actions.event_start_on(conn, action_id, 'Spawn', host='h1')
    started = _events(action_id)['Spawn']
    assert started['finish_time'] is None and started['host'] == 'h1'

    with database.begin() as conn:
        actions.event_finish_on(conn, action_id, 'Spawn', 'Error',
                                traceback='boom')
    ended = _events(action_id)['Spawn']
    assert (ended['result'], ended['traceback']) == ('Error', 'boom')
    assert ended['start_time'] == started['start_time']

    # A re-run after a crash: the same row, open again.
    with database.begin() as conn:
        actions.event_start_on(conn, action_id, 'Spawn')
    again = _events(action_id)['Spawn']
    assert again['id'] == started['id']
    assert again['finish_time'] is None and again['result'] is None
    assert again['traceback'] is None and again['host'] == 'h1'

    # A finish whose start was lost creates the row, started now.
    with database.begin() as conn:
        actions.event_finish_on(conn, action_id, 'MarkActive', 'Success')
    lost = _events(action_id)['MarkActive']
    assert lost['start_time'] is not None and lost['result'] == 'Success'
    assert len(_events(action_id)) == 2
