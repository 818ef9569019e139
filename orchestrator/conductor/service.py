"""A conductor: RPC endpoints, a TaskFlow conductor running jobs, and the
periodic tasks (:meth:`ConductorService.register_periodics`).

Usable standalone (``orchestrator-conductor``) and embedded in the
all-in-one. :meth:`ConductorService.start` needs the database configured
(:mod:`orchestrator.db.session`) and the RPC transport initialised
(:func:`orchestrator.rpc.init`).
"""

import logging
import threading

import oslo_messaging as messaging

from orchestrator import rpc
from orchestrator.conductor import accepted
from orchestrator.conductor import auto_confirm
from orchestrator.conductor import deadlines
from orchestrator.conductor import evacuations
from orchestrator.conductor import jobboards
from orchestrator.conductor import jobs
from orchestrator.conductor import leases
from orchestrator.conductor import manager
from orchestrator.conductor import periodic
from orchestrator.conductor import persistence
from orchestrator.conductor import reclaim
from orchestrator.conductor import shelved_offload
from orchestrator.conductor import rpcapi
from orchestrator.conductor import runner
from orchestrator.db import hosts
from orchestrator.db import session

LOG = logging.getLogger(__name__)
BINARY = 'orchestrator-conductor'


class ConductorService:
    """Owns the jobboard, the TaskFlow conductor and the RPC server."""

    def __init__(self, conf, name=None, accepted_not_before=None):
        """:param accepted_not_before: requests accepted before this
        instant (naive UTC) are posted at once if their job is missing
        (:mod:`orchestrator.conductor.accepted`): the all-in-one passes
        its start, since its own API was not running before."""
        self._conf = conf
        self._accepted_not_before = accepted_not_before
        self._manager = None
        self.name = name or conf.host
        self._persistence = None
        self._board = None
        self._leases = None
        self._runner = None
        self._runner_thread = None
        self._rpc_server = None
        self._heartbeat = None
        self._periodics = None
        self._poster = None
        self._stopping = threading.Event()

    def start(self):
        conf = self._conf
        self._persistence = persistence.Backend(session.get_engine())
        self._board = jobboards.fetch(conf, self._persistence)
        self._leases = leases.LeaseKeeper(
            conf.conductor.lease_renew_interval_s, self._claim_lost,
            name='leases-%s' % self.name)
        self._leases.start()
        self._runner = runner.FlowConductor(
            self.name, self._board, self._persistence,
            lease_keeper=self._leases,
            engine_workers=conf.conductor.engine_workers,
            wait_timeout=conf.conductor.job_poll_interval_s,
            max_simultaneous_jobs=conf.conductor.max_simultaneous_jobs)
        self._runner_thread = threading.Thread(
            target=self._run_jobs, name='conductor-%s' % self.name,
            daemon=True)
        self._runner_thread.start()
        self._poster = poster = jobs.JobPoster(
            self._board, self._persistence, on_posted=self._runner.wake)
        target = messaging.Target(topic=rpcapi.TOPIC, server=self.name)
        self._manager = manager.ConductorManager(poster)
        self._rpc_server = rpc.get_server(target, [self._manager])
        self._rpc_server.start()
        self._heartbeat = threading.Thread(
            target=self._heartbeat_loop, name='conductor-heartbeat',
            daemon=True)
        self._heartbeat.start()
        self._periodics = periodic.PeriodicRunner('periodic-%s' % self.name)
        self.register_periodics(self._periodics)
        self._periodics.start()
        LOG.info('Conductor %s started (jobboard %s)', self.name,
                 conf.jobboard.backend)

    def register_periodics(self, runner):
        """Register every periodic task of a conductor on ``runner``.

        Add new periodics here (see :mod:`orchestrator.conductor.periodic`
        for the contract: each must be safe to run in several conductors
        at once). Called once by :meth:`start`.
        """
        conductor_conf = self._conf.conductor
        watchdog = deadlines.DeadlineWatchdog(self._conf)
        accepted_requests = accepted.AcceptedRequests(
            self._conf, self._manager, self._board, self._persistence,
            not_before=self._accepted_not_before)
        runner.register('accepted-requests',
                        lambda: conductor_conf.accepted_check_interval_s,
                        accepted_requests.run_once)
        runner.register('task-deadlines',
                        lambda: conductor_conf.deadline_check_interval_s,
                        watchdog.run_once)
        runner.register('reclaim-soft-deleted',
                        lambda: conductor_conf.reclaim_check_interval_s,
                        lambda: reclaim.run_once(self._conf, self._poster))
        runner.register('offload-shelved',
                        lambda: conductor_conf.shelved_poll_interval_s,
                        lambda: shelved_offload.run_once(self._conf,
                                                         self._poster))
        runner.register('shelved-images-of-deleted',
                        lambda: conductor_conf.shelved_poll_interval_s,
                        shelved_offload.forget_images_of_deleted)
        runner.register('complete-evacuations',
                        lambda: conductor_conf.evacuation_check_interval_s,
                        lambda: evacuations.run_once(self._conf))
        runner.register('auto-confirm-resizes',
                        lambda: conductor_conf.auto_confirm_interval_s,
                        lambda: auto_confirm.run_once(self._conf,
                                                      self._poster))

    @staticmethod
    def _claim_lost(job, who):
        # The engine's claim-checking listener suspends it at its next
        # transition; another conductor owns the job now.
        LOG.warning('Conductor %s lost its claim on job %s', who, job.uuid)

    def _run_jobs(self):
        while not self._stopping.is_set():
            try:
                self._runner.run()
                return
            except Exception:  # noqa: BLE001 - keep dispatching
                LOG.exception('Job dispatching failed; restarting it')
                self._stopping.wait(1.0)

    def _heartbeat_loop(self):
        interval = max(1.0, self._conf.service_down_time_s / 6.0)
        while not self._stopping.is_set():
            try:
                hosts.heartbeat(self.name, BINARY, topic=rpcapi.TOPIC)
            except Exception:  # noqa: BLE001 - the DB may be away briefly
                LOG.exception('Conductor heartbeat failed')
            self._stopping.wait(interval)

    def stop(self, timeout=30.0):
        """Stop the periodics and taking jobs, let running engines
        suspend, stop RPC."""
        self._stopping.set()
        if self._periodics is not None and not self._periodics.stop(
                timeout):
            LOG.warning('A periodic task of %s is still running', self.name)
        # Both told, then both awaited at once: each pool's idle workers
        # take up to a second to notice its shutdown.
        if self._rpc_server is not None:
            self._rpc_server.stop()
        if self._runner is not None:
            self._runner.stop()
        rpc_waiter = None
        if self._rpc_server is not None:
            rpc_waiter = threading.Thread(target=self._rpc_server.wait,
                                          name='%s-rpc-stop' % self.name)
            rpc_waiter.start()
        if self._runner is not None:
            self._runner.wait(timeout)
        if rpc_waiter is not None:
            rpc_waiter.join(timeout)
        if self._runner_thread is not None:
            self._runner_thread.join(timeout)
        if self._leases is not None:
            self._leases.stop()
        if self._board is not None:
            try:
                self._board.close()
            except Exception:  # noqa: BLE001 - best effort at shutdown
                LOG.exception('Closing the jobboard failed')
        LOG.info('Conductor %s stopped', self.name)
