"""The console's JSON API in-process (``/console/api/...``): shapes,
project scoping, policy, 404s and 400s, on flows saved in the logbook as
a conductor saves them (tests/unit/api/console_flows.py)."""

import datetime
import time
import uuid

import pytest
from taskflow.patterns import graph_flow
from taskflow.patterns import linear_flow
from taskflow.patterns import unordered_flow
from taskflow.persistence import models as tf_models
from taskflow import retry
from taskflow import states as tf_states
from taskflow import task

from orchestrator import exception
from orchestrator import flow_index
from orchestrator import flow_views
from orchestrator import states
from orchestrator.console import board
from orchestrator.console import flow_pages

from flows import boot
from flows import catalog
from tests.unit.api import console_flows
from tests.unit.api.conftest import call
from tests.unit.api.conftest import make_compute_host
from tests.unit.api.conftest import make_instance
from tests.unit.api.conftest import make_instance_in_state
from tests.unit.api.conftest import persona_app

API = '/console/api'


@pytest.fixture
def reader_app(db, conf):
    """A reader of project 'default'."""
    return persona_app(conf, 'reader', 'default', ['reader'])


@pytest.fixture
def other_reader_app(db, conf):
    """A reader of project 'beta'."""
    return persona_app(conf, 'beta-reader', 'beta', ['reader'])


@pytest.fixture
def admin_app(db, conf):
    """An administrator of another project ('ops')."""
    return persona_app(conf, 'ops-admin', 'ops', ['admin'])


def _get(app, path):
    resp = call(app, 'GET', API + path)
    return resp.status_int, resp.json if resp.body else None


def _failed_boot(project_id='default', **instance_values):
    """A server whose boot failed at spawn, its flow FAILURE."""
    instance = make_instance(project_id=project_id, **instance_values)
    action = console_flows.action_of(instance['uuid'])
    flow_uuid = console_flows.save_flow(
        instance, boot, action, flow_state=tf_states.FAILURE,
        step_states={'BuildToErrorOnRevert': tf_states.SUCCESS,
                     'PrepareNetworks': tf_states.REVERTED,
                     'SpawnOnHost': exception.ComputeHostError(
                         'spawn failed on h1')},
        retry_history=2)
    return instance, flow_uuid


# -- session ----------------------------------------------------------------

def test_session_under_noauth_is_an_administrator(app):
    status, body = _get(app, '/session')
    assert status == 200
    assert body == {'auth_strategy': 'noauth', 'authenticated': True,
                    'user_id': 'admin', 'project_id': 'default',
                    'roles': ['admin', 'member', 'reader'],
                    'can_view_all': True, 'can_repair': True}


def test_session_of_a_reader_cannot_repair(reader_app):
    status, body = _get(reader_app, '/session')
    assert status == 200
    assert body['authenticated'] and body['roles'] == ['reader']
    assert (body['can_view_all'], body['can_repair']) == (False, False)


def test_login_is_for_keystone_only(app):
    resp = call(app, 'POST', API + '/login', body={
        'username': 'u', 'password': 'secret-pw', 'project_name': 'p'})
    assert resp.status_int == 400
    assert 'keystone' in resp.json['badRequest']['message']
    assert 'secret-pw' not in resp.text


# -- servers ----------------------------------------------------------------

def test_servers_list_shape_newest_first_and_scoped(app, reader_app,
                                                    other_reader_app):
    make_compute_host('h1')
    older = make_instance('active', host='h1', power_state=1)
    newer = make_instance_in_state(states.ACTIVE, states.REBOOTING,
                                   host='h1', progress=40)
    theirs = make_instance('active', project_id='beta')
    status, body = _get(reader_app, '/servers')
    assert status == 200
    assert [s['id'] for s in body['servers']] == [newer['uuid'],
                                                 older['uuid']]
    first = body['servers'][0]
    assert set(first) == {'id', 'name', 'status', 'vm_state', 'task_state',
                          'power_state', 'progress', 'host', 'flavor',
                          'project_id', 'created', 'age_s', 'locked'}
    assert (first['status'], first['task_state'], first['progress']) == (
        'REBOOT', 'rebooting', 40)
    assert first['flavor'] == {'name': 'm1.tiny', 'vcpus': 1, 'ram': 512,
                               'disk': 1}
    assert first['created'].endswith('Z') and first['age_s'] >= 0
    # Hosts are for administrators.
    assert first['host'] is None
    assert _get(app, '/servers')[1]['servers'][0]['host'] == 'h1'
    # Another project's reader sees only theirs.
    assert [s['id'] for s in _get(other_reader_app, '/servers')[1][
        'servers']] == [theirs['uuid']]


