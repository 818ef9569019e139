"""DELETE /servers/{id} and POST /servers/{id}/action (forceDelete)."""

import uuid

import pytest

from orchestrator import exception
from orchestrator import states
from orchestrator.api import server_actions
from orchestrator.db import actions as db_actions
from orchestrator.db import allocations as db_allocations
from orchestrator.db import hosts as db_hosts
from orchestrator.db import instances as db_instances
from orchestrator.db import migration_records
from tests.unit.api import oracle
from tests.unit.api.conftest import call
from tests.unit.api.conftest import make_instance
from tests.unit.api.conftest import make_instance_in_state

#: A well-formed id nothing has (fixed: xdist workers must collect the
#: same parametrized ids).
UNKNOWN_ID = '8a5c4a7e-0000-4000-8000-000000000000'


def test_delete_claims_and_posts_the_delete(app, conductor):
    instance = make_instance('active', host='h1')
    resp = call(app, 'DELETE', '/v2.1/servers/' + instance['uuid'])
    oracle.check(resp, 'v2_1', 'servers', 'delete_server')
    claimed = db_instances.get(instance['uuid'])
    assert claimed['task_state'] == states.DELETING
    (method, request_id, kwargs), = conductor.calls_for(instance['uuid'])
    assert method == 'delete_instance'
    assert kwargs['task_id'] == claimed['task_id']
    action = db_actions.get_by_request_id(instance['uuid'], request_id)
    assert action['action'] == 'delete' and kwargs['action_id'] == \
        action['id']
    shown = call(app, 'GET', '/v2.1/servers/' + instance['uuid'],
                 version='2.47').json['server']
    # Still what it is until it is gone (a GET then is a 404), the
    # delete in progress in its task_state.
    assert shown['status'] == 'ACTIVE'
    assert shown['OS-EXT-STS:task_state'] == 'deleting'


def test_delete_of_a_building_server_is_allowed(app, conductor):
    instance = make_instance()
    resp = call(app, 'DELETE', '/v2.1/servers/' + instance['uuid'])
    assert resp.status_int == 204
    shown = call(app, 'GET', '/v2.1/servers/' + instance['uuid']).json
    # Not built, not gone yet: what it still is, its delete in its
    # task_state (never DELETED before the delete has finished).
    assert shown['server']['status'] == 'BUILD'
    assert shown['server']['OS-EXT-STS:task_state'] == 'deleting'


def test_second_delete_while_one_runs_is_204_and_starts_nothing(
        app, conductor):
    """As Nova (its delete takes any task_state): tempest's teardowns,
    ``openstack server delete`` run twice and SDK retries expect it."""
    instance = make_instance('active')
    assert call(app, 'DELETE', '/v2.1/servers/' +
                instance['uuid']).status_int == 204
    claimed = db_instances.get(instance['uuid'])
    for _ in range(2):
        resp = call(app, 'DELETE', '/v2.1/servers/' + instance['uuid'])
        assert resp.status_int == 204, resp.body
        assert resp.body == b''
    # One delete posted, one 'delete' action, the first claim untouched.
    (method, _rid, kwargs), = conductor.calls_for(instance['uuid'])
    assert method == 'delete_instance'
    deletes = [a for a in db_actions.list_for_instance(instance['uuid'])
               if a['action'] == 'delete']
    assert [a['id'] for a in deletes] == [kwargs['action_id']]
    after = db_instances.get(instance['uuid'])
    assert after['task_state'] == states.DELETING
    assert after['task_id'] == claimed['task_id'] == kwargs['task_id']


def test_delete_of_a_locked_server_being_deleted_is_still_409(member_app,
                                                             conductor):
    """Joining a running delete does not skip the lock check."""
    instance = make_instance('active', task_state='deleting', locked=True)
    resp = call(member_app, 'DELETE', '/v2.1/servers/' + instance['uuid'])
    assert resp.status_int == 409
    assert conductor.calls_for(instance['uuid']) == []


