"""One contract for every jobboard we ship, run against each backend.

* ``sql-sqlite``: the SQL board on a SQLite file (the embedded default);
* ``sql-postgresql`` / ``sql-mariadb``: the SQL board on a scratch
  database of the local server (skipped when it is down, failed under
  CI=true);
* ``redis``: TaskFlow's Redis board with our leases, in a namespace of its
  own per test (its keys are deleted afterwards).

Two board instances stand for two conductors (or one conductor before and
after a restart). Logbooks live in TaskFlow's SQL persistence on the same
database (SQLite for redis).
"""

import contextlib
import datetime
import threading
import time
import uuid

import pytest
from oslo_utils import uuidutils
import redis
from taskflow.conductors.backends import impl_nonblocking
from taskflow import engines
from taskflow import exceptions as tf_exc
from taskflow.jobs import base as jobs_base
from taskflow.patterns import linear_flow
from taskflow.persistence.backends import impl_sqlalchemy
from taskflow.persistence import models as tf_models
from taskflow import states
from taskflow import task

from orchestrator.conductor import jobboards
from orchestrator.conductor import leases
from orchestrator.db import models
from orchestrator.db import schema
from orchestrator.db import session as db_session
from tests import conftest as shared

pytestmark = pytest.mark.timeout(90)

SERVER_BACKENDS = ['sql-postgresql', 'sql-mariadb']
BACKENDS = ['sql-sqlite'] + SERVER_BACKENDS + ['redis']

#: A lease no test outlives (claims that must not expire).
LONG_LEASE_S = 60.0


