"""A Glance-v2-shaped image service under ``/image`` (list, show, create,
upload, download and delete).

``/image`` is the version document (300 Multiple Choices, as Glance),
``/image/v2/images`` the list and ``/image/v2/images/{id}`` one image.
Links inside bodies (``self``, ``file``, ``schema``, ``first``, ``next``)
are relative to the service root (``/v2/...``), as Glance writes them;
openstacksdk resolves them against the endpoint.

List filters: ``name`` and ``status`` (exact), ``visibility``, and, as
Glance, any other parameter that is not one of Glance's own
(:data:`_NOT_PROPERTIES`) names a property the image must have with that
value (``?image_type=backup&instance_uuid=...``: a server's backups);
paging with ``limit`` (capped at ``[api] max_limit``) and ``marker`` (an
image id; 400 if unknown). Oldest first, as the catalog returns them
(sorting parameters are taken and not applied).

Visibility as Glance: public images are seen by everyone, a private one
(a snapshot) by its owner project and administrators only
(:mod:`orchestrator.policies.catalog`); to anyone else it does not
exist (404), here and when a server is created, rebuilt or rescued from
it (:func:`get_visible`).

Creating (``POST /image/v2/images``, 201) makes a ``queued`` image of the
caller's project, private unless an administrator asks for ``public``
(policy ``image:publicize_image``; Glance's ``shared`` and ``community``
need image members, which this service has not). Read-only attributes
in the body (``status``, ``size``, ``checksum``...) are a 403, as Glance.
Uploading (``PUT .../file``, 204) takes a ``queued`` image through
``saving`` to ``active``: the body is read in chunks and written to
``[api] image_store_path/<id>``, its size, MD5 ``checksum`` and SHA-512
``os_hash_value`` recorded; an upload to an image in another status is a
409. Downloading (``GET .../file``) returns those bytes (204 while there
are none). Deleting an image removes its data.

Changing (``PATCH /image/v2/images/{id}``, 200, policy
``image:modify_image`` on the owner project) takes a JSON patch of
``add``/``replace``/``remove`` operations on ``/name``, ``/visibility``,
``/min_ram``, ``/min_disk``, ``/protected``, ``/tags``,
``/container_format`` and ``/disk_format`` (those two while queued
only) and on extra properties, all applied or none, as Glance: a
read-only attribute is a 403, replacing or removing a property the
image does not have a 409, a value the create schema refuses a 400,
another content type than the two json-patch ones a 415.
"""

import errno
import hashlib
import logging
import os

import webob

from orchestrator import exception
from orchestrator import file_modes
from orchestrator.api import links
from orchestrator.api import query
from orchestrator.api import request as api_request
from orchestrator.api import validation
from orchestrator.api.schemas import images as schemas
from orchestrator.api.views import timestamps
from orchestrator.db import catalog
from orchestrator.policies import catalog as rules

LOG = logging.getLogger(__name__)

#: Fields of an image body; extra properties are added beside them.
RESERVED = frozenset([
    'id', 'name', 'status', 'visibility', 'protected', 'checksum',
    'container_format', 'disk_format', 'size', 'virtual_size', 'min_disk',
    'min_ram', 'owner', 'created_at', 'updated_at', 'tags', 'self', 'file',
    'schema', 'os_hidden', 'os_hash_algo', 'os_hash_value', 'locations',
    'direct_url'])

#: Attributes kept among an image's properties but shown as Glance's own
#: (not as extra properties).
INTERNAL_PROPERTIES = frozenset(['tags', 'os_hash_algo', 'os_hash_value'])

#: What a create body may not set (Glance: 403 "Attribute ... is
#: read-only").
_READ_ONLY = RESERVED - frozenset([
    'id', 'name', 'visibility', 'protected', 'container_format',
    'disk_format', 'min_disk', 'min_ram', 'tags'])

#: Bytes read (and written) at a time by uploads and downloads.
CHUNK_SIZE = 65536
#: The multihash algorithm of ``os_hash_value`` (Glance's default).
HASH_ALGO = 'sha512'


def user_properties(image):
    """The image's extra properties (what Nova shows as its metadata)."""
    return {k: v for k, v in (image.get('properties') or {}).items()
            if k not in RESERVED}


def image_body(image):
    """One image as Glance v2 shows it."""
    properties = image.get('properties') or {}
    body = {
        'id': image['id'],
        'name': image['name'],
        'status': image['status'],
        'visibility': image['visibility'],
        'protected': bool(image['protected']),
        'os_hidden': False,
        'checksum': image['checksum'],
        'os_hash_algo': properties.get('os_hash_algo'),
        'os_hash_value': properties.get('os_hash_value'),
        'container_format': image['container_format'],
        'disk_format': image['disk_format'],
        'size': image['size'],
        'virtual_size': None,
        'min_disk': image['min_disk'],
        'min_ram': image['min_ram'],
        'owner': image['owner'],
        'created_at': timestamps.zulu(image['created_at']),
        'updated_at': timestamps.zulu(image['updated_at']
                                      or image['created_at']),
        'tags': list(properties.get('tags') or []),
        'self': '/v2/images/%s' % image['id'],
        'file': '/v2/images/%s/file' % image['id'],
        'schema': '/v2/schemas/image',
    }
    body.update(user_properties(image))
    return body