@pytest.mark.parametrize('task_state', ['deleting', 'soft-deleting'])
def test_delete_with_reclaim_on_joins_a_running_delete(app, conductor, conf,
                                                       task_state):
    conf.set_override('reclaim_instance_interval_s', 3600)
    instance = make_instance('active', task_state=task_state)
    before = db_instances.get(instance['uuid'])
    resp = call(app, 'DELETE', '/v2.1/servers/' + instance['uuid'])
    assert resp.status_int == 204
    assert conductor.calls_for(instance['uuid']) == []
    assert db_actions.list_for_instance(instance['uuid']) == [
        a for a in db_actions.list_for_instance(instance['uuid'])
        if a['action'] not in ('delete', 'softDelete')]
    after = db_instances.get(instance['uuid'])
    assert (after['task_state'], after['task_id']) == (
        task_state, before['task_id'])


def test_delete_while_another_task_runs_still_preempts_it(app, conductor):
    instance = make_instance('active', task_state='rebooting')
    resp = call(app, 'DELETE', '/v2.1/servers/' + instance['uuid'])
    assert resp.status_int == 204
    (method, _rid, _kwargs), = conductor.calls_for(instance['uuid'])
    assert method == 'delete_instance'
    assert db_instances.get(instance['uuid'])['task_state'] == \
        states.DELETING


def test_force_delete_of_a_server_being_deleted_deletes_it_now(app,
                                                               conductor):
    """forceDelete preempts a running delete: deleted at once (the
    delete flow's next write finds itself preempted)."""
    instance = make_instance('active', host='h1')
    assert call(app, 'DELETE', '/v2.1/servers/' +
                instance['uuid']).status_int == 204
    resp = call(app, 'POST', '/v2.1/servers/%s/action' % instance['uuid'],
                {'forceDelete': None})
    assert resp.status_int == 202
    gone = db_instances.get(instance['uuid'], read_deleted=True)
    assert gone['vm_state'] == states.DELETED and gone['task_id'] is None
    assert call(app, 'GET', '/v2.1/servers/' +
                instance['uuid']).status_int == 404
    # A DELETE after it is a 404, as in Nova.
    assert call(app, 'DELETE', '/v2.1/servers/' +
                instance['uuid']).status_int == 404


@pytest.mark.parametrize('server_id', ['nope', UNKNOWN_ID])
def test_delete_of_unknown_server_is_404(app, server_id):
    resp = call(app, 'DELETE', '/v2.1/servers/' + server_id)
    assert resp.status_int == 404
    assert resp.json['itemNotFound']['code'] == 404


def test_delete_without_conductor_is_503_and_releases_the_claim(
        app, no_conductor):
    instance = make_instance('active', host='h1')
    resp = call(app, 'DELETE', '/v2.1/servers/' + instance['uuid'])
    assert resp.status_int == 503
    assert 'no conductor took the delete' in \
        resp.json['serviceUnavailable']['message']
    after = db_instances.get(instance['uuid'])
    assert after['vm_state'] == states.ACTIVE
    assert after['task_state'] is None and after['task_id'] is None
    # The claim is free again: a later delete may run.
    (action,) = [a for a in db_actions.list_for_instance(instance['uuid'])
                 if a['action'] == 'delete']
    assert action['result'] == states.RESULT_ERROR


def test_force_delete_deletes_now_and_posts_cleanup(app, conductor):
    db_hosts.update_compute_node('h1', 4, 8192, 100)
    instance = make_instance('active', host='h1', task_state='rebooting')
    assert db_allocations.claim(
        instance['uuid'], instance['uuid'], 'h1',
        {'vcpus': 1, 'memory_mb': 512, 'disk_gb': 1},
        {'vcpus': 1.0, 'memory_mb': 1.0, 'disk_gb': 1.0})
    resp = call(app, 'POST', '/v2.1/servers/%s/action' % instance['uuid'],
                {'forceDelete': None})
    assert resp.status_int == 202
    assert resp.body == b''
    assert db_instances.get(instance['uuid'], read_deleted=True)[
        'vm_state'] == states.DELETED
    (method, _rid, kwargs), = conductor.calls_for(instance['uuid'])
    assert method == 'cleanup_instance' and kwargs['host'] == 'h1'
    assert call(app, 'GET', '/v2.1/servers/' +
                instance['uuid']).status_int == 404
    assert db_allocations.list_for_instance(instance['uuid']) == []


