"""GET /v2.1/flavors* (tempest schemas) and the Glance-shaped /image."""

import uuid

import pytest

from orchestrator.db import catalog
from orchestrator.db import models
from orchestrator.db import session
from tests.unit.api import oracle
from tests.unit.api.conftest import CIRROS
from tests.unit.api.conftest import call

#: A well-formed id nothing has (fixed: xdist workers must collect the
#: same parametrized ids).
UNKNOWN_ID = '8a5c4a7e-0000-4000-8000-000000000000'


def test_flavor_list_and_detail_per_tempest(app):
    body = oracle.check(call(app, 'GET', '/v2.1/flavors'), 'v2_1',
                        'flavors', 'list_flavors')
    assert [f['name'] for f in body['flavors']] == [
        'm1.tiny', 'm1.small', 'm1.medium', 'm1.large']
    body = oracle.check(call(app, 'GET', '/v2.1/flavors/detail',
                             version='2.47'),
                        'v2_1', 'flavors', 'list_flavors_details')
    tiny = body['flavors'][0]
    assert tiny['ram'] == 512 and tiny['disk'] == 1 and tiny['swap'] == ''
    assert tiny['os-flavor-access:is_public'] is True
    assert tiny['OS-FLV-DISABLED:disabled'] is False
    assert tiny['links'][0]['href'] == 'http://localhost/v2.1/flavors/1'


def test_flavor_show_per_tempest(app):
    body = oracle.check(call(app, 'GET', '/v2.1/flavors/3'), 'v2_1',
                        'flavors', 'create_update_get_flavor_details')
    assert body['flavor']['name'] == 'm1.medium'
    assert body['flavor']['vcpus'] == 2


@pytest.mark.parametrize('flavor_id', ['99', 'm1.tiny', UNKNOWN_ID])
def test_unknown_flavor_is_404(app, flavor_id):
    resp = call(app, 'GET', '/v2.1/flavors/' + flavor_id)
    assert resp.status_int == 404
    assert resp.json['itemNotFound']['message'] == \
        'Flavor %s could not be found.' % flavor_id


def test_flavor_filters_and_paging(app):
    with session.writer() as s:
        s.add(models.Flavor(flavorid='9', name='private', vcpus=1,
                            memory_mb=64, root_gb=0, is_public=False,
                            extra_specs={}))

    def ids(query):
        resp = call(app, 'GET', '/v2.1/flavors/detail?' + query)
        assert resp.status_int == 200, resp.text
        return [f['id'] for f in resp.json['flavors']]
    assert ids('') == ['1', '2', '3', '4']
    assert ids('minRam=4096') == ['3', '4']
    assert ids('minDisk=40') == ['3', '4']
    assert ids('is_public=false') == ['9']
    assert ids('is_public=None') == ['1', '2', '3', '4', '9']
    assert ids('limit=2') == ['1', '2']
    assert ids('limit=2&marker=2') == ['3', '4']
    resp = call(app, 'GET', '/v2.1/flavors?limit=2')
    assert 'marker=2' in resp.json['flavors_links'][0]['href']


def test_members_only_see_public_flavors(member_app):
    with session.writer() as s:
        s.add(models.Flavor(flavorid='9', name='private', vcpus=1,
                            memory_mb=64, root_gb=0, is_public=False,
                            extra_specs={}))
    resp = call(member_app, 'GET', '/v2.1/flavors?is_public=none')
    assert [f['id'] for f in resp.json['flavors']] == ['1', '2', '3', '4']


@pytest.mark.parametrize('query,words', [
    ('minRam=lots', 'Invalid minRam filter'),
    ('minDisk=-3', 'Invalid minDisk filter'),
    ('is_public=sometimes', 'Invalid is_public filter'),
    ('limit=x', 'limit param must be an integer'),
    ('marker=77', 'marker [77] not found'),
])
def test_bad_flavor_parameters_are_400(app, query, words):
    resp = call(app, 'GET', '/v2.1/flavors/detail?' + query)
    assert resp.status_int == 400
    assert words in resp.json['badRequest']['message']


