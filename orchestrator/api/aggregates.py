"""``/v2.1/os-aggregates``: host aggregates, as Nova's (administrators).

* ``GET /os-aggregates``: ``{"aggregates": [aggregate]}``;
* ``POST /os-aggregates`` ``{"aggregate": {"name", "availability_zone"?}}``
  (200; 409 when the name is taken): the new aggregate, without
  ``hosts`` and ``metadata`` (as Nova);
* ``GET /os-aggregates/{id}``, ``PUT`` ``{"aggregate": {"name"?,
  "availability_zone"?}}`` (400 when a host of the aggregate is in
  another aggregate of another zone, or runs servers and the zone
  changes), ``DELETE`` (200; 400 while it has hosts);
* ``POST /os-aggregates/{id}/action``: ``add_host`` ``{"host"}`` (404
  unknown host; 409 already a member, or in another aggregate of another
  zone), ``remove_host`` ``{"host"}`` (404 unknown host or not a member,
  as Nova), ``set_metadata`` ``{"metadata": {key: value or null}}`` (null
  deletes a key; ``availability_zone`` rezones the hosts as ``PUT``).

An aggregate: ``id`` (an integer), ``name``, ``availability_zone`` (null
without one), ``hosts``, ``metadata``, ``created_at``, ``updated_at``,
``deleted`` (false), ``deleted_at`` (null), and from 2.41 ``uuid``.

Zones: an aggregate's zone is the zone of its hosts everywhere
(``os-availability-zone``, servers' ``OS-EXT-AZ:availability_zone``,
booting into a zone); see :mod:`orchestrator.db.aggregates`.
"""

from orchestrator import exception
from orchestrator.api import availability_zones
from orchestrator.api import request as api_request
from orchestrator.api import validation
from orchestrator.api.schemas import aggregates as schemas
from orchestrator.api.views import timestamps
from orchestrator.db import aggregates as db_aggregates
from orchestrator.policies import infrastructure as rules

_MAX_ID = 2 ** 31 - 1


def _view(req, aggregate, full=True):
    body = {
        'id': aggregate['id'], 'name': aggregate['name'],
        'availability_zone': aggregate['availability_zone'],
        'created_at': timestamps.iso(aggregate['created_at']),
        'updated_at': timestamps.iso(aggregate['updated_at']),
        'deleted': False, 'deleted_at': None,
    }
    if full:
        body['hosts'] = list(aggregate['hosts'])
        body['metadata'] = dict(aggregate['metadata'])
    if req.at_least(2, 41):
        body['uuid'] = aggregate['uuid']
    return body


def _respond(req, aggregate):
    return api_request.json_response({'aggregate': _view(req, aggregate)})


def _id(aggregate_id):
    """The integer id of the path: 400 when it is no integer, 404 when
    no aggregate can have it (a negative one, as Nova)."""
    text = aggregate_id.strip()
    digits = text[1:] if text.startswith('-') else text
    if not digits.isdigit() or not digits.isascii():
        raise exception.Invalid('Invalid aggregate id: an integer is '
                                'expected.')
    if not 0 < int(text) <= _MAX_ID:
        raise db_aggregates.AggregateNotFound(aggregate_id=text)
    return int(text)


def _check_zone(zone):
    if zone == availability_zones.INTERNAL_ZONE:
        raise exception.Invalid(
            'Availability zone %s is the zone of internal services and '
            'cannot be an aggregate\'s.' % zone)


def index(req):
    """GET /os-aggregates (200)."""
    req.authorize(rules.AGGREGATES_INDEX)
    return api_request.json_response({'aggregates': [
        _view(req, a) for a in db_aggregates.list_()]})


def create(req):
    """POST /os-aggregates (200, 400, 409)."""
    req.authorize(rules.AGGREGATES_CREATE)
    body = req.json_body()
    validation.validate(body, schemas.CREATE)
    asked = body['aggregate']
    zone = asked.get('availability_zone')
    _check_zone(zone)
    aggregate = db_aggregates.create(asked['name'], zone)
    return api_request.json_response(
        {'aggregate': _view(req, aggregate, full=False)})


def show(req, aggregate_id):
    """GET /os-aggregates/{id} (200, 400, 404)."""
    req.authorize(rules.AGGREGATES_SHOW)
    return _respond(req, db_aggregates.get(_id(aggregate_id)))


def update(req, aggregate_id):
    """PUT /os-aggregates/{id} (200, 400, 404, 409)."""
    req.authorize(rules.AGGREGATES_UPDATE)
    body = req.json_body()
    validation.validate(body, schemas.UPDATE)
    changes = body['aggregate']
    _check_zone(changes.get('availability_zone'))
    return _respond(req, db_aggregates.update(_id(aggregate_id), changes))


def delete(req, aggregate_id):
    """DELETE /os-aggregates/{id} (200, 400, 404)."""
    req.authorize(rules.AGGREGATES_DELETE)
    db_aggregates.delete(_id(aggregate_id))
    return api_request.empty_response(200)


def _add_host(req, aggregate_id, body):
    req.authorize(rules.AGGREGATES_ADD_HOST)
    validation.validate(body, schemas.ADD_HOST)
    return _respond(req, db_aggregates.add_host(
        _id(aggregate_id), body['add_host']['host']))


def _remove_host(req, aggregate_id, body):
    req.authorize(rules.AGGREGATES_REMOVE_HOST)
    validation.validate(body, schemas.REMOVE_HOST)
    return _respond(req, db_aggregates.remove_host(
        _id(aggregate_id), body['remove_host']['host']))


def _set_metadata(req, aggregate_id, body):
    req.authorize(rules.AGGREGATES_SET_METADATA)
    validation.validate(body, schemas.SET_METADATA)
    metadata = body['set_metadata']['metadata']
    _check_zone(metadata.get(db_aggregates.AZ_KEY))
    return _respond(req, db_aggregates.set_metadata(_id(aggregate_id),
                                                    metadata))


#: Body key of ``POST /os-aggregates/{id}/action`` -> its handler.
ACTIONS = {'add_host': _add_host, 'remove_host': _remove_host,
           'set_metadata': _set_metadata}


def action(req, aggregate_id):
    """POST /os-aggregates/{id}/action (add_host, remove_host,
    set_metadata)."""
    return api_request.dispatch_action(req, ACTIONS, aggregate_id)


def register(router):
    router.add('GET', '/v2.1/os-aggregates', index)
    router.add('POST', '/v2.1/os-aggregates', create)
    router.add('GET', '/v2.1/os-aggregates/{aggregate_id}', show)
    router.add('PUT', '/v2.1/os-aggregates/{aggregate_id}', update)
    router.add('DELETE', '/v2.1/os-aggregates/{aggregate_id}', delete)
    router.add('POST', '/v2.1/os-aggregates/{aggregate_id}/action', action)
