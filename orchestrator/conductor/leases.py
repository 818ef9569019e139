"""Claims held by this process: keeping their leases alive.

A claim on our jobboards is a lease (``claim_lease_s``). While a conductor
runs a job it must renew the claim well before the lease runs out;
:class:`LeaseKeeper` does that for every job it tracks, through the board's
``renew_claim(job, who)``, and tells its owner when a claim was lost so the
job's engine can be suspended (DESIGN.md section 5: an engine that loses
its claim stops at its next transition).

:class:`LocalClaims` is the boards' memory of the claims made through one
board instance (see :class:`~orchestrator.conductor.jobboard_sql.SQLJobBoard`
for why they need it).
"""

import contextlib
import logging
import threading
import time

from taskflow import exceptions as tf_exc

LOG = logging.getLogger(__name__)


class LocalClaims:
    """Uuids of the jobs claimed through one board instance, not released.

    Thread-safe. A board reserves the uuid before its claim statement and
    keeps it only if the claim succeeded.
    """

    def __init__(self):
        self._lock = threading.Lock()
        self._uuids = set()

    @contextlib.contextmanager
    def claiming(self, job):
        """Reserve ``job`` for the claim made inside the block.

        :raises UnclaimableJob: ``job`` is already claimed through this
            board instance.
        The reservation is dropped if the block raises.
        """
        with self._lock:
            if job.uuid in self._uuids:
                raise tf_exc.UnclaimableJob(
                    'Job %s is already claimed through this board instance'
                    % job.uuid)
            self._uuids.add(job.uuid)
        try:
            yield
        except BaseException:
            self.release(job)
            raise

    def release(self, job):
        """Forget ``job`` (after consume, abandon or trash; idempotent)."""
        with self._lock:
            self._uuids.discard(job.uuid)

    def __contains__(self, job):
        with self._lock:
            return job.uuid in self._uuids


class LeaseKeeper:
    """A daemon thread that renews the claims of the jobs it tracks.

    Every ``interval_s`` it calls ``board.renew_claim(job, who)`` for each
    tracked ``(job, who)`` (``board`` defaults to ``job.board``). A renewal
    that returns False, or raises NotFound, means the claim is lost: the
    entry is dropped and ``on_lost(job, who)`` is called, on the keeper's
    thread (keep it short; ``engine.suspend()`` is fine). A renewal that
    raises JobFailure (the backend is down) is retried next round: the
    claim may well still hold, and if the outage outlasts the lease, the
    first renewal after it reports the loss.

    ``interval_s`` must be well under the boards' lease (a third or less).
    Use :meth:`start` and :meth:`stop`, or the keeper as a context manager.
    """

    def __init__(self, interval_s, on_lost, name='lease-keeper'):
        if interval_s <= 0:
            raise ValueError('interval_s must be > 0, not %r' % interval_s)
        if not callable(on_lost):
            raise ValueError('on_lost must be callable')
        self._interval_s = interval_s
        self._on_lost = on_lost
        self._name = name
        self._lock = threading.Lock()
        self._tracked = {}
        # job uuid -> monotonic instant before which its claim surely
        # holds (the start of the claim or of its last renewal + lease).
        self._live_until = {}
        self._lost = set()
        self._stop = threading.Event()
        self._thread = None

    def add(self, job, who, board=None):
        """Track ``job`` claimed by ``who`` (on ``board``, default
        ``job.board``). Adding it again replaces the entry."""
        board = job.board if board is None else board
        lease_s = getattr(board, 'lease_s', None)
        with self._lock:
            self._tracked[job.uuid] = (job, who, board)
            self._lost.discard(job.uuid)
            if lease_s:
                # NOTE(leases): the claim was made just before; the
                # claim check's margin covers the moments in between.
                self._live_until[job.uuid] = time.monotonic() + lease_s
            else:
                self._live_until.pop(job.uuid, None)

    def remove(self, job):
        """Stop renewing ``job`` (idempotent); call it before consuming or
        abandoning, so no renewal races the release."""
        with self._lock:
            self._tracked.pop(job.uuid, None)
            self._live_until.pop(job.uuid, None)
            self._lost.discard(job.uuid)

    def claim_known(self, job, margin_s):
        """What this keeper knows of ``job``'s claim without asking the
        board: ``'lost'`` (a renewal found it lost), ``'live'`` (claimed
        or renewed less than its lease minus ``margin_s`` ago), or None
        (not known: ask the board)."""
        with self._lock:
            if job.uuid in self._lost:
                return 'lost'
            until = self._live_until.get(job.uuid)
        if until is not None and time.monotonic() < until - margin_s:
            return 'live'
        return None

    def tracked(self):
        """The uuids of the jobs currently tracked."""
        with self._lock:
            return set(self._tracked)

    def renew_all(self):
        """One round: renew every tracked claim now; return the jobs whose
        claim was found lost (``on_lost`` has been called for each)."""
        with self._lock:
            entries = list(self._tracked.values())
        lost = []
        for job, who, board in entries:
            started = time.monotonic()
            try:
                renewed = board.renew_claim(job, who)
            except tf_exc.NotFound:
                renewed = False
            except tf_exc.JobFailure:
                LOG.warning('Could not renew the claim of %s on job %s; '
                            'retrying next round', who, job.uuid,
                            exc_info=True)
                continue
            lease_s = getattr(board, 'lease_s', None)
            with self._lock:
                current = self._tracked.get(job.uuid)
                if current is None or current[0] is not job:
                    # NOTE(leases): removed (or re-added) while we renewed:
                    # the job was released on purpose, not lost.
                    continue
                if renewed:
                    if lease_s:
                        self._live_until[job.uuid] = started + lease_s
                    continue
                del self._tracked[job.uuid]
                self._live_until.pop(job.uuid, None)
                self._lost.add(job.uuid)
            LOG.warning('Job %s: the claim of %s was lost', job.uuid, who)
            lost.append(job)
            try:
                self._on_lost(job, who)
            except Exception:
                LOG.exception('on_lost failed for job %s', job.uuid)
        return lost

    def _run(self):
        while not self._stop.wait(self._interval_s):
            try:
                self.renew_all()
            except Exception:  # noqa: BLE001 - the keeper must not die
                LOG.exception('Lease renewal round failed')

    @property
    def alive(self):
        """Whether the keeper's thread runs."""
        return self._thread is not None and self._thread.is_alive()

    def start(self):
        """Start the thread (once; starting a running keeper is a no-op)."""
        if self.alive:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name=self._name,
                                        daemon=True)
        self._thread.start()

    def stop(self, timeout=None):
        """Stop the thread and wait for it (at most ``timeout`` seconds).

        Claims are not released: they run out with their lease unless the
        owner consumes or abandons them. Returns True when the thread ended.
        """
        self._stop.set()
        thread, self._thread = self._thread, None
        if thread is None:
            return True
        thread.join(timeout)
        return not thread.is_alive()

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc_info):
        self.stop()
