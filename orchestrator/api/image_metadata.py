"""``/v2.1/images/{id}/metadata``: the Compute API's proxy to an image's
extra properties, as Nova (before microversion 2.39, where Nova removed
it: a 404 from 2.39 on).

* ``GET /metadata``: ``{"metadata": {...}}``;
* ``POST /metadata`` ``{"metadata": {...}}``: the items given are added
  or changed, the others stay; the answer is all of them (200);
* ``PUT /metadata`` ``{"metadata": {...}}``: the metadata becomes what
  is given (200);
* ``GET /metadata/{key}``: ``{"meta": {key: value}}`` (404 without it);
* ``PUT /metadata/{key}`` ``{"meta": {key: value}}``: one item, whose
  key is the one of the URL (400 otherwise) (200);
* ``DELETE /metadata/{key}``: 204 (404 without it).

Keys and values as a server's metadata (400). An image the caller may
not see is a 404; changing one needs ``image:modify_image`` on its owner
project (a public image: administrators). A key naming one of the image
service's own attributes (``name``, ``size``...) is a 403, as the image
service refuses it. The total of items is checked against the owner
project's ``metadata_items`` quota (403 above it), in one transaction
under the project's quota lock.
"""

from orchestrator import exception
from orchestrator import quota
from orchestrator.api import images
from orchestrator.api import request as api_request
from orchestrator.api import server_metadata
from orchestrator.api import validation
from orchestrator.api.schemas import server_attributes as schemas
from orchestrator.db import catalog
from orchestrator.policies import catalog as rules


class ImageMetadataItemNotFound(exception.NotFound):
    msg_fmt = 'Invalid metadata key'


def _gate(req):
    """404 from microversion 2.39, where Nova removed the proxy."""
    if req.at_least(2, 39):
        raise exception.NotFound('The resource could not be found.')


def _visible(req, image_id):
    _gate(req)
    req.authorize(rules.IMAGES_SHOW)
    return images.get_visible(req, image_id)


def _change(req, image_id, change):
    """Apply ``change(user properties) -> new`` once the caller may;
    returns the new user properties."""
    image = _visible(req, image_id)
    req.authorize(rules.IMAGES_MODIFY, {'project_id': image['owner']})

    def whole(properties):
        new = change(images.user_properties({'properties': properties}))
        for key in sorted(new):
            if key in images.RESERVED:
                raise exception.Forbidden(
                    "Attribute '%s' is an image attribute, not a metadata "
                    "item: it cannot be set here." % key)
        kept = {k: v for k, v in properties.items()
                if k in images.RESERVED}
        return dict(kept, **new)

    owner_quota = (quota.for_project(req.conf, image['owner'])
                   if image['owner'] else None)
    found = catalog.image_update_properties(
        image['id'], whole,
        counted=lambda p: len(images.user_properties({'properties': p})),
        quota=owner_quota, visible_to=images.visible_to(req))
    return images.user_properties({'properties': found})


def index(req, image_id):
    """GET /images/{id}/metadata (200)."""
    image = _visible(req, image_id)
    return api_request.json_response(
        {'metadata': images.user_properties(image)})


def create(req, image_id):
    """POST /images/{id}/metadata: merge (200, all the items)."""
    _gate(req)
    body = req.json_body()
    validation.validate(body, schemas.METADATA_BODY)
    metadata = _change(req, image_id,
                       lambda current: dict(current, **body['metadata']))
    return api_request.json_response({'metadata': metadata})


def update_all(req, image_id):
    """PUT /images/{id}/metadata: replace (200)."""
    _gate(req)
    body = req.json_body()
    validation.validate(body, schemas.METADATA_BODY)
    metadata = _change(req, image_id,
                       lambda _current: dict(body['metadata']))
    return api_request.json_response({'metadata': metadata})


def show(req, image_id, key):
    """GET /images/{id}/metadata/{key} (200, 404)."""
    metadata = images.user_properties(_visible(req, image_id))
    if key not in metadata:
        raise ImageMetadataItemNotFound()
    return api_request.json_response({'meta': {key: metadata[key]}})


def update(req, image_id, key):
    """PUT /images/{id}/metadata/{key}: one item (200)."""
    _gate(req)
    body = req.json_body()
    validation.validate(body, schemas.META_ITEM_BODY)
    if key not in body['meta']:
        raise exception.Invalid('Request body and URI mismatch')
    _change(req, image_id, lambda current: dict(current, **body['meta']))
    return api_request.json_response({'meta': body['meta']})


def delete(req, image_id, key):
    """DELETE /images/{id}/metadata/{key} (204, 404)."""
    _gate(req)

    def remove(current):
        if key not in current:
            raise ImageMetadataItemNotFound()
        del current[key]
        return current

    _change(req, image_id, remove)
    return api_request.empty_response(204)


def register(router):
    server_metadata.add_routes(router, '/v2.1/images/{image_id}/metadata',
                               index, create, update_all, show, update,
                               delete)
