"""The random-kill soak (see :mod:`tests.soak.driver`).

``make test`` runs it short with a fixed seed; ``make soak`` for 30
minutes with a random seed (``SOAK_SEED=<n> make soak`` replays one).
The summary (requests by action and answer, kills, checks) is printed
either way; on failure it names the seed, the replay command, the
state directory (kept) and the rows of each server concerned.
"""

import shutil
import tempfile

import pytest

from tests.soak import driver


@pytest.mark.timeout(driver.time_budget_s())
def test_random_kill_soak():
    settings = driver.Settings.from_env()
    # Not in pytest's tmp_path: pytest deletes old ones while others'
    # runs go on, and a failing soak's state is kept for inspection.
    workdir = tempfile.mkdtemp(prefix='soak-%d-' % settings.seed)
    run = driver.Run(settings, workdir + '/state')
    try:
        run.go()
        results, report = run.judge()
    finally:
        run.close()
    print(report)
    failed = {check: problems for check, problems in results.items()
              if problems}
    assert not failed, report
    shutil.rmtree(workdir)
