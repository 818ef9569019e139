"""Project isolation beyond servers: a private snapshot is its owner
project's (and administrators'), in lists, shows, and as the image of a
create, rebuild or rescue; another project's actions, events and faults
are not found."""

import pytest

from orchestrator import states
from orchestrator.db import actions as db_actions
from orchestrator.db import catalog
from orchestrator.db import instances as db_instances
from tests.unit.api.conftest import PROJECT
from tests.unit.api.conftest import call
from tests.unit.api.conftest import make_instance


@pytest.fixture
def snapshot(db):
    """A private, active snapshot of project 'default'."""
    return catalog.image_create('snap-of-default', status='active',
                                owner=PROJECT,
                                properties={'image_type': 'snapshot'})


def _image_ids(app):
    resp = call(app, 'GET', '/image/v2/images')
    assert resp.status_int == 200
    return {i['id'] for i in resp.json['images']}


def test_private_snapshot_is_listed_for_its_project_and_admins(
        app, member_app, other_member_app, snapshot):
    assert snapshot['id'] in _image_ids(app)
    assert snapshot['id'] in _image_ids(member_app)
    others = _image_ids(other_member_app)
    assert snapshot['id'] not in others
    # Public images are everybody's.
    assert catalog.DEFAULT_IMAGES[0][0] in others


def test_private_snapshot_show_is_404_for_another_project(
        member_app, other_member_app, snapshot):
    path = '/image/v2/images/%s' % snapshot['id']
    assert call(member_app, 'GET', path).status_int == 200
    resp = call(other_member_app, 'GET', path)
    assert resp.status_int == 404


def test_another_project_cannot_boot_from_a_private_snapshot(
        other_member_app, conductor, snapshot):
    resp = call(other_member_app, 'POST', '/v2.1/servers', {'server': {
        'name': 'thief', 'imageRef': snapshot['id'], 'flavorRef': '1'}})
    assert resp.status_int == 400, resp.text
    assert snapshot['id'] in resp.json['badRequest']['message']
    assert conductor.calls == []


def test_its_project_can_boot_from_its_snapshot(member_app, conductor,
                                                snapshot):
    resp = call(member_app, 'POST', '/v2.1/servers', {'server': {
        'name': 'mine', 'imageRef': snapshot['id'], 'flavorRef': '1'}})
    assert resp.status_int == 202, resp.text


@pytest.mark.parametrize('action', ['rebuild', 'rescue'])
def test_another_project_cannot_rebuild_or_rescue_from_it(
        other_member_app, conductor, snapshot, action):
    instance = make_instance(states.ACTIVE, host='h1', project_id='beta')
    body = ({'rebuild': {'imageRef': snapshot['id']}} if action == 'rebuild'
            else {'rescue': {'rescue_image_ref': snapshot['id']}})
    resp = call(other_member_app, 'POST',
                '/v2.1/servers/%s/action' % instance['uuid'], body)
    assert resp.status_int == 400, resp.text
    after = db_instances.get(instance['uuid'])
    assert (after['vm_state'], after['task_state']) == (states.ACTIVE, None)


@pytest.mark.parametrize('path', [
    '/v2.1/servers/{id}',
    '/v2.1/servers/{id}/os-instance-actions',
    '/v2.1/servers/{id}/os-instance-actions/{request_id}',
])
def test_another_projects_records_are_not_found(other_member_app, path):
    instance = make_instance(states.ACTIVE, host='h1')
    [act] = db_actions.list_for_instance(instance['uuid'])
    resp = call(other_member_app, 'GET', path.format(
        id=instance['uuid'], request_id=act['request_id']))
    assert resp.status_int == 404


def test_another_projects_servers_are_not_listed(app, other_member_app):
    mine = make_instance(states.ACTIVE, host='h1')
    theirs = make_instance(states.ACTIVE, host='h1', project_id='beta')
    resp = call(other_member_app, 'GET', '/v2.1/servers/detail')
    ids = {s['id'] for s in resp.json['servers']}
    assert theirs['uuid'] in ids and mine['uuid'] not in ids
    resp = call(other_member_app, 'GET', '/v2.1/servers?all_tenants=1')
    assert resp.status_int == 403
    resp = call(app, 'GET', '/v2.1/servers?all_tenants=1')
    assert {mine['uuid'], theirs['uuid']} <= {
        s['id'] for s in resp.json['servers']}
