"""``/console/api/...``: the web console's JSON (the contract is
docs/console_api.md; the rules :mod:`orchestrator.policies.console`).

Behind the API's own authentication; not versioned (no microversion
headers). Who sees what:

* ``console:view`` (a project's readers and members): that project's
  servers, their actions and flows, and the state rules. Another
  project's server or flow is a 404, never a 403: lookups are filtered
  by project first, as the Compute API's.
* ``console:view_all`` (administrators): ``?all_projects=1`` on the
  lists, hosts and servers' hosts, and the hosts page. An administrator
  finds any project's server or flow by id (``context_is_admin``).
* ``console:repair`` (administrators): retry or revert a failed flow
  with ``{"confirm": true}`` (:mod:`orchestrator.flow_repair`, as
  ``orchestrator-manage flows retry|revert``): 202, or 409 with the
  reason when the flow is not in a state that repair starts from or its
  instance moved on.
* ``/console/api/session`` and ``/console/api/login`` are public
  (:mod:`orchestrator.api.auth`).
"""

from orchestrator import exception
from orchestrator import flow_index
from orchestrator import flow_repair
from orchestrator.api import name_filter
from orchestrator.api import query
from orchestrator.api import request as api_request
from orchestrator.console import board as console_board
from orchestrator.console import flow_pages
from orchestrator.console import host_pages
from orchestrator.console import login as console_login
from orchestrator.console import server_pages
from orchestrator.console import state_pages
from orchestrator.console import times
from orchestrator.db import instances as db_instances
from orchestrator.policies import console as rules
from orchestrator.policies import server_records as record_rules
from orchestrator.policies import servers as server_rules

PREFIX = '/console/api'


def _target(project_id):
    return {'project_id': project_id}


def _project_scope(req):
    """The project a list shows: the caller's, or None (every project)
    with ``all_projects`` (console:view_all, else 403)."""
    req.authorize(rules.VIEW)
    if query.boolean(req, 'all_projects', False):
        req.authorize(rules.VIEW_ALL)
        return None
    return req.context.project_id


def _status_matcher(req):
    wanted = {s.strip().upper() for value in req.GET.getall('status')
              for s in value.split(',') if s.strip()}
    if not wanted:
        return None
    return lambda instance: server_pages.status(instance) in wanted


def servers_index(req):
    """GET /console/api/servers (200, 400, 403)."""
    project_id = _project_scope(req)
    show_host = req.can(rules.VIEW_ALL)
    matchers = [m for m in (name_filter.matcher(query.one(req, 'name')),
                            _status_matcher(req)) if m is not None]
    # Hosts are an administrator's business: the filter is theirs too.
    host = query.one(req, 'host') if show_host else None
    now = times.now()
    found = server_pages.list_servers(project_id, host=host or None,
                                      matchers=matchers,
                                      limit=query.limit(req))
    return api_request.json_response({'servers': [
        server_pages.server_body(i, now, show_host) for i in found]})


def servers_show(req, server_id):
    """GET /console/api/servers/{id} (200, 403, 404); deleted servers
    too (their actions and flows stay)."""
    req.authorize(rules.VIEW)
    instance = db_instances.get(server_id, project_id=req.owner_project(),
                                read_deleted=True)
    target = _target(instance['project_id'])
    req.authorize(rules.VIEW, target)
    page = server_pages.server_page(
        instance, show_host=req.can(rules.VIEW_ALL),
        show_tracebacks=req.can(record_rules.ACTION_EVENT_DETAILS, target))
    if not req.can(server_rules.SHOW_FAULT_DETAILS, target):
        for fault in page['faults'] + ([page['server']['fault']]
                                       if page['server']['fault'] else []):
            if fault['code'] == 500:
                fault['details'] = None
    return api_request.json_response(page)


def flows_index(req):
    """GET /console/api/flows (200, 400, 403)."""
    project_id = _project_scope(req)
    instance_uuid = query.one(req, 'instance')
    if instance_uuid is not None:
        # One server's flows: whoever may find the server by id (an
        # administrator, any project's).
        project_id = req.owner_project()
    state = query.one(req, 'state') or 'open'
    if state not in flow_pages.STATE_FILTERS:
        raise exception.Invalid('state must be one of %s, not %r.' % (
            ', '.join(flow_pages.STATE_FILTERS), state[:64]))
    limit = query.non_negative_int(req, 'limit')
    limit = min(flow_pages.DEFAULT_LIMIT if limit is None else limit,
                req.conf.api.max_limit)
    rows = flow_pages.list_flows(req.conf, project_id, state=state,
                                 instance_uuid=instance_uuid,
                                 limit=limit)
    return api_request.json_response({'flows': rows})


