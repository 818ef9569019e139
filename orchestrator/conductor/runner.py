"""The TaskFlow conductor that claims jobs and runs their flows.

TaskFlow's executor-based (non-blocking) conductor, with what a conductor
in production needs beside it:

* a claim-checking listener on every engine: an engine whose job was
  claimed away (its lease expired) suspends at its next transition;
* a lease keeper that renews the claims of the jobs this conductor runs,
  so a live conductor keeps them and a dead one loses them after
  ``claim_lease_s``;
* a guard so that a job this process already runs is not claimed and
  dispatched a second time (a claim by the same owner succeeds, which is
  how a conductor restarted under the same name resumes its jobs at once);
* the audit listener.
"""

import logging
import threading

from taskflow.conductors.backends import impl_nonblocking
from taskflow import exceptions as tf_exc
from taskflow.listeners import claims

from orchestrator.conductor import audit

LOG = logging.getLogger(__name__)


class _RunningGuard:
    """Delegates to a jobboard, refusing claims of jobs already running
    here."""

    def __init__(self, board):
        self._board = board
        self._running = set()
        self._lock = threading.Lock()

    def __getattr__(self, name):
        return getattr(self._board, name)

    def claim(self, job, who):
        with self._lock:
            if job.uuid in self._running:
                raise tf_exc.UnclaimableJob('job %s already runs here'
                                            % job.uuid)
            self._board.claim(job, who)
            self._running.add(job.uuid)

    def done(self, job):
        with self._lock:
            self._running.discard(job.uuid)

    def running(self):
        with self._lock:
            return set(self._running)


class FlowConductor(impl_nonblocking.NonBlockingConductor):
    """Runs flows from the jobboard on a bounded thread pool."""

    def __init__(self, name, jobboard, persistence, lease_keeper=None,
                 engine_workers=4, wait_timeout=0.5,
                 max_simultaneous_jobs=16):
        self._guard = _RunningGuard(jobboard)
        super().__init__(
            name, self._guard, persistence=persistence, engine='parallel',
            engine_options={'max_workers': engine_workers},
            wait_timeout=wait_timeout,
            max_simultaneous_jobs=max_simultaneous_jobs)
        self._leases = lease_keeper

    @property
    def name(self):
        return self._name

    def running_jobs(self):
        """uuids of the jobs this conductor runs now."""
        return self._guard.running()

    def _listeners_from_job(self, job, engine):
        listeners = super()._listeners_from_job(job, engine)
        listeners.append(claims.CheckingClaimListener(
            engine, job, self._guard, self._name))
        listeners.append(audit.AuditListener(engine))
        return listeners

    def _dispatch_job(self, job):
        if self._leases is not None:
            self._leases.add(job, self._name, board=self._guard)
        try:
            return super()._dispatch_job(job)
        finally:
            if self._leases is not None:
                self._leases.remove(job)

    def _on_job_done(self, job, fut):
        try:
            super()._on_job_done(job, fut)
        finally:
            self._guard.done(job)
