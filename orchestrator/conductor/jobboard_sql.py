"""A TaskFlow jobboard over our own database (the ``jobs`` table).

:class:`SQLJobBoard` is the ``sql`` jobboard of DESIGN.md section 5: the
embedded default, and fine for a few conductors sharing one database.

Claims are leases. A claim sets ``owner`` and ``claim_expires_at`` (now +
the board's lease) in ONE conditional UPDATE; the owner keeps it alive with
:meth:`SQLJobBoard.renew_claim` (see :mod:`orchestrator.conductor.leases`);
an owner that dies loses the job when the lease runs out, and any conductor
may then claim it and resume its flow from the logbook. A claim is *live*
while ``owner`` is set and ``claim_expires_at`` is in the future; a job
whose claim is not live is UNCLAIMED, whatever ``owner`` still says.

Clock: every "now" this board writes or compares with is the DATABASE's
clock, evaluated inside the SQL statement (PostgreSQL
``statement_timestamp()`` in UTC, MySQL/MariaDB ``UTC_TIMESTAMP(6)``); on
SQLite, which only ever lives on one machine, it is Python's naive UTC
(:func:`orchestrator.db.models.utcnow`). All timestamps are naive UTC.

NOTE(jobboard): conductors on different machines decide whether a lease has
expired; if each used its own clock, a conductor whose clock runs a few
seconds ahead would take live jobs away from their owners (and one behind
would hold dead ones too long). Comparing against the one clock they share,
the database's, makes the lease mean the same thing to all of them.

NOTE(jobboard): MySQL/MariaDB ``DATETIME`` columns keep whole seconds, so
there a lease is up to one second shorter than asked: keep
``claim_lease_s`` well above a second (the default is 30 s).
"""

import contextlib
import datetime
import threading
import time

from oslo_db import exception as db_exc
from oslo_utils import uuidutils
import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
from taskflow import exceptions as tf_exc
from taskflow.jobs import base
from taskflow import logging
from taskflow import states

from orchestrator.conductor import leases
from orchestrator.db import models
from orchestrator.db import session as db_session

LOG = logging.getLogger(__name__)

_JOBS = models.Job.__table__

#: Default lease of a claim, seconds (``claim_lease_s`` in the board conf).
DEFAULT_LEASE_S = 30.0

#: TaskFlow priority -> the ``priority`` column (higher runs first). NORMAL
#: is 0, the column's default.
PRIORITY_VALUES = {
    base.JobPriority.VERY_HIGH: 2,
    base.JobPriority.HIGH: 1,
    base.JobPriority.NORMAL: 0,
    base.JobPriority.LOW: -1,
    base.JobPriority.VERY_LOW: -2,
}
_PRIORITIES = {v: k for k, v in PRIORITY_VALUES.items()}

_EPOCH = datetime.datetime(1970, 1, 1)
_US = datetime.timedelta(microseconds=1)


def lease_from_conf(conf, default=DEFAULT_LEASE_S):
    """The claim lease in seconds from a board conf dict.

    Reads ``claim_lease_s`` (``lease_s`` is accepted as an alias); values
    may be strings (TaskFlow turns a board URI's query into a conf).
    :raises ValueError: when the lease is not a positive number.
    """
    raw = conf.get('claim_lease_s', conf.get('lease_s', default))
    lease = float(raw)
    if lease <= 0:
        raise ValueError('claim_lease_s must be > 0, not %r' % (raw,))
    return lease


