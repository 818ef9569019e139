"""``/v2.1/servers``: list, show, update, delete (create is in
:mod:`orchestrator.api.server_create`, metadata in
:mod:`orchestrator.api.server_metadata`).

List filters (query string):

* ``name``: a regular expression searched in the name, in linear time
  (:mod:`orchestrator.api.name_filter`; Nova uses a database regex); an
  invalid expression is matched as a literal substring, one longer than
  1024 characters is a 400;
* ``status``: one or more statuses (case-insensitive), matched against
  the status the caller is shown; an unknown status matches nothing;
* ``image``, ``flavor``: exact id (a URL's last segment is used);
* ``locked`` (2.73): true or false (400 for anything else);
* ``host`` (admins), ``all_tenants`` (admins; 403 otherwise) and with
  it ``tenant_id`` (that project only; ignored without all_tenants),
  ``deleted`` (admins: include deleted servers);
* ``limit`` (capped at ``[api] max_limit``), ``marker`` (the last id of
  the previous page; 400 if no server has it). Newest first.

Other parameters of Nova's list schema are accepted and ignored; from
2.75 a parameter it does not name is a 400 (:data:`LIST_PARAMS`).

Who may do what is policy (:mod:`orchestrator.policies.servers`):
administrators see and act on every project's servers by id; others
find only their own project's (another project's server is a 404, never
a 403), and then the rule of the operation decides (403).
"""

from oslo_log import log as logging

from orchestrator import exception
from orchestrator import state_machine
from orchestrator.policies import server_attributes as rules_attrs
from orchestrator.policies import servers as rules
from orchestrator.api import links
from orchestrator.api import name_filter
from orchestrator.api import operations
from orchestrator.api import query
from orchestrator.api import request as api_request
from orchestrator.api import server_create
from orchestrator.api import validation
from orchestrator.api.schemas import server_attributes as schemas
from orchestrator.api.views import servers as server_views
from orchestrator.db import instances as db_instances

LOG = logging.getLogger(__name__)

#: Rows read per database round trip while filtering in Python.
_BATCH = 100


def target(instance):
    """The policy target of an instance: its project and user."""
    return {'project_id': instance['project_id'],
            'user_id': instance['user_id']}


def get_instance(req, server_id, read_deleted=False, rule=None):
    """The instance ``server_id`` if the caller may find it (404
    otherwise) and, when ``rule`` is given, may apply that policy rule
    to it (403 otherwise)."""
    instance = db_instances.get(server_id, project_id=req.owner_project(),
                                read_deleted=read_deleted)
    if rule is not None:
        req.authorize(rule, target(instance))
    return instance


def check_unlocked(req, instance):
    """409 when ``instance`` is locked and the caller is no administrator
    (Nova's check_instance_lock: the owner must unlock it first)."""
    if instance.get('locked') and not req.context.is_admin:
        raise exception.InstanceIsLocked(instance_uuid=instance['uuid'])


def _last_segment(ref):
    return str(ref).rstrip('/').rsplit('/', 1)[-1]


def _status_matcher(req):
    wanted = {s.strip().upper() for s in req.GET.getall('status')
              if s.strip()}
    if not wanted:
        return None, False
    version = req.api_version

    def match(instance):
        return state_machine.status(instance['vm_state'],
                                    instance['task_state'],
                                    version) in wanted
    return match, 'DELETED' in wanted


#: The query parameters Nova's server list schema names (2.1); the
#: filters this API does not apply are accepted and ignored, as Nova
#: ignores the admin-only ones for others. 2.66 adds changes-before, 2.73
#: locked; from 2.75 any other parameter is a 400.
LIST_PARAMS = frozenset([
    'user_id', 'project_id', 'tenant_id', 'launch_index', 'image_ref',
    'image', 'kernel_id', 'ramdisk_id', 'hostname', 'key_name',
    'power_state', 'vm_state', 'task_state', 'host', 'node', 'flavor',
    'reservation_id', 'launched_at', 'terminated_at', 'availability_zone',
    'name', 'display_name', 'description', 'display_description',
    'locked_by', 'uuid', 'root_device_name', 'config_drive',
    'access_ip_v4', 'access_ip_v6', 'auto_disk_config', 'progress',
    'sort_key', 'sort_dir', 'all_tenants', 'soft_deleted', 'deleted',
    'status', 'changes-since', 'limit', 'marker', 'ip', 'ip6', 'tag',
    'tags', 'tags-any', 'not-tags', 'not-tags-any'])


