"""The console's administrators' side in-process: repair of a failed flow
(its audit, its job, its refusals), the hosts page, the state rules,
and the public session under each authentication strategy."""

import base64
import os

import pytest
import sqlalchemy as sa
from taskflow import states as tf_states

from orchestrator import flow_index
from orchestrator import state_docs
from orchestrator import state_machine
from orchestrator import states
from orchestrator.api import app as api_app
from orchestrator.api import auth_basic
from orchestrator.db import actions as db_actions
from orchestrator.db import instances as db_instances
from orchestrator.db import migration_records
from orchestrator.db import models
from orchestrator.db import session

from tests.unit.api import console_flows
from tests.unit.api.conftest import call
from tests.unit.api.conftest import make_compute_host
from tests.unit.api.conftest import make_instance
from tests.unit.api.conftest import make_instance_in_state
from tests.unit.api.conftest import persona_app

API = '/console/api'


@pytest.fixture
def member_app(db, conf):
    return persona_app(conf, 'member', 'default', ['member'])


def _jobs():
    with session.reader() as s:
        return [dict(r._mapping) for r in s.execute(
            sa.select(models.Job.uuid, models.Job.details))]


def test_retry_posts_the_audited_repair(app):
    instance, action, flow_uuid = console_flows.repairable_boot()
    resp = call(app, 'POST', API + '/flows/%s/retry' % flow_uuid[:8],
                body={'confirm': True})
    assert resp.status_int == 202, resp.text
    body = resp.json['flow']
    assert (body['uuid'], body['state']) == (flow_uuid, 'RUNNING')
    assert 'SpawnOnHost' in body['steps']
    # A job for the flow is on the board, for a conductor to run.
    [job] = _jobs()
    assert (job['uuid'], job['details']['flow_uuid']) == (body['job'],
                                                          flow_uuid)
    # The instance is claimed again by the flow, back where a boot
    # starts, and the repair is recorded as the caller's.
    after = db_instances.get(instance['uuid'])
    assert (after['vm_state'], after['task_state'], after['task_id']) == (
        states.BUILDING, states.SCHEDULING, action['task_id'])
    repair = db_actions.list_for_instance(instance['uuid'])[0]
    assert (repair['action'], repair['user_id']) == ('repairFlow', 'admin')
    assert 'retry of flow %s' % flow_uuid in repair['message']
    # The flow is in flight now: a second repair is refused.
    again = call(app, 'POST', API + '/flows/%s/retry' % flow_uuid,
                 body={'confirm': True})
    assert again.status_int == 409
    assert 'RUNNING' in again.json['conflictingRequest']['message']


def test_revert_of_a_reverted_flow_is_a_409_with_the_reason(app):
    instance, _action, flow_uuid = console_flows.repairable_boot(
        flow_state=tf_states.REVERTED)
    resp = call(app, 'POST', API + '/flows/%s/revert' % flow_uuid,
                body={'confirm': True})
    assert resp.status_int == 409
    assert resp.json['conflictingRequest']['message'] == (
        'Conflict: flow %s is REVERTED; revert repairs flows in FAILURE'
        % flow_uuid)
    assert db_instances.get(instance['uuid'])['task_state'] is None
    assert _jobs() == []


def test_repair_of_an_instance_that_moved_on_is_a_409(app):
    instance, _action, flow_uuid = console_flows.repairable_boot()
    # Something else took the server since (a reset, another task).
    with session.writer() as s:
        s.execute(sa.update(models.Instance).where(
            models.Instance.uuid == instance['uuid']).values(
                task_id='another-task'))
    resp = call(app, 'POST', API + '/flows/%s/retry' % flow_uuid,
                body={'confirm': True})
    assert resp.status_int == 409
    assert 'has moved on' in resp.json['conflictingRequest']['message']
    assert flow_index.find(flow_uuid)['state'] == tf_states.FAILURE
    assert _jobs() == []


@pytest.mark.parametrize('body', [None, {}, {'confirm': False},
                                  {'confirm': 'yes'}, ['confirm']])
def test_repair_needs_confirm(app, body):
    _instance, _action, flow_uuid = console_flows.repairable_boot()
    resp = call(app, 'POST', API + '/flows/%s/retry' % flow_uuid,
                body=body)
    assert resp.status_int == 400
    assert 'confirm' in resp.json['badRequest']['message']
    assert flow_index.find(flow_uuid)['state'] == tf_states.FAILURE


