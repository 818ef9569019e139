"""The Compute API's image proxy: ``/v2.1/images`` (list), ``/detail``,
``/{id}`` (show, delete), the images of the catalog as Nova shows them
(the same images ``/image/v2/images`` serves Glance's way).

Nova deprecated these proxies in microversion 2.36: from 2.36 every one
of them is a 404 and clients go to the image service. Visibility is the
image service's: a private image (a snapshot) is found by its owner
project and administrators only (404 to others, never 403). Deleting
needs policy ``image:delete_image`` on the image's owner project; a
public image has no owner and only an administrator deletes it.
"""

from orchestrator import exception
from orchestrator.api import images
from orchestrator.api import links
from orchestrator.api import query
from orchestrator.api import request as api_request
from orchestrator.api.views import timestamps
from orchestrator.db import catalog
from orchestrator.policies import catalog as rules

#: The image service's status -> Nova's (Nova's image view mapping);
#: anything else is UNKNOWN.
STATUSES = {'active': 'ACTIVE', 'queued': 'SAVING', 'saving': 'SAVING',
            'deleted': 'DELETED', 'pending_delete': 'DELETED',
            'killed': 'ERROR'}
#: Nova's progress per image service status (0 otherwise).
PROGRESS = {'queued': 25, 'saving': 50, 'active': 100}
#: Nova's filters by status name -> the image service's statuses.
_STATUS_FILTER = {}
for _glance, _nova in STATUSES.items():
    _STATUS_FILTER.setdefault(_nova, []).append(_glance)


def _gate(req):
    """404 from microversion 2.36, where Nova removed the proxies."""
    if req.at_least(2, 36):
        raise exception.NotFound('The resource could not be found.')


def _links(req, image_id):
    return links.resource_links(req, 'images', image_id) + [{
        'rel': 'alternate', 'type': 'application/vnd.openstack.image',
        'href': '%s/image/v2/images/%s' % (links.base_url(req), image_id)}]


def _summary(req, image):
    return {'id': image['id'], 'name': image['name'],
            'links': _links(req, image['id'])}


def _detail(req, image):
    properties = images.user_properties(image)
    body = {
        'id': image['id'],
        'name': image['name'],
        'status': STATUSES.get(image['status'], 'UNKNOWN'),
        'progress': PROGRESS.get(image['status'], 0),
        'minRam': image['min_ram'] or 0,
        'minDisk': image['min_disk'] or 0,
        'metadata': properties,
        'created': timestamps.zulu(image['created_at']),
        'updated': timestamps.zulu(image['updated_at']
                                   or image['created_at']),
        'OS-EXT-IMG-SIZE:size': image['size'],
        'links': _links(req, image['id']),
    }
    server = properties.get('instance_uuid')
    if server:
        body['server'] = {'id': server,
                          'links': links.resource_links(req, 'servers',
                                                        server)}
    return body


def _filtered(req):
    """The visible images of the query's filters, paged (limit, marker)
    as Nova pages them."""
    req.authorize(rules.IMAGES_LIST)
    limit = query.limit(req)
    marker = query.one(req, 'marker')
    status = query.one(req, 'status')
    try:
        found = catalog.image_list(name=query.one(req, 'name'),
                                   marker=marker,
                                   visible_to=images.visible_to(req))
    except exception.ImageNotFound:
        raise exception.Invalid('marker [%s] not found' % marker) from None
    if status is not None:
        wanted = _STATUS_FILTER.get(status.upper(), [status.lower()])
        found = [i for i in found if i['status'] in wanted]
    server = query.one(req, 'server')
    if server is not None:
        # Nova matches the server's id at the end of its reference.
        found = [i for i in found if server.rstrip('/').rsplit('/', 1)[-1]
                 == (i.get('properties') or {}).get('instance_uuid')]
    kind = query.one(req, 'type')
    if kind is not None:
        found = [i for i in found
                 if (i.get('properties') or {}).get('image_type') == kind]
    for name, key in (('minRam', 'min_ram'), ('minDisk', 'min_disk')):
        least = query.non_negative_int(req, name)
        if least is not None:
            found = [i for i in found if (i[key] or 0) >= least]
    return found[:limit], limit


def _listing(req, path, view):
    """The images of the query as ``view`` shows each, with Nova's
    ``images_links`` when the page is full."""
    _gate(req)
    found, limit = _filtered(req)
    body = {'images': [view(req, i) for i in found]}
    next_links = query.next_link(req, links.compute_url(req, path), found,
                                 limit)
    if next_links:
        body['images_links'] = next_links
    return api_request.json_response(body)


def index(req):
    """GET /v2.1/images (200): ids, names and links."""
    return _listing(req, 'images', _summary)


def detail(req):
    """GET /v2.1/images/detail (200)."""
    return _listing(req, 'images/detail', _detail)


def show(req, image_id):
    """GET /v2.1/images/{id} (200, 404)."""
    _gate(req)
    req.authorize(rules.IMAGES_SHOW)
    return api_request.json_response(
        {'image': _detail(req, images.get_visible(req, image_id))})


def delete(req, image_id):
    """DELETE /v2.1/images/{id}: as the image service's
    (:func:`orchestrator.api.images.delete_visible`)."""
    _gate(req)
    return images.delete_visible(req, image_id)


def register(router):
    router.add('GET', '/v2.1/images', index)
    router.add('GET', '/v2.1/images/detail', detail)
    router.add('GET', '/v2.1/images/{image_id}', show)
    router.add('DELETE', '/v2.1/images/{image_id}', delete)
