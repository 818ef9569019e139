"""POST /servers/{id}/action: shelve, shelveOffload and unshelve."""

import pytest

from orchestrator import exception
from orchestrator import states
from orchestrator.conductor import shelved_offload
from orchestrator.db import actions as db_actions
from orchestrator.db import catalog
from orchestrator.db import instances as db_instances
from flows.tasks import shelve as shelve_steps
from tests.unit.api.conftest import call
from tests.unit.api.conftest import make_compute_host
from tests.unit.api.conftest import make_instance
from tests.unit.api.conftest import make_instance_in_state
from tests.unit.api.conftest import record_shelved_image

UNKNOWN_ID = '8a5c4a7e-0000-4000-8000-0000000000aa'


def _action(app, server_id, body, version=None):
    return call(app, 'POST', '/v2.1/servers/%s/action' % server_id, body,
                version=version)


def _shelved(vm_state=states.SHELVED_OFFLOADED, host=None):
    instance = make_instance_in_state(vm_state, host=host)
    image = catalog.image_create('x-shelved', status='active',
                                 owner=instance['project_id'])
    return record_shelved_image(instance['uuid'], image['id']), image


@pytest.mark.parametrize('body', [None, {}])
def test_shelve_claims_makes_the_image_and_posts_the_flow(
        app, conductor, body):
    instance = make_instance('active', host='h1')
    resp = _action(app, instance['uuid'], {'shelve': body})
    assert resp.status_int == 202, resp.text
    claimed = db_instances.get(instance['uuid'])
    assert claimed['task_state'] == states.SHELVING
    (method, _rid, kwargs), = conductor.calls_for(instance['uuid'])
    assert (method, kwargs['operation']) == ('start_action', 'shelve')
    image = catalog.image_get(kwargs['params']['image_id'])
    assert (image['name'], image['status'], image['owner']) == (
        instance['display_name'] + '-shelved', 'queued',
        instance['project_id'])
    # [DEFAULT] shelved_offload_time 0 (the default): offloaded at once.
    assert kwargs['params']['offload'] is True


def test_shelve_never_offloads_when_the_offload_time_is_not_0(
        app, conductor, conf):
    conf.set_override('shelved_offload_time', -1)
    instance = make_instance_in_state(states.STOPPED, host='h1')
    assert _action(app, instance['uuid'],
                   {'shelve': None}).status_int == 202
    (_m, _rid, kwargs), = conductor.calls_for(instance['uuid'])
    assert kwargs['params']['offload'] is False


@pytest.mark.parametrize('vm_state', [states.SHELVED,
                                      states.SHELVED_OFFLOADED,
                                      states.RESCUED, states.ERROR])
def test_shelve_in_a_wrong_state_is_409_and_makes_no_image(
        app, conductor, vm_state):
    instance = make_instance_in_state(vm_state, host='h1')
    images = len(catalog.image_list())
    resp = _action(app, instance['uuid'], {'shelve': None})
    assert resp.status_int == 409
    assert "Cannot 'shelve' instance while it is in vm_state %s" % (
        vm_state) in resp.json['conflictingRequest']['message']
    assert len(catalog.image_list()) == images
    assert conductor.calls_for(instance['uuid']) == []


def test_shelve_takes_no_arguments_and_an_unknown_server_is_404(app):
    instance = make_instance('active', host='h1')
    assert _action(app, instance['uuid'],
                   {'shelve': {'x': 1}}).status_int == 400
    assert _action(app, UNKNOWN_ID, {'shelve': None}).status_int == 404


def test_shelve_offload_is_for_administrators(app, member_app, conductor):
    instance, _image = _shelved(states.SHELVED, host='h1')
    resp = _action(member_app, instance['uuid'], {'shelveOffload': None})
    assert resp.status_int == 403
    resp = _action(app, instance['uuid'], {'shelveOffload': {}})
    assert resp.status_int == 202, resp.text
    assert db_instances.get(instance['uuid'])['task_state'] == (
        states.SHELVING_OFFLOADING)
    (_m, _rid, kwargs), = conductor.calls_for(instance['uuid'])
    assert kwargs['operation'] == 'shelveOffload'


@pytest.mark.parametrize('vm_state', [states.ACTIVE,
                                      states.SHELVED_OFFLOADED])
def test_shelve_offload_of_a_server_not_shelved_is_409(app, conductor,
                                                       vm_state):
    instance, _image = _shelved(vm_state, host='h1')
    resp = _action(app, instance['uuid'], {'shelveOffload': None})
    assert resp.status_int == 409


def test_unshelve_of_an_offloaded_server_schedules_it(app, member_app,
                                                      conductor):
    instance, image = _shelved()
    resp = _action(member_app, instance['uuid'], {'unshelve': None})
    assert resp.status_int == 202, resp.text
    claimed = db_instances.get(instance['uuid'])
    assert (claimed['task_state'], claimed['host']) == (
        states.UNSHELVING, None)
    (_m, request_id, kwargs), = conductor.calls_for(instance['uuid'])
    assert kwargs['operation'] == 'unshelve'
    assert kwargs['params'] == {'image_id': image['id']}
    shown = call(app, 'GET', '/v2.1/servers/%s/os-instance-actions/%s'
                 % (instance['uuid'], request_id)).json
    assert shown['instanceAction']['action'] == 'unshelve'


