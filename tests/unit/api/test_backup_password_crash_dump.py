"""POST /servers/{id}/action: createBackup, changePassword and
trigger_crash_dump (the API's half: validation, microversions, states,
what the flow is given)."""

import json

import pytest

from orchestrator import secret_box
from orchestrator import states
from orchestrator.db import actions as db_actions
from orchestrator.db import catalog
from orchestrator.db import instances as db_instances
from tests.unit.api.conftest import call
from tests.unit.api.conftest import make_instance_in_state

PASSWORD = 'Chang3d-pa55'


def _action(app, instance, body, version='2.47'):
    return call(app, 'POST', '/v2.1/servers/%s/action' % instance['uuid'],
                body, version=version)


def _server(**values):
    values.setdefault('power_state', states.RUNNING)
    return make_instance_in_state(values.pop('vm_state', states.ACTIVE),
                                  host='h1', **values)


def _started(conductor, instance):
    (method, request_id, kwargs), = conductor.calls_for(instance['uuid'])
    assert method == 'start_action'
    act = db_actions.get_by_request_id(instance['uuid'], request_id)
    return kwargs, act


# -- createBackup --------------------------------------------------------

BACKUP = {'name': 'nightly', 'backup_type': 'daily', 'rotation': 2}


@pytest.mark.parametrize('version,location,body', [
    ('2.1', True, False), ('2.44', True, False), ('2.45', True, True)])
def test_backup_answers_like_create_image(app, conductor, version,
                                          location, body):
    instance = _server()
    resp = _action(app, instance, {'createBackup': BACKUP}, version)
    assert resp.status_int == 202
    kwargs, act = _started(conductor, instance)
    image_id = kwargs['params']['image_id']
    assert ('Location' in resp.headers) == location
    assert resp.headers['Location'].endswith('/image/v2/images/' + image_id)
    assert (resp.json if body else None) == (
        {'image_id': image_id} if body else None)


def test_backup_image_says_what_it_is_and_the_flow_how_to_rotate(
        app, conductor):
    instance = _server(vm_state=states.STOPPED)
    resp = _action(app, instance, {'createBackup': dict(
        BACKUP, rotation='3', metadata={'purpose': 'test',
                                        'image_type': 'spoofed'})})
    assert resp.status_int == 202
    kwargs, act = _started(conductor, instance)
    assert act['action'] == 'createBackup'
    assert kwargs['operation'] == 'createBackup'
    assert kwargs['params'] == {'image_id': kwargs['params']['image_id'],
                                'backup_type': 'daily', 'rotation': 3}
    image = catalog.image_get(kwargs['params']['image_id'])
    assert (image['name'], image['status'], image['owner']) == (
        'nightly', 'queued', instance['project_id'])
    assert image['properties'] == {
        'purpose': 'test', 'image_type': 'backup', 'backup_type': 'daily',
        'instance_uuid': instance['uuid'],
        'base_image_ref': instance['image_ref']}
    row = db_instances.get(instance['uuid'])
    assert row['task_state'] == states.IMAGE_BACKUP


def test_backup_with_rotation_zero_has_no_location_before_2_45(
        app, conductor):
    instance = _server()
    resp = _action(app, instance, {'createBackup': dict(BACKUP, rotation=0)},
                   '2.44')
    assert resp.status_int == 202 and 'Location' not in resp.headers
    kwargs, _act = _started(conductor, instance)
    assert kwargs['params']['rotation'] == 0


@pytest.mark.parametrize('value,words', [
    (dict(BACKUP, rotation=-1), 'rotation'),
    (dict(BACKUP, rotation='-1'), 'rotation'),
    (dict(BACKUP, rotation=1.5), 'rotation'),
    (dict(BACKUP, rotation='two'), 'rotation'),
    (dict(BACKUP, rotation=''), 'rotation'),
    (dict(BACKUP, rotation=True), 'rotation'),
    (dict(BACKUP, rotation=None), 'rotation'),
    ({'backup_type': 'daily', 'rotation': 1}, "'name' is a required"),
    ({'name': 'n', 'rotation': 1}, "'backup_type' is a required"),
    ({'name': 'n', 'backup_type': 'daily'}, "'rotation' is a required"),
    (dict(BACKUP, name=''), 'name'),
    (dict(BACKUP, backup_type=7), 'backup_type'),
    (dict(BACKUP, bogus=1), 'bogus'),
    (None, 'createBackup'),
])
def test_bad_backup_requests_are_400_and_claim_nothing(app, conductor,
                                                       value, words):
    instance = _server()
    resp = _action(app, instance, {'createBackup': value})
    assert resp.status_int == 400, resp.body
    assert words in resp.json['badRequest']['message']
    assert db_instances.get(instance['uuid'])['task_state'] is None
    assert conductor.calls_for(instance['uuid']) == []


@pytest.mark.parametrize('vm_state,task_state', [
    (states.RESCUED, None), (states.ERROR, None), (states.RESIZED, None),
    (states.ACTIVE, states.IMAGE_SNAPSHOT)])
def test_backup_in_a_wrong_state_is_409_and_makes_no_image(
        app, conductor, vm_state, task_state):
    instance = _server(vm_state=vm_state, task_state=task_state)
    before = len(catalog.image_list())
    resp = _action(app, instance, {'createBackup': BACKUP})
    assert resp.status_int == 409
    assert 'createBackup' in resp.json['conflictingRequest']['message']
    assert len(catalog.image_list()) == before


# -- changePassword ------------------------------------------------------

