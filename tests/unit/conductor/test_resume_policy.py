"""Resume policies on a real conductor: a flow whose process died in a
step is resumed, reverted, or rolled forward past its point of no return;
a job whose flow already ended is consumed without running it again.

A real SQL jobboard and logbook on SQLite and real TaskFlow engines. The
logbook is left as a SIGKILL leaves it: the steps before done, the step
in flight RUNNING, the flow RUNNING. The flow factory lives at module
level so the logbook records it by import path, as for every real flow.
"""

import sys
import threading
import time
import types

import pytest

from taskflow.patterns import linear_flow
from taskflow.persistence.backends import impl_sqlalchemy
from taskflow import states as tf_states
from taskflow import task

from orchestrator.conductor import jobboards
from orchestrator.conductor import jobs
from orchestrator.conductor import resume_policy
from orchestrator.conductor import runner
from orchestrator.db import session

from flows import keys

from tests.waiting import wait_for

FLOW_NAME = 'test-resume-policy'
RAN = []
_LOCK = threading.Lock()


class Step(task.Task):
    """Records each execute and revert."""

    def execute(self):
        with _LOCK:
            RAN.append(self.name)

    def revert(self, **kwargs):
        with _LOCK:
            RAN.append(self.name + ':revert')


def get_flow():
    return linear_flow.Flow(FLOW_NAME).add(
        Step('step-1'), Step('step-2'), Step('step-3'))


def _flow_module(policy, point_of_no_return=None):
    module = types.SimpleNamespace(
        FLOW_NAME=FLOW_NAME, RESUME_POLICY=policy,
        get_flow=sys.modules[__name__].get_flow)
    if point_of_no_return:
        module.POINT_OF_NO_RETURN = point_of_no_return
    return module


def _post(conf, module):
    persistence = impl_sqlalchemy.SQLAlchemyBackend(
        {}, engine=session.get_engine())
    board = jobboards.fetch(conf, persistence)
    jobs.JobPoster(board, persistence).post(
        module, {}, key='k-%s' % time.monotonic())
    RAN.clear()
    return persistence, board


def _flow_detail(persistence):
    conn = persistence.get_connection()
    (flow_detail,) = [fd for book in conn.get_logbooks() for fd in book]
    return flow_detail


def _crash_in(persistence, done, running):
    """Leave the logbook as a SIGKILL during step ``running`` does."""
    from taskflow import engines
    flow_detail = _flow_detail(persistence)
    engine = engines.load(get_flow(), flow_detail=flow_detail,
                          backend=persistence)
    engine.compile()
    engine.prepare()
    for name in done:
        engine.storage.save(name, None)
    engine.storage.set_atom_state(running, tf_states.RUNNING)
    engine.storage.set_flow_state(tf_states.RUNNING)


def _run_conductor(persistence, board, done):
    conductor = runner.FlowConductor('conductor-a', board, persistence,
                                     wait_timeout=0.05)
    thread = threading.Thread(target=conductor.run, daemon=True)
    thread.start()
    try:
        wait_for(done, timeout=30, what='the flow to end')
    finally:
        conductor.stop()
        thread.join(15)
    assert not thread.is_alive()


def _ended_and_consumed(persistence, board):
    return (_flow_detail(persistence).state in runner.ENDED_FLOW_STATES
            and not list(board.iterjobs(ensure_fresh=True)))


def test_the_policy_is_recorded_with_the_flow(db, conf):
    persistence, _board = _post(conf, _flow_module(keys.REVERT, 'step-1'))
    meta = _flow_detail(persistence).meta
    assert meta[resume_policy.META_POLICY] == keys.REVERT
    assert meta[resume_policy.META_POINT_OF_NO_RETURN] == 'step-1'


def test_resume_runs_the_interrupted_step_again(db, conf):
    persistence, board = _post(conf, _flow_module(keys.RESUME))
    _crash_in(persistence, done=['step-1'], running='step-2')
    _run_conductor(persistence, board,
                   lambda: _ended_and_consumed(persistence, board))
    assert _flow_detail(persistence).state == tf_states.SUCCESS
    assert RAN == ['step-2', 'step-3']


def test_revert_rolls_back_the_interrupted_flow(db, conf):
    persistence, board = _post(conf, _flow_module(keys.REVERT))
    _crash_in(persistence, done=['step-1'], running='step-2')
    _run_conductor(persistence, board,
                   lambda: _ended_and_consumed(persistence, board))
    flow_detail = _flow_detail(persistence)
    assert flow_detail.state == tf_states.REVERTED
    # The interrupted step is reverted too (its execute may have acted);
    # nothing runs forward.
    assert RAN == ['step-2:revert', 'step-1:revert']
    (step_2,) = [ad for ad in flow_detail if ad.name == 'step-2']
    assert step_2.failure.check(resume_policy.FlowInterrupted)


@pytest.mark.parametrize('point_of_no_return,ended,ran', [
    # Past it: the flow rolls forward.
    ('step-1', tf_states.SUCCESS, ['step-2', 'step-3']),
    # In it: the step may have committed before the process died.
    ('step-2', tf_states.SUCCESS, ['step-2', 'step-3']),
    # Before it: the revert policy holds.
    ('step-3', tf_states.REVERTED, ['step-2:revert', 'step-1:revert']),
], ids=['past-it-rolls-forward', 'in-it-rolls-forward',
        'before-it-reverts'])
def test_revert_policy_and_the_point_of_no_return(db, conf,
                                                  point_of_no_return,
                                                  ended, ran):
    persistence, board = _post(
        conf, _flow_module(keys.REVERT, point_of_no_return))
    _crash_in(persistence, done=['step-1'], running='step-2')
    _run_conductor(persistence, board,
                   lambda: _ended_and_consumed(persistence, board))
    assert _flow_detail(persistence).state == ended
    assert RAN == ran


def test_a_fresh_job_of_a_revert_flow_runs_forward(db, conf):
    persistence, board = _post(conf, _flow_module(keys.REVERT))
    _run_conductor(persistence, board,
                   lambda: _ended_and_consumed(persistence, board))
    assert _flow_detail(persistence).state == tf_states.SUCCESS
    assert RAN == ['step-1', 'step-2', 'step-3']


def test_a_job_whose_flow_ended_is_consumed_without_running_it(db, conf):
    persistence, board = _post(conf, _flow_module(keys.RESUME))
    # The flow was rolled back; its conductor died before consuming the
    # job. TaskFlow alone would reset the flow and run it from the start.
    from taskflow import engines
    engine = engines.load(get_flow(), flow_detail=_flow_detail(persistence),
                          backend=persistence)
    engine.compile()
    engine.prepare()
    for name in ('step-1', 'step-2', 'step-3'):
        engine.storage.set_atom_state(name, tf_states.REVERTED)
    engine.storage.set_flow_state(tf_states.RUNNING)
    engine.storage.set_flow_state(tf_states.REVERTED)
    _run_conductor(persistence, board,
                   lambda: not list(board.iterjobs(ensure_fresh=True)))
    assert _flow_detail(persistence).state == tf_states.REVERTED
    assert RAN == []