def versions(req):
    """GET /image: the image API versions (300, as Glance)."""
    href = links.base_url(req) + '/image/v2/'
    doc = {'versions': [{'id': 'v2.0', 'status': 'CURRENT',
                         'links': [{'rel': 'self', 'href': href}]}]}
    return api_request.json_response(doc, status=300)


def visible_to(req):
    """The project whose images the caller sees, or None for all."""
    if req.can(rules.IMAGES_ALL_PROJECTS):
        return None
    return req.context.project_id


def get_visible(req, image_id):
    """The image ``image_id`` if the caller may see (and so use) it;
    ImageNotFound otherwise."""
    return catalog.image_get(image_id, visible_to=visible_to(req))


#: Query parameters of Glance's image list that are not property filters.
_NOT_PROPERTIES = RESERVED | frozenset([
    'limit', 'marker', 'sort', 'sort_key', 'sort_dir', 'member_status',
    'tag',
    'size_min', 'size_max'])


def _property_filters(req):
    """{property: wanted value} of the query's property filters."""
    return {name: query.one(req, name) for name in req.GET
            if name not in _NOT_PROPERTIES}


def _images(req, limit):
    marker = query.one(req, 'marker')
    visibility = query.one(req, 'visibility')
    wanted = _property_filters(req)
    cut_here = bool(visibility or wanted)
    try:
        # NOTE(api): the catalog filters neither visibility nor
        # properties; with one, read the rest of the list and cut the
        # page here (images are few).
        images = catalog.image_list(
            name=query.one(req, 'name'), status=query.one(req, 'status'),
            limit=None if cut_here else limit, marker=marker,
            visible_to=visible_to(req))
    except exception.ImageNotFound:
        raise exception.Invalid('marker [%s] not found' % marker) from None
    if visibility and visibility != 'all':
        images = [i for i in images if i['visibility'] == visibility]
    if wanted:
        images = [i for i in images if all(
            str((i.get('properties') or {}).get(name)) == value
            and name in (i.get('properties') or {})
            for name, value in wanted.items())]
    return images[:limit]


def index(req):
    """GET /image/v2/images (200)."""
    req.authorize(rules.IMAGES_LIST)
    limit = query.limit(req)
    images = _images(req, limit)
    body = {'images': [image_body(i) for i in images],
            'first': '/v2/images', 'schema': '/v2/schemas/images'}
    next_links = query.next_link(req, '/v2/images', images, limit)
    if next_links:
        body['next'] = next_links[0]['href']
    return api_request.json_response(body)


def show(req, image_id):
    """GET /image/v2/images/{id} (200, 404)."""
    req.authorize(rules.IMAGES_SHOW)
    return api_request.json_response(image_body(get_visible(req, image_id)))


def tasks(req, image_id):
    """GET /image/v2/images/{id}/tasks (200; Glance 2.12): the image's
    asynchronous tasks. This image service runs none (an image becomes
    active when its upload ends): always an empty list."""
    req.authorize(rules.IMAGES_SHOW)
    get_visible(req, image_id)
    return api_request.json_response({'tasks': []})


def delete_visible(req, image_id):
    """Delete image ``image_id`` for the caller (204): 404 when unknown
    or not visible, 403 when not allowed (a public or protected image to
    a non-administrator). An image still being saved may be deleted: its
    snapshot's upload then finds it gone and does not bring it back."""
    image = get_visible(req, image_id)
    req.authorize(rules.IMAGES_DELETE, {'project_id': image['owner']})
    if (image['owner'] is None or image['protected']) and \
            not req.sees_all_projects:
        raise exception.Forbidden(action=rules.IMAGES_DELETE)
    catalog.image_delete(image_id)
    _remove_data(req.conf, image_id)
    return api_request.empty_response(204)


def delete(req, image_id):
    """DELETE /image/v2/images/{id} (204; see :func:`delete_visible`)."""
    return delete_visible(req, image_id)


def _data_path(conf, image_id):
    """Where the image's data is (None for an id that cannot name a file:
    every image id here is a uuid)."""
    if not validation.is_uuid(image_id) or os.sep in image_id:
        return None
    return os.path.join(conf.api.image_store_path, image_id)


def _remove_data(conf, image_id):
    path = _data_path(conf, image_id)
    if path is not None:
        try:
            os.remove(path)
        except FileNotFoundError:
            pass


