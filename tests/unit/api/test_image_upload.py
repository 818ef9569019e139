"""POST /image/v2/images, PUT and GET /image/v2/images/{id}/file: an image
is created queued, its data uploaded (streamed to the image store) makes
it active with size and hashes, and the same bytes come back."""

import errno
import hashlib
import json
import os

import pytest
import requests
import webob

from orchestrator.api import app as api_app
from orchestrator.api import images
from orchestrator.cmd import api as api_cmd
from orchestrator.db import catalog
from tests.unit.api.conftest import CIRROS
from tests.unit.api.conftest import PROJECT
from tests.unit.api.conftest import call
from tests.unit.api.conftest import persona_app

DATA = b'*' * 1024 + b'tail'


@pytest.fixture
def store(conf, tmp_path):
    path = tmp_path / 'image-store'
    conf.set_override('image_store_path', str(path), group='api')
    return path


@pytest.fixture
def reader_app(db, conf):
    return persona_app(conf, 'reader', PROJECT, ['reader'])


def _create(app, **body):
    body.setdefault('name', 'uploaded')
    body.setdefault('disk_format', 'raw')
    body.setdefault('container_format', 'bare')
    return call(app, 'POST', '/image/v2/images', body)


def _upload(app, image_id, data=DATA):
    req = webob.Request.blank('/image/v2/images/%s/file' % image_id,
                              method='PUT')
    req.body = data
    req.content_type = 'application/octet-stream'
    return req.get_response(app)


def test_create_is_queued_private_in_the_callers_project(member_app, store):
    resp = _create(member_app, min_ram=64, min_disk=1, tags=['a', 'b'],
                   os_distro='cirros', protected=False)
    assert resp.status_int == 201, resp.text
    image = resp.json
    assert resp.headers['Location'].endswith('/image/v2/images/%s'
                                             % image['id'])
    assert image['status'] == 'queued'
    assert image['visibility'] == 'private'
    assert image['owner'] == PROJECT
    assert (image['disk_format'], image['container_format']) == (
        'raw', 'bare')
    assert (image['min_ram'], image['min_disk']) == (64, 1)
    assert image['tags'] == ['a', 'b']
    assert image['os_distro'] == 'cirros'
    assert image['size'] is None and image['checksum'] is None
    shown = call(member_app, 'GET', '/image/v2/images/%s' % image['id'])
    assert shown.json == image


def test_create_with_an_id_then_the_same_id_is_409(member_app, store):
    wanted = '0b7c6f2e-1111-4a2b-9c3d-000000000001'
    assert _create(member_app, id=wanted).json['id'] == wanted
    resp = _create(member_app, id=wanted)
    assert resp.status_int == 409
    assert wanted in resp.json['conflictingRequest']['message']


@pytest.mark.parametrize('field', ['status', 'size', 'checksum', 'owner',
                                   'os_hash_value', 'created_at'])
def test_read_only_attributes_are_403(member_app, store, field):
    resp = _create(member_app, **{field: 'x'})
    assert resp.status_int == 403
    assert "Attribute '%s' is read-only." % field in resp.text


@pytest.mark.parametrize('body', [
    {'disk_format': 'floppy'}, {'container_format': 'tar'},
    {'visibility': 'shared'}, {'min_ram': -1}, {'name': 'x' * 256},
    {'tags': 'a'}, {'os_distro': 3}, {'id': 'not-a-uuid'},
    {'protected': 'yes'}, {'k' * 256: 'v'}, {'': 'v'}])
def test_bad_create_bodies_are_400(member_app, store, body):
    assert _create(member_app, **body).status_int == 400


def test_a_body_that_is_not_an_object_is_400(member_app, store):
    assert call(member_app, 'POST', '/image/v2/images',
                ['x']).status_int == 400


def test_public_images_are_created_by_administrators_only(
        app, member_app, store):
    assert _create(member_app, visibility='public').status_int == 403
    resp = _create(app, visibility='public')
    assert resp.status_int == 201
    assert resp.json['visibility'] == 'public'


def test_a_reader_neither_creates_nor_uploads(member_app, reader_app,
                                              store):
    assert _create(reader_app).status_int == 403
    image = _create(member_app).json
    assert _upload(reader_app, image['id']).status_int == 403
    assert catalog.image_get(image['id'])['status'] == 'queued'