def test_repair_is_for_administrators(member_app, other_member_app):
    _instance, _action, flow_uuid = console_flows.repairable_boot()
    path = API + '/flows/%s/revert' % flow_uuid
    assert call(member_app, 'POST', path,
                body={'confirm': True}).status_int == 403
    assert call(other_member_app, 'POST', path,
                body={'confirm': True}).status_int == 404
    assert call(member_app, 'POST', API + '/flows/0123456789/retry',
                body={'confirm': True}).status_int == 404
    assert _jobs() == []


# -- hosts ------------------------------------------------------------------

def test_hosts_page(app, member_app):
    make_compute_host('h1')
    make_compute_host('h2', up=False)
    guest = make_instance('active', host='h1')
    theirs = make_instance('active', host='h1', project_id='beta')
    with session.writer() as s:
        for instance in (guest, theirs):
            s.add(models.Allocation(
                consumer_uuid=instance['uuid'],
                instance_uuid=instance['uuid'], host='h1', vcpus=1,
                memory_mb=512, disk_gb=1))
    moving = make_instance_in_state(states.ACTIVE, states.MIGRATING,
                                    host='h1')
    migration = migration_records.create(
        moving['uuid'], 'live-migration', states.MIGRATION_RUNNING,
        source_compute='h1', dest_compute='h2',
        old_flavor=moving['flavor'], new_flavor=moving['flavor'],
        project_id='default', user_id='member')
    migration_records.update(migration['uuid'], memory_total=1000,
                             memory_processed=250)
    migration_records.create(
        guest['uuid'], 'migration', states.MIGRATION_CONFIRMED,
        source_compute='h2', dest_compute='h1',
        old_flavor=guest['flavor'], new_flavor=guest['flavor'],
        project_id='default', user_id='member')
    assert call(member_app, 'GET', API + '/hosts').status_int == 403
    resp = call(app, 'GET', API + '/hosts')
    assert resp.status_int == 200
    h1, h2 = resp.json['hosts']
    assert h1 == {
        'name': 'h1', 'zone': 'nova', 'state': 'up', 'enabled': True,
        'disabled_reason': None, 'forced_down': False,
        'vcpus': 8, 'vcpus_used': 2, 'memory_mb': 8192,
        'memory_mb_used': 1024, 'local_gb': 100, 'local_gb_used': 2,
        'servers': [{'id': i['uuid'], 'name': i['display_name'],
                     'status': status, 'project_id': i['project_id']}
                    for i, status in ((guest, 'ACTIVE'),
                                      (theirs, 'ACTIVE'),
                                      (moving, 'MIGRATING'))]}
    assert (h2['name'], h2['state'], h2['vcpus_used'], h2['servers']) == (
        'h2', 'down', 0, [])
    # Only the migration in flight, with its progress.
    assert resp.json['migrations'] == [{
        'uuid': migration['uuid'], 'instance': moving['uuid'],
        'instance_name': moving['display_name'], 'source': 'h1',
        'dest': 'h2', 'type': 'live-migration', 'status': 'running',
        'progress': 25.0}]


# -- states -----------------------------------------------------------------

def test_states_page_is_the_state_machine(member_app, conf):
    resp = call(member_app, 'GET', API + '/states')
    assert resp.status_int == 200
    body = resp.json
    assert body['vm_states'] == sorted(states.VM_STATES)
    assert body['task_states'] == sorted(states.TASK_STATES)
    assert {(t['from'], t['to'], t['action'])
            for t in body['transitions']} == set(state_machine.edges())
    assert body['dot'] == state_docs.render_dot()
    actions = {a['action']: a['allowed'] for a in body['actions']}
    assert set(actions) == set(state_machine.ACTIONS)
    assert {'vm_state': 'active', 'task_state': None} in actions['stop']
    assert {'vm_state': 'stopped', 'task_state': None} not in \
        actions['stop']
    # An action that preempts any task says so.
    assert {'vm_state': 'active', 'task_state': '*'} in actions[
        'forceDelete']
    # A caller without a role in the project sees nothing.
    assert call(persona_app(conf, 'nobody', 'default', []), 'GET',
                API + '/states').status_int == 403


# -- the public session -----------------------------------------------------

def _basic(name, password):
    raw = ('%s:%s' % (name, password)).encode('utf-8')
    return {'Authorization': 'Basic ' + base64.b64encode(raw).decode()}


@pytest.fixture
def basic_app(db, conf, tmp_path):
    path = tmp_path / 'users'
    path.write_text(auth_basic.user_line('alice', 'alice-pw', 'alpha',
                                         ['reader'], rounds=4) + '\n')
    os.chmod(path, 0o600)
    conf.set_override('auth_strategy', 'http_basic', group='api')
    conf.set_override('http_basic_auth_user_file', str(path), group='api')
    return api_app.build_app(conf)


