"""LeaseKeeper and LocalClaims against a fake board (no I/O).

The same keeper against every real board is in test_jobboard_contract.
"""

import threading
import time

import pytest
from taskflow import exceptions as tf_exc

from orchestrator.conductor import leases

pytestmark = pytest.mark.timeout(30)


class FakeJob:
    def __init__(self, uuid, board=None):
        self.uuid = uuid
        self.board = board


class FakeBoard:
    """renew_claim answers from ``answers[uuid]``: True, False or an
    exception to raise; every call is recorded."""

    def __init__(self):
        self.answers = {}
        self.calls = []
        self.lock = threading.Lock()

    def renew_claim(self, job, who):
        with self.lock:
            self.calls.append((job.uuid, who))
        answer = self.answers.get(job.uuid, True)
        if isinstance(answer, Exception):
            raise answer
        return answer

    def count(self, uuid):
        with self.lock:
            return sum(1 for u, _ in self.calls if u == uuid)


def wait_until(predicate, timeout=5.0):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, 'timed out'
        time.sleep(0.01)


def test_keeper_renews_tracked_claims_every_interval():
    board = FakeBoard()
    job = FakeJob('j1', board)
    with leases.LeaseKeeper(0.02, lambda j, w: None) as keeper:
        keeper.add(job, 'conductor-a')
        wait_until(lambda: board.count('j1') >= 3)
    assert set(board.calls) == {('j1', 'conductor-a')}


def test_keeper_uses_the_board_given_over_the_jobs_own():
    own, given = FakeBoard(), FakeBoard()
    keeper = leases.LeaseKeeper(60, lambda j, w: None)
    keeper.add(FakeJob('j1', own), 'conductor-a', board=given)
    keeper.renew_all()
    assert (own.calls, given.calls) == ([], [('j1', 'conductor-a')])


def test_lost_claim_calls_back_once_and_stops_renewing():
    board = FakeBoard()
    lost_job, kept_job = FakeJob('lost', board), FakeJob('kept', board)
    board.answers['lost'] = False
    lost = []
    keeper = leases.LeaseKeeper(60, lambda j, w: lost.append((j, w)))
    keeper.add(lost_job, 'conductor-a')
    keeper.add(kept_job, 'conductor-a')
    assert keeper.renew_all() == [lost_job]
    assert keeper.renew_all() == []
    assert lost == [(lost_job, 'conductor-a')]
    assert keeper.tracked() == {'kept'}
    assert board.count('lost') == 1 and board.count('kept') == 2


def test_not_found_means_lost():
    board = FakeBoard()
    job = FakeJob('gone', board)
    board.answers['gone'] = tf_exc.NotFound('consumed')
    lost = []
    keeper = leases.LeaseKeeper(60, lambda j, w: lost.append(j))
    keeper.add(job, 'conductor-a')
    keeper.renew_all()
    assert lost == [job] and keeper.tracked() == set()


def test_backend_failure_is_retried_not_reported_lost():
    board = FakeBoard()
    job = FakeJob('j1', board)
    board.answers['j1'] = tf_exc.JobFailure('database down')
    lost = []
    keeper = leases.LeaseKeeper(60, lambda j, w: lost.append(j))
    keeper.add(job, 'conductor-a')
    assert keeper.renew_all() == []
    board.answers['j1'] = True
    assert keeper.renew_all() == []
    assert lost == [] and keeper.tracked() == {'j1'}
    assert board.count('j1') == 2


def test_removed_job_is_not_renewed():
    board = FakeBoard()
    job = FakeJob('j1', board)
    keeper = leases.LeaseKeeper(60, lambda j, w: None)
    keeper.add(job, 'conductor-a')
    keeper.remove(job)
    keeper.remove(job)  # idempotent
    keeper.renew_all()
    assert board.calls == []