def test_upload_makes_it_active_with_size_and_hashes(member_app, store):
    image = _create(member_app).json
    resp = _upload(member_app, image['id'])
    assert resp.status_int == 204, resp.text
    shown = call(member_app, 'GET',
                 '/image/v2/images/%s' % image['id']).json
    assert shown['status'] == 'active'
    assert shown['size'] == len(DATA)
    assert shown['checksum'] == hashlib.md5(DATA).hexdigest()
    assert shown['os_hash_algo'] == 'sha512'
    assert shown['os_hash_value'] == hashlib.sha512(DATA).hexdigest()
    # The hashes are Glance's attributes, not extra properties.
    proxy = call(member_app, 'GET', '/v2.1/images/%s' % image['id']).json
    assert proxy['image']['metadata'] == {}
    assert proxy['image']['status'] == 'ACTIVE'
    assert (store / image['id']).read_bytes() == DATA
    assert os.stat(store / image['id']).st_mode & 0o077 == 0
    assert not (store / (image['id'] + '.part')).exists()


def test_download_returns_the_data(member_app, reader_app, store):
    image = _create(member_app).json
    path = '/image/v2/images/%s/file' % image['id']
    assert call(member_app, 'GET', path).status_int == 204   # no data yet
    _upload(member_app, image['id'])
    resp = call(reader_app, 'GET', path)
    assert resp.status_int == 200
    assert resp.body == DATA
    assert resp.content_type == 'application/octet-stream'
    assert resp.headers['Content-MD5'] == hashlib.md5(DATA).hexdigest()


def test_a_second_upload_is_409_and_keeps_the_first(member_app, store):
    image = _create(member_app).json
    _upload(member_app, image['id'])
    resp = _upload(member_app, image['id'], b'other')
    assert resp.status_int == 409
    assert 'only a queued image takes data' in resp.text
    assert (store / image['id']).read_bytes() == DATA
    assert catalog.image_get(image['id'])['size'] == len(DATA)


def test_uploading_to_a_seeded_image_is_409(app, store):
    assert _upload(app, CIRROS).status_int == 409


def test_another_projects_image_is_404(member_app, other_member_app, store):
    image = _create(member_app).json
    for resp in (_upload(other_member_app, image['id']),
                 call(other_member_app, 'GET',
                      '/image/v2/images/%s/file' % image['id'])):
        assert resp.status_int == 404
    assert catalog.image_get(image['id'])['status'] == 'queued'


def _broken_upload(app, image_id):
    req = webob.Request.blank('/image/v2/images/%s/file' % image_id,
                              method='PUT')

    class Broken:
        def read(self, size=-1):
            raise OSError('connection reset')

    req.body_file = Broken()
    req.content_length = 10
    return req.get_response(app)


def test_an_interrupted_upload_is_400_and_leaves_it_queued(member_app,
                                                           store):
    image = _create(member_app).json
    resp = _broken_upload(member_app, image['id'])
    assert resp.status_int == 400
    assert 'upload was interrupted' in resp.text
    assert catalog.image_get(image['id'])['status'] == 'queued'
    assert list(store.iterdir()) == []
    assert _upload(member_app, image['id']).status_int == 204


@pytest.mark.parametrize('error,status', [(errno.ENOSPC, 413),
                                          (errno.EIO, 503)])
def test_a_store_that_cannot_be_written(member_app, store, monkeypatch,
                                        error, status):
    image = _create(member_app).json
    real_replace = os.replace

    def failing(src, dst):
        if str(dst).startswith(str(store)):
            raise OSError(error, os.strerror(error))
        return real_replace(src, dst)

    monkeypatch.setattr(images.os, 'replace', failing)
    resp = _upload(member_app, image['id'])
    assert resp.status_int == status, resp.text
    assert catalog.image_get(image['id'])['status'] == 'queued'
    assert list(store.iterdir()) == []


def test_delete_removes_the_data(member_app, store):
    image = _create(member_app).json
    _upload(member_app, image['id'])
    resp = call(member_app, 'DELETE', '/image/v2/images/%s' % image['id'])
    assert resp.status_int == 204
    assert not (store / image['id']).exists()


def test_chunked_upload_through_the_http_server(db, conf, store):
    """A client without Content-Length (tempest's chunked upload)."""
    server = api_cmd.APIServer(api_app.build_app(conf), '127.0.0.1', 0,
                               threads=2)
    server.start()
    try:
        image = requests.post(server.url + '/image/v2/images',
                              json={'name': 'chunked'}, timeout=30).json()
        url = '%s/image/v2/images/%s/file' % (server.url, image['id'])
        resp = requests.put(
            url, data=iter([DATA[:100], DATA[100:]]), timeout=30,
            headers={'Content-Type': 'application/octet-stream'})
        assert resp.status_code == 204, resp.text
        assert requests.get(url, timeout=30).content == DATA
    finally:
        server.stop()


