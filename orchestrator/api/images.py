"""A Glance-v2-shaped image service under ``/image`` (list, show and
delete).

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
"""

from orchestrator import exception
from orchestrator.api import links
from orchestrator.api import query
from orchestrator.api import request as api_request
from orchestrator.api.views import timestamps
from orchestrator.db import catalog
from orchestrator.policies import catalog as rules

#: Fields of an image body; extra properties are added beside them.
_RESERVED = frozenset([
    'id', 'name', 'status', 'visibility', 'protected', 'checksum',
    'container_format', 'disk_format', 'size', 'virtual_size', 'min_disk',
    'min_ram', 'owner', 'created_at', 'updated_at', 'tags', 'self', 'file',
    'schema', 'os_hidden', 'os_hash_algo', 'os_hash_value', 'locations',
    'direct_url'])


def image_body(image):
    """One image as Glance v2 shows it."""
    body = {
        'id': image['id'],
        'name': image['name'],
        'status': image['status'],
        'visibility': image['visibility'],
        'protected': bool(image['protected']),
        'os_hidden': False,
        'checksum': image['checksum'],
        'os_hash_algo': None,
        'os_hash_value': None,
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
        'tags': [],
        'self': '/v2/images/%s' % image['id'],
        'file': '/v2/images/%s/file' % image['id'],
        'schema': '/v2/schemas/image',
    }
    for key, value in (image.get('properties') or {}).items():
        if key not in _RESERVED:
            body[key] = value
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
_NOT_PROPERTIES = _RESERVED | frozenset([
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
    return api_request.empty_response(204)


def delete(req, image_id):
    """DELETE /image/v2/images/{id} (204; see :func:`delete_visible`)."""
    return delete_visible(req, image_id)


def register(router):
    router.add('GET', '/image', versions)
    router.add('GET', '/image/v2', versions)
    router.add('GET', '/image/v2/images', index)
    router.add('GET', '/image/v2/images/{image_id}', show)
    router.add('DELETE', '/image/v2/images/{image_id}', delete)
    router.add('GET', '/image/v2/images/{image_id}/tasks', tasks)
