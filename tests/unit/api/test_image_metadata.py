"""/v2.1/images/{id}/metadata: an image's extra properties through the
Compute API (before 2.39), as tempest's ImagesMetadataTestJSON uses it."""

import pytest

from orchestrator.db import catalog
from orchestrator.db import quotas as db_quotas
from tests.unit.api.conftest import CIRROS
from tests.unit.api.conftest import PROJECT
from tests.unit.api.conftest import call
from tests.unit.api.conftest import persona_app

V = '2.38'


@pytest.fixture
def image(db):
    return catalog.image_create(
        'mine', status='active', owner=PROJECT,
        properties={'os_distro': 'cirros', 'os_version': '1',
                    'os_hash_value': 'abc', 'tags': ['t']})


def _path(image_id, key=None):
    path = '/v2.1/images/%s/metadata' % image_id
    return path + '/' + key if key else path


def _metadata(app, image_id):
    resp = call(app, 'GET', _path(image_id), version=V)
    assert resp.status_int == 200, resp.text
    return resp.json['metadata']


def test_list_shows_the_extra_properties_only(member_app, image):
    assert _metadata(member_app, image['id']) == {'os_distro': 'cirros',
                                                  'os_version': '1'}


def test_post_merges_put_replaces_and_internal_ones_stay(member_app, image):
    resp = call(member_app, 'POST', _path(image['id']),
                {'metadata': {'os_version': '2', 'arch': 'x86_64'}},
                version=V)
    assert resp.status_int == 200
    assert resp.json['metadata'] == {'os_distro': 'cirros',
                                     'os_version': '2', 'arch': 'x86_64'}
    resp = call(member_app, 'PUT', _path(image['id']),
                {'metadata': {'only': 'this'}}, version=V)
    assert resp.json['metadata'] == {'only': 'this'}
    assert _metadata(member_app, image['id']) == {'only': 'this'}
    stored = catalog.image_get(image['id'])['properties']
    assert stored['os_hash_value'] == 'abc' and stored['tags'] == ['t']
    shown = call(member_app, 'GET', '/image/v2/images/%s' % image['id'])
    assert shown.json['only'] == 'this' and 'os_distro' not in shown.json


def test_one_item(member_app, image):
    resp = call(member_app, 'GET', _path(image['id'], 'os_distro'),
                version=V)
    assert resp.json == {'meta': {'os_distro': 'cirros'}}
    resp = call(member_app, 'PUT', _path(image['id'], 'os_distro'),
                {'meta': {'os_distro': 'fedora'}}, version=V)
    assert resp.status_int == 200
    assert resp.json == {'meta': {'os_distro': 'fedora'}}
    resp = call(member_app, 'DELETE', _path(image['id'], 'os_version'),
                version=V)
    assert resp.status_int == 204
    assert _metadata(member_app, image['id']) == {'os_distro': 'fedora'}


@pytest.mark.parametrize('method,key', [('GET', 'nope'),
                                        ('DELETE', 'nope')])
def test_a_missing_item_is_404(member_app, image, method, key):
    resp = call(member_app, method, _path(image['id'], key), version=V)
    assert resp.status_int == 404
    assert resp.json['itemNotFound']['message'] == 'Invalid metadata key'


@pytest.mark.parametrize('key,body', [
    ('a', {'meta': {'b': 'x'}}),
    ('a', {'meta': {'a': 'x', 'b': 'y'}}),
    ('a', {'meta': {'a': 'x' * 256}}),
    ('a', {'metadata': {'a': 'x'}})])
def test_bad_item_bodies_are_400(member_app, image, key, body):
    resp = call(member_app, 'PUT', _path(image['id'], key), body,
                version=V)
    assert resp.status_int == 400


def test_unknown_image_is_404_everywhere(member_app):
    unknown = '8a5c4a7e-0000-4000-8000-00000000abcd'
    for method, path, body in (
            ('GET', _path(unknown), None),
            ('POST', _path(unknown), {'metadata': {'a': 'b'}}),
            ('PUT', _path(unknown), {'metadata': {'a': 'b'}}),
            ('GET', _path(unknown, 'a'), None),
            ('PUT', _path(unknown, 'a'), {'meta': {'a': 'b'}}),
            ('DELETE', _path(unknown, 'a'), None)):
        assert call(member_app, method, path, body,
                    version=V).status_int == 404, (method, path)


def test_gone_from_2_39(member_app, image):
    assert call(member_app, 'GET', _path(image['id']),
                version='2.39').status_int == 404


def test_another_projects_image_is_404(other_member_app, image):
    assert call(other_member_app, 'GET', _path(image['id']),
                version=V).status_int == 404


def test_public_image_metadata_is_changed_by_administrators_only(
        app, member_app):
    body = {'metadata': {'a': 'b'}}
    resp = call(member_app, 'POST', _path(CIRROS), body, version=V)
    assert resp.status_int == 403
    assert call(app, 'POST', _path(CIRROS), body,
                version=V).json['metadata']['a'] == 'b'


def test_a_reader_reads_but_does_not_change(conf, image):
    reader = persona_app(conf, 'reader', PROJECT, ['reader'])
    assert _metadata(reader, image['id'])
    assert call(reader, 'DELETE', _path(image['id'], 'os_distro'),
                version=V).status_int == 403


def test_an_image_attribute_is_not_a_metadata_item(member_app, image):
    resp = call(member_app, 'PUT', _path(image['id'], 'size'),
                {'meta': {'size': '1'}}, version=V)
    assert resp.status_int == 403
    assert catalog.image_get(image['id'])['size'] is None


def test_the_owners_metadata_items_quota_holds(member_app, image):
    db_quotas.set_overrides(PROJECT, {'metadata_items': 3})
    resp = call(member_app, 'POST', _path(image['id']),
                {'metadata': {'a': '1'}}, version=V)
    assert resp.status_int == 200
    resp = call(member_app, 'POST', _path(image['id']),
                {'metadata': {'b': '1'}}, version=V)
    assert resp.status_int == 403
    assert 'b' not in _metadata(member_app, image['id'])