def create(req):
    """POST /image/v2/images (201): a queued image of the caller's
    project."""
    req.authorize(rules.IMAGES_CREATE)
    body = req.json_body()
    if not isinstance(body, dict):
        raise exception.ValidationError('The request body must be a JSON '
                                        'object.')
    for key in sorted(body):
        if key in _READ_ONLY:
            raise exception.Forbidden("Attribute '%s' is read-only." % key)
    validation.validate(body, schemas.create)
    for key in body:
        if not 0 < len(key) <= schemas.PROPERTY_NAME_MAX:
            raise exception.ValidationError(
                'Invalid input: a property name must have 1 to %d '
                'characters.' % schemas.PROPERTY_NAME_MAX)
    visibility = body.get('visibility', 'private')
    if visibility == 'public':
        req.authorize(rules.IMAGES_PUBLICIZE)
    properties = {k: v for k, v in body.items() if k not in RESERVED}
    if body.get('tags'):
        properties['tags'] = list(body['tags'])
    image = catalog.image_create(
        body.get('name'), status='queued', owner=req.context.project_id,
        image_id=body.get('id'), visibility=visibility,
        disk_format=body.get('disk_format'),
        container_format=body.get('container_format'),
        min_disk=body.get('min_disk', 0), min_ram=body.get('min_ram', 0),
        protected=body.get('protected', False), properties=properties)
    return api_request.json_response(
        image_body(image), status=201,
        headers={'Location': '%s/image/v2/images/%s'
                 % (links.base_url(req), image['id'])})


def _read(stream):
    try:
        return stream.read(CHUNK_SIZE)
    except OSError:
        raise exception.Invalid(
            'The image data could not be read: the upload was interrupted.'
        ) from None


def _write_data(stream, path):
    """Copy ``stream`` to ``path`` chunk by chunk (through a temporary
    file, renamed once whole); (size, md5 hex, sha512 hex). A body that
    cannot be read is a 400, a full store a 413, any other failure to
    write a 503; nothing is left behind."""
    md5 = hashlib.md5(usedforsecurity=False)
    multihash = hashlib.new(HASH_ALGO)
    size = 0
    tmp_path = path + '.part'
    try:
        try:
            with file_modes.open_private(tmp_path, 'wb',
                                         encoding=None) as out:
                while True:
                    chunk = _read(stream)
                    if not chunk:
                        break
                    out.write(chunk)
                    md5.update(chunk)
                    multihash.update(chunk)
                    size += len(chunk)
            os.replace(tmp_path, path)
        except OSError as e:
            if e.errno in (errno.ENOSPC, errno.EDQUOT):
                raise exception.ImageStoreFull() from None
            LOG.error('Cannot write image data to %s: %s', tmp_path, e)
            raise exception.ServiceUnavailable(
                reason='the image store cannot be written') from None
    except BaseException:
        try:
            os.remove(tmp_path)
        except FileNotFoundError:
            pass
        raise
    return size, md5.hexdigest(), multihash.hexdigest()


def upload(req, image_id):
    """PUT /image/v2/images/{id}/file (204): the image's data; 409 unless
    the image is queued."""
    image = get_visible(req, image_id)
    req.authorize(rules.IMAGES_UPLOAD, {'project_id': image['owner']})
    path = _data_path(req.conf, image['id'])
    if path is None or not catalog.image_update(image['id'], {'queued'},
                                                status='saving'):
        raise exception.Conflict(
            'Image %s is %s: only a queued image takes data.'
            % (image_id, image['status']))
    try:
        try:
            file_modes.make_dirs(req.conf.api.image_store_path)
        except OSError as e:
            LOG.error('Cannot create the image store %s: %s',
                      req.conf.api.image_store_path, e)
            raise exception.ServiceUnavailable(
                reason='the image store cannot be written') from None
        size, checksum, os_hash = _write_data(req.body_file, path)
    except BaseException:
        catalog.image_update(image['id'], {'saving'}, status='queued')
        raise
    properties = dict(image.get('properties') or {})
    properties.update(os_hash_algo=HASH_ALGO, os_hash_value=os_hash)
    if catalog.image_update(image['id'], {'saving'}, status='active',
                            size=size, checksum=checksum,
                            properties=properties) is None:
        # Deleted while its data arrived: the data goes too.
        _remove_data(req.conf, image['id'])
        raise exception.ImageNotFound(image_id=image_id)
    return api_request.empty_response(204)


def _chunks(path):
    with open(path, 'rb') as data:
        while True:
            chunk = data.read(CHUNK_SIZE)
            if not chunk:
                return
            yield chunk


