"""Fixtures of the crash suite.

* ``launcher``: one :class:`tests.crash.harness.ZygoteLauncher` per test
  process (it forks every all-in-one of the session).
* ``template``: (directory, {name: server id}) of the template state
  directory, built once per run and shared by the test processes.

Its per-flow case count is printed by :mod:`tests.crash.report`.
"""

import pytest

from tests.crash import harness
from tests.crash import recipes
from tests.functional.systems import free_port


@pytest.fixture(scope='session')
def launcher():
    zygote = harness.ZygoteLauncher()
    yield zygote
    zygote.close()


@pytest.fixture(scope='session')
def template(tmp_path_factory, launcher, worker_id):
    base = tmp_path_factory.getbasetemp()
    if worker_id != 'master':
        # Shared by the xdist workers of this run (one basetemp each).
        base = base.parent
    return recipes.shared_template(str(base / 'crash'), free_port(),
                                   launcher)
