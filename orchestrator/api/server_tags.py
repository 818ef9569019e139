"""``/v2.1/servers/{server_id}/tags`` (2.26+, 404 before), as Nova's.

* ``GET .../tags``: ``{"tags": [...]}``; ``PUT .../tags`` ``{"tags":
  [...]}`` replaces them all (200, the tags); ``DELETE .../tags`` (204);
* ``GET .../tags/{tag}``: 204 if the server has it, else 404;
  ``PUT .../tags/{tag}``: 201 with its Location, 204 if the server had
  it already; ``DELETE .../tags/{tag}``: 204, 404 if it had none.

A tag is 1 to 60 characters without '/' or ','; a server has at most 50
(400 past it). Changing tags needs a server that is not building, in
error or being deleted (409, Nova's list of states).
"""

import urllib.parse

import jsonschema

from orchestrator import exception
from orchestrator import states
from orchestrator.api import links
from orchestrator.api import request as api_request
from orchestrator.api import servers
from orchestrator.api import validation
from orchestrator.api.schemas import server_tags as schemas
from orchestrator.db import tags as db_tags
from orchestrator.policies import server_tags as rules

#: The vm_states in which a server's tags may change (Nova's).
CHANGEABLE = frozenset([states.ACTIVE, states.PAUSED, states.RESCUED,
                        states.RESIZED, states.STOPPED, states.SUSPENDED])


def _instance(req, server_id, rule):
    if not req.at_least(2, 26):
        raise exception.NotFound('The resource could not be found.')
    return servers.get_instance(req, server_id, rule=rule)


def _changeable(req, server_id, rule):
    instance = _instance(req, server_id, rule)
    if instance['vm_state'] not in CHANGEABLE:
        raise exception.Conflict(
            'Cannot change the tags of instance %s while it is in vm_state '
            '%s' % (server_id, instance['vm_state']))
    return instance


def _check_tag(tag):
    try:
        jsonschema.validate(tag, schemas.TAG)
    except jsonschema.ValidationError as e:
        raise exception.Invalid(
            "Tag '%s' is invalid. It must be a non empty string without "
            "characters '/' and ','. Validation error message: %s"
            % (tag, e.message)) from None


def index(req, server_id):
    """GET /servers/{id}/tags (200)."""
    instance = _instance(req, server_id, rules.INDEX)
    return api_request.json_response(
        {'tags': db_tags.get_all(instance['uuid'])})


def update_all(req, server_id):
    """PUT /servers/{id}/tags (200)."""
    instance = _changeable(req, server_id, rules.UPDATE_ALL)
    body = req.json_body()
    validation.validate(body, schemas.update_all)
    return api_request.json_response(
        {'tags': db_tags.replace_all(instance['uuid'], body['tags'])})


def delete_all(req, server_id):
    """DELETE /servers/{id}/tags (204)."""
    instance = _changeable(req, server_id, rules.DELETE_ALL)
    db_tags.delete_all(instance['uuid'])
    return api_request.empty_response(204)


def show(req, server_id, tag):
    """GET /servers/{id}/tags/{tag} (204, 404)."""
    instance = _instance(req, server_id, rules.SHOW)
    if tag not in db_tags.get_all(instance['uuid']):
        raise db_tags.TagNotFound(instance_id=server_id, tag=tag)
    return api_request.empty_response(204)


def update(req, server_id, tag):
    """PUT /servers/{id}/tags/{tag} (201 with Location, or 204)."""
    instance = _changeable(req, server_id, rules.UPDATE)
    _check_tag(tag)
    if not db_tags.add(instance['uuid'], tag):
        return api_request.empty_response(204)
    response = api_request.empty_response(201)
    response.headers['Location'] = links.compute_url(
        req, 'servers', instance['uuid'], 'tags',
        urllib.parse.quote(tag, safe=''))
    return response


def delete(req, server_id, tag):
    """DELETE /servers/{id}/tags/{tag} (204, 404)."""
    instance = _changeable(req, server_id, rules.DELETE)
    db_tags.delete(instance['uuid'], tag)
    return api_request.empty_response(204)


def register(router):
    base = '/v2.1/servers/{server_id}/tags'
    router.add('GET', base, index)
    router.add('PUT', base, update_all)
    router.add('DELETE', base, delete_all)
    router.add('GET', base + '/{tag}', show)
    router.add('PUT', base + '/{tag}', update)
    router.add('DELETE', base + '/{tag}', delete)