def test_session_under_http_basic(basic_app):
    anonymous = call(basic_app, 'GET', API + '/session')
    assert anonymous.status_int == 200
    assert anonymous.json == {
        'auth_strategy': 'http_basic', 'authenticated': False,
        'user_id': None, 'project_id': None, 'roles': [],
        'can_view_all': False, 'can_repair': False}
    wrong = call(basic_app, 'GET', API + '/session',
                 headers=_basic('alice', 'wrong'))
    assert (wrong.status_int, wrong.json['authenticated']) == (200, False)
    alice = call(basic_app, 'GET', API + '/session',
                 headers=_basic('alice', 'alice-pw'))
    assert (alice.json['authenticated'], alice.json['user_id'],
            alice.json['project_id'], alice.json['roles']) == (
        True, 'alice', 'alpha', ['reader'])
    # Every other console route needs the credentials.
    assert call(basic_app, 'GET', API + '/servers').status_int == 401
    assert call(basic_app, 'GET', API + '/servers',
                headers=_basic('alice', 'alice-pw')).status_int == 200


def test_session_under_keystone_without_a_token(db, conf):
    from keystonemiddleware import auth_token
    for group, opts in auth_token.list_opts():
        conf.register_opts(opts, group=group)
    conf.set_override('auth_strategy', 'keystone', group='api')
    # Never contacted: no token is sent.
    conf.set_override('www_authenticate_uri', 'http://127.0.0.1:1/v3',
                      group='keystone_authtoken')
    application = api_app.build_app(conf)
    resp = call(application, 'GET', API + '/session',
                headers={'X-Roles': 'admin', 'X-User-Id': 'admin'})
    assert resp.status_int == 200
    assert (resp.json['auth_strategy'], resp.json['authenticated'],
            resp.json['roles']) == ('keystone', False, [])
    assert call(application, 'GET', API + '/flows').status_int == 401
    # The sign-in validates its body before asking Keystone.
    bad = call(application, 'POST', API + '/login',
               body={'username': 'u', 'password': 'secret-pw'})
    assert bad.status_int == 400
    assert 'project_name' in bad.json['badRequest']['message']
    assert 'secret-pw' not in bad.text
    down = call(application, 'POST', API + '/login', body={
        'username': 'u', 'password': 'secret-pw', 'project_name': 'p'})
    assert down.status_int == 503
    assert 'secret-pw' not in down.text


def test_a_second_repair_writes_what_the_conductor_changed_since(app):
    """The API's persistence remembers what it wrote; the conductor (its
    own process) writes the flow after a repair, so a second repair of
    the same flow must write the steps again, not skip them."""
    instance, action, flow_uuid = console_flows.repairable_boot()
    path = API + '/flows/%s/retry' % flow_uuid
    assert call(app, 'POST', path, body={'confirm': True}).status_int == 202
    # The conductor runs it, spawn fails again: the step and the flow
    # are FAILURE again (written by another backend), the job consumed,
    # the task finished.
    console_flows.set_states(flow_uuid, tf_states.FAILURE,
                             {'SpawnOnHost': tf_states.FAILURE})
    with session.writer() as s:
        s.execute(sa.delete(models.Job))
        s.execute(sa.update(models.Instance).where(
            models.Instance.uuid == instance['uuid']).values(
                task_state=None))
    assert call(app, 'POST', path, body={'confirm': True}).status_int == 202
    atoms = {a.name.rsplit('.', 1)[-1]: a.state
             for a in flow_index.atoms([flow_uuid])[flow_uuid]}
    assert atoms['SpawnOnHost'] == tf_states.PENDING
    assert flow_index.find(flow_uuid)['state'] == tf_states.RUNNING


def test_a_jobboard_out_of_reach(app, conf, caplog):
    """Flows are listed without owners, said once in the log, not tried
    again on every poll; a repair, which needs the board, is a 503."""
    _instance, _action, flow_uuid = console_flows.repairable_boot()
    conf.set_override('backend', 'redis', group='jobboard')
    conf.set_override('redis_url', 'redis://127.0.0.1:1/0', group='jobboard')
    for _ in range(3):
        resp = call(app, 'GET', API + '/flows')
        assert resp.status_int == 200
        assert [(r['uuid'], r['owner']) for r in resp.json['flows']] == [
            (flow_uuid, None)]
    warnings = [r for r in caplog.records
                if 'Jobboard unavailable' in r.getMessage()]
    assert len(warnings) <= 1
    resp = call(app, 'POST', API + '/flows/%s/retry' % flow_uuid,
                body={'confirm': True})
    assert resp.status_int == 503
    assert resp.json['serviceUnavailable']['message'].startswith(
        'the jobboard (redis) is unavailable')
    assert flow_index.find(flow_uuid)['state'] == tf_states.FAILURE
