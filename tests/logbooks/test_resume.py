"""Every committed logbook snapshot resumes with today's code.

Each snapshot (tests/fixtures/logbooks/<release>/, written by
``python -m tests.logbooks.generate`` when the release was cut) is
restored into a fresh state directory, an all-in-one is started on it
(its conductor picks up the dead one's job once its claim lapses, after
upgrading the logbook: :mod:`flows.evolution`), and once nothing is left
to do: the snapshot's flow ended as the release promised (forward to its
final state, or reverted, by its resume policy), the server shows the
status that end means, and the crash suite's checks hold (no task_state
left, no job, no claim, allocation or guest that nothing accounts for).

``make test`` runs :data:`SAMPLE` (one point of each kind);
``LOGBOOKS_ALL=1`` (``make logbooks-test``) runs every snapshot.
"""

import json
import os

import pytest

from orchestrator import failpoints

from flows import catalog
from flows import evolution

from tests.crash import checks
from tests.crash import harness
from tests.functional.systems import free_port
from tests import logbooks
from tests.waiting import wait_for

#: Seconds the resumed flow has to settle.
SETTLE_TIMEOUT_S = 120
#: What ``make test`` runs: these points of these flows.
SAMPLE = ('stop-server__mid-flow', 'resize-server__mid-revert',
          'live-migrate-server__past-no-return',
          'boot-server__before-first-step', 'rebuild-server__mid-revert',
          'evacuate-server__mid-flow')


def _selected():
    paths = logbooks.all_snapshots()
    if os.environ.get('LOGBOOKS_ALL', '') not in ('', '0'):
        return paths
    return [p for p in paths
            if os.path.basename(p)[:-len('.json')] in SAMPLE]


def _id(path):
    return '%s/%s' % (os.path.basename(os.path.dirname(path)),
                      os.path.basename(path)[:-len('.json')])


def resume(snapshot, state_dir, launcher):
    """Restore ``snapshot`` in ``state_dir``, let an all-in-one resume
    it; the problems found (sentences; empty: it resumed as promised)."""
    logbooks.restore(snapshot, state_dir)
    aio = harness.AllInOneProcess(state_dir, free_port(), launcher=launcher)
    try:
        armed = snapshot.get('armed')
        aio.start(env={failpoints.ENV_VAR: armed} if armed else None,
                  config=snapshot['config'], hosts=snapshot['hosts'])
        try:
            wait_for(lambda: checks.settled(aio), timeout=SETTLE_TIMEOUT_S,
                     interval=0.1, what='the resumed flow to settle')
        except AssertionError as e:
            return ['%s: %s' % (e, checks.problems(aio)),
                    aio.log(3000)]
        return _problems(snapshot, aio)
    finally:
        aio.close()


def _problems(snapshot, aio):
    data = checks.read_db(aio)
    in_flight = {f['uuid'] for f in snapshot['tables']['flowdetails']
                 if f['name'] == snapshot['flow']}
    found = []
    resumed = [f for f in data['flows'] if f['uuid'] in in_flight]
    if len(resumed) != 1:
        found.append('expected the one %s flow of the snapshot, found %s'
                     % (snapshot['flow'], resumed))
    else:
        if resumed[0]['state'] != snapshot['expected_flow_state']:
            found.append('the flow ended %s, expected %s' % (
                resumed[0]['state'], snapshot['expected_flow_state']))
        meta = json.loads(resumed[0]['meta'] or '{}')
        now = evolution.flow_version(catalog.by_flow_name(snapshot['flow']))
        if meta.get(evolution.META_KEY, 1) != now:
            found.append('the logbook was not upgraded to version %s: %s'
                         % (now, meta.get(evolution.META_KEY)))
    server = aio.server(snapshot['server_id'])
    shown = server['status'] if server else None
    if shown != snapshot['expected_status']:
        found.append('the server is %s, expected %s' % (
            shown, snapshot['expected_status']))
    error_ok = ({snapshot['server_id']}
                if snapshot['expected_status'] == 'ERROR' else ())
    found.extend(checks.problems(aio, data, error_ok=error_ok))
    if found:
        found.append(aio.log(3000))
    return found


def test_every_snapshot_is_of_a_flow_the_catalogue_still_runs():
    """A flow removed while logbooks of it may be in flight strands them:
    keep its module (or a replacement under its FLOW_NAME)."""
    paths = logbooks.all_snapshots()
    assert paths, 'no logbook snapshots under %s' % logbooks.FIXTURES
    running = {m.FLOW_NAME for m in catalog.all_flow_modules()}
    stranded = sorted({logbooks.load(p)['flow'] for p in paths} - running)
    assert not stranded, stranded


def test_the_release_of_2026_12_left_snapshots_of_every_flow_it_had():
    flows = {logbooks.load(p)['flow'] for p in logbooks.all_snapshots()
             if os.path.basename(os.path.dirname(p)) == '2026.12'}
    assert len(flows) == 23


@pytest.mark.parametrize('path', _selected(), ids=_id)
def test_snapshot_resumes(path, tmp_path, launcher):
    snapshot = logbooks.load(path)
    found = resume(snapshot, str(tmp_path / 'state'), launcher)
    assert not found, '%s:\n%s' % (_id(path), '\n'.join(found))
