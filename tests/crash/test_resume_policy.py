"""Each resume behaviour shown by a crash case (always run, in CI too).

* resume: a stop killed after its host call (result not recorded) runs
  the step again and ends SHUTOFF;
* revert: a snapshot (resume policy revert) killed while uploading is
  rolled back: the image is gone, the server as it was with a fault
  saying why, the action Error;
* from the point of no return on: a snapshot killed in its last step
  (the upload complete) rolls forward: the image is active.

Each case also passes every check of the suite (:mod:`.scenario`).
"""

import pytest
import sqlalchemy as sa

from orchestrator import failpoints

from tests.crash import cases
from tests.crash import recipes
from tests.crash import scenario

SNAPSHOT = 'orchestrator-snapshot-server'
STOP = 'orchestrator-stop-server'


@pytest.fixture
def run_case(template, launcher, tmp_path):
    results = []

    def run(flow, step, phase):
        case = cases.Case(flow, failpoints.step_name(flow, step, phase))
        template_dir, servers = template
        result = scenario.run(case, template_dir, servers, launcher,
                              tmp_path, keep=True)
        results.append(result)
        return result

    yield run
    for result in results:
        result.aio.close()


def _action(result):
    aio = result.aio
    listed = recipes.api(aio, 'GET', '/v2.1/servers/%s/os-instance-actions'
                         % result.server_id).json()['instanceActions']
    newest = sorted(listed, key=lambda a: a['start_time'])[-1]
    return recipes.api(aio, 'GET', '/v2.1/servers/%s/os-instance-actions/%s'
                       % (result.server_id, newest['request_id'])).json()[
        'instanceAction']


def _image(result):
    image_id = result.flow_store['params']['image_id']
    return recipes.api(result.aio, 'GET', '/image/v2/images/%s' % image_id)


def _latest_fault(result):
    with result.aio.db().connect() as c:
        return c.execute(sa.text(
            'select message from instance_faults where instance_uuid = :u '
            'order by id desc limit 1'), {'u': result.server_id}).scalar()


def _events(action):
    return [(e['event'], e['result']) for e in action['events']]


def test_resume_runs_the_interrupted_step_again(run_case):
    result = run_case(STOP, 'ChangePowerOnHost', 'after-execute')
    assert result.outcome == cases.SUCCESS
    assert result.server['status'] == 'SHUTOFF'
    action = _action(result)
    assert action['action'] == 'stop'
    assert ('ChangePowerOnHost', 'Success') in _events(action)
    assert not [e for e, _r in _events(action) if e.endswith(':revert')]


@pytest.mark.parametrize('step', ['SnapshotOnHost', 'UploadSnapshot'])
def test_revert_policy_rolls_back_an_interrupted_snapshot(run_case, step):
    result = run_case(SNAPSHOT, step, 'after-execute')
    assert result.outcome == cases.REVERTED
    assert result.server['status'] == 'ACTIVE'
    assert 'resume policy' in _latest_fault(result), _latest_fault(result)
    image = _image(result)
    assert image.status_code == 404, image.text
    action = _action(result)
    assert action['action'] == 'createImage'
    assert 'resume policy' in (action['message'] or ''), action
    events = _events(action)
    assert (step, 'Error') in events, events
    assert (step + ':revert', 'Success') in events, events
    assert ('DeleteImageOnRevert:revert', 'Success') in events, events
    host = result.server['OS-EXT-SRV-ATTR:host']
    assert result.aio.host_file(host)['snapshots'] == {}


def test_past_the_point_of_no_return_a_snapshot_rolls_forward(run_case):
    module = recipes.flow_modules()[SNAPSHOT]
    assert module.POINT_OF_NO_RETURN == 'FinishSnapshot'
    result = run_case(SNAPSHOT, 'FinishSnapshot', 'after-execute')
    assert result.outcome == cases.SUCCESS
    image = _image(result).json()
    assert image['status'] == 'active', image
    events = _events(_action(result))
    assert ('FinishSnapshot', 'Success') in events, events
    assert not [e for e, _r in events if e.endswith(':revert')], events
