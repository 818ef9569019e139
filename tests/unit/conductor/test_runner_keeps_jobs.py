"""A job is consumed only once its flow ended: a dispatch that failed
(here: the flow's factory raised, as a database blip or a bug while
loading would) abandons the job for a run again, never drops it.

Real SQL jobboard on SQLite, real TaskFlow engines and persistence.
"""

import sys
import threading
import time

from taskflow.patterns import linear_flow
from taskflow.persistence.backends import impl_sqlalchemy
from taskflow import states as tf_states
from taskflow import task

from orchestrator.conductor import jobboards
from orchestrator.conductor import jobs
from orchestrator.conductor import runner
from orchestrator.db import session

from tests.waiting import wait_for

FLOW_NAME = 'test-runner-keeps-jobs'
RESUME_POLICY = 'resume'
#: Loads of the flow that fail before one succeeds.
FAILING_LOADS = 2
LOADS = []
RAN = []


class Step(task.Task):
    def execute(self):
        RAN.append(self.name)


def get_flow():
    LOADS.append(time.monotonic())
    if len(LOADS) <= FAILING_LOADS:
        raise RuntimeError('the flow could not be loaded (load %d)'
                           % len(LOADS))
    return linear_flow.Flow(FLOW_NAME).add(Step('only-step'))


def test_job_whose_dispatch_failed_is_run_again_not_dropped(db, conf):
    persistence = impl_sqlalchemy.SQLAlchemyBackend(
        {}, engine=session.get_engine())
    board = jobboards.fetch(conf, persistence)
    LOADS.clear()
    RAN.clear()
    jobs.JobPoster(board, persistence).post(sys.modules[__name__], {},
                                            key='k')
    conductor = runner.FlowConductor('keeper', board, persistence,
                                     wait_timeout=0.05)
    thread = threading.Thread(target=conductor.run, daemon=True)
    thread.start()
    try:
        wait_for(lambda: RAN == ['only-step'], timeout=30,
                 what='the flow to run once its load succeeds')
        wait_for(lambda: not list(board.iterjobs()), timeout=10,
                 what='the job to be consumed')
    finally:
        conductor.stop()
        thread.join(15)
    assert len(LOADS) == FAILING_LOADS + 1
    conn = persistence.get_connection()
    (flow_detail,) = [fd for book in conn.get_logbooks() for fd in book]
    assert flow_detail.state == tf_states.SUCCESS