def test_change_password_claims_and_hands_the_password_sealed(
        app, conductor):
    instance = _server()
    resp = _action(app, instance, {'changePassword': {
        'adminPass': PASSWORD}})
    assert resp.status_int == 202 and resp.body == b''
    kwargs, act = _started(conductor, instance)
    assert act['action'] == 'changePassword'
    sealed = kwargs['params']['admin_password_sealed']
    assert secret_box.unseal(sealed) == PASSWORD
    assert PASSWORD not in json.dumps(kwargs)
    shown = call(app, 'GET', '/v2.1/servers/' + instance['uuid'],
                 version='2.47').json['server']
    assert (shown['status'], shown['OS-EXT-STS:task_state']) == (
        'PASSWORD', states.UPDATING_PASSWORD)


def test_an_empty_password_is_taken_as_nova_takes_it(app, conductor):
    instance = _server()
    resp = _action(app, instance, {'changePassword': {'adminPass': ''}})
    assert resp.status_int == 202
    kwargs, _act = _started(conductor, instance)
    assert secret_box.unseal(kwargs['params']['admin_password_sealed']) \
        == ''


@pytest.mark.parametrize('value,words', [
    ({}, "'adminPass' is a required"),
    (None, 'changePassword'),
    ({'adminPass': 12345678}, 'adminPass'),
    ({'adminPass': [PASSWORD]}, 'adminPass'),
    ({'adminPass': PASSWORD, 'x': 1}, 'x'),
])
def test_bad_password_requests_are_400_and_echo_no_password(
        app, conductor, value, words):
    instance = _server()
    resp = _action(app, instance, {'changePassword': value})
    assert resp.status_int == 400
    assert words in resp.json['badRequest']['message']
    assert PASSWORD not in resp.text
    assert conductor.calls_for(instance['uuid']) == []


@pytest.mark.parametrize('vm_state', [
    states.STOPPED, states.PAUSED, states.SUSPENDED, states.RESCUED,
    states.ERROR])
def test_change_password_of_a_server_not_active_is_409(app, conductor,
                                                       vm_state):
    instance = _server(vm_state=vm_state)
    resp = _action(app, instance, {'changePassword': {
        'adminPass': PASSWORD}})
    assert resp.status_int == 409
    assert PASSWORD not in resp.text


def test_change_password_of_a_locked_server_is_409_for_its_owner(
        member_app, conductor):
    instance = _server()
    db_instances.update_fields(instance['uuid'], {'locked': True})
    resp = _action(member_app, instance, {'changePassword': {
        'adminPass': PASSWORD}})
    assert resp.status_int == 409
    assert 'locked' in resp.json['conflictingRequest']['message']


# -- trigger_crash_dump --------------------------------------------------

def test_crash_dump_is_unknown_before_2_17(app, conductor):
    instance = _server()
    resp = _action(app, instance, {'trigger_crash_dump': None}, '2.16')
    assert resp.status_int == 400
    assert 'Unsupported action: trigger_crash_dump' in \
        resp.json['badRequest']['message']
    assert conductor.calls_for(instance['uuid']) == []


@pytest.mark.parametrize('vm_state,power_state', [
    (states.ACTIVE, states.RUNNING), (states.PAUSED, states.POWER_PAUSED),
    (states.RESCUED, states.RUNNING), (states.RESIZED, states.RUNNING),
    (states.ERROR, states.RUNNING)])
@pytest.mark.parametrize('value', [None, {}])
def test_crash_dump_claims_and_starts_its_flow(app, conductor, vm_state,
                                               power_state, value):
    instance = _server(vm_state=vm_state, power_state=power_state)
    resp = _action(app, instance, {'trigger_crash_dump': value}, '2.17')
    assert resp.status_int == 202 and resp.body == b''
    kwargs, act = _started(conductor, instance)
    assert act['action'] == 'trigger_crash_dump'
    row = db_instances.get(instance['uuid'])
    assert (row['vm_state'], row['task_state']) == (
        vm_state, states.TRIGGERING_CRASH_DUMP)
    # Nova has no task_state for it: its clients are shown none.
    shown = call(app, 'GET', '/v2.1/servers/' + instance['uuid'],
                 version='2.47').json['server']
    assert shown['OS-EXT-STS:task_state'] is None


@pytest.mark.parametrize('vm_state,task_state,power_state', [
    (states.STOPPED, None, states.SHUTDOWN),
    (states.SUSPENDED, None, states.POWER_SUSPENDED),
    (states.SOFT_DELETED, None, states.SHUTDOWN),
    (states.ACTIVE, states.REBOOTING, states.RUNNING),
    # Allowed vm_states, but the guest does not run.
    (states.ERROR, None, states.SHUTDOWN),
    (states.ACTIVE, None, states.NOSTATE),
    (states.RESIZED, None, states.SHUTDOWN),
])
def test_crash_dump_when_it_cannot_be_is_409(app, conductor, vm_state,
                                             task_state, power_state):
    instance = _server(vm_state=vm_state, task_state=task_state,
                       power_state=power_state)
    resp = _action(app, instance, {'trigger_crash_dump': None}, '2.17')
    assert resp.status_int == 409, resp.body
    assert conductor.calls_for(instance['uuid']) == []


def test_crash_dump_takes_no_arguments(app, conductor):
    instance = _server()
    resp = _action(app, instance, {'trigger_crash_dump': {'now': True}},
                   '2.17')
    assert resp.status_int == 400


def test_crash_dump_of_a_locked_server_is_409_for_its_owner(
        member_app, conductor):
    instance = _server()
    db_instances.update_fields(instance['uuid'], {'locked': True})
    resp = _action(member_app, instance, {'trigger_crash_dump': None},
                   '2.17')
    assert resp.status_int == 409
    assert 'locked' in resp.json['conflictingRequest']['message']