def test_image_versions_document_like_glance(app):
    resp = call(app, 'GET', '/image')
    assert resp.status_int == 300
    (version,) = resp.json['versions']
    assert version['status'] == 'CURRENT' and version['id'].startswith('v2')
    assert version['links'][0]['href'] == 'http://localhost/image/v2/'


def test_image_list_like_glance(app):
    resp = call(app, 'GET', '/image/v2/images')
    assert resp.status_int == 200
    body = resp.json
    assert body['first'] == '/v2/images'
    assert body['schema'] == '/v2/schemas/images'
    assert [i['name'] for i in body['images']] == ['cirros-0.6.2',
                                                  'debian-12']
    image = body['images'][0]
    for key in ('id', 'name', 'status', 'visibility', 'protected',
                'checksum', 'container_format', 'disk_format', 'size',
                'min_disk', 'min_ram', 'owner', 'created_at', 'updated_at',
                'tags', 'self', 'file', 'schema'):
        assert key in image
    assert image['created_at'].endswith('Z')
    assert image['self'] == '/v2/images/' + image['id']
    assert image['file'] == '/v2/images/%s/file' % image['id']
    assert image['schema'] == '/v2/schemas/image'
    assert 'next' not in body


def test_image_list_filters_and_pages(app):
    resp = call(app, 'GET', '/image/v2/images?name=debian-12')
    assert [i['name'] for i in resp.json['images']] == ['debian-12']
    resp = call(app, 'GET', '/image/v2/images?limit=1')
    assert len(resp.json['images']) == 1
    assert resp.json['next'].startswith('/v2/images?')
    marker = resp.json['images'][0]['id']
    resp = call(app, 'GET', '/image/v2/images?limit=1&marker=' + marker)
    assert [i['name'] for i in resp.json['images']] == ['debian-12']
    catalog.image_create('mine', status='active', owner='default')
    resp = call(app, 'GET', '/image/v2/images?visibility=private')
    assert [i['name'] for i in resp.json['images']] == ['mine']


def test_image_list_filters_on_properties_as_glance(app):
    mine = catalog.image_create('daily-1', status='active', properties={
        'image_type': 'backup', 'backup_type': 'daily',
        'instance_uuid': 'server-1'})
    catalog.image_create('weekly-1', status='active', properties={
        'image_type': 'backup', 'backup_type': 'weekly',
        'instance_uuid': 'server-1'})
    catalog.image_create('snap-1', status='active', properties={
        'image_type': 'snapshot', 'instance_uuid': 'server-1'})
    resp = call(app, 'GET', '/image/v2/images?status=active&sort_key='
                'created_at&sort_dir=asc&image_type=backup&backup_type=daily'
                '&instance_uuid=server-1')
    assert [i['id'] for i in resp.json['images']] == [mine['id']]
    resp = call(app, 'GET', '/image/v2/images?instance_uuid=server-1'
                '&limit=2')
    assert [i['name'] for i in resp.json['images']] == [
        'daily-1', 'weekly-1']
    # A property no image has finds nothing (not everything).
    resp = call(app, 'GET', '/image/v2/images?hw_machine_type=q35')
    assert resp.json['images'] == []


def test_image_show_and_404(app):
    resp = call(app, 'GET', '/image/v2/images/' + CIRROS)
    assert resp.status_int == 200 and resp.json['name'] == 'cirros-0.6.2'
    for image_id in (str(uuid.uuid4()), 'cirros-0.6.2'):
        resp = call(app, 'GET', '/image/v2/images/' + image_id)
        assert resp.status_int == 404


@pytest.mark.parametrize('query', ['limit=abc', 'limit=-1',
                                   'marker=' + UNKNOWN_ID])
def test_bad_image_parameters_are_400(app, query):
    assert call(app, 'GET', '/image/v2/images?' + query).status_int == 400