def _check_params(req):
    """From 2.75, 400 for a query parameter Nova's schema does not name."""
    if not req.at_least(2, 75):
        return
    known = LIST_PARAMS | {'changes-before', 'locked'}
    unknown = sorted(set(req.GET.keys()) - known)
    if unknown:
        raise exception.Invalid(
            'Invalid input for query parameters: additional properties '
            'are not allowed (%s).' % ', '.join(unknown)[:200])


def _db_arguments(req, detail):
    """Keyword arguments of db.instances.list_ and the Python filters."""
    _check_params(req)
    ctxt = req.context
    kwargs = {'project_id': ctxt.project_id, 'filters': {}}
    all_tenants = query.one(req, 'all_tenants')
    if all_tenants is not None:
        req.authorize(rules.DETAIL_ALL_TENANTS if detail
                      else rules.INDEX_ALL_TENANTS)
        if all_tenants == '' or query.boolean(req, 'all_tenants'):
            # Nova: tenant_id narrows all_tenants to one project; without
            # all_tenants it is ignored (the caller's own project).
            kwargs['project_id'] = query.one(req, 'tenant_id') or None
    all_filters = req.can(rules.ALLOW_ALL_FILTERS)
    if all_filters:
        kwargs['host'] = query.one(req, 'host')
        kwargs['read_deleted'] = bool(query.boolean(req, 'deleted', False))
    for param, column in (('image', 'image_ref'), ('flavor', 'flavor_id')):
        value = query.one(req, param)
        if value:
            kwargs['filters'][column] = _last_segment(value)
    reservation_id = query.one(req, 'reservation_id')
    if reservation_id:
        kwargs['filters']['reservation_id'] = reservation_id
    if req.at_least(2, 73):
        locked = query.boolean(req, 'locked')
        if locked is not None:
            kwargs['filters']['locked'] = locked
    _changes_window(req, kwargs, all_filters)
    matchers = [m for m in (name_filter.matcher(query.one(req, 'name')),)
                if m is not None]
    status_match, wants_deleted = _status_matcher(req)
    if status_match is not None:
        matchers.append(status_match)
        if wants_deleted and all_filters:
            kwargs['read_deleted'] = True
    return kwargs, matchers


def _changes_window(req, kwargs, all_filters):
    """``changes-since`` (and ``changes-before`` from 2.66): servers last
    changed in that window, deleted ones included unless ``deleted`` is
    given (as Nova: how clients poll for what changed); 400 for a time
    that is no ISO 8601 date-time or a window that ends before it
    starts."""
    since, before = query.changes_window(req)
    if since is None and before is None:
        return
    kwargs['changed_since'] = since
    kwargs['changed_before'] = before
    if not (all_filters and query.one(req, 'deleted') is not None):
        kwargs['read_deleted'] = True


def _page(req, detail):
    """The instances of the requested page, filters applied."""
    limit = query.limit(req)
    marker = query.one(req, 'marker')
    kwargs, matchers = _db_arguments(req, detail)
    found = []
    while len(found) < limit:
        try:
            rows = db_instances.list_(limit=_BATCH, marker=marker, **kwargs)
        except exception.InstanceNotFound:
            raise exception.Invalid('marker [%s] not found' % marker) \
                from None
        for row in rows:
            if all(match(row) for match in matchers):
                found.append(row)
                if len(found) == limit:
                    break
        if len(rows) < _BATCH:
            break
        marker = rows[-1]['uuid']
    return found, limit


def _list_response(req, detail):
    req.authorize(rules.DETAIL if detail else rules.INDEX)
    instances, limit = _page(req, detail)
    view = server_views.ServerViewBuilder(req)
    servers = view.details(instances) if detail else \
        [view.basic(i) for i in instances]
    body = {'servers': servers}
    href = links.compute_url(req, 'servers', 'detail') if detail else \
        links.compute_url(req, 'servers')
    next_links = query.next_link(req, href, instances, limit, key='uuid')
    if next_links:
        body['servers_links'] = next_links
    return api_request.json_response(body)