PATCH_V2_1 = 'application/openstack-images-v2.1-json-patch'
PATCH_V2_0 = 'application/openstack-images-v2.0-json-patch'


def _patch(app, image_id, operations, content_type=PATCH_V2_1):
    req = webob.Request.blank('/image/v2/images/%s' % image_id,
                              method='PATCH')
    req.body = json.dumps(operations).encode()
    req.content_type = content_type
    return req.get_response(app)


def test_patch_changes_attributes_and_properties(member_app, store):
    image = _create(member_app, os_distro='cirros', gone='soon').json
    resp = _patch(member_app, image['id'], [
        {'op': 'replace', 'path': '/name', 'value': 'renamed'},
        {'op': 'replace', 'path': '/min_ram', 'value': 128},
        {'op': 'add', 'path': '/tags', 'value': ['x']},
        {'op': 'add', 'path': '/hw_disk_bus', 'value': 'virtio'},
        {'op': 'replace', 'path': '/os_distro', 'value': 'fedora'},
        {'op': 'remove', 'path': '/gone'},
        {'op': 'replace', 'path': '/disk_format', 'value': 'qcow2'}])
    assert resp.status_int == 200, resp.text
    body = resp.json
    assert (body['name'], body['min_ram'], body['tags']) == (
        'renamed', 128, ['x'])
    assert body['hw_disk_bus'] == 'virtio' and body['os_distro'] == 'fedora'
    assert 'gone' not in body and body['disk_format'] == 'qcow2'
    assert call(member_app, 'GET',
                '/image/v2/images/%s' % image['id']).json == body


def test_patch_in_glances_v2_0_format(member_app, store):
    image = _create(member_app).json
    resp = _patch(member_app, image['id'],
                  [{'replace': '/name', 'value': 'old-style'}], PATCH_V2_0)
    assert resp.status_int == 200, resp.text
    assert resp.json['name'] == 'old-style'


@pytest.mark.parametrize('operations,status', [
    ([{'op': 'replace', 'path': '/status', 'value': 'active'}], 403),
    ([{'op': 'replace', 'path': '/size', 'value': 1}], 403),
    ([{'op': 'remove', 'path': '/name'}], 403),
    ([{'op': 'replace', 'path': '/nope', 'value': 'x'}], 409),
    ([{'op': 'remove', 'path': '/nope'}], 409),
    ([{'op': 'replace', 'path': '/min_ram', 'value': -1}], 400),
    ([{'op': 'replace', 'path': '/disk_format', 'value': 'floppy'}], 400),
    ([{'op': 'add', 'path': '/prop', 'value': 3}], 400),
    ([{'op': 'add', 'path': '/prop'}], 400),
    ([{'op': 'move', 'path': '/name', 'value': 'x'}], 400),
    ([{'op': 'add', 'path': 'name', 'value': 'x'}], 400),
    ({'op': 'add'}, 400)])
def test_bad_patches_change_nothing(member_app, store, operations, status):
    image = _create(member_app).json
    if isinstance(operations, list):
        # A good operation first: all or nothing.
        operations = [{'op': 'replace', 'path': '/name',
                       'value': 'first'}] + operations
    resp = _patch(member_app, image['id'], operations)
    assert resp.status_int == status, resp.text
    assert catalog.image_get(image['id'])['name'] == 'uploaded'


def test_patch_needs_a_json_patch_content_type(member_app, store):
    image = _create(member_app).json
    resp = _patch(member_app, image['id'], [], 'application/json')
    assert resp.status_int == 415


def test_formats_change_only_while_queued(member_app, store):
    image = _create(member_app).json
    _upload(member_app, image['id'])
    resp = _patch(member_app, image['id'], [
        {'op': 'replace', 'path': '/disk_format', 'value': 'qcow2'}])
    assert resp.status_int == 403


def test_patch_rules(app, member_app, reader_app, other_member_app, store):
    image = _create(member_app).json
    rename = [{'op': 'replace', 'path': '/name', 'value': 'x'}]
    assert _patch(reader_app, image['id'], rename).status_int == 403
    assert _patch(other_member_app, image['id'], rename).status_int == 404
    assert _patch(member_app, CIRROS, rename).status_int == 403
    publish = [{'op': 'replace', 'path': '/visibility', 'value': 'public'}]
    assert _patch(member_app, image['id'], publish).status_int == 403
    assert _patch(app, image['id'], publish).json['visibility'] == 'public'
