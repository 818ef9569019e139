"""``/v2.1/servers/{id}/metadata``: a server's metadata, as Nova.

* ``GET /metadata``: ``{"metadata": {...}}``;
* ``POST /metadata`` ``{"metadata": {...}}``: the items given are added
  or changed, the others stay; the answer is all of them (200);
* ``PUT /metadata`` ``{"metadata": {...}}``: the metadata becomes what
  is given (200, echoed);
* ``GET /metadata/{key}``: ``{"meta": {key: value}}`` (404 without it);
* ``PUT /metadata/{key}`` ``{"meta": {key: value}}``: one item, whose
  key is the one of the URL (400 otherwise) (200, echoed);
* ``DELETE /metadata/{key}``: 204 (404 without it).

Keys are 1 to 255 of ``[a-zA-Z0-9-_:. ]``, values strings of at most
255 characters (400). A change is one transaction under the project's
quota lock (:func:`orchestrator.db.instances.update_metadata`): the
total of items is checked against ``[quota] metadata_items`` and the
project's override (403 above it), and concurrent changes never lose
each other's items. As in Nova, a change is refused (409) unless the
server is active, paused, suspended or stopped with no task running,
and, for others than administrators, while the server is locked.
"""

from orchestrator import exception
from orchestrator import quota
from orchestrator import states
from orchestrator.api import request as api_request
from orchestrator.api import servers
from orchestrator.api import validation
from orchestrator.api.schemas import server_attributes as schemas
from orchestrator.db import instances as db_instances
from orchestrator.policies import server_attributes as rules

#: vm_states in which metadata may change (Nova's).
CHANGEABLE_VM_STATES = frozenset([states.ACTIVE, states.PAUSED,
                                  states.SUSPENDED, states.STOPPED])


class MetadataItemNotFound(exception.NotFound):
    msg_fmt = 'Metadata item was not found'


def _change(req, server_id, rule, change):
    """Apply ``change(current) -> new`` to the server's metadata once the
    caller may (``rule``, 403; lock, 409). Returns the new metadata."""
    instance = servers.get_instance(req, server_id, rule=rule)
    servers.check_unlocked(req, instance)
    return db_instances.update_metadata(
        server_id, change,
        quota=quota.for_project(req.conf, instance['project_id']),
        project_id=req.owner_project(), vm_states=CHANGEABLE_VM_STATES)


def index(req, server_id):
    """GET /servers/{id}/metadata (200)."""
    instance = servers.get_instance(req, server_id, rule=rules.METADATA_INDEX)
    return api_request.json_response({'metadata': instance['metadata']})


def create(req, server_id):
    """POST /servers/{id}/metadata: merge (200, all the items)."""
    body = req.json_body()
    validation.validate(body, schemas.METADATA_BODY)
    metadata = _change(req, server_id, rules.METADATA_CREATE,
                       lambda current: dict(current, **body['metadata']))
    return api_request.json_response({'metadata': metadata})


def update_all(req, server_id):
    """PUT /servers/{id}/metadata: replace (200)."""
    body = req.json_body()
    validation.validate(body, schemas.METADATA_BODY)
    metadata = _change(req, server_id, rules.METADATA_UPDATE_ALL,
                       lambda _current: dict(body['metadata']))
    return api_request.json_response({'metadata': metadata})


def show(req, server_id, key):
    """GET /servers/{id}/metadata/{key} (200, 404)."""
    instance = servers.get_instance(req, server_id, rule=rules.METADATA_SHOW)
    if key not in instance['metadata']:
        raise MetadataItemNotFound()
    return api_request.json_response(
        {'meta': {key: instance['metadata'][key]}})


def update(req, server_id, key):
    """PUT /servers/{id}/metadata/{key}: one item (200)."""
    body = req.json_body()
    validation.validate(body, schemas.META_ITEM_BODY)
    if key not in body['meta']:
        raise exception.Invalid('Request body and URI mismatch')
    _change(req, server_id, rules.METADATA_UPDATE,
            lambda current: dict(current, **body['meta']))
    return api_request.json_response({'meta': body['meta']})


def delete(req, server_id, key):
    """DELETE /servers/{id}/metadata/{key} (204, 404)."""

    def remove(current):
        if key not in current:
            raise MetadataItemNotFound()
        del current[key]
        return current

    _change(req, server_id, rules.METADATA_DELETE, remove)
    return api_request.empty_response(204)


def add_routes(router, path, index, create, update_all, show, update,
               delete):
    """Nova's six metadata routes at ``path`` (``.../metadata``)."""
    router.add('GET', path, index)
    router.add('POST', path, create)
    router.add('PUT', path, update_all)
    router.add('GET', path + '/{key}', show)
    router.add('PUT', path + '/{key}', update)
    router.add('DELETE', path + '/{key}', delete)


def register(router):
    add_routes(router, '/v2.1/servers/{server_id}/metadata', index, create,
               update_all, show, update, delete)
