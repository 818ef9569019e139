"""The audit listener: every step of a flow ends up as a finished event.

Real TaskFlow engines on a real (SQLite) action table. A conductor killed
between the logbook's write of a step's end and the audit's write leaves
that step's event open; the flow's end (in the same or the next
conductor) closes it as the step ended.
"""

import taskflow.engines
from taskflow.patterns import linear_flow
from taskflow import states as tf_states
from taskflow import task

from orchestrator import states
from orchestrator.conductor import audit
from orchestrator.db import actions
from orchestrator.db import instances

from flows import keys

ACTION_VALUES = {'request_id': 'req-audit', 'user_id': 'u',
                 'project_id': 'p'}


class Step(task.Task):
    def execute(self):
        return self.name


class Failing(task.Task):
    def execute(self):
        raise RuntimeError('the host said no')


class LosingAudit(audit.AuditListener):
    """The audit listener, except that the end of ``lost`` never reaches
    it (as when the conductor died right after the logbook saved it)."""

    def __init__(self, engine, lost):
        super().__init__(engine)
        self._lost = lost

    def _task_receiver(self, state, details):
        if details['task_name'] == self._lost and state in (
                tf_states.SUCCESS, tf_states.REVERTED):
            return
        super()._task_receiver(state, details)


def _action():
    _inst, action = instances.create(
        {'display_name': 'audit-test', 'project_id': 'p', 'user_id': 'u',
         'flavor_id': '1',
         'flavor': {'flavorid': '1', 'vcpus': 1, 'memory_mb': 512,
                    'root_gb': 1},
         'vcpus': 1, 'memory_mb': 512, 'root_gb': 1, 'image_ref': 'image'},
        ACTION_VALUES)
    return action['id']


def _run(flow, action_id, lost):
    engine = taskflow.engines.load(flow, store={keys.ACTION_ID: action_id})
    with LosingAudit(engine, lost):
        try:
            engine.run()
        except RuntimeError:
            pass
    return engine


def _events(action_id):
    return {e['event']: (e['finish_time'] is not None, e['result'])
            for e in actions.events_for(action_id)}


def test_flow_end_finishes_a_step_whose_end_was_lost(db):
    action_id = _action()
    flow = linear_flow.Flow('audit-ok').add(Step('one'), Step('two'))

    _run(flow, action_id, lost='one')

    assert _events(action_id) == {
        'one': (True, states.RESULT_SUCCESS),
        'two': (True, states.RESULT_SUCCESS)}
    assert actions.get(action_id)['finish_time'] is not None


def test_reverted_flow_finishes_a_lost_revert_as_success(db):
    action_id = _action()
    flow = linear_flow.Flow('audit-reverted').add(
        Step('one'), Failing('two'))

    engine = _run(flow, action_id, lost='one')

    assert engine.storage.get_flow_state() == tf_states.REVERTED
    assert _events(action_id) == {
        'one': (True, states.RESULT_SUCCESS),
        'one:revert': (True, states.RESULT_SUCCESS),
        'two': (True, states.RESULT_ERROR),
        'two:revert': (True, states.RESULT_SUCCESS)}
    assert actions.get(action_id)['result'] == states.RESULT_ERROR


def test_without_the_close_the_event_would_stay_open(db):
    """The listener's close is what finishes it: the same lost end with
    the flow's end unheard leaves the event open."""
    action_id = _action()
    flow = linear_flow.Flow('audit-unclosed').add(Step('one'))

    class Deaf(LosingAudit):
        def _flow_receiver(self, state, details):
            pass

    engine = taskflow.engines.load(flow, store={keys.ACTION_ID: action_id})
    with Deaf(engine, lost='one'):
        engine.run()

    assert _events(action_id) == {'one': (False, None)}
