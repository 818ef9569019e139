"""The Compute API's image proxy (/v2.1/images, before 2.36): Nova's
shapes (tempest.lib's schemas), statuses and progress, filters, the
image service's visibility, delete with its policy, 404 from 2.36."""

import pytest

from orchestrator.db import catalog
from tests.unit.api import oracle
from tests.unit.api.conftest import CIRROS
from tests.unit.api.conftest import PROJECT
from tests.unit.api.conftest import call
from tests.unit.api.conftest import make_instance
from tests.unit.api.conftest import persona_app

V = '2.35'


def _snapshot(status='queued', owner=PROJECT, name='snap'):
    return catalog.image_create(name, status=status, owner=owner,
                                properties={'image_type': 'snapshot',
                                            'instance_uuid': 'srv-1',
                                            'color': 'blue'})


def test_list_and_detail_per_tempest(app):
    snap = _snapshot()
    body = oracle.check(call(app, 'GET', '/v2.1/images', version=V),
                        'v2_1', 'images', 'list_images')
    ids = [i['id'] for i in body['images']]
    assert CIRROS in ids and snap['id'] in ids
    [entry] = [i for i in body['images'] if i['id'] == snap['id']]
    assert entry['links'][0] == {
        'rel': 'self', 'href': 'http://localhost/v2.1/images/' + snap['id']}
    assert entry['links'][2]['type'] == 'application/vnd.openstack.image'
    body = call(app, 'GET', '/v2.1/images/detail', version=V).json
    oracle.validate(body, 'v2_1', 'images', 'list_images_details')
    [detail] = [i for i in body['images'] if i['id'] == snap['id']]
    assert detail['status'] == 'SAVING' and detail['progress'] == 25
    assert detail['metadata']['color'] == 'blue'
    assert detail['server']['id'] == 'srv-1'
    oracle.validate({'image': detail}, 'v2_1', 'images', 'get_image')


@pytest.mark.parametrize('status,shown,progress', [
    ('queued', 'SAVING', 25), ('saving', 'SAVING', 50),
    ('active', 'ACTIVE', 100), ('killed', 'ERROR', 0),
    ('importing', 'UNKNOWN', 0)])
def test_show_status_and_progress(app, status, shown, progress):
    snap = _snapshot(status=status)
    body = oracle.check(call(app, 'GET', '/v2.1/images/' + snap['id'],
                             version=V), 'v2_1', 'images', 'get_image')
    assert body['image']['status'] == shown
    assert body['image']['progress'] == progress


def test_filters_and_paging(app):
    snap = _snapshot(status='active', name='mine')
    other = catalog.image_create('plain', status='active')

    def ids(query):
        resp = call(app, 'GET', '/v2.1/images/detail?' + query, version=V)
        assert resp.status_int == 200, resp.text
        return [i['id'] for i in resp.json['images']]
    assert ids('name=mine') == [snap['id']]
    assert ids('server=srv-1') == [snap['id']]
    assert ids('server=http://x/v2.1/servers/srv-1') == [snap['id']]
    assert ids('type=snapshot') == [snap['id']]
    assert other['id'] in ids('status=ACTIVE')
    assert ids('status=SAVING') == []
    first = ids('limit=1')
    assert len(first) == 1
    assert ids('limit=1&marker=' + first[0]) != first
    resp = call(app, 'GET', '/v2.1/images?limit=1', version=V)
    assert 'marker=' in resp.json['images_links'][0]['href']
    assert call(app, 'GET', '/v2.1/images?marker=nope',
                version=V).status_int == 400
    assert call(app, 'GET', '/v2.1/images?minRam=x',
                version=V).status_int == 400


@pytest.mark.parametrize('method,path', [
    ('GET', '/v2.1/images'), ('GET', '/v2.1/images/detail'),
    ('GET', '/v2.1/images/' + CIRROS), ('DELETE', '/v2.1/images/' + CIRROS)])
def test_gone_from_2_36(app, method, path):
    assert call(app, method, path, version='2.36').status_int == 404
    assert catalog.image_get(CIRROS)['status'] == 'active'


