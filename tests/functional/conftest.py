"""The whole system in one process: conductor, fake hosts, SQLite, memory
transport, SQL jobboard; optionally the HTTP API on a free port.

After every test that uses the ``system`` or ``api_system`` fixture, the
fixture waits briefly for the tasks to settle and checks the system
invariant (:mod:`tests.functional.invariants`), allocations of deleted
instances included: a leak fails the test that caused it. A test that
leaves a broken state on purpose opts out with
``@pytest.mark.leaves_broken_state(reason='...')``.

``keystone`` is a real Keystone (session-scoped) for the authentication
tests.
"""

import time

import pytest
import sqlalchemy as sa

from orchestrator.db import instances
from orchestrator.db import models
from orchestrator.db import session

from tests import keystone_server
from tests.conftest import service_missing
from tests.functional import invariants
from tests.functional.systems import free_port
from tests.functional.systems import start_all_in_one

#: Seconds the teardown waits for flows to end (no job on the board, no
#: task_state on any instance) before checking the invariant.
SETTLE_S = 20
#: Seconds the invariant may take to hold once settled (a cleanup posted
#: by the last step of a flow, a power report in flight).
CONVERGE_S = 5


def pytest_configure(config):
    config.addinivalue_line(
        'markers', 'leaves_broken_state(reason): the test leaves a state '
                   'that breaks the system invariant on purpose; the '
                   'functional fixtures do not check it after the test')


def _busy():
    """What still runs: jobs on the board, instances with a task."""
    with session.reader() as s:
        jobs = s.execute(sa.select(sa.func.count()).select_from(
            models.Job)).scalar()
    tasks = [(i['uuid'], i['task_state']) for i in instances.list_()
             if i['task_state'] is not None]
    return jobs, tasks


def check_after_test(request, node):
    """Wait for the system to settle, then assert the invariant, unless
    the test is marked leaves_broken_state (with a reason)."""
    marker = request.node.get_closest_marker('leaves_broken_state')
    if marker is not None:
        assert marker.kwargs.get('reason') or marker.args, (
            'leaves_broken_state needs a reason')
        return
    if getattr(request.node, 'rep_call', None) is not None and \
            request.node.rep_call.failed:
        return  # the test failed already: its own failure says more
    deadline = time.monotonic() + SETTLE_S
    busy = _busy()
    while (busy[0] or busy[1]) and time.monotonic() < deadline:
        time.sleep(0.1)
        busy = _busy()
    deadline = time.monotonic() + CONVERGE_S
    found = invariants.system_problems(node)
    while found and time.monotonic() < deadline:
        time.sleep(0.2)
        found = invariants.system_problems(node)
    if found and (busy[0] or busy[1]):
        found.append('(still running after %ds: %d job(s), tasks %s)'
                     % (SETTLE_S, busy[0], busy[1]))
    assert not found, ('the system invariant does not hold after the '
                       'test:\n' + '\n'.join(found))


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.when == 'call':
        item.rep_call = report


@pytest.fixture
def system(request, conf, tmp_path):
    """A started all-in-one without HTTP (3 hosts, fast heartbeats)."""
    node = start_all_in_one(conf, tmp_path, serve_api=False)
    try:
        yield node
        check_after_test(request, node)
    finally:
        node.stop()


@pytest.fixture
def api_system(request, conf, tmp_path):
    """A started all-in-one serving HTTP; ``.url`` is its endpoint."""
    node = start_all_in_one(conf, tmp_path, serve_api=True)
    try:
        yield node
        check_after_test(request, node)
    finally:
        node.stop()


@pytest.fixture(scope='session')
def keystone(tmp_path_factory):
    """A real Keystone on loopback with projects alpha and beta and their
    users (tests/keystone_server.py); one per session (per xdist
    worker), started on first use (about 5 s)."""
    why = keystone_server.missing()
    if why:
        service_missing('Keystone', why)
    yield from keystone_server.running(tmp_path_factory.mktemp('keystone'),
                                       free_port())
