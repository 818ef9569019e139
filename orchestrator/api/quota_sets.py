"""``/v2.1/os-quota-sets/{project_id}``: a project's quotas, as Nova's.

* ``GET`` (a reader of the project, or an administrator): the limits,
  ``{"quota_set": {"id": ..., "instances": 10, ...}}``;
* ``GET .../detail``: each as ``{"limit", "in_use", "reserved"}``
  (reserved is always 0: claims are counted in one transaction, nothing
  is reserved);
* ``GET .../defaults`` (any reader): the configured defaults;
* ``PUT`` (administrators): ``{"quota_set": {"instances": 20, ...,
  "force"?}}``, each limit from -1 (unlimited) to 2**31 - 1, validated
  with Nova's schema (400 on bad input); a limit below what the project
  uses is a 400 unless ``force``; answers the limits without ``id``;
* ``DELETE`` (administrators): back to the defaults, 202 without body.

The resources shown follow the microversion as Nova's do: nova-network's
(fixed_ips, floating_ips, security_groups, security_group_rules) until
2.35, file injection's until 2.56. Per-user quotas do not exist here:
setting or deleting them (``PUT``/``DELETE`` with ``?user_id=``) is a
400; a ``GET`` with ``?user_id=`` shows the limits that apply to that
user, which are its project's (as Nova shows a user without limits of
its own). The project id is not checked against an identity
service: a project nobody knows has the defaults.
"""

from oslo_utils import strutils

from orchestrator import exception
from orchestrator import quota
from orchestrator.api import query
from orchestrator.api import request as api_request
from orchestrator.api import validation
from orchestrator.api.schemas import quota_sets as schemas
from orchestrator.db import quotas as db_quotas
from orchestrator.db import server_groups as db_groups
from orchestrator.policies import quotas as rules

#: (first microversion without them, resources Nova stopped showing).
_REMOVED = (
    ((2, 36), frozenset(['fixed_ips', 'floating_ips', 'security_groups',
                         'security_group_rules'])),
    ((2, 57), frozenset(['injected_files', 'injected_file_content_bytes',
                         'injected_file_path_bytes'])),
)

#: The longest project id stored (the column's length).
MAX_PROJECT_ID = 255


def shown(version):
    """The quota resources microversion ``version`` shows, Nova's
    order."""
    removed = set()
    for since, names in _REMOVED:
        if version >= since:
            removed |= names
    return [r for r in quota.DEFAULT_OPTIONS if r not in removed]


def _no_user(req):
    if query.one(req, 'user_id') is not None:
        raise exception.Invalid('Per-user quotas are not supported: '
                                'quotas are set per project only.')


def _body(req, project_id, values):
    body = {r: values[r] for r in shown(req.api_version)}
    if project_id is not None:
        body['id'] = project_id
    return api_request.json_response({'quota_set': body})


def show(req, project_id):
    """GET /os-quota-sets/{project_id}."""
    req.authorize(rules.SHOW, {'project_id': project_id})
    return _body(req, project_id,
                 quota.for_project(req.conf, project_id).limits())


def detail(req, project_id):
    """GET /os-quota-sets/{project_id}/detail."""
    req.authorize(rules.DETAIL, {'project_id': project_id})
    limits = quota.for_project(req.conf, project_id).limits()
    used = dict(db_quotas.usage(project_id),
                server_groups=db_groups.count(project_id))
    return _body(req, project_id, {
        r: {'limit': limits[r], 'in_use': used.get(r, 0), 'reserved': 0}
        for r in limits})


def defaults(req, project_id):
    """GET /os-quota-sets/{project_id}/defaults."""
    req.authorize(rules.DEFAULTS)
    return _body(req, project_id, quota.defaults(req.conf))


def _limits_asked(quota_set):
    """{resource: int} of a validated PUT body (400 outside -1 .. max:
    the schema's bounds apply to numbers only, not to strings)."""
    values = {}
    for resource, value in quota_set.items():
        if resource == 'force':
            continue
        number = int(value)
        if not db_quotas.UNLIMITED <= number <= schemas.MAX_LIMIT:
            raise exception.Invalid(
                'Quota limit %s for %s must be between -1 and %d.'
                % (value, resource, schemas.MAX_LIMIT))
        values[resource] = number
    return values


def update(req, project_id):
    """PUT /os-quota-sets/{project_id} (200, the limits)."""
    req.authorize(rules.UPDATE, {'project_id': project_id})
    _no_user(req)
    body = req.json_body()
    resources = shown(req.api_version)
    settable = resources if req.at_least(2, 36) else resources + [
        'networks']
    validation.validate(body, schemas.update(settable))
    quota_set = body['quota_set']
    if 'networks' in quota_set:
        raise exception.Invalid('The networks quota has been removed')
    if len(project_id) > MAX_PROJECT_ID:
        raise exception.Invalid('Project id %s... is longer than %d '
                                'characters.' % (project_id[:32],
                                                 MAX_PROJECT_ID))
    force = strutils.bool_from_string(quota_set.get('force', False))
    values = _limits_asked(quota_set)

    def at_least_used(used):
        for resource, limit in sorted(values.items()):
            minimum = used.get(resource, 0)
            if limit != db_quotas.UNLIMITED and limit < minimum:
                raise exception.Invalid(
                    'Quota limit %(limit)s for %(resource)s must be '
                    'greater than or equal to already used and reserved '
                    '%(minimum)s.' % {'limit': limit, 'resource': resource,
                                      'minimum': minimum})
    overrides = db_quotas.set_overrides(
        project_id, values, validate=None if force else at_least_used)
    return _body(req, None, dict(quota.defaults(req.conf), **overrides))


def delete(req, project_id):
    """DELETE /os-quota-sets/{project_id} (202)."""
    req.authorize(rules.DELETE, {'project_id': project_id})
    _no_user(req)
    db_quotas.clear_overrides(project_id)
    return api_request.empty_response(202)


def register(router):
    base = '/v2.1/os-quota-sets/{project_id}'
    router.add('GET', base + '/defaults', defaults)
    router.add('GET', base + '/detail', detail)
    router.add('GET', base, show)
    router.add('PUT', base, update)
    router.add('DELETE', base, delete)