def test_job_removed_during_a_failed_renewal_is_not_reported_lost():
    # The conductor consumed the job (and removed it) while the keeper's
    # renewal was in flight: that renewal fails, but nothing was lost.
    lost = []
    keeper = leases.LeaseKeeper(60, lambda j, w: lost.append(j))

    class RemovingBoard(FakeBoard):
        def renew_claim(self, job, who):
            keeper.remove(job)
            return False

    job = FakeJob('j1', RemovingBoard())
    keeper.add(job, 'conductor-a')
    assert keeper.renew_all() == []
    assert lost == []


def test_failing_callback_does_not_kill_the_keeper():
    board = FakeBoard()
    board.answers['bad'] = False
    keeper = leases.LeaseKeeper(0.02, lambda j, w: 1 / 0)
    with keeper:
        keeper.add(FakeJob('bad', board), 'conductor-a')
        keeper.add(FakeJob('good', board), 'conductor-a')
        wait_until(lambda: board.count('good') >= 3)
        assert keeper.alive
    assert keeper.tracked() == {'good'}


def test_stop_ends_the_thread_promptly():
    keeper = leases.LeaseKeeper(30, lambda j, w: None)
    keeper.start()
    keeper.start()  # no second thread
    assert keeper.alive
    started = time.monotonic()
    assert keeper.stop(timeout=5) is True
    assert time.monotonic() - started < 2
    assert not keeper.alive
    assert keeper.stop() is True  # idempotent


def test_keeper_refuses_bad_arguments():
    with pytest.raises(ValueError):
        leases.LeaseKeeper(0, lambda j, w: None)
    with pytest.raises(ValueError):
        leases.LeaseKeeper(1, None)


def test_local_claims_refuse_a_second_claim_until_released():
    claims = leases.LocalClaims()
    job = FakeJob('j1')
    with claims.claiming(job):
        pass
    assert job in claims
    with pytest.raises(tf_exc.UnclaimableJob):
        with claims.claiming(FakeJob('j1')):
            pytest.fail('a second claim must not start')
    claims.release(job)
    assert job not in claims
    with claims.claiming(job):
        pass


def test_local_claims_forget_a_claim_that_failed():
    claims = leases.LocalClaims()
    job = FakeJob('j1')
    with pytest.raises(tf_exc.UnclaimableJob):
        with claims.claiming(job):
            raise tf_exc.UnclaimableJob('owned by another')
    assert job not in claims


class LeasedBoard(FakeBoard):
    """A fake board whose claims last ``lease_s``."""

    def __init__(self, lease_s):
        super().__init__()
        self.lease_s = lease_s


def test_claim_known_live_while_the_lease_surely_holds():
    board = LeasedBoard(lease_s=0.5)
    job = FakeJob('j1', board)
    keeper = leases.LeaseKeeper(10.0, lambda j, w: None)
    assert keeper.claim_known(job, margin_s=0.1) is None
    keeper.add(job, 'conductor-a')
    assert keeper.claim_known(job, margin_s=0.1) == 'live'
    # Past lease - margin with no renewal: not known any more.
    time.sleep(0.45)
    assert keeper.claim_known(job, margin_s=0.1) is None
    # A renewal starts a new lease from the moment it was asked.
    keeper.renew_all()
    assert keeper.claim_known(job, margin_s=0.1) == 'live'
    keeper.remove(job)
    assert keeper.claim_known(job, margin_s=0.1) is None


def test_claim_known_lost_once_a_renewal_found_it_lost():
    board = LeasedBoard(lease_s=30.0)
    job = FakeJob('j1', board)
    keeper = leases.LeaseKeeper(10.0, lambda j, w: None)
    keeper.add(job, 'conductor-a')
    board.answers['j1'] = False
    keeper.renew_all()
    assert keeper.claim_known(job, margin_s=1.0) == 'lost'
    # Claimed again (a run again of the same job): live again.
    board.answers['j1'] = True
    keeper.add(job, 'conductor-a')
    assert keeper.claim_known(job, margin_s=1.0) == 'live'


def test_claim_never_known_on_a_board_without_a_lease():
    job = FakeJob('j1', FakeBoard())
    keeper = leases.LeaseKeeper(10.0, lambda j, w: None)
    keeper.add(job, 'conductor-a')
    assert keeper.claim_known(job, margin_s=0.0) is None
