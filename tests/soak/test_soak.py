"""The random-kill soak (see :mod:`tests.soak.driver`).

``make test`` runs it short with a fixed seed; ``make soak`` for 30
minutes with a random seed (``SOAK_SEED=<n> make soak`` replays one).
The summary (requests by action and answer, kills, checks) is printed
either way; on failure it names the seed, the replay command, the
state directory (kept) and the rows of each server concerned.
"""

import pytest

from tests.soak import driver


@pytest.mark.timeout(driver.time_budget_s())
def test_random_kill_soak(tmp_path):
    settings = driver.Settings.from_env()
    run = driver.Run(settings, tmp_path / 'state')
    try:
        run.go()
        results, report = run.judge()
    finally:
        run.close()
    print(report)
    failed = {check: problems for check, problems in results.items()
              if problems}
    assert not failed, report
