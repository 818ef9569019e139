"""``/v2.1/os-simple-tenant-usage``: what each project's servers used over
a window, as Nova's report.

* ``GET /os-simple-tenant-usage`` (administrators): every project with a
  server in the window; ``detailed=1`` (or ``true``) adds each server's
  usage;
* ``GET /os-simple-tenant-usage/{tenant_id}`` (a reader of the project,
  or an administrator): one project, its servers always listed; ``{}``
  when it had none.

``start`` and ``end`` are ``YYYY-MM-DDTHH:MM:SS[.ffffff]`` or ``YYYY-MM-DD
HH:MM:SS.ffffff`` (UTC; now when absent); start must come before end
(400), unless neither is given (an empty window). A server counts from
its launch (``launched_at``) to its end (``terminated_at``, deleted
servers included) or to the end of the window, clipped to the window; a
server never launched is not listed (Nova's query). Totals are hours
times the flavor the server had (vcpus, memory_mb, root plus ephemeral
disk). From 2.40 the servers are paged (``limit``, ``marker`` = a server
uuid, oldest first) with ``tenant_usages_links`` / ``tenant_usage_links``.
"""

import datetime

from orchestrator import exception
from orchestrator.api import links
from orchestrator.api import query
from orchestrator.api import request as api_request
from orchestrator.api.views import timestamps
from orchestrator.db import models
from orchestrator.db import usage as db_usage
from orchestrator.policies import usage as rules

_FORMATS = ('%Y-%m-%dT%H:%M:%S', '%Y-%m-%dT%H:%M:%S.%f',
            '%Y-%m-%d %H:%M:%S.%f')


def _parse_time(text, now):
    if not text:
        return now
    for fmt in _FORMATS:
        try:
            return datetime.datetime.strptime(text, fmt)
        except ValueError:
            continue
    raise exception.Invalid('Invalid datetime string: Datetime is in '
                            'invalid format')


def _window(req):
    """(start, stop) of the report; 400 unless start < stop."""
    now = models.utcnow()
    start_text, end_text = query.one(req, 'start'), query.one(req, 'end')
    start = _parse_time(start_text, now)
    stop = _parse_time(end_text, now)
    # NOTE(api): with neither given the window is the instant now (Nova
    # reads the clock twice and gets an empty window, not a 400).
    if (start_text or end_text) and not start < stop:
        raise exception.Invalid('Invalid start time. The start time cannot '
                                'occur after the end time.')
    return start, stop


def _hours(instance, start, stop):
    """Hours ``instance`` ran within [start, stop]."""
    launched, terminated = instance['launched_at'], instance['terminated_at']
    if launched is None or launched > stop:
        return 0
    if terminated is not None and terminated < start:
        return 0
    end = min(stop, terminated) if terminated is not None else stop
    return max((end - max(launched, start)).total_seconds(), 0) / 3600.0


def _server_usage(instance, start, stop, now):
    ended = instance['terminated_at']
    began = instance['launched_at']
    uptime = 0
    if began is not None:
        uptime = int(((ended or now) - began).total_seconds())
    return {
        'instance_id': instance['uuid'],
        'name': instance['display_name'] or '',
        'tenant_id': instance['project_id'],
        'flavor': (instance['flavor'] or {}).get('name') or '',
        'hours': _hours(instance, start, stop),
        'vcpus': instance['vcpus'],
        'memory_mb': instance['memory_mb'],
        'local_gb': instance['root_gb'] + (instance['ephemeral_gb'] or 0),
        'started_at': timestamps.iso(began),
        'ended_at': timestamps.iso(ended),
        'state': 'terminated' if ended else instance['vm_state'],
        'uptime': uptime,
    }


def _report(req, project_id, detailed):
    """(usage per project in order of first server, the servers' usages,
    the page's limit or None)."""
    start, stop = _window(req)
    limit = marker = None
    if req.at_least(2, 40):
        limit = query.limit(req)
        marker = query.one(req, 'marker')
    instances = db_usage.active_in_window(start, stop, project_id, limit,
                                          marker)
    now = models.utcnow()
    projects = {}
    usages = []
    for instance in instances:
        info = _server_usage(instance, start, stop, now)
        usages.append(info)
        summary = projects.get(info['tenant_id'])
        if summary is None:
            summary = projects[info['tenant_id']] = {
                'tenant_id': info['tenant_id'],
                'start': timestamps.iso(start),
                'stop': timestamps.iso(stop),
                'total_hours': 0, 'total_vcpus_usage': 0,
                'total_memory_mb_usage': 0, 'total_local_gb_usage': 0}
            if detailed:
                summary['server_usages'] = []
        summary['total_hours'] += info['hours']
        summary['total_vcpus_usage'] += info['vcpus'] * info['hours']
        summary['total_memory_mb_usage'] += info['memory_mb'] * info['hours']
        summary['total_local_gb_usage'] += info['local_gb'] * info['hours']
        if detailed:
            summary['server_usages'].append(info)
    return list(projects.values()), usages, limit


def _page_links(req, body, key, usages, limit, *parts):
    if limit is None:
        return
    found = query.next_link(req, links.compute_url(req, *parts), usages,
                            limit, key='instance_id')
    if found:
        body[key] = found


def index(req):
    """GET /os-simple-tenant-usage (200; 400, 403)."""
    if req.path_info.endswith('/'):
        # NOTE(api): as Nova, an empty tenant id (a trailing slash) names
        # no tenant: 404, not the list of every project.
        raise exception.NotFound('The resource could not be found.')
    req.authorize(rules.TENANT_USAGE_LIST)
    # NOTE(api): Nova tests for '1' only; openstacksdk sends 'True'
    # (openstackclient's usage list): a true word counts as well.
    detailed = (query.one(req, 'detailed') or '').strip().lower() in (
        '1', 'true', 'yes', 'on')
    summaries, usages, limit = _report(req, None, detailed)
    body = {'tenant_usages': summaries}
    _page_links(req, body, 'tenant_usages_links', usages, limit,
                'os-simple-tenant-usage')
    return api_request.json_response(body)


def show(req, tenant_id):
    """GET /os-simple-tenant-usage/{tenant_id} (200; 400, 403)."""
    req.authorize(rules.TENANT_USAGE_SHOW, {'project_id': tenant_id})
    summaries, usages, limit = _report(req, tenant_id, detailed=True)
    body = {'tenant_usage': summaries[0] if summaries else {}}
    _page_links(req, body, 'tenant_usage_links', usages, limit,
                'os-simple-tenant-usage', tenant_id)
    return api_request.json_response(body)


def register(router):
    router.add('GET', '/v2.1/os-simple-tenant-usage', index)
    router.add('GET', '/v2.1/os-simple-tenant-usage/{tenant_id}', show)