def test_servers_filters(app):
    make_compute_host('h1')
    make_compute_host('h2')
    on_h1 = make_instance('active', host='h1', display_name='web-1')
    make_instance('active', host='h2', display_name='db-1')
    broken = make_instance('error', host='h2', display_name='web-2')

    def ids(query):
        return [s['id'] for s in _get(app, '/servers?' + query)[1][
            'servers']]
    assert ids('name=web') == [broken['uuid'], on_h1['uuid']]
    assert ids('status=error') == [broken['uuid']]
    assert ids('status=ACTIVE,error&name=web') == [broken['uuid'],
                                                   on_h1['uuid']]
    assert ids('host=h1') == [on_h1['uuid']]


def test_all_projects_needs_view_all(app, reader_app):
    mine = make_instance('active')
    theirs = make_instance('active', project_id='beta')
    assert call(reader_app, 'GET', API + '/servers?all_projects=1'
                ).status_int == 403
    listed = [s['id'] for s in _get(app, '/servers?all_projects=1')[1][
        'servers']]
    assert listed == [theirs['uuid'], mine['uuid']]
    assert [s['id'] for s in _get(app, '/servers')[1]['servers']] == [
        mine['uuid']]


def test_server_page_actions_events_faults(app, reader_app,
                                           other_reader_app):
    instance, flow_uuid = _failed_boot()
    status, body = _get(reader_app, '/servers/' + instance['uuid'])
    assert status == 200
    assert set(body) == {'server', 'actions', 'faults'}
    assert body['server']['fault'] is None
    [action] = body['actions']
    assert action['action'] == 'create'
    assert action['flow_uuid'] == flow_uuid
    assert action['events'] == []
    # Another project: 404, as for a server that does not exist.
    for server_id in (instance['uuid'], str(uuid.uuid4())):
        status, body = _get(other_reader_app, '/servers/' + server_id)
        assert status == 404
        assert body == {'itemNotFound': {
            'code': 404,
            'message': 'Instance %s could not be found.' % server_id}}


# -- flows ------------------------------------------------------------------

def test_flows_list_open_failed_all_and_scoping(app, reader_app,
                                                other_reader_app,
                                                admin_app):
    failed, failed_flow = _failed_boot()
    booted = make_instance('active')
    done_flow = console_flows.save_flow(
        booted, boot, console_flows.action_of(booted['uuid']),
        flow_state=tf_states.SUCCESS)
    theirs, their_flow = _failed_boot(project_id='beta')
    status, body = _get(reader_app, '/flows')
    assert status == 200
    [row] = body['flows']
    assert set(row) == {'uuid', 'name', 'state', 'instance',
                        'instance_name', 'project_id', 'owner', 'job',
                        'lease_expires', 'age_s', 'step'}
    assert row['uuid'] == failed_flow
    assert (row['name'], row['state'], row['instance'],
            row['instance_name'], row['project_id']) == (
        boot.FLOW_NAME, 'FAILURE', failed['uuid'],
        failed['display_name'], 'default')
    assert row['step'] == 'SpawnOnHost (FAILURE)'
    assert (row['owner'], row['job'], row['lease_expires']) == (
        None, None, None)
    assert [r['uuid'] for r in _get(reader_app, '/flows?state=all')[1][
        'flows']] == [failed_flow, done_flow]
    assert [r['uuid'] for r in _get(reader_app, '/flows?state=failed')[1][
        'flows']] == [failed_flow]
    assert [r['uuid'] for r in _get(
        reader_app, '/flows?state=all&instance=' + booted['uuid'])[1][
            'flows']] == [done_flow]
    # Project B never sees A's flows, by list or by instance.
    assert [r['uuid'] for r in _get(other_reader_app, '/flows?state=all')[
        1]['flows']] == [their_flow]
    assert _get(other_reader_app, '/flows?instance=' + failed['uuid'])[1][
        'flows'] == []
    # An administrator sees every project with all_projects.
    assert {r['uuid'] for r in _get(admin_app, '/flows?all_projects=1')[1][
        'flows']} == {failed_flow, their_flow}
    assert _get(admin_app, '/flows')[1]['flows'] == []
    # One server's flows: an administrator finds them as the server.
    assert [r['uuid'] for r in _get(
        admin_app, '/flows?state=all&instance=' + failed['uuid'])[1][
            'flows']] == [failed_flow]
    assert call(reader_app, 'GET', API + '/flows?all_projects=1'
                ).status_int == 403
    del theirs