def download(req, image_id):
    """GET /image/v2/images/{id}/file (200 with the data; 204 while the
    image has none)."""
    req.authorize(rules.IMAGES_DOWNLOAD)
    image = get_visible(req, image_id)
    path = _data_path(req.conf, image['id'])
    if image['status'] != 'active' or path is None \
            or not os.path.exists(path):
        return api_request.empty_response(204)
    response = webob.Response(status=200, app_iter=_chunks(path),
                              content_type='application/octet-stream')
    response.content_length = os.path.getsize(path)
    if image['checksum']:
        response.headers['Content-MD5'] = image['checksum']
    return response


#: The JSON patch media types (Glance's) and each one's schema.
PATCH_TYPES = {
    'application/openstack-images-v2.1-json-patch': schemas.patch_v2_1,
    'application/openstack-images-v2.0-json-patch': schemas.patch_v2_0,
}
#: Attributes a patch may change (others of :data:`RESERVED` are
#: read-only), and those only while the image is queued.
_PATCHABLE = frozenset(['name', 'visibility', 'min_ram', 'min_disk',
                        'protected', 'tags', 'container_format',
                        'disk_format'])
_QUEUED_ONLY = frozenset(['container_format', 'disk_format'])


def _operations(req):
    """[(op, attribute, value)] of the request's JSON patch."""
    schema = PATCH_TYPES.get(req.content_type)
    if schema is None:
        raise exception.UnsupportedMediaType(
            content_type=req.content_type or '(none)')
    body = req.json_body()
    validation.validate(body, schema)
    found = []
    for item in body:
        if 'op' in item:
            op, path = item['op'], item['path']
        else:
            ops = [o for o in schemas.PATCH_OPS if o in item]
            if len(ops) != 1:
                raise exception.ValidationError(
                    'Invalid input: each operation names exactly one of '
                    '%s.' % ', '.join(schemas.PATCH_OPS))
            op, path = ops[0], item[ops[0]]
        if op != 'remove' and 'value' not in item:
            raise exception.ValidationError(
                "Invalid input: operation '%s' needs a value." % op)
        name = path[1:].replace('~1', '/').replace('~0', '~')
        if not 0 < len(name) <= schemas.PROPERTY_NAME_MAX:
            raise exception.ValidationError(
                'Invalid input: a property name must have 1 to %d '
                'characters.' % schemas.PROPERTY_NAME_MAX)
        found.append((op, name, item.get('value')))
    return found


def _patched(image, operations):
    """The image's (attributes, properties) after ``operations``."""
    attributes = {k: image[k] for k in _PATCHABLE if k != 'tags'}
    properties = dict(image.get('properties') or {})
    attributes['tags'] = list(properties.pop('tags', None) or [])
    for op, name, value in operations:
        if name in RESERVED and name not in _PATCHABLE:
            raise exception.Forbidden("Attribute '%s' is read-only." % name)
        if name in _QUEUED_ONLY and image['status'] != 'queued':
            raise exception.Forbidden(
                "Attribute '%s' can be only replaced for a queued image."
                % name)
        if name in _PATCHABLE:
            if op == 'remove':
                raise exception.Forbidden(
                    "Attribute '%s' cannot be removed." % name)
            validation.validate({name: value}, schemas.create)
            attributes[name] = value
            continue
        if op != 'add' and name not in properties:
            raise exception.Conflict(
                'Property %s does not exist.' % name)
        if op == 'remove':
            del properties[name]
        else:
            validation.validate({name: value}, schemas.create)
            properties[name] = value
    tags = attributes.pop('tags')
    if tags:
        properties['tags'] = tags
    return attributes, properties


def update(req, image_id):
    """PATCH /image/v2/images/{id} (200, the image after the patch)."""
    image = get_visible(req, image_id)
    req.authorize(rules.IMAGES_MODIFY, {'project_id': image['owner']})
    attributes, properties = _patched(image, _operations(req))
    if attributes['visibility'] == 'public' != image['visibility']:
        req.authorize(rules.IMAGES_PUBLICIZE)
    changed = catalog.image_update(image['id'], {image['status']},
                                   properties=properties, **attributes)
    if changed is None:
        raise exception.Conflict(
            'Image %s changed while it was being patched: retry.'
            % image_id)
    return api_request.json_response(image_body(changed))


def register(router):
    router.add('GET', '/image', versions)
    router.add('GET', '/image/v2', versions)
    router.add('GET', '/image/v2/images', index)
    router.add('GET', '/image/v2/images/{image_id}', show)
    router.add('DELETE', '/image/v2/images/{image_id}', delete)
    router.add('GET', '/image/v2/images/{image_id}/tasks', tasks)
    router.add('POST', '/image/v2/images', create)
    router.add('PATCH', '/image/v2/images/{image_id}', update)
    router.add('PUT', '/image/v2/images/{image_id}/file', upload)
    router.add('GET', '/image/v2/images/{image_id}/file', download)
