"""The TaskFlow conductor that claims jobs and runs their flows.

TaskFlow's executor-based (non-blocking) conductor, with what a conductor
in production needs beside it:

* a claim-checking listener on every engine: an engine whose job was
  claimed away (its lease expired) suspends at its next transition; the
  lease keeper answers it while the lease surely holds
  (:mod:`orchestrator.conductor.claim_check`);
* a lease keeper that renews the claims of the jobs this conductor runs,
  so a live conductor keeps them and a dead one loses them after
  ``claim_lease_s``;
* the audit listener;
* the flow's resume policy (:mod:`orchestrator.conductor.resume_policy`)
  applied to a flow a crash interrupted, before its engine runs again;
* a job whose flow already ended (its conductor died before consuming
  it) is consumed without running the flow again (TaskFlow would run a
  reverted flow again from its start), its audit closed from the logbook
  (:func:`orchestrator.conductor.audit.close_ended`).

* a job's logbook that a crash left missing or incomplete is rebuilt
  from the job (:mod:`orchestrator.conductor.flow_healing`);
* a job is consumed only once its flow has ended: a dispatch that failed
  before (TaskFlow consumes or trashes the job of an engine that raised
  anything but a flow failure, which dropped accepted requests) abandons
  it instead, after a delay that grows with each failure, for a run again.

A claim by the same owner succeeds, which is how a conductor restarted
under the same name resumes its jobs at once; our boards refuse a second
claim through the same board instance, so a job this process already runs
is not dispatched twice.
"""

import contextlib
import logging
import threading

from taskflow.conductors.backends import impl_nonblocking
from taskflow import exceptions as tf_exc
from taskflow.listeners import claims

from orchestrator import failpoints
from orchestrator import thread_pools
from orchestrator.conductor import atom_writes
from orchestrator.conductor import audit
from orchestrator.conductor import claim_check
from orchestrator.conductor import flow_healing
from orchestrator.conductor import jobs
from orchestrator.conductor import resume_policy
from orchestrator.conductor import wakeup

from flows import catalog

LOG = logging.getLogger(__name__)

# A task's transition is one transaction with its audit event.
atom_writes.install()

#: Flow states after which a flow never runs again by itself.
ENDED_FLOW_STATES = jobs.ENDED_FLOW_STATES

#: Seconds before a job whose dispatch failed is abandoned (for a run
#: again): doubled at each failure of the same job, up to the maximum.
RETRY_DELAY_S = 0.5
RETRY_DELAY_MAX_S = 10.0

#: The board is asked whether a claim still holds only once its lease is
#: within this many seconds (or a fifth of the lease) of its known end.
CLAIM_CHECK_MARGIN_S = 1.0


