"""The conductor runner: lost claims stop engines, leases keep them.

A real SQL jobboard on SQLite, real TaskFlow engines, a tiny flow whose
steps record that they ran. The flow factory lives at module level so the
logbook can record it by import path, as for every real flow.
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
from orchestrator.conductor import leases
from orchestrator.conductor import runner
from orchestrator.db import session

from tests.waiting import wait_for

FLOW_NAME = 'test-runner-steps'
RESUME_POLICY = 'resume'
STEP_S = 2.0
RAN = []
_LOCK = threading.Lock()


class Step(task.Task):
    """Sleeps, then records its name (once per execution)."""

    def execute(self):
        time.sleep(STEP_S)
        with _LOCK:
            RAN.append(self.name)


def get_flow():
    return linear_flow.Flow(FLOW_NAME).add(
        Step('step-1'), Step('step-2'), Step('step-3'))


def _setup(conf, lease_s):
    conf.set_override('claim_lease_s', lease_s, group='conductor')
    persistence = impl_sqlalchemy.SQLAlchemyBackend(
        {}, engine=session.get_engine())
    RAN.clear()
    board = jobboards.fetch(conf, persistence)
    job_uuid = jobs.JobPoster(board, persistence).post(
        sys.modules[__name__], {}, key='k-%s' % time.monotonic())
    return persistence, board, job_uuid


def _run_until(conductor, done, timeout=30):
    """Run ``conductor`` in a thread until ``done()``, then stop it.

    (TaskFlow's max_dispatches is no stop condition: it stops only when it
    dispatches one job more than asked.)
    """
    thread = threading.Thread(target=conductor.run, daemon=True)
    thread.start()
    try:
        wait_for(done, timeout=timeout, what='the flow to finish')
    finally:
        conductor.stop()
        thread.join(15)
    assert not thread.is_alive()


def _flow_state(persistence):
    conn = persistence.get_connection()
    (flow_detail,) = [fd for book in conn.get_logbooks() for fd in book]
    return flow_detail.state


def test_engine_that_lost_its_claim_stops_at_its_next_step(db, conf):
    persistence, board_a, job_uuid = _setup(conf, lease_s=1.0)
    # No lease keeper for A: its claim runs out during step-1.
    conductor_a = runner.FlowConductor('conductor-a', board_a, persistence,
                                       wait_timeout=0.05)
    thread_a = threading.Thread(target=conductor_a.run, daemon=True)
    thread_a.start()
    # B (and C below) claim with a long lease: they stay owners however
    # slow the machine is.
    conf.set_override('claim_lease_s', 60.0, group='conductor')
    board_b = jobboards.fetch(conf, persistence)
    job = next(j for j in board_b.iterjobs() if j.uuid == job_uuid)
    wait_for(lambda: board_b.find_owner(job) == 'conductor-a', timeout=10,
             what='A to claim the job')
    wait_for(lambda: board_b.find_owner(job) is None, timeout=10,
             what='the lease of A to run out')
    assert RAN == []
    # B takes the job over.
    board_b.claim(job, 'conductor-b')
    # A finishes the step it is in, sees the claim gone, suspends.
    wait_for(lambda: _flow_state(persistence) == tf_states.SUSPENDED,
             timeout=15, what='the engine of A to suspend')
    conductor_a.stop()
    thread_a.join(15)
    assert not thread_a.is_alive()
    assert RAN == ['step-1']
    board_b.abandon(job, 'conductor-b')
    # C resumes from the logbook: the step A did is not run again.
    conductor_c = runner.FlowConductor(
        'conductor-c', jobboards.fetch(conf, persistence), persistence,
        wait_timeout=0.05)
    _run_until(conductor_c, lambda: _flow_state(persistence)
               == tf_states.SUCCESS)
    assert RAN == ['step-1', 'step-2', 'step-3']
    assert _flow_state(persistence) == tf_states.SUCCESS
    assert [j.uuid for j in board_b.iterjobs()] == []


def test_lease_keeper_keeps_a_long_job_claimed(db, conf):
    persistence, board_a, job_uuid = _setup(conf, lease_s=2.0)
    keeper = leases.LeaseKeeper(0.2, lambda job, who: None)
    keeper.start()
    try:
        conductor_a = runner.FlowConductor(
            'conductor-a', board_a, persistence, lease_keeper=keeper,
            wait_timeout=0.05)
        board_b = jobboards.fetch(conf, persistence)
        stolen = []

        def done_unless_stolen():
            # Three steps of 2 s under a 2 s lease: once A runs the job
            # (a step is done), nobody else may take it.
            if not RAN:
                return False
            for job in board_b.iterjobs():
                try:
                    board_b.claim(job, 'conductor-b')
                    stolen.append(job.uuid)
                except Exception:  # noqa: BLE001 - UnclaimableJob/NotFound
                    pass
            return _flow_state(persistence) == tf_states.SUCCESS

        _run_until(conductor_a, done_unless_stolen)
        assert stolen == []
        assert RAN == ['step-1', 'step-2', 'step-3']
    finally:
        keeper.stop()
    assert _flow_state(persistence) == tf_states.SUCCESS


def test_a_job_posted_in_this_process_is_taken_at_once(db, conf):
    """The poster wakes the local conductor: with a minute between polls,
    a job posted after the conductor's first look still runs at once."""
    conf.set_override('claim_lease_s', 60.0, group='conductor')
    persistence = impl_sqlalchemy.SQLAlchemyBackend(
        {}, engine=session.get_engine())
    RAN.clear()
    board = jobboards.fetch(conf, persistence)
    conductor = runner.FlowConductor('conductor-a', board, persistence,
                                     wait_timeout=60.0)
    thread = threading.Thread(target=conductor.run, daemon=True)
    thread.start()
    try:
        time.sleep(1.0)  # its first look found nothing: it waits
        jobs.JobPoster(board, persistence, on_posted=conductor.wake).post(
            sys.modules[__name__], {}, key='k-%s' % time.monotonic())
        wait_for(lambda: RAN, timeout=15, what='the posted job to run')
    finally:
        conductor.stop()
        thread.join(15)