def test_unknown_image_is_404(app):
    for method in ('GET', 'DELETE'):
        resp = call(app, method, '/v2.1/images/nope', version=V)
        assert resp.status_int == 404
        assert resp.json['itemNotFound']['message'] == (
            'Image nope could not be found.')


def test_delete_own_snapshot_while_saving(member_app):
    snap = _snapshot(status='saving')
    resp = call(member_app, 'DELETE', '/v2.1/images/' + snap['id'],
                version=V)
    assert resp.status_int == 204, resp.text
    assert call(member_app, 'GET', '/v2.1/images/' + snap['id'],
                version=V).status_int == 404
    # A late upload does not bring it back.
    assert catalog.image_update(snap['id'], ('queued', 'saving'),
                                status='active') is None
    assert call(member_app, 'DELETE', '/v2.1/images/' + snap['id'],
                version=V).status_int == 404


def test_delete_refused_to_readers_others_and_on_public_images(
        db, conf, member_app, other_member_app):
    snap = _snapshot(status='active')
    reader = persona_app(conf, 'reader', PROJECT, ['reader'])
    assert call(reader, 'DELETE', '/v2.1/images/' + snap['id'],
                version=V).status_int == 403
    # Another project does not find it (never 403).
    assert call(other_member_app, 'DELETE', '/v2.1/images/' + snap['id'],
                version=V).status_int == 404
    assert call(other_member_app, 'GET', '/v2.1/images/' + snap['id'],
                version=V).status_int == 404
    resp = call(member_app, 'DELETE', '/v2.1/images/' + CIRROS, version=V)
    assert resp.status_int == 403
    assert catalog.image_get(snap['id'])['status'] == 'active'
    assert catalog.image_get(CIRROS)['status'] == 'active'


def test_admin_deletes_a_public_image(app):
    public = catalog.image_create('spare', status='active')
    assert call(app, 'DELETE', '/v2.1/images/' + public['id'],
                version=V).status_int == 204
    assert call(app, 'GET', '/v2.1/images/' + public['id'],
                version=V).status_int == 404


def test_image_tasks_are_an_empty_list(app, other_member_app):
    snap = _snapshot(status='active')
    resp = call(app, 'GET', '/image/v2/images/%s/tasks' % snap['id'])
    assert resp.status_int == 200 and resp.json == {'tasks': []}
    assert call(other_member_app, 'GET', '/image/v2/images/%s/tasks'
                % snap['id']).status_int == 404
    assert call(app, 'GET', '/image/v2/images/nope/tasks').status_int == 404


def test_create_image_metadata_may_set_the_image_type(app, conductor):
    server = make_instance('active', host='host1')
    resp = call(app, 'POST', '/v2.1/servers/%s/action' % server['uuid'],
                {'createImage': {'name': 'snap', 'metadata': {
                    'image_type': 'test', 'instance_uuid': 'forged',
                    'color': 'red'}}})
    assert resp.status_int == 202, resp.text
    image_id = resp.headers['Location'].rsplit('/', 1)[-1]
    properties = catalog.image_get(image_id)['properties']
    assert properties['image_type'] == 'test'
    assert properties['color'] == 'red'
    # The server it comes from is not the request's to say.
    assert properties['instance_uuid'] == server['uuid']


@pytest.mark.parametrize('path', ['/v2.1/images/', '/image/v2/images/'])
def test_the_image_service_deletes_as_the_proxy(db, conf, member_app,
                                                other_member_app, path):
    """DELETE /image/v2/images/{id} (Glance's, tempest's cleanups use it)
    follows the proxy's rules: the owner's member deletes (204, then
    404), another project does not find it, a public image is refused."""
    snap = _snapshot(status='active')
    assert call(other_member_app, 'DELETE', path + snap['id'],
                version=V).status_int == 404
    assert call(member_app, 'DELETE', path + CIRROS,
                version=V).status_int == 403
    assert call(member_app, 'DELETE', path + snap['id'],
                version=V).status_int == 204
    assert call(member_app, 'DELETE', path + snap['id'],
                version=V).status_int == 404
    assert catalog.image_get(CIRROS)['status'] == 'active'