def wait_until(predicate, timeout, what):
    """Poll ``predicate`` until true; fail the test after ``timeout``."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail('Timed out after %ss waiting for %s'
                        % (timeout, what))
        time.sleep(0.05)


class BoardEnv:
    """Builds connected boards of one backend, and closes them at the end.

    ``short_lease_s`` is the lease of the expiry tests: 1 s, except on
    MariaDB whose DATETIME keeps whole seconds (a lease may lose up to one).
    """

    def __init__(self, backend, conf, persistence):
        self.backend = backend
        self.conf = conf
        self.persistence = persistence
        self.short_lease_s = 2.0 if backend == 'sql-mariadb' else 1.0
        self._boards = []

    def board(self, lease_s=LONG_LEASE_S):
        self.conf.set_override('claim_lease_s', lease_s, group='conductor')
        board = jobboards.fetch(self.conf, persistence=self.persistence)
        self._boards.append(board)
        return board

    def close(self):
        for board in self._boards:
            board.close()

    def save_book(self, book):
        with contextlib.closing(self.persistence.get_connection()) as conn:
            conn.save_logbook(book)

    def load_book(self, book_uuid):
        with contextlib.closing(self.persistence.get_connection()) as conn:
            return conn.get_logbook(book_uuid)


@pytest.fixture(scope='module')
def server_database():
    """``get(backend)``: the URL of a scratch PostgreSQL or MariaDB database
    with the whole schema, made on first use and shared by this module's
    tests (each test's board has a name of its own); dropped at the end.

    NOTE(jobboard): one database per test (the pg_url/mysql_url fixtures)
    spends seconds per test on CREATE DATABASE and migrations.
    """
    made = {}

    def get(backend):
        if backend not in made:
            admin_url, what = {
                'sql-postgresql': (shared.PG_ADMIN_URL, 'PostgreSQL'),
                'sql-mariadb': (shared.MYSQL_ADMIN_URL, 'MariaDB'),
            }[backend]
            admin, name, url = shared.scratch_database(admin_url, what)
            made[backend] = (admin, name, url)
            schema.db_sync(db_session.configure(url))
        return made[backend][2]

    yield get
    for backend, (admin, name, _url) in made.items():
        force = ' WITH (FORCE)' if backend == 'sql-postgresql' else ''
        with admin.connect() as c:
            c.exec_driver_sql('DROP DATABASE IF EXISTS %s%s' % (name, force))
        admin.dispose()


def _board_env(request, conf, server_database, backend):
    """Generator behind the ``env`` fixtures: a BoardEnv, then cleanup."""
    conf.set_override('board_name', 'board-%s' % uuid.uuid4().hex[:8],
                      group='jobboard')
    redis_client = namespace = None
    if backend == 'redis':
        url = request.getfixturevalue('redis_url')
        engine = request.getfixturevalue('db')
        namespace = 'orch-test-%s' % uuid.uuid4().hex
        conf.set_override('backend', 'redis', group='jobboard')
        conf.set_override('redis_url', url, group='jobboard')
        conf.set_override('redis_namespace', namespace, group='jobboard')
        redis_client = redis.Redis.from_url(url)
    elif backend == 'sql-sqlite':
        engine = request.getfixturevalue('db')
        conf.set_override('backend', 'sql', group='jobboard')
    else:
        engine = db_session.configure(server_database(backend))
        conf.set_override('backend', 'sql', group='jobboard')
    persistence = impl_sqlalchemy.SQLAlchemyBackend({}, engine=engine)
    board_env = BoardEnv(backend, conf, persistence)
    yield board_env
    board_env.close()
    if redis_client is not None:
        keys = list(redis_client.scan_iter(match=namespace + ':*'))
        if keys:
            redis_client.delete(*keys)
        redis_client.close()
    if backend in ('sql-postgresql', 'sql-mariadb'):
        engine.dispose()


@pytest.fixture(params=BACKENDS)
def env(request, conf, server_database):
    yield from _board_env(request, conf, server_database, request.param)


@pytest.fixture(params=SERVER_BACKENDS)
def server_env(request, conf, server_database):
    """The SQL board on database servers only (shared by machines)."""
    yield from _board_env(request, conf, server_database, request.param)


def same_job(board, job):
    """``job`` as ``board`` lists it (what another conductor sees)."""
    for candidate in board.iterjobs():
        if candidate.uuid == job.uuid:
            return candidate
    pytest.fail('job %s is not listed on %r' % (job.uuid, board))


# -- posting and listing -----------------------------------------------------

def test_post_lists_jobs_by_priority_then_post_order(env):
    board = env.board()
    low = board.post('low', priority=jobs_base.JobPriority.LOW)
    first = board.post('first')
    high = board.post('high', priority='high')
    second = board.post('second', details={'flow_uuid': 'f-2'})
    very_high = board.post('very-high', priority='VERY_HIGH')

    other = env.board()
    listed = list(other.iterjobs())
    assert [j.uuid for j in listed] == [
        very_high.uuid, high.uuid, first.uuid, second.uuid, low.uuid]
    assert other.job_count == 5
    by_uuid = {j.uuid: j for j in listed}
    assert by_uuid[second.uuid].details == {'flow_uuid': 'f-2'}
    assert by_uuid[second.uuid].name == 'second'
    assert by_uuid[low.uuid].priority == jobs_base.JobPriority.LOW
    assert by_uuid[first.uuid].state == states.UNCLAIMED
    assert by_uuid[first.uuid].created_on is not None


def test_claim_updates_last_modified(env):
    # TaskFlow's Redis jobs have no last_modified until first claimed.
    board = env.board()
    job = same_job(env.board(), board.post('touched'))
    board.claim(job, 'conductor-a')
    assert job.last_modified >= job.created_on


def test_boards_with_other_names_do_not_share_jobs(env):
    board = env.board()
    board.post('mine')
    env.conf.set_override('board_name', 'another-board', group='jobboard')
    stranger = env.board()
    assert list(stranger.iterjobs()) == []
    assert stranger.job_count == 0


def test_job_book_is_loaded_from_persistence(env):
    book = tf_models.LogBook('book-of-job')
    book.add(tf_models.FlowDetail('flow-a', uuidutils.generate_uuid()))
    env.save_book(book)
    posted = env.board().post('with-book', book=book)
    assert posted.book_uuid == book.uuid

    seen = same_job(env.board(), posted)
    assert seen.book_uuid == book.uuid
    assert seen.book_name == 'book-of-job'
    loaded = seen.book
    assert loaded is not None and loaded.uuid == book.uuid
    assert [fd.name for fd in loaded] == ['flow-a']


def test_job_without_book_has_none(env):
    seen = same_job(env.board(), env.board().post('bookless'))
    assert seen.book is None and seen.book_uuid is None


def test_wait_returns_jobs_or_raises_not_found_on_timeout(env):
    board = env.board()
    started = time.monotonic()
    with pytest.raises(tf_exc.NotFound):
        board.wait(timeout=0.2)
    assert time.monotonic() - started < 5
    posted = board.post('arrives')
    assert [j.uuid for j in board.wait(timeout=2)] == [posted.uuid]


def test_register_entity_and_connection_lifecycle(env):
    from taskflow.types import entity
    board = env.board()
    assert board.connected
    board.register_entity(entity.Entity('conductor', 'c-1', {}))
    board.close()
    assert not board.connected
    with pytest.raises(tf_exc.JobFailure):
        board.post('while-closed')
    board.connect()
    assert board.connected
    board.post('after-reconnect')
    assert board.job_count == 1


# -- claims ------------------------------------------------------------------

def test_claim_is_exclusive_between_two_conductors(env):
    board_a, board_b = env.board(), env.board()
    job = board_a.post('exclusive')
    board_a.claim(job, 'conductor-a')
    job_b = same_job(board_b, job)
    with pytest.raises(tf_exc.UnclaimableJob):
        board_b.claim(job_b, 'conductor-b')
    assert board_b.find_owner(job_b) == 'conductor-a'
    assert job_b.state == states.CLAIMED
    assert list(board_b.iterjobs(only_unclaimed=True)) == []


def test_concurrent_claims_have_exactly_one_winner(env):
    job = env.board().post('contested')
    contenders = 6
    boards = [env.board() for _ in range(contenders)]
    jobs = [same_job(b, job) for b in boards]
    barrier = threading.Barrier(contenders)
    results = [None] * contenders

    def contend(i):
        barrier.wait(timeout=10)
        try:
            boards[i].claim(jobs[i], 'conductor-%d' % i)
            results[i] = 'won'
        except tf_exc.UnclaimableJob:
            results[i] = 'lost'
        except Exception as e:  # noqa: BLE001 - reported by the assert
            results[i] = repr(e)

    threads = [threading.Thread(target=contend, args=(i,))
               for i in range(contenders)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(results) == ['lost'] * (contenders - 1) + ['won']
    winner = results.index('won')
    assert env.board().find_owner(job) == 'conductor-%d' % winner


def test_same_owner_reclaims_at_once_after_restart(env):
    before = env.board()
    job = before.post('mine-again')
    before.claim(job, 'conductor-a')
    after = env.board()  # the same conductor, restarted
    job_after = same_job(after, job)
    after.claim(job_after, 'conductor-a')
    assert after.find_owner(job_after) == 'conductor-a'
    with pytest.raises(tf_exc.UnclaimableJob):
        after.claim(job_after, 'conductor-b')


def test_board_refuses_to_claim_twice_the_job_it_runs(env):
    # TaskFlow's conductor tries to claim every listed job, its own too:
    # a second claim through the same board would run the flow twice.
    board = env.board()
    job = board.post('running')
    board.claim(job, 'conductor-a')
    with pytest.raises(tf_exc.UnclaimableJob):
        board.claim(same_job(board, job), 'conductor-a')
    board.abandon(job, 'conductor-a')
    board.claim(job, 'conductor-a')  # released: claimable again
    assert board.find_owner(job) == 'conductor-a'


def test_claim_of_consumed_job_raises_not_found(env):
    board = env.board()
    job = board.post('gone')
    stale = same_job(env.board(), job)
    board.claim(job, 'conductor-a')
    board.consume(job, 'conductor-a')
    with pytest.raises(tf_exc.NotFound):
        env.board().claim(stale, 'conductor-b')


def test_who_must_be_a_non_empty_string(env):
    board = env.board()
    job = board.post('picky')
    with pytest.raises(ValueError):
        board.claim(job, '')
    with pytest.raises(TypeError):
        board.claim(job, None)


# -- consume, abandon, trash -------------------------------------------------

def test_consume_by_owner_removes_the_job(env):
    board = env.board()
    job = board.post('done-soon')
    board.claim(job, 'conductor-a')
    board.consume(job, 'conductor-a')
    assert board.job_count == 0
    assert list(env.board().iterjobs()) == []
    assert job.state == states.COMPLETE
    assert board.find_owner(job) is None
    with pytest.raises(tf_exc.NotFound):
        board.consume(job, 'conductor-a')


@pytest.mark.parametrize('operation', ['consume', 'abandon', 'trash'])
def test_owner_operations_by_another_owner_raise_job_failure(env, operation):
    board_a, board_b = env.board(), env.board()
    job = board_a.post('not-yours')
    board_a.claim(job, 'conductor-a')
    job_b = same_job(board_b, job)
    with pytest.raises(tf_exc.JobFailure) as raised:
        getattr(board_b, operation)(job_b, 'conductor-b')
    assert not isinstance(raised.value, tf_exc.UnclaimableJob)
    assert board_b.find_owner(job_b) == 'conductor-a'
    assert board_b.job_count == 1


@pytest.mark.parametrize('operation', ['consume', 'abandon', 'trash'])
def test_owner_operations_on_unclaimed_job_raise_not_found(env, operation):
    board = env.board()
    job = board.post('nobodys')
    with pytest.raises(tf_exc.NotFound):
        getattr(board, operation)(job, 'conductor-a')
    assert board.job_count == 1


def test_abandon_makes_the_job_claimable_by_others(env):
    board_a, board_b = env.board(), env.board()
    job = board_a.post('given-up')
    board_a.claim(job, 'conductor-a')
    board_a.abandon(job, 'conductor-a')
    job_b = same_job(board_b, job)
    assert job_b.state == states.UNCLAIMED
    assert board_b.find_owner(job_b) is None
    board_b.claim(job_b, 'conductor-b')
    assert board_a.find_owner(job) == 'conductor-b'


def test_trash_hides_the_job_for_good(env):
    board_a, board_b = env.board(), env.board()
    job = board_a.post('broken')
    kept = board_a.post('kept')
    board_a.claim(job, 'conductor-a')
    stale = same_job(board_b, job)
    board_a.trash(job, 'conductor-a')
    assert [j.uuid for j in board_b.iterjobs()] == [kept.uuid]
    assert board_b.job_count == 1
    assert stale.state == states.COMPLETE
    with pytest.raises(tf_exc.NotFound):
        board_b.claim(stale, 'conductor-b')


def test_claims_tell_each_jobs_owner_and_lease_end(env):
    """What operators' views read (one call): the live owner and when
    its lease ends, per job; an expired lease has neither."""
    board_a = env.board(lease_s=env.short_lease_s)
    board_b = env.board()
    waiting = board_a.post('waiting', details={'flow_uuid': 'f-1'})
    running = board_a.post('running', details={'flow_uuid': 'f-2'})
    before = datetime.datetime.now(datetime.timezone.utc).replace(
        tzinfo=None)
    board_a.claim(running, 'conductor-a')
    found = board_b.claims()
    assert found[waiting.uuid] == {'details': {'flow_uuid': 'f-1'},
                                   'owner': None, 'expires': None}
    claim = found[running.uuid]
    assert (claim['details'], claim['owner']) == ({'flow_uuid': 'f-2'},
                                                  'conductor-a')
    # Within the lease from the claim (a second of clock and rounding).
    assert before - datetime.timedelta(seconds=1) < claim['expires'] <= \
        before + datetime.timedelta(seconds=env.short_lease_s + 1)
    wait_until(lambda: board_b.claims()[running.uuid]['owner'] is None,
               env.short_lease_s + 5, 'the lease to expire')
    assert board_b.claims()[running.uuid]['expires'] is None


# -- leases ------------------------------------------------------------------

def test_expired_lease_lets_another_owner_claim(env):
    board_a = env.board(lease_s=env.short_lease_s)
    board_b = env.board()
    job = board_a.post('orphaned')
    board_a.claim(job, 'dead-conductor')
    job_b = same_job(board_b, job)
    with pytest.raises(tf_exc.UnclaimableJob):
        board_b.claim(job_b, 'conductor-b')

    wait_until(lambda: board_b.find_owner(job_b) is None,
               env.short_lease_s + 5, 'the lease to expire')
    assert job_b.state == states.UNCLAIMED
    assert [j.uuid for j in board_b.iterjobs(only_unclaimed=True)] == [
        job.uuid]
    board_b.claim(job_b, 'conductor-b')
    assert board_a.find_owner(job) == 'conductor-b'
    assert job.state == states.CLAIMED


@pytest.mark.parametrize('skew_s', [-3600, 3600])
def test_leases_follow_the_database_clock_not_the_conductors(
        server_env, monkeypatch, skew_s):
    # Conductors on machines whose clocks disagree must agree on leases.
    # (SQLite lives on one machine; Redis expires its keys itself.)
    env = server_env
    real_utcnow = models.utcnow
    monkeypatch.setattr(models, 'utcnow', lambda: real_utcnow(
    ) + datetime.timedelta(seconds=skew_s))
    board_a = env.board(lease_s=env.short_lease_s)
    board_b = env.board()
    job = board_a.post('skewed')
    assert abs((job.created_on - real_utcnow()).total_seconds()) < 60
    board_a.claim(job, 'conductor-a')
    with pytest.raises(tf_exc.UnclaimableJob):
        board_b.claim(same_job(board_b, job), 'conductor-b')
    assert board_b.find_owner(job) == 'conductor-a'
    wait_until(lambda: board_b.find_owner(job) is None,
               env.short_lease_s + 5, 'the lease to expire')


def test_renew_claim_keeps_the_job_owned_past_its_lease(env):
    # A lease a loaded machine's stall between two renewals (every fifth
    # of it) cannot outlast: the test is about renewal, not expiry.
    lease = max(env.short_lease_s, 3.0)
    board_a, board_b = env.board(lease_s=lease), env.board()
    job = board_a.post('long-flow')
    board_a.claim(job, 'conductor-a')
    job_b = same_job(board_b, job)
    held_until = time.monotonic() + 2.5 * lease
    while time.monotonic() < held_until:
        assert board_a.renew_claim(job, 'conductor-a') is True
        assert board_b.find_owner(job_b) == 'conductor-a'
        time.sleep(lease / 5)
    with pytest.raises(tf_exc.UnclaimableJob):
        board_b.claim(job_b, 'conductor-b')
    board_a.consume(job, 'conductor-a')


def test_renew_claim_fails_once_the_claim_is_lost(env):
    board_a = env.board(lease_s=env.short_lease_s)
    board_b = env.board()
    job = board_a.post('lost')
    board_a.claim(job, 'conductor-a')
    assert board_a.renew_claim(job, 'conductor-b') is False  # not the owner
    wait_until(lambda: board_b.find_owner(job) is None,
               env.short_lease_s + 5, 'the lease to expire')
    # Expired, even before anybody else claims it: the claim is gone.
    assert board_a.renew_claim(job, 'conductor-a') is False
    board_b.claim(same_job(board_b, job), 'conductor-b')
    assert board_a.renew_claim(job, 'conductor-a') is False
    assert board_b.find_owner(job) == 'conductor-b'
    with pytest.raises(tf_exc.JobFailure):
        board_a.consume(job, 'conductor-a')


def test_renew_claim_of_consumed_job_fails(env):
    board = env.board()
    job = board.post('finished')
    board.claim(job, 'conductor-a')
    board.consume(job, 'conductor-a')
    assert board.renew_claim(job, 'conductor-a') is False


def test_lease_keeper_holds_claims_on_the_board(env):
    lease = env.short_lease_s
    board_a, board_b = env.board(lease_s=lease), env.board()
    job = board_a.post('kept-alive')
    board_a.claim(job, 'conductor-a')
    lost = []
    with leases.LeaseKeeper(lease / 5, lambda j, w: lost.append(j)) as keeper:
        keeper.add(job, 'conductor-a')
        time.sleep(2.5 * lease)
        assert board_b.find_owner(same_job(board_b, job)) == 'conductor-a'
        keeper.remove(job)
    assert lost == []
    board_a.consume(job, 'conductor-a')


def test_lease_keeper_reports_a_claim_taken_over(env):
    board_a = env.board(lease_s=env.short_lease_s)
    board_b = env.board()
    job = board_a.post('taken-over')
    board_a.claim(job, 'conductor-a')
    lost = []
    keeper = leases.LeaseKeeper(60, lambda j, w: lost.append((j.uuid, w)))
    keeper.add(job, 'conductor-a')
    wait_until(lambda: board_b.find_owner(job) is None,
               env.short_lease_s + 5, 'the lease to expire')
    board_b.claim(same_job(board_b, job), 'conductor-b')
    assert keeper.renew_all() == [job]
    assert lost == [(job.uuid, 'conductor-a')]
    assert keeper.tracked() == set()
    assert board_b.find_owner(job) == 'conductor-b'


# -- a real TaskFlow conductor on each board ---------------------------------

class WriteMarker(task.Task):
    """Writes the job's marker file (proves the flow ran)."""

    def execute(self, marker):
        with open(marker, 'a') as f:
            f.write('ran\n')


def tiny_flow():
    """Flow factory the logbook records by import path."""
    return linear_flow.Flow('tiny').add(WriteMarker())


def post_tiny_job(env, board, marker):
    book = tf_models.LogBook('tiny-book')
    flow_detail = tf_models.FlowDetail('tiny', uuidutils.generate_uuid())
    book.add(flow_detail)
    env.save_book(book)
    engines.save_factory_details(flow_detail, tiny_flow, (), {},
                                 backend=env.persistence)
    return board.post('tiny', book=book,
                      details={'store': {'marker': str(marker)}}), flow_detail


@contextlib.contextmanager
def running_conductor(name, board, persistence):
    conductor = impl_nonblocking.NonBlockingConductor(
        name, board, persistence=persistence, engine='serial',
        max_simultaneous_jobs=1, wait_timeout=0.05)
    consumed = []
    conductor.notifier.register(
        'job_consumed', lambda _event, details: consumed.append(
            details['job'].uuid))
    thread = threading.Thread(target=conductor.run, daemon=True)
    thread.start()
    try:
        yield consumed
    finally:
        conductor.stop()
        assert conductor.wait(10), 'the conductor did not stop'
        thread.join(10)


def _assert_flow_ran_once(env, flow_detail, book_uuid, marker):
    with open(marker) as f:
        assert f.read() == 'ran\n'
    book = env.load_book(book_uuid)
    assert book.find(flow_detail.uuid).state == states.SUCCESS


def test_conductor_runs_a_posted_flow_until_consumed(env, tmp_path):
    marker = tmp_path / 'marker'
    poster = env.board()
    job, flow_detail = post_tiny_job(env, poster, marker)
    board = env.board()
    with running_conductor('conductor-a', board, env.persistence) as done:
        wait_until(lambda: done == [job.uuid], 20, 'the job to be consumed')
    assert job.state == states.COMPLETE
    assert poster.job_count == 0
    _assert_flow_ran_once(env, flow_detail, job.book_uuid, marker)


def test_conductor_takes_over_a_dead_owners_job_after_its_lease(env,
                                                                 tmp_path):
    marker = tmp_path / 'marker'
    dead = env.board(lease_s=env.short_lease_s)
    job, flow_detail = post_tiny_job(env, dead, marker)
    dead.claim(job, 'dead-conductor')
    board = env.board()
    with running_conductor('conductor-b', board, env.persistence) as done:
        wait_until(lambda: done == [job.uuid], env.short_lease_s + 20,
                   'the job to be taken over and consumed')
    _assert_flow_ran_once(env, flow_detail, job.book_uuid, marker)


def test_conductor_restarted_under_its_name_resumes_its_job_at_once(
        env, tmp_path):
    marker = tmp_path / 'marker'
    before_restart = env.board(lease_s=LONG_LEASE_S)
    job, flow_detail = post_tiny_job(env, before_restart, marker)
    before_restart.claim(job, 'conductor-a')
    board = env.board()
    started = time.monotonic()
    with running_conductor('conductor-a', board, env.persistence) as done:
        wait_until(lambda: done == [job.uuid], 20, 'the job to be consumed')
    assert time.monotonic() - started < LONG_LEASE_S / 2
    _assert_flow_ran_once(env, flow_detail, job.book_uuid, marker)

