"""The claim check at engine transitions asks the board only when the
lease keeper does not know the claim holds."""

import pytest
from taskflow import states

from orchestrator.conductor import claim_check
from orchestrator.conductor import leases

pytestmark = pytest.mark.timeout(30)


class Job:
    uuid = 'job-1'

    def __init__(self, board):
        self.board = board

    @property
    def state(self):
        self.board.reads += 1
        return states.CLAIMED if self.board.owner else states.UNCLAIMED


class Board:
    lease_s = 30.0

    def __init__(self, owner='me'):
        self.owner = owner
        self.reads = 0
        self.renew_answer = True

    def find_owner(self, job):
        self.reads += 1
        return self.owner

    def renew_claim(self, job, who):
        return self.renew_answer


class Engine:
    def __init__(self):
        self.suspended = 0
        self.notifier = self.atom_notifier = None

    def suspend(self):
        self.suspended += 1


def listener(board, keeper, margin_s=1.0):
    engine = Engine()
    job = Job(board)
    found = claim_check.LeaseAwareClaimListener(
        engine, job, board, 'me', keeper, margin_s=margin_s)
    return found, engine, job


def test_a_fresh_lease_answers_without_reading_the_board():
    board = Board()
    keeper = leases.LeaseKeeper(10.0, lambda j, w: None)
    check, engine, job = listener(board, keeper)
    keeper.add(job, 'me', board=board)
    for _ in range(20):
        check._claim_checker(states.RUNNING, {})
    assert board.reads == 0
    assert engine.suspended == 0


def test_a_lease_near_its_end_is_checked_on_the_board():
    board = Board(owner='someone-else')
    keeper = leases.LeaseKeeper(10.0, lambda j, w: None)
    # A margin as long as the lease: the keeper never vouches for it.
    check, engine, job = listener(board, keeper, margin_s=board.lease_s)
    keeper.add(job, 'me', board=board)
    check._claim_checker(states.RUNNING, {})
    assert board.reads >= 1
    assert engine.suspended == 1


def test_a_lost_lease_suspends_without_reading_the_board():
    board = Board()
    keeper = leases.LeaseKeeper(10.0, lambda j, w: None)
    check, engine, job = listener(board, keeper)
    keeper.add(job, 'me', board=board)
    board.renew_answer = False
    keeper.renew_all()
    check._claim_checker(states.RUNNING, {})
    assert board.reads == 0
    assert engine.suspended == 1