def test_flows_bad_state_filter_is_a_400(app):
    resp = call(app, 'GET', API + '/flows?state=broken')
    assert resp.status_int == 400
    assert 'open, failed, all' in resp.json['badRequest']['message']


def test_flow_page_tree_of_a_boot(reader_app):
    instance, flow_uuid = _failed_boot()
    status, body = _get(reader_app, '/flows/' + flow_uuid[:8])
    assert status == 200
    flow = body['flow']
    assert set(flow) == {'uuid', 'name', 'state', 'instance',
                         'instance_name', 'project_id', 'action_id',
                         'request_id', 'resume_policy', 'owner', 'job',
                         'lease_expires', 'age_s', 'final', 'tree',
                         'timeline'}
    assert (flow['uuid'], flow['state'], flow['final'],
            flow['resume_policy']) == (flow_uuid, 'FAILURE', True,
                                       'resume')
    action = console_flows.action_of(instance['uuid'])
    assert (flow['action_id'], flow['request_id']) == (
        action['id'], action['request_id'])
    tree = flow['tree']
    # The boot as TaskFlow composes it: a linear flow of its sentinel, the
    # host steps' sub-flow under its retry, and MarkActive.
    assert (tree['kind'], tree['name'], tree['state']) == (
        'linear', boot.FLOW_NAME, None)
    assert [(c['kind'], c['name']) for c in tree['children']] == [
        ('task', 'BuildToErrorOnRevert'),
        ('linear', boot.HOST_FLOW_NAME),
        ('task', 'MarkActive')]
    host_flow = tree['children'][1]
    assert (host_flow['retry']['kind'], host_flow['retry']['name'],
            host_flow['retry']['attempts']) == (
        'retry', 'ScheduleInstance', 2)
    assert [c['name'] for c in host_flow['children']] == [
        step.__name__ for step in boot.HOST_STEPS]
    spawn = host_flow['children'][-1]
    assert (spawn['state'], spawn['failure']) == (
        'failure', 'spawn failed on h1')
    assert host_flow['children'][0]['state'] == 'reverted'
    assert (tree['children'][2]['state'],
            tree['children'][2]['intention']) == ('pending', 'execute')
    for node in console_flows.nodes(tree):
        assert set(node) == {'kind', 'name', 'state', 'intention',
                             'attempts', 'start', 'finish', 'duration_s',
                             'failure', 'retry', 'children'}
    assert flow['timeline'][0]['what'] == 'action create started'


def test_flow_page_404s(reader_app, other_reader_app, admin_app):
    _instance, flow_uuid = _failed_boot()
    for flow_id in (flow_uuid, flow_uuid[:8], str(uuid.uuid4()), 'abc'):
        status, body = _get(other_reader_app, '/flows/' + flow_id)
        assert status == 404, flow_id
        assert body['itemNotFound']['message'] == (
            'Flow %s could not be found.' % flow_id)
    # Too short a prefix is no match, even for its own project.
    assert _get(reader_app, '/flows/' + flow_uuid[:7])[0] == 404
    # An administrator of another project finds it by id.
    assert _get(admin_app, '/flows/' + flow_uuid)[0] == 200


def test_flow_of_an_unknown_flow_name_shows_flat(reader_app, db):
    instance, flow_uuid = _failed_boot()
    row = flow_index.find(flow_uuid)
    atoms = flow_index.atoms([flow_uuid])[flow_uuid]
    tree = flow_pages.flow_tree.tree('no-such-flow', atoms, [])
    assert (tree['kind'], tree['name']) == ('linear', 'no-such-flow')
    names = [c['name'] for c in tree['children']]
    assert sorted(names) == sorted(
        catalog.short_name(n)
        for n in catalog.atom_names(boot.get_flow(), retries=True))
    assert row['name'] == boot.FLOW_NAME