class FlowConductor(impl_nonblocking.NonBlockingConductor):
    """Runs flows from the jobboard on a bounded thread pool that reuses
    its idle threads (:func:`orchestrator.thread_pools.idle_first_pool`;
    TaskFlow's default pool grows to its bound whatever the load). Each
    engine's own task pool is TaskFlow's, shut down when its run ends."""

    def __init__(self, name, jobboard, persistence, lease_keeper=None,
                 engine_workers=4, wait_timeout=0.5,
                 max_simultaneous_jobs=16):
        super().__init__(
            name, jobboard, persistence=persistence, engine='parallel',
            engine_options={'max_workers': engine_workers},
            wait_timeout=wait_timeout,
            max_simultaneous_jobs=max_simultaneous_jobs,
            executor_factory=lambda: thread_pools.idle_first_pool(
                max_simultaneous_jobs))
        # Woken when this process posts a job or a run ends
        # (:mod:`orchestrator.conductor.wakeup`); polls otherwise.
        self._wait_timeout = wakeup.WakeableTimeout(wait_timeout)
        self._leases = lease_keeper
        self._failures = {}
        self._failures_lock = threading.Lock()

    def wake(self):
        """Look at the board now (a job was posted, a slot freed)."""
        self._wait_timeout.wake()

    @property
    def name(self):
        return self._name

    def _listeners_from_job(self, job, engine):
        # The flow's steps learn their flow's name for their failpoints.
        flow = getattr(engine, '_flow', None)
        if flow is not None:
            for atom in catalog.atoms_of(flow):
                atom.failpoint_flow = flow.name
        failpoints.hit('%s:job:before-run' % job.name)
        listeners = super()._listeners_from_job(job, engine)
        if self._leases is not None:
            lease_s = getattr(self._jobboard, 'lease_s', None) or 0.0
            listeners.append(claim_check.LeaseAwareClaimListener(
                engine, job, self._jobboard, self._name, self._leases,
                margin_s=max(CLAIM_CHECK_MARGIN_S, lease_s / 5.0)))
        else:
            listeners.append(claims.CheckingClaimListener(
                engine, job, self._jobboard, self._name))
        listeners.append(audit.AuditListener(engine))
        # Last: the audit listener records what the policy decides.
        listeners.append(resume_policy.Applier(engine))
        return listeners

    def _ended(self, job):
        """The job's flow detail if its flow already ended, else None."""
        try:
            flow_detail = self._flow_detail_from_job(job)
        except tf_exc.NotFound:
            return None
        return flow_detail if flow_detail.state in ENDED_FLOW_STATES \
            else None

    def _dispatch_job(self, job):
        if self._leases is not None:
            self._leases.add(job, self._name, board=self._jobboard)
        try:
            if flow_healing.heal(job, self._persistence):
                # NOTE: the job caches the logbook it loaded; load it anew.
                job._book = None
            ended = self._ended(job)
            if ended is not None:
                LOG.info('Job %s: its flow already ended %s; consuming it '
                         'without running the flow again', job, ended.state)
                audit.close_ended(ended)
                return True
            return super()._dispatch_job(job)
        finally:
            if self._leases is not None:
                self._leases.remove(job)

    def _flow_ended(self, job):
        """True when the job's flow ended, read from the logbook now."""
        flow_uuid = (job.details or {}).get('flow_uuid')
        try:
            with contextlib.closing(
                    self._persistence.get_connection()) as conn:
                book = conn.get_logbook(job.book_uuid)
        except tf_exc.NotFound:
            return False
        flow_detail = (book.find(flow_uuid) if flow_uuid
                       else next(iter(book), None))
        return (flow_detail is not None
                and flow_detail.state in ENDED_FLOW_STATES)

    def _abandon_later(self, job):
        """Give ``job`` back for a run again, then look at the board."""
        super()._try_finish_job(job, False, False)
        self.wake()

    def _on_job_done(self, job, fut):
        try:
            super()._on_job_done(job, fut)
        finally:
            # A slot is free: take the next job now, not at the next poll.
            self.wake()

    def _retry_delay(self, job):
        """The delay before this failure of ``job`` is abandoned."""
        with self._failures_lock:
            count = self._failures.get(job.uuid, 0) + 1
            self._failures[job.uuid] = count
        return min(RETRY_DELAY_MAX_S, RETRY_DELAY_S * 2 ** (count - 1))

    def _try_finish_job(self, job, consume, trash=False):
        if (consume or trash) and not self._flow_ended(job):
            delay = self._retry_delay(job)
            LOG.error('Job %s: its flow %s has not ended although its run '
                      'did; abandoning it in %.1f s for a run again, never '
                      'dropping it', job.uuid, job.name, delay)
            timer = threading.Timer(delay, self._abandon_later, (job,))
            timer.daemon = True
            timer.start()
            return None
        with self._failures_lock:
            self._failures.pop(job.uuid, None)
        if trash:
            # Its flow ended (a dispatch that raised after the end):
            # done, not a job to keep for inspection.
            consume, trash = True, False
        if consume:
            failpoints.hit('%s:job:before-consume' % job.name)
        return super()._try_finish_job(job, consume, trash=trash)