def test_unshelve_of_a_shelved_server_powers_it_on_its_host(app,
                                                            conductor):
    instance, image = _shelved(states.SHELVED, host='h1')
    assert _action(app, instance['uuid'],
                   {'unshelve': {}}).status_int == 202
    (_m, request_id, kwargs), = conductor.calls_for(instance['uuid'])
    assert kwargs['operation'] == 'unshelve_on_host'
    assert kwargs['params'] == {'image_id': image['id']}
    # Recorded under its own name, shown as Nova's.
    act = db_actions.get_by_request_id(instance['uuid'], request_id)
    assert act['action'] == 'unshelve_on_host'
    shown = call(app, 'GET', '/v2.1/servers/%s/os-instance-actions/%s'
                 % (instance['uuid'], request_id)).json
    assert shown['instanceAction']['action'] == 'unshelve'


def test_unshelve_of_a_server_not_shelved_is_409(app, conductor):
    instance = make_instance('active', host='h1')
    resp = _action(app, instance['uuid'], {'unshelve': None})
    assert resp.status_int == 409
    assert "Cannot 'unshelve' instance while it is in vm_state active" in (
        resp.json['conflictingRequest']['message'])


def test_unshelve_without_a_shelved_image_is_409(app, conductor):
    instance = make_instance_in_state(states.SHELVED_OFFLOADED)
    resp = _action(app, instance['uuid'], {'unshelve': None})
    assert resp.status_int == 409
    assert 'no shelved image' in resp.json['conflictingRequest']['message']
    assert db_instances.get(instance['uuid'])['task_state'] is None


def test_unshelve_takes_no_zone_before_2_77(app, conductor):
    instance, _image = _shelved()
    resp = _action(app, instance['uuid'],
                   {'unshelve': {'availability_zone': 'nova'}},
                   version='2.76')
    assert resp.status_int == 400


@pytest.mark.parametrize('body', [{'availability_zone': None},
                                  {'host': 'h1'}, {'availability_zone': ''}])
def test_unshelve_bodies_2_77_refuses(app, conductor, body):
    instance, _image = _shelved()
    resp = _action(app, instance['uuid'], {'unshelve': body},
                   version='2.77')
    assert resp.status_int == 400
    assert db_instances.get(instance['uuid'])['task_state'] is None


def test_unshelve_into_a_zone_at_2_77(app, conductor):
    make_compute_host('h-zone')
    instance, _image = _shelved()
    assert db_instances.get(instance['uuid'])['availability_zone'] is None
    resp = _action(app, instance['uuid'],
                   {'unshelve': {'availability_zone': 'nova'}},
                   version='2.77')
    assert resp.status_int == 202, resp.text
    claimed = db_instances.get(instance['uuid'])
    assert (claimed['availability_zone'], claimed['task_state']) == (
        'nova', states.UNSHELVING)


def test_unshelve_into_an_unknown_zone_is_400(app, conductor):
    make_compute_host('h-zone')
    instance, _image = _shelved()
    resp = _action(app, instance['uuid'],
                   {'unshelve': {'availability_zone': 'atlantis'}},
                   version='2.77')
    assert resp.status_int == 400
    assert 'atlantis' in resp.json['badRequest']['message']
    assert db_instances.get(instance['uuid'])['task_state'] is None


def test_unshelve_with_a_zone_of_a_server_not_offloaded_is_409(
        app, conductor):
    make_compute_host('h-zone')
    instance, _image = _shelved(states.SHELVED, host='h1')
    resp = _action(app, instance['uuid'],
                   {'unshelve': {'availability_zone': 'nova'}},
                   version='2.77')
    assert resp.status_int == 409
    assert 'shelved_offloaded' in resp.json['conflictingRequest']['message']


def test_force_delete_of_an_offloaded_server_deletes_its_image(app,
                                                               conductor):
    instance, image = _shelved()
    resp = _action(app, instance['uuid'], {'forceDelete': None})
    assert resp.status_int == 202
    with pytest.raises(exception.ImageNotFound):
        catalog.image_get(image['id'])


def _force_delete_in_db(instance):
    """The force delete's first write only (a crash before the image's
    deletion)."""
    db_instances.force_delete(instance['uuid'], {
        'request_id': 'req-x', 'user_id': 'u', 'project_id': 'p'})


def test_force_delete_drops_the_image_name_so_nothing_is_left(app,
                                                             conductor):
    instance, image = _shelved()
    _action(app, instance['uuid'], {'forceDelete': None})
    deleted = db_instances.get(instance['uuid'], read_deleted=True)
    assert shelve_steps.shelved_image_id(deleted) is None
    assert shelved_offload.forget_images_of_deleted() == []


def test_an_image_a_crashed_force_delete_left_is_deleted_by_the_periodic(
        app):
    instance, image = _shelved()
    live, live_image = _shelved(states.SHELVED, host='compute-1')
    _force_delete_in_db(instance)
    assert catalog.image_get(image['id'])['status'] == 'active'

    assert shelved_offload.forget_images_of_deleted() == [instance['uuid']]
    with pytest.raises(exception.ImageNotFound):
        catalog.image_get(image['id'])
    deleted = db_instances.get(instance['uuid'], read_deleted=True)
    assert shelve_steps.shelved_image_id(deleted) is None
    # Converged: a second run finds nothing; a live shelved server keeps
    # its image.
    assert shelved_offload.forget_images_of_deleted() == []
    assert catalog.image_get(live_image['id'])['status'] == 'active'
    assert shelve_steps.shelved_image_id(
        db_instances.get(live['uuid'])) == live_image['id']


def test_the_periodic_finishes_when_the_image_went_but_not_its_name(app):
    instance, image = _shelved()
    _force_delete_in_db(instance)
    catalog.image_delete(image['id'])
    assert shelved_offload.forget_images_of_deleted() == []
    deleted = db_instances.get(instance['uuid'], read_deleted=True)
    assert shelve_steps.shelved_image_id(deleted) is None
    assert db_instances.deleted_with_system_metadata_key(
        shelve_steps.SHELVED_IMAGE_ID) == []