def test_listing_cost_is_bounded_by_open_flows(reader_app):
    """Two hundred finished flows and three failed ones: the default
    listing reads the three (its time is printed for the closing
    note)."""
    for _ in range(200):
        instance = make_instance('active')
        console_flows.save_flow(instance, boot,
                                console_flows.action_of(instance['uuid']),
                                flow_state=tf_states.SUCCESS,
                                with_atoms=False)
    failed = {_failed_boot()[1] for _ in range(3)}
    started = time.monotonic()
    status, body = _get(reader_app, '/flows')
    listing = time.monotonic() - started
    assert status == 200
    assert {r['uuid'] for r in body['flows']} == failed
    started = time.monotonic()
    assert _get(reader_app, '/flows/' + min(failed))[0] == 200
    one = time.monotonic() - started
    started = time.monotonic()
    assert len(flow_views.list_flows(board.persistence_for('-'))) == 3
    scan = time.monotonic() - started
    print('console flows among 203: list %.3f s, one flow %.3f s '
          '(flow_views.list_flows, reading every logbook: %.3f s)'
          % (listing, one, scan))
    assert listing < 1.0 and one < 1.0


class _Step(task.Task):
    def execute(self):
        pass


def test_tree_of_every_pattern():
    """Unordered and graph flows and a sub-flow's retry, as TaskFlow
    composes them (no flow of ours has the first two yet)."""
    first, second = _Step('c'), _Step('d')
    graph = graph_flow.Flow('graph').add(second, first)
    graph.link(first, second)
    flow = linear_flow.Flow('root').add(
        unordered_flow.Flow('parallel').add(_Step('a'), _Step('b')),
        linear_flow.Flow('retried', retry=retry.Times(3, 'again')).add(
            graph))
    done = tf_models.TaskDetail('a', 'uuid-a')
    done.state, done.intention = tf_states.SUCCESS, tf_states.EXECUTE
    events = [{'id': 1, 'event': 'a', 'start_time': _at(0),
               'finish_time': _at(2), 'created_at': _at(0)}]
    root = flow_pages.flow_tree.composed(flow, [done], events)
    assert [(n['kind'], n['name']) for n in console_flows.nodes(root)] == [
        ('linear', 'root'), ('unordered', 'parallel'), ('task', 'a'),
        ('task', 'b'), ('linear', 'retried'), ('retry', 'again'),
        ('graph', 'graph'), ('task', 'c'), ('task', 'd')]
    parallel = root['children'][0]
    assert (parallel['children'][0]['state'],
            parallel['children'][0]['attempts'],
            parallel['children'][0]['duration_s']) == ('success', 1, 2.0)
    assert parallel['children'][1]['state'] is None
    # A pattern spans its children once they all ended.
    assert (parallel['start'], parallel['finish']) == (_at(0), _at(2))


def _at(seconds):
    return datetime.datetime(2026, 1, 1) + datetime.timedelta(
        seconds=seconds)


def test_a_policy_file_decides_on_the_flows_project(admin_app, conf,
                                                    tmp_path):
    """console:view is checked on the flow's project, not only on the
    caller's: an operator's policy that keeps administrators to their
    own project is obeyed."""
    _instance, flow_uuid = _failed_boot()
    assert _get(admin_app, '/flows/' + flow_uuid)[0] == 200
    rules = tmp_path / 'policy.yaml'
    rules.write_text('"console:view": "rule:project_reader_api"\n')
    conf.set_override('policy_file', str(rules), group='oslo_policy')
    assert _get(admin_app, '/flows/' + flow_uuid)[0] == 403


def test_all_flows_of_a_project_are_looked_for_among_the_newest(
        reader_app, monkeypatch):
    """``state=all`` pages through the newest flows (PAGE a query) and
    stops after SCAN_LIMIT of them: an old flow of the project is then
    found by its server (``instance``), not by the scan."""
    monkeypatch.setattr(flow_pages, 'PAGE', 2)
    monkeypatch.setattr(flow_pages, 'SCAN_LIMIT', 4)

    def boot_flow(project_id):
        instance = make_instance('active', project_id=project_id)
        return instance, console_flows.save_flow(
            instance, boot, console_flows.action_of(instance['uuid']),
            flow_state=tf_states.SUCCESS, with_atoms=False)
    old_instance, old = boot_flow('default')
    for _ in range(4):
        boot_flow('beta')
    recent = boot_flow('default')[1]
    listed = [r['uuid'] for r in _get(reader_app, '/flows?state=all')[1][
        'flows']]
    assert listed == [recent]
    assert [r['uuid'] for r in _get(
        reader_app, '/flows?state=all&instance=' + old_instance['uuid'])[1][
            'flows']] == [old]
    monkeypatch.setattr(flow_pages, 'SCAN_LIMIT', 100)
    assert [r['uuid'] for r in _get(reader_app, '/flows?state=all&limit=1')[
        1]['flows']] == [recent]
    assert [r['uuid'] for r in _get(reader_app, '/flows?state=all')[1][
        'flows']] == [old, recent]
