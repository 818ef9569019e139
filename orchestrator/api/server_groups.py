"""``/v2.1/os-server-groups``: server groups, as Nova's.

* ``POST /os-server-groups``: ``{"server_group": {"name", "policies":
  [policy]}}`` (before 2.64; ``soft-affinity`` and ``soft-anti-affinity``
  from 2.15) or ``{"name", "policy", "rules"?}`` (2.64+;
  ``{"max_server_per_host": n}`` for ``anti-affinity`` only); 200 with the
  group; 403 past the project's ``server_groups`` quota;
* ``GET /os-server-groups``: the project's groups (``all_projects``:
  every project's, for administrators), ``limit``/``offset`` paging;
* ``GET /os-server-groups/{id}``, ``DELETE`` (204; a group with members
  may be deleted, as Nova): another project's group is a 404, except to
  administrators.

A group's body: ``id``, ``name``, ``members`` (uuids of its live
servers); before 2.64 ``policies`` ([policy]) and ``metadata`` ({});
from 2.64 ``policy`` and ``rules``; from 2.13 ``project_id`` and
``user_id``.

Booting into a group (``os:scheduler_hints: {"group": id}``) is
:func:`requested_group`; the scheduler's side is
:mod:`orchestrator.scheduler.group_policy`.
"""

from orchestrator import exception
from orchestrator import quota
from orchestrator.api import query
from orchestrator.api import request as api_request
from orchestrator.api import validation
from orchestrator.api.schemas import server_groups as schemas
from orchestrator.db import server_groups as db_groups
from orchestrator.policies import server_groups as rules


def _view(req, group):
    body = {'id': group['uuid'], 'name': group['name'],
            'members': list(group['members'])}
    if req.at_least(2, 64):
        body['policy'] = group['policy']
        body['rules'] = dict(group['rules'])
    else:
        body['policies'] = [group['policy']]
        body['metadata'] = {}
    if req.at_least(2, 13):
        body['project_id'] = group['project_id']
        body['user_id'] = group['user_id']
    return body


def _rules(asked):
    """The rules of a 2.64 create, checked as Nova does."""
    given = asked.get('rules') or {}
    if given and asked['policy'] != db_groups.ANTI_AFFINITY:
        raise exception.Invalid('Only anti-affinity policy supports rules.')
    out = {}
    if 'max_server_per_host' in given:
        value = int(given['max_server_per_host'])
        if value < 1:
            raise exception.Invalid('max_server_per_host must be a '
                                    'positive integer, got %d' % value)
        out['max_server_per_host'] = value
    return out


def create(req):
    """POST /os-server-groups (200, 400, 403)."""
    req.authorize(rules.CREATE)
    body = req.json_body()
    validation.validate(body, schemas.create(req.api_version))
    asked = body['server_group']
    if req.at_least(2, 64):
        policy, group_rules = asked['policy'], _rules(asked)
    else:
        policy, group_rules = asked['policies'][0], {}
    ctxt = req.context
    group = db_groups.create(
        ctxt.project_id, ctxt.user_id, asked['name'], policy, group_rules,
        quota.for_project(req.conf, ctxt.project_id))
    return api_request.json_response({'server_group': _view(req, group)})


def index(req):
    """GET /os-server-groups (200)."""
    req.authorize(rules.INDEX)
    project_id = req.context.project_id
    if (query.boolean(req, 'all_projects', default=False)
            and req.can(rules.INDEX_ALL_PROJECTS)):
        project_id = None
    groups = db_groups.list_(project_id, limit=query.limit(req),
                             offset=query.non_negative_int(req, 'offset'))
    return api_request.json_response(
        {'server_groups': [_view(req, g) for g in groups]})


def _get(req, server_group_id):
    return db_groups.get(server_group_id, project_id=req.owner_project())


def show(req, server_group_id):
    """GET /os-server-groups/{id} (200, 404)."""
    group = _get(req, server_group_id)
    req.authorize(rules.SHOW, {'project_id': group['project_id']})
    return api_request.json_response({'server_group': _view(req, group)})


def delete(req, server_group_id):
    """DELETE /os-server-groups/{id} (204, 404)."""
    group = _get(req, server_group_id)
    req.authorize(rules.DELETE, {'project_id': group['project_id']})
    db_groups.delete(group['uuid'])
    return api_request.empty_response(204)


def requested_group(req, body):
    """The uuid of the group a ``POST /servers`` body asks to join
    (``os:scheduler_hints`` or ``OS-SCH-HNT:scheduler_hints``, key
    ``group``), or None; 400 when it names no group of the caller's
    project (another project's group does not exist for the caller)."""
    hints = body.get('os:scheduler_hints')
    if hints is None:
        hints = body.get('OS-SCH-HNT:scheduler_hints') or {}
    group_uuid = hints.get('group')
    if group_uuid is None:
        return None
    if isinstance(group_uuid, list) and len(group_uuid) == 1:
        group_uuid = group_uuid[0]
    if not isinstance(group_uuid, str):
        raise exception.Invalid('Invalid scheduler hint group: a server '
                                'group id is expected.')
    try:
        db_groups.get(group_uuid, project_id=req.context.project_id)
    except db_groups.ServerGroupNotFound:
        raise exception.Invalid('Invalid server group: Server group %s '
                                'could not be found.' % group_uuid) \
            from None
    return group_uuid


def register(router):
    router.add('GET', '/v2.1/os-server-groups', index)
    router.add('POST', '/v2.1/os-server-groups', create)
    router.add('GET', '/v2.1/os-server-groups/{server_group_id}', show)
    router.add('DELETE', '/v2.1/os-server-groups/{server_group_id}', delete)