def test_force_delete_without_host_posts_nothing(app, conductor):
    instance = make_instance()
    resp = call(app, 'POST', '/v2.1/servers/%s/action' % instance['uuid'],
                {'forceDelete': None})
    assert resp.status_int == 202
    assert conductor.calls_for(instance['uuid']) == []


def test_force_delete_succeeds_without_conductor(app, no_conductor):
    instance = make_instance('active', host='h1')
    resp = call(app, 'POST', '/v2.1/servers/%s/action' % instance['uuid'],
                {'forceDelete': None})
    assert resp.status_int == 202
    assert db_instances.get(instance['uuid'], read_deleted=True)[
        'vm_state'] == states.DELETED


def test_force_delete_of_unknown_server_is_404(app):
    resp = call(app, 'POST', '/v2.1/servers/%s/action' % uuid.uuid4(),
                {'forceDelete': None})
    assert resp.status_int == 404


@pytest.mark.parametrize('body,words', [
    ({'reboot': {'type': 'WARM'}}, 'must be "SOFT" or "HARD"'),
    ({'reboot': None}, 'must be "SOFT" or "HARD"'),
    ({'os-stop': {'force': True}}, 'os-stop takes no arguments'),
    ({'shelve': {'force': True}}, 'shelve takes no arguments'),
    ({'os-teleport': None}, 'Unsupported action: os-teleport'),
    ({'resize': {'flavorRef': '999'}}, 'Unable to find flavor 999'),
    ({'resize': {}}, "'flavorRef' is a required property"),
    ({'rebuild': {'imageRef': 'nope'}}, 'nope'),
    ({'createImage': {}}, "'name' is a required property"),
    ({}, 'exactly one key'),
    ({'forceDelete': None, 'reboot': None}, 'exactly one key'),
    ([], 'exactly one key'),
    ('forceDelete', 'exactly one key'),
])
def test_unsupported_or_malformed_actions_are_400(app, body, words):
    instance = make_instance('active')
    resp = call(app, 'POST', '/v2.1/servers/%s/action' % instance['uuid'],
                body)
    assert resp.status_int == 400
    assert words in resp.json['badRequest']['message']


def test_malformed_action_json_is_400(app):
    instance = make_instance('active')
    resp = call(app, 'POST', '/v2.1/servers/%s/action' % instance['uuid'],
                raw=b'{"forceDelete": ')
    assert resp.status_int == 400


def test_actions_are_added_by_registering_a_handler(app, monkeypatch):
    from orchestrator.api import request as api_request
    monkeypatch.setattr(server_actions, 'HANDLERS',
                        dict(server_actions.HANDLERS))

    @server_actions.action('os-ping')
    def ping(req, server_id, value):
        return api_request.json_response({'pong': server_id}, status=200)

    instance = make_instance('active')
    resp = call(app, 'POST', '/v2.1/servers/%s/action' % instance['uuid'],
                {'os-ping': None})
    assert resp.json == {'pong': instance['uuid']}


def test_admin_only_actions_are_403_for_others(member_app, monkeypatch):
    from orchestrator.api import request as api_request
    monkeypatch.setattr(server_actions, 'HANDLERS',
                        dict(server_actions.HANDLERS))
    server_actions.action('migrate')(
        lambda req, server_id, value: api_request.empty_response(202))
    instance = make_instance('active')
    resp = call(member_app, 'POST',
                '/v2.1/servers/%s/action' % instance['uuid'],
                {'migrate': None})
    assert resp.status_int == 403
    assert resp.json['forbidden']['code'] == 403


def test_members_force_delete_only_their_projects_servers(member_app):
    theirs = make_instance('active', project_id='other')
    resp = call(member_app, 'POST',
                '/v2.1/servers/%s/action' % theirs['uuid'],
                {'forceDelete': None})
    assert resp.status_int == 404
    assert db_instances.get(theirs['uuid'])['vm_state'] == states.ACTIVE


