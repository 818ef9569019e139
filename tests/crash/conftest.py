"""Fixtures of the crash suite, and its per-flow case count.

* ``launcher``: one :class:`tests.crash.harness.ZygoteLauncher` per test
  process (it forks every all-in-one of the session).
* ``template``: (directory, {name: server id}) of the template state
  directory, built once per run and shared by the test processes.

At the end of the run the terminal summary says how many crash cases ran
per flow (and how many failed).
"""

import collections

import pytest

from tests.crash import harness
from tests.crash import recipes
from tests.functional.systems import free_port

CASE_TEST = 'tests/crash/test_crash.py::test_crash['


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


def pytest_terminal_summary(terminalreporter):
    ran = collections.Counter()
    failed = collections.Counter()
    for outcome in ('passed', 'failed', 'error'):
        for report in terminalreporter.stats.get(outcome, []):
            nodeid = getattr(report, 'nodeid', '')
            if not nodeid.startswith(CASE_TEST):
                continue
            if getattr(report, 'when', 'call') != 'call' \
                    and outcome == 'passed':
                continue
            flow = nodeid[len(CASE_TEST):].split('/', 1)[0]
            ran[flow] += 1
            if outcome != 'passed':
                failed[flow] += 1
    if not ran:
        return
    terminalreporter.section('crash cases per flow')
    for flow in sorted(ran):
        terminalreporter.write_line('%-22s %4d ran%s' % (
            flow, ran[flow],
            ', %d failed' % failed[flow] if failed[flow] else ''))
    terminalreporter.write_line('%-22s %4d ran, %d failed' % (
        'total', sum(ran.values()), sum(failed.values())))