def flows_show(req, flow_id):
    """GET /console/api/flows/{uuid or 8+ prefix} (200, 403, 404)."""
    req.authorize(rules.VIEW)
    flow = flow_pages.show_flow(req.conf, flow_id, req.owner_project())
    req.authorize(rules.VIEW, _target(flow['project_id']))
    return api_request.json_response({'flow': flow})


def _confirmed(req):
    body = req.json_body() if req.body else None
    if not isinstance(body, dict) or body.get('confirm') is not True:
        raise exception.Invalid('A repair needs {"confirm": true} in its '
                                'body.')


def _repair(req, flow_id, mode):
    # Found first: another project's flow is a 404 before any 403.
    row, summary = flow_pages.find(flow_id, req.owner_project())
    req.authorize(rules.REPAIR, _target((summary or {}).get('project_id')))
    _confirmed(req)
    try:
        board = console_board.get_board(req.conf)
    except console_board.BoardUnavailable as e:
        raise exception.ServiceUnavailable(str(e)) from None
    try:
        done = flow_repair.repair(console_board.persistence_for(row['uuid']),
                                  board,
                                  row['uuid'], mode, req.context)
    except exception.Invalid as e:
        # The flow is not in a state this repair starts from (or is in
        # flight): a conflict with its state, not bad input.
        raise exception.Conflict(
            reason=e.kwargs.get('reason') or e.message) from None
    except LookupError:
        raise flow_pages.FlowNotFound(flow_id=flow_id) from None
    state = flow_index.find(row['uuid'])['state']
    return api_request.json_response(
        {'flow': {'uuid': row['uuid'], 'state': state, 'job': done['job'],
                  'steps': done['steps']}}, status=202)


def flows_retry(req, flow_id):
    """POST /console/api/flows/{id}/retry (202, 400, 403, 404, 409)."""
    return _repair(req, flow_id, flow_repair.RETRY)


def flows_revert(req, flow_id):
    """POST /console/api/flows/{id}/revert (202, 400, 403, 404, 409)."""
    return _repair(req, flow_id, flow_repair.REVERT)


def hosts_index(req):
    """GET /console/api/hosts (200, 403)."""
    req.authorize(rules.VIEW_ALL)
    return api_request.json_response(host_pages.hosts_page(req.conf))


def states_index(req):
    """GET /console/api/states (200, 403)."""
    req.authorize(rules.VIEW)
    return api_request.json_response(state_pages.states_page())


def session(req):
    """GET /console/api/session (public, 200): who is calling."""
    ctxt = req.context
    signed_in = ctxt.user_id is not None
    return api_request.json_response({
        'auth_strategy': req.conf.api.auth_strategy,
        'authenticated': signed_in,
        'user_id': ctxt.user_id, 'project_id': ctxt.project_id,
        'roles': sorted(ctxt.roles or []),
        'can_view_all': signed_in and req.can(rules.VIEW_ALL),
        'can_repair': signed_in and req.can(rules.REPAIR),
    })


def login(req):
    """POST /console/api/login (public; keystone only): a token for the
    credentials in the body (200, 400, 401, 503)."""
    if req.conf.api.auth_strategy != 'keystone':
        raise exception.Invalid(
            'Signing in with a password is for [api] auth_strategy = '
            'keystone; this API uses %s.' % req.conf.api.auth_strategy)
    token = console_login.token_for(req.conf, req.json_body())
    return api_request.json_response({'token': token})


def register(router):
    router.add('GET', PREFIX + '/session', session)
    router.add('POST', PREFIX + '/login', login)
    router.add('GET', PREFIX + '/servers', servers_index)
    router.add('GET', PREFIX + '/servers/{server_id}', servers_show)
    router.add('GET', PREFIX + '/flows', flows_index)
    router.add('GET', PREFIX + '/flows/{flow_id}', flows_show)
    router.add('POST', PREFIX + '/flows/{flow_id}/retry', flows_retry)
    router.add('POST', PREFIX + '/flows/{flow_id}/revert', flows_revert)
    router.add('GET', PREFIX + '/hosts', hosts_index)
    router.add('GET', PREFIX + '/states', states_index)