class _Clock:
    """SQL expressions of "now" and "now + seconds" on the database's clock.

    Each call builds a fresh expression (on SQLite a fresh bound value), so
    build them right before the statement that uses them.
    """

    def __init__(self, dialect_name):
        self.dialect_name = dialect_name

    def now(self):
        if self.dialect_name == 'postgresql':
            # NOTE(jobboard): statement_timestamp(), not now(): one instant
            # for the whole statement, but not frozen at transaction start.
            return sa.func.timezone('UTC', sa.func.statement_timestamp(),
                                    type_=sa.DateTime)
        if self.dialect_name in ('mysql', 'mariadb'):
            return sa.func.utc_timestamp(sa.literal_column('6'),
                                         type_=sa.DateTime)
        return sa.literal(models.utcnow(), sa.DateTime)

    def later(self, seconds):
        if self.dialect_name == 'postgresql':
            return self.now() + sa.literal(
                datetime.timedelta(seconds=seconds), sa.Interval)
        if self.dialect_name in ('mysql', 'mariadb'):
            return sa.func.timestampadd(
                sa.literal_column('MICROSECOND'), int(seconds * 1e6),
                sa.func.utc_timestamp(sa.literal_column('6')),
                type_=sa.DateTime)
        return sa.literal(
            models.utcnow() + datetime.timedelta(seconds=seconds),
            sa.DateTime)

    def read(self, session):
        """The clock's current value (one round trip, none on SQLite)."""
        if self.dialect_name == 'sqlite':
            return models.utcnow()
        return session.execute(sa.select(self.now())).scalar_one()


@contextlib.contextmanager
def _translate_failures(what):
    """Turn database errors into TaskFlow's JobFailure (transient to
    conductors, which retry on their next loop)."""
    try:
        yield
    except (sa_exc.SQLAlchemyError, db_exc.DBError) as e:
        tf_exc.raise_with_cause(tf_exc.JobFailure,
                                'Failed to %s: %s' % (what, e))


class SQLJob(base.Job):
    """A job of the SQL jobboard.

    ``state``, ``last_modified`` and the board's ``find_owner`` read the
    database on every access; the rest is what the row held when the job
    was fetched (postings are immutable). ``book`` is loaded lazily from
    the board's persistence backend by ``book_uuid``.
    """

    def __init__(self, board, name, uuid, sequence, priority, created_on,
                 last_modified, details=None, book=None, book_data=None,
                 backend=None):
        super().__init__(board, name, uuid=uuid, details=details,
                         backend=backend, book=book, book_data=book_data)
        self._sequence = sequence
        self._priority = priority
        self._created_on = created_on
        self._last_modified = last_modified

    def __str__(self):
        # NOTE: TaskFlow's shows the details, the flow's whole store, and
        # its conductor logs a job so ("Job execution failed: %s").
        return '%s: %s (priority=%s, uuid=%s, flow=%s)' % (
            type(self).__name__, self.name, self.priority, self.uuid,
            (self.details or {}).get('flow_uuid'))

    @property
    def sequence(self):
        """Posting order within the board (higher was posted later)."""
        return self._sequence

    @property
    def priority(self):
        return self._priority

    @property
    def created_on(self):
        return self._created_on

    @property
    def last_modified(self):
        fresh = self._board._last_modified(self)
        if fresh is not None:
            self._last_modified = fresh
        return self._last_modified

    @property
    def state(self):
        """COMPLETE once consumed or trashed; CLAIMED while a claim is live;
        UNCLAIMED otherwise (an expired claim reads as UNCLAIMED)."""
        return self._board._job_state(self)


