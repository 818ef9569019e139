"""Checking an engine's claim at its transitions without asking the board
each time.

TaskFlow's ``CheckingClaimListener`` reads the job's state and owner from
the board at every task and flow transition (two SELECTs each, about 30
per boot): the price of noticing that a claim was lost. Our claims are
leases, and the conductor's lease keeper (:mod:`orchestrator.conductor.
leases`) knows when each one was last made or renewed: until that
instant plus the lease the claim cannot have been taken, whatever the
board says. :class:`LeaseAwareClaimListener` asks the board only when
the keeper does not know (a renewal is late: the lease is within
``margin_s`` of its end) and suspends the engine at once when the keeper
found the claim lost.

A stale owner is fenced by more than this check: every write of a step
is a compare-and-swap on the instance's task_id, which a new owner's
takeover replaces, so a stale engine's step that slips past a check
writes nothing.
"""

from taskflow.listeners import claims


class LeaseAwareClaimListener(claims.CheckingClaimListener):
    """TaskFlow's claim check, answered from the lease keeper while the
    lease surely holds.

    :param keeper: the :class:`~orchestrator.conductor.leases.LeaseKeeper`
        renewing the job's claim.
    :param margin_s: how long before the lease's known end the board is
        asked again.
    """

    def __init__(self, engine, job, board, owner, keeper, margin_s):
        super().__init__(engine, job, board, owner)
        self._keeper = keeper
        self._margin_s = margin_s

    def _has_been_lost(self):
        known = self._keeper.claim_known(self._job, self._margin_s)
        if known == 'lost':
            return True
        if known == 'live':
            return False
        return super()._has_been_lost()