def index(req):
    """GET /servers: {id, name, links} per server (200)."""
    return _list_response(req, detail=False)


def detail(req):
    """GET /servers/detail: full bodies (200)."""
    return _list_response(req, detail=True)


def show(req, server_id):
    """GET /servers/{id} (200, 404)."""
    instance = get_instance(req, server_id, rule=rules.SHOW)
    view = server_views.ServerViewBuilder(req)
    return api_request.json_response({'server': view.show(instance)})


def update(req, server_id):
    """PUT /servers/{id}: ``name``, ``accessIPv4``, ``accessIPv6`` and
    from 2.19 ``description`` (null clears it) (200, the server without
    its extensions before 2.75, as Nova; the full server from 2.75).
    Neither a task nor the lock stops it (as in Nova): these are labels,
    not state."""
    body = req.json_body()
    validation.validate(body, schemas.update(req.api_version))
    get_instance(req, server_id, rule=rules_attrs.UPDATE)
    given = body['server']
    values = {}
    for field, column in (('name', 'display_name'),
                          ('description', 'description'),
                          ('accessIPv4', 'access_ip_v4'),
                          ('accessIPv6', 'access_ip_v6')):
        if field in given:
            values[column] = given[field]
    if values.get('access_ip_v6'):
        values['access_ip_v6'] = server_views.normalized_ip(
            values['access_ip_v6'])
    instance = db_instances.update_fields(server_id, values,
                                          project_id=req.owner_project())
    view = server_views.ServerViewBuilder(req)
    return api_request.json_response({'server': view.update(instance)})


def soft_deletes(conf, instance):
    """True when DELETE of ``instance`` is a soft delete: reclaim is on
    (``[DEFAULT] reclaim_instance_interval_s`` > 0) and its vm_state is one
    a soft delete starts from. A building or already soft-deleted server
    is deleted for good."""
    soft_delete = state_machine.ACTIONS[state_machine.SOFT_DELETE]
    return (conf.reclaim_instance_interval_s > 0
            and instance['vm_state'] in soft_delete.vm_states)


def delete(req, server_id):
    """DELETE /servers/{id}: claim for delete, post the delete (204).

    409 when the server is locked (:func:`check_unlocked`). A soft
    delete when :func:`soft_deletes` says so (409 while another task
    runs then: a soft delete does not preempt). While a delete (or a soft
    delete) runs already, 204 and nothing started: the claim joins it
    (``Action.joins``, decided in the claim's transaction), as Nova
    answers a repeated delete. 503 (claim released) when no conductor
    takes the job.
    """
    ctxt = req.context
    action_values = {'request_id': ctxt.request_id,
                     'user_id': ctxt.user_id, 'project_id': ctxt.project_id}
    instance = get_instance(req, server_id, rule=rules.DELETE)
    check_unlocked(req, instance)
    if soft_deletes(req.conf, instance):
        name, method = state_machine.SOFT_DELETE, 'start_action'
        extra = {'operation': state_machine.SOFT_DELETE}
    else:
        name, method, extra = state_machine.DELETE, 'delete_instance', {}
    instance, action = db_instances.claim(
        server_id, name, action_values, project_id=req.owner_project())
    if action is None:
        LOG.info('Request %s: server %s is being deleted already '
                 '(task_state %s); nothing more to do', ctxt.request_id,
                 server_id, instance['task_state'])
        return api_request.empty_response(204)
    operations.start(ctxt, method, instance, action, **extra)
    return api_request.empty_response(204)


def register(router):
    router.add('GET', '/v2.1/servers', index)
    router.add('POST', '/v2.1/servers', server_create.create)
    router.add('GET', '/v2.1/servers/detail', detail)
    router.add('GET', '/v2.1/servers/{server_id}', show)
    router.add('PUT', '/v2.1/servers/{server_id}', update)
    router.add('DELETE', '/v2.1/servers/{server_id}', delete)