class SQLJobBoard(base.JobBoard):
    """TaskFlow jobboard on the ``jobs`` table, with leased claims.

    :param name: the board's name; rows are partitioned by it unless the
        conf gives ``board_name``.
    :param conf: dict; ``board_name`` (default ``name``), ``claim_lease_s``
        (alias ``lease_s``; default 30). Other keys (TaskFlow's ``board``,
        the driver name) are ignored.
    :param persistence: TaskFlow persistence backend the jobs' logbooks are
        loaded from (the poster saves the logbook there before posting).

    The database is the one :mod:`orchestrator.db.session` is configured
    with. Every method raises :class:`taskflow.exceptions.JobFailure` when
    the database fails (or the board is not connected).

    NOTE(jobboard): TaskFlow's ExecutorConductor tries to claim every job
    it iterates, including the ones it is already running. Since a claim by
    the same owner succeeds (a conductor restarted under its old name
    resumes its jobs at once), this board instance refuses to claim a job
    that it claimed itself and has not yet consumed, abandoned or trashed:
    otherwise one conductor would run the same flow twice at once. A new
    board instance (a restarted conductor) has no such memory.
    """

    def __init__(self, name, conf, persistence=None):
        conf = dict(conf or {})
        super().__init__(name, conf)
        self._board_name = conf.get('board_name') or name
        self._lease_s = lease_from_conf(conf)
        self._persistence = persistence
        self._clock = None
        self._lock = threading.Lock()
        self._local_claims = leases.LocalClaims()
        self._last_sequence = 0

    # -- connection ---------------------------------------------------------

    @property
    def board_name(self):
        """The value of the ``board`` column this board's jobs carry."""
        return self._board_name

    @property
    def lease_s(self):
        """Seconds a claim or a renewal lasts."""
        return self._lease_s

    @property
    def connected(self):
        return self._clock is not None

    def connect(self):
        """Check the database is configured and reachable.

        :raises JobFailure: when it is not.
        """
        try:
            engine = db_session.get_engine()
        except RuntimeError as e:
            tf_exc.raise_with_cause(tf_exc.JobFailure, str(e))
        with _translate_failures('connect to the database'):
            with engine.connect() as connection:
                connection.execute(sa.select(1))
        self._clock = _Clock(engine.dialect.name)

    def close(self):
        self._clock = None

    def register_entity(self, entity):
        """No-op: the jobs table has no place for conductors."""

    @contextlib.contextmanager
    def _session(self, what, write=True):
        clock = self._clock
        if clock is None:
            raise tf_exc.JobFailure('Can not %s: the board %r is not '
                                    'connected' % (what, self.name))
        maker = db_session.writer if write else db_session.reader
        with _translate_failures(what):
            with maker() as session:
                yield session, clock

    def _this_board(self, uuid):
        return sa.and_(_JOBS.c.uuid == uuid,
                       _JOBS.c.board == self._board_name)

    @staticmethod
    def _live_owner(clock):
        """The owner while the claim is live, else NULL (SQL)."""
        live = sa.and_(_JOBS.c.owner.is_not(None),
                       _JOBS.c.claim_expires_at.is_not(None),
                       _JOBS.c.claim_expires_at > clock.now())
        return sa.case((live, _JOBS.c.owner), else_=sa.null())

    def _job_from_row(self, row):
        book_data = None
        if row.book_uuid is not None:
            book_data = {'uuid': row.book_uuid, 'name': row.book_name}
        return SQLJob(self, row.name, row.uuid, row.sequence,
                      _PRIORITIES.get(row.priority, base.JobPriority.NORMAL),
                      row.created_on, row.last_modified,
                      details=row.details or {}, book_data=book_data,
                      backend=self._persistence)

    # -- posting and listing ------------------------------------------------

    def post(self, name, book=None, details=None,
             priority=base.JobPriority.NORMAL):
        """Insert a job and return it.

        ``book`` (a LogBook, saved to persistence by the caller) is recorded
        by uuid and name. Sequence numbers come from the database clock in
        microseconds, and never go backwards through this board instance.
        """
        priority = base.JobPriority.convert(priority)
        details = dict(details or {})
        job_uuid = uuidutils.generate_uuid()
        with self._session('post job %s' % name) as (session, clock):
            now = clock.read(session)
            with self._lock:
                sequence = max((now - _EPOCH) // _US,
                               self._last_sequence + 1)
                self._last_sequence = sequence
            session.execute(sa.insert(_JOBS).values(
                uuid=job_uuid, board=self._board_name, name=name,
                book_uuid=book.uuid if book is not None else None,
                book_name=book.name if book is not None else None,
                details=details, priority=PRIORITY_VALUES[priority],
                sequence=sequence, owner=None, claim_expires_at=None,
                trashed=False, created_on=now, last_modified=now))
        book_data = None
        if book is not None:
            book_data = {'uuid': book.uuid, 'name': book.name}
        return SQLJob(self, name, job_uuid, sequence, priority, now, now,
                      details=details, book=book, book_data=book_data,
                      backend=self._persistence)

    def _fetch(self, only_unclaimed=False):
        with self._session('list jobs', write=False) as (session, clock):
            live_owner = self._live_owner(clock).label('live_owner')
            query = (sa.select(_JOBS, live_owner)
                     .where(_JOBS.c.board == self._board_name,
                            _JOBS.c.trashed == sa.false())
                     .order_by(_JOBS.c.priority.desc(), _JOBS.c.sequence,
                               _JOBS.c.uuid))
            rows = session.execute(query).all()
        return [self._job_from_row(row) for row in rows
                if not only_unclaimed or row.live_owner is None]

    def iterjobs(self, only_unclaimed=False, ensure_fresh=False):
        """Jobs on the board, highest priority first, then oldest first.

        One query, made now (``ensure_fresh`` changes nothing: every call
        reads the database). Trashed jobs are not listed; with
        ``only_unclaimed`` neither are jobs with a live claim.
        """
        return iter(self._fetch(only_unclaimed=only_unclaimed))

    def claims(self):
        """{job uuid: {'details', 'owner', 'expires'}} of every job on the
        board in one query: the live owner (None when unclaimed or its
        lease ran out) and when its lease ends (naive UTC, None when
        unclaimed). For operators' views; nothing is changed."""
        with self._session('list claims', write=False) as (session, clock):
            live_owner = self._live_owner(clock).label('live_owner')
            rows = session.execute(
                sa.select(_JOBS.c.uuid, _JOBS.c.details,
                          _JOBS.c.claim_expires_at, live_owner)
                .where(_JOBS.c.board == self._board_name,
                       _JOBS.c.trashed == sa.false())).all()
        return {row.uuid: {'details': row.details or {},
                           'owner': row.live_owner,
                           'expires': row.claim_expires_at
                           if row.live_owner is not None else None}
                for row in rows}

    @property
    def job_count(self):
        with self._session('count jobs', write=False) as (session, _clock):
            return session.execute(
                sa.select(sa.func.count()).select_from(_JOBS).where(
                    _JOBS.c.board == self._board_name,
                    _JOBS.c.trashed == sa.false())).scalar_one()

    def wait(self, timeout=None, initial_delay=0.005, max_delay=1.0):
        """Poll until the board has a job; return an iterator over them.

        :raises NotFound: when ``timeout`` seconds pass with none.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        delay = initial_delay
        while True:
            jobs = self._fetch()
            if jobs:
                return iter(jobs)
            if deadline is not None:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise tf_exc.NotFound('No job arrived on board %r in %s '
                                          'seconds' % (self.name, timeout))
                delay = min(delay, left)
            time.sleep(delay)
            delay = min(delay * 2, max_delay)

    # -- reading one job ----------------------------------------------------

    def _read(self, job, what):
        """(live owner, trashed, last_modified) of ``job``, or None."""
        with self._session(what, write=False) as (session, clock):
            return session.execute(
                sa.select(self._live_owner(clock).label('live_owner'),
                          _JOBS.c.trashed, _JOBS.c.last_modified)
                .where(self._this_board(job.uuid))).one_or_none()

    def _job_state(self, job):
        row = self._read(job, 'read the state of job %s' % job.uuid)
        if row is None or row.trashed:
            return states.COMPLETE
        if row.live_owner is not None:
            return states.CLAIMED
        return states.UNCLAIMED

    def _last_modified(self, job):
        row = self._read(job, 'read job %s' % job.uuid)
        return None if row is None else row.last_modified

    def find_owner(self, job):
        """The owner of ``job`` while its claim is live, else None (also
        None when the job is gone)."""
        row = self._read(job, 'find the owner of job %s' % job.uuid)
        if row is None or row.trashed:
            return None
        return row.live_owner

    # -- claims -------------------------------------------------------------

    @base.check_who
    def claim(self, job, who):
        """Claim ``job`` for ``who`` with a lease of ``lease_s`` seconds.

        One conditional UPDATE: it succeeds when the job has no live claim
        or its claim is ``who``'s own (then the lease is renewed).
        :raises UnclaimableJob: someone else holds a live claim, or this
            board instance already claimed it (see the class NOTE).
        :raises NotFound: the job was consumed or trashed.
        """
        with self._local_claims.claiming(job):
            self._claim(job, who)

    def _claim(self, job, who):
        with self._session('claim job %s' % job.uuid) as (session, clock):
            result = session.execute(
                sa.update(_JOBS)
                .where(self._this_board(job.uuid),
                       _JOBS.c.trashed == sa.false(),
                       sa.or_(_JOBS.c.owner.is_(None),
                              _JOBS.c.owner == who,
                              _JOBS.c.claim_expires_at.is_(None),
                              _JOBS.c.claim_expires_at <= clock.now()))
                .values(owner=who,
                        claim_expires_at=clock.later(self._lease_s),
                        last_modified=clock.now()))
            if result.rowcount == 1:
                return True
            row = session.execute(
                sa.select(self._live_owner(clock).label('live_owner'),
                          _JOBS.c.trashed)
                .where(self._this_board(job.uuid))).one_or_none()
        if row is None or row.trashed:
            raise tf_exc.NotFound('Job %s not found to be claimed'
                                  % job.uuid)
        raise tf_exc.UnclaimableJob('Job %s already claimed by %s'
                                    % (job.uuid, row.live_owner))

    @base.check_who
    def renew_claim(self, job, who):
        """Extend ``who``'s live claim on ``job`` by ``lease_s`` from now.

        :returns: True when renewed; False when ``who`` holds no live claim
            on it any more (expired, taken by another, consumed, trashed).
        :raises JobFailure: the database failed (the claim may still hold).
        """
        what = 'renew the claim on job %s' % job.uuid
        with self._session(what) as (session, clock):
            result = session.execute(
                sa.update(_JOBS)
                .where(self._this_board(job.uuid),
                       _JOBS.c.trashed == sa.false(),
                       _JOBS.c.owner == who,
                       _JOBS.c.claim_expires_at > clock.now())
                .values(claim_expires_at=clock.later(self._lease_s)))
            return result.rowcount == 1

    def _owner_change(self, job, who, what, values):
        """Apply ``values`` to ``job`` if ``who`` holds its live claim.

        :raises NotFound: job gone, or nobody holds a live claim on it.
        :raises JobFailure: someone else holds it.
        """
        try:
            with self._session('%s job %s' % (what, job.uuid)) as (
                    session, clock):
                is_mine = sa.and_(self._this_board(job.uuid),
                                  _JOBS.c.trashed == sa.false(),
                                  _JOBS.c.owner == who,
                                  _JOBS.c.claim_expires_at > clock.now())
                if values is None:
                    result = session.execute(sa.delete(_JOBS).where(is_mine))
                else:
                    result = session.execute(
                        sa.update(_JOBS).where(is_mine)
                        .values(last_modified=clock.now(), **values))
                if result.rowcount == 1:
                    return
                row = session.execute(
                    sa.select(self._live_owner(clock).label('live_owner'),
                              _JOBS.c.trashed)
                    .where(self._this_board(job.uuid))).one_or_none()
        finally:
            # NOTE(jobboard): success or not, this instance is done with
            # the job: it must be claimable again (see the class NOTE).
            self._local_claims.release(job)
        if row is None or row.trashed:
            raise tf_exc.NotFound('Job %s not found to %s' % (job.uuid, what))
        if row.live_owner is None:
            raise tf_exc.NotFound('Can not %s job %s: nobody holds a live '
                                  'claim on it' % (what, job.uuid))
        raise tf_exc.JobFailure('Can not %s job %s which is not owned by %s '
                                '(it is owned by %s)'
                                % (what, job.uuid, who, row.live_owner))

    @base.check_who
    def consume(self, job, who):
        """Delete ``job``; only the holder of its live claim may."""
        self._owner_change(job, who, 'consume', None)

    @base.check_who
    def abandon(self, job, who):
        """Release ``who``'s claim: the job is claimable at once."""
        self._owner_change(job, who, 'abandon',
                           {'owner': None, 'claim_expires_at': None})

    @base.check_who
    def trash(self, job, who):
        """Hide ``job`` from the board for good, keeping its row (and
        ``owner``, who trashed it) for inspection."""
        self._owner_change(job, who, 'trash',
                           {'trashed': True, 'claim_expires_at': None})