@pytest.mark.parametrize('target', ['active', 'error'])
def test_reset_state_preempts_the_running_task_and_is_audited(app, target):
    instance = make_instance('active', task_state=states.POWERING_OFF)
    resp = call(app, 'POST', '/v2.1/servers/%s/action' % instance['uuid'],
                {'os-resetState': {'state': target}})
    assert resp.status_int == 202, resp.body
    after = db_instances.get(instance['uuid'])
    assert (after['vm_state'], after['task_state']) == (target, None)
    # The stop that ran holds a task_id that is no longer the instance's.
    assert after['task_id'] != instance['task_id']
    with pytest.raises(exception.Preempted):
        db_instances.cas_update(instance['uuid'], instance['task_id'],
                                {'vm_state': states.STOPPED}, action='stop')
    (action,) = [a for a in db_actions.list_for_instance(instance['uuid'])
                 if a['action'] == 'resetState']
    assert action['result'] == states.RESULT_SUCCESS


@pytest.mark.parametrize('body', [{'os-resetState': {'state': 'stopped'}},
                                  {'os-resetState': None},
                                  {'os-resetState': {}}])
def test_reset_state_to_anything_else_is_400(app, body):
    instance = make_instance('active')
    resp = call(app, 'POST', '/v2.1/servers/%s/action' % instance['uuid'],
                body)
    assert resp.status_int == 400
    assert 'must be "active" or "error"' in resp.json['badRequest'][
        'message']
    assert db_instances.get(instance['uuid'])['vm_state'] == 'active'


def test_reset_state_is_admin_only(member_app):
    instance = make_instance('error')
    resp = call(member_app, 'POST',
                '/v2.1/servers/%s/action' % instance['uuid'],
                {'os-resetState': {'state': 'active'}})
    assert resp.status_int == 403
    assert db_instances.get(instance['uuid'])['vm_state'] == 'error'


def test_reset_state_of_unknown_server_is_404(app):
    resp = call(app, 'POST', '/v2.1/servers/%s/action' % uuid.uuid4(),
                {'os-resetState': {'state': 'active'}})
    assert resp.status_int == 404


def test_a_rescued_server_is_deleted_for_good_even_with_reclaim_on(conf):
    """Soak finding: a soft delete powered the rescued guest off and kept
    it in rescue, and a restore would have shown it ACTIVE."""
    from orchestrator.api import servers as servers_api
    conf.set_override('reclaim_instance_interval_s', 3600)
    assert not servers_api.soft_deletes(conf, {'vm_state': 'rescued'})
    assert servers_api.soft_deletes(conf, {'vm_state': 'active'})


@pytest.mark.parametrize('key,vm_state', [
    ('os-stop', states.ACTIVE), ('os-start', states.STOPPED),
    ('pause', states.ACTIVE), ('unpause', states.PAUSED),
    ('suspend', states.ACTIVE), ('resume', states.SUSPENDED),
    ('unrescue', states.RESCUED), ('restore', states.SOFT_DELETED),
    ('confirmResize', states.RESIZED), ('revertResize', states.RESIZED),
])
@pytest.mark.parametrize('value', [None, {}])
def test_actions_without_arguments_take_null_or_an_empty_object(
        app, conductor, key, vm_state, value):
    """Nova takes both; tempest and several SDKs send {} (a 400 before)."""
    instance = make_instance_in_state(vm_state, host='h1')
    if vm_state == states.RESIZED:
        migration_records.create(
            instance['uuid'], 'resize', states.MIGRATION_FINISHED,
            source_compute='h1', dest_compute='h2',
            old_flavor=instance['flavor'], new_flavor=instance['flavor'])
    resp = call(app, 'POST', '/v2.1/servers/%s/action' % instance['uuid'],
                {key: value})
    # confirmResize is a 204 in Nova, the others 202.
    assert resp.status_int == (204 if key == 'confirmResize' else 202), \
        resp.text
    assert conductor.calls_for(instance['uuid'])
