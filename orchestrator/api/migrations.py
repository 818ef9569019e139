"""Migrations, as administrators see them (Nova's shapes):

* ``GET /v2.1/os-migrations``: every migration record (resize, cold and
  live migration, evacuation), newest first; filters ``host`` (source or
  destination), ``status``, ``instance_uuid``, ``source_compute`` and
  ``migration_type``. From 2.23 each has its ``migration_type``, and
  ``links`` to the server migration when it is a live migration in
  progress.
* ``GET /v2.1/servers/{id}/migrations`` and ``.../{migration_id}`` (from
  2.23): the server's live migrations in progress, with the memory the
  copy has processed and has left.
* ``DELETE /v2.1/servers/{id}/migrations/{migration_id}`` (from 2.24):
  abort a live migration in progress (202). The migration is cancelled at
  once (a compare-and-swap on its status), the abort relayed to the source
  host so the copy stops at its next step, and the flow rolls back: the
  guest keeps running on the source. 409 when the server is not
  live-migrating; 404 when it has no such migration; 400 when the
  migration is not a live migration or not abortable any more (completed,
  failed, or past its point of no return). A queued or preparing
  migration may be aborted from 2.65, as in Nova (400 before).

From 2.59 ``/os-migrations`` pages (``limit``, ``marker``: a migration's
uuid, 400 if unknown), takes ``changes-since`` and from 2.66
``changes-before`` (on updated_at, else created_at; 400 for a time that
is no date-time or a window that ends before it starts) and refuses any
other query parameter (400); every migration body shows its ``uuid``.

Everything here is admin-only (403 for others). A route asked for below
its microversion is a 404, as in Nova.
"""

import logging

import oslo_messaging as messaging

from orchestrator import exception
from orchestrator import state_machine
from orchestrator import states
from orchestrator.api import links
from orchestrator.api import operations
from orchestrator.api import query
from orchestrator.api import request as api_request
from orchestrator.api import servers
from orchestrator.api.views import timestamps
from orchestrator.db import actions as db_actions
from orchestrator.db import catalog
from orchestrator.db import migration_records
from orchestrator.policies import server_records as record_rules

LOG = logging.getLogger(__name__)

LIVE_MIGRATION = 'live-migration'


def in_progress(migration):
    """True for a migration no flow has finished yet (neither final nor
    waiting: a resize waiting for confirmation or an evacuation done are
    not in progress, as in Nova)."""
    return migration['status'] not in (states.MIGRATION_FINAL_STATUSES
                                       | states.MIGRATION_WAITING_STATUSES)


def _flavor_id(flavor, cache):
    """The integer id of the flavor a migration recorded, or None."""
    flavorid = (flavor or {}).get('flavorid')
    if flavorid is None:
        return None
    if flavorid not in cache:
        try:
            cache[flavorid] = catalog.flavor_get(flavorid)['id']
        except exception.FlavorNotFound:
            cache[flavorid] = None
    return cache[flavorid]


def _server_migration_link(req, migration):
    path = ('servers', migration['instance_uuid'], 'migrations',
            migration['id'])
    return [{'rel': 'self', 'href': links.compute_url(req, *path)},
            {'rel': 'bookmark', 'href': links.bookmark_url(req, *path)}]


def _os_migration_body(req, migration, flavor_cache):
    body = {
        'id': migration['id'],
        'status': migration['status'],
        'instance_uuid': migration['instance_uuid'],
        'source_compute': migration['source_compute'],
        'source_node': migration['source_node'],
        'dest_compute': migration['dest_compute'],
        'dest_node': migration['dest_node'],
        'dest_host': migration['dest_compute'],
        'old_instance_type_id': _flavor_id(migration['old_flavor'],
                                           flavor_cache),
        'new_instance_type_id': _flavor_id(migration['new_flavor'],
                                           flavor_cache),
        'created_at': timestamps.iso(migration['created_at']),
        'updated_at': timestamps.iso(migration['updated_at']),
    }
    if req.at_least(2, 23):
        body['migration_type'] = migration['migration_type']
        if (migration['migration_type'] == LIVE_MIGRATION
                and in_progress(migration)):
            body['links'] = _server_migration_link(req, migration)
    if req.at_least(2, 59):
        body['uuid'] = migration['uuid']
    return body


#: The query parameters of ``GET /os-migrations`` (any other is a 400
#: from 2.59, as Nova's schema then).
_INDEX_PARAMS = frozenset(['hidden', 'host', 'instance_uuid',
                           'source_compute', 'status', 'migration_type',
                           'limit', 'marker', 'changes-since'])


def _paging(req):
    """Keyword arguments of :func:`migration_records.list_` for paging
    and the time window (2.59 on; none before)."""
    if not req.at_least(2, 59):
        return {}
    allowed = _INDEX_PARAMS | (frozenset(['changes-before'])
                               if req.at_least(2, 66) else frozenset())
    unknown = sorted(set(req.GET.keys()) - allowed)
    if unknown:
        raise exception.Invalid('Invalid input for query parameters: '
                                'additional properties are not allowed '
                                '(%s).' % ', '.join(unknown)[:200])
    since, before = query.changes_window(req)
    return {'limit': query.limit(req), 'marker': query.one(req, 'marker'),
            'changed_since': since, 'changed_before': before}


def index(req):
    """GET /os-migrations (200, 400; 403 for non-admins)."""
    req.authorize(record_rules.MIGRATIONS_INDEX)
    paging = _paging(req)
    status = query.one(req, 'status')
    try:
        found = migration_records.list_(
            instance_uuid=query.one(req, 'instance_uuid'),
            statuses=None if status is None else [status],
            migration_type=query.one(req, 'migration_type'),
            host=query.one(req, 'host'),
            source_compute=query.one(req, 'source_compute'), **paging)
    except exception.MigrationNotFound:
        raise exception.Invalid('Marker %s could not be found.'
                                % paging['marker']) from None
    cache = {}
    body = {'migrations': [_os_migration_body(req, m, cache)
                           for m in found]}
    if paging:
        next_links = query.next_link(
            req, links.compute_url(req, 'os-migrations'), found,
            paging['limit'], key='uuid')
        if next_links:
            body['migrations_links'] = next_links
    return api_request.json_response(body)


def _server_migration_body(req, migration):
    body = {
        'id': migration['id'],
        'server_uuid': migration['instance_uuid'],
        'status': migration['status'],
        'source_compute': migration['source_compute'],
        'source_node': migration['source_node'],
        'dest_compute': migration['dest_compute'],
        'dest_node': migration['dest_node'],
        'dest_host': migration['dest_compute'],
        'memory_total_bytes': migration['memory_total'],
        'memory_processed_bytes': migration['memory_processed'],
        'memory_remaining_bytes': migration['memory_remaining'],
        'disk_total_bytes': None,
        'disk_processed_bytes': None,
        'disk_remaining_bytes': None,
        'created_at': timestamps.iso(migration['created_at']),
        'updated_at': timestamps.iso(migration['updated_at']),
    }
    if req.at_least(2, 59):
        body['uuid'] = migration['uuid']
    return body


def _server_for(req, server_id, major, minor, rule):
    """The server of a ``/servers/{id}/migrations`` request: 404 below
    microversion major.minor or when the caller may not find the server,
    403 when ``rule`` does not allow the caller on it."""
    if not req.at_least(major, minor):
        raise exception.NotFound('The resource could not be found.')
    return servers.get_instance(req, server_id, rule=rule)


def _migration_of(instance, migration_id):
    """The migration ``migration_id`` (an integer in the path) of the
    instance; 404 when there is none (an id that is no integer, or too
    large for the column, included)."""
    number = query.db_integer(migration_id)
    if number is None:
        raise exception.MigrationNotFound(migration_id=migration_id)
    return migration_records.get_by_id(number,
                                       instance_uuid=instance['uuid'])


def server_index(req, server_id):
    """GET /servers/{id}/migrations (2.23; 200, 404)."""
    instance = _server_for(req, server_id, 2, 23,
                           record_rules.SERVER_MIGRATIONS_INDEX)
    found = [m for m in migration_records.list_(
        instance_uuid=instance['uuid'], migration_type=LIVE_MIGRATION)
        if in_progress(m)]
    return api_request.json_response(
        {'migrations': [_server_migration_body(req, m) for m in found]})


def server_show(req, server_id, migration_id):
    """GET /servers/{id}/migrations/{migration_id} (2.23; 200, 404 when
    it is not a live migration of the server in progress)."""
    instance = _server_for(req, server_id, 2, 23,
                           record_rules.SERVER_MIGRATIONS_SHOW)
    migration = _migration_of(instance, migration_id)
    if migration['migration_type'] != LIVE_MIGRATION or not in_progress(
            migration):
        raise exception.NotFound(
            'In-progress live migration %s is not found for server %s.'
            % (migration_id, server_id))
    return api_request.json_response(
        {'migration': _server_migration_body(req, migration)})


def server_abort(req, server_id, migration_id):
    """DELETE /servers/{id}/migrations/{migration_id} (2.24; 202, 400,
    404, 409): see the module docstring. Audited as an instance action
    ``live-migration-abort``."""
    instance = _server_for(req, server_id, 2, 24,
                           record_rules.SERVER_MIGRATIONS_DELETE)
    rules = state_machine.ACTIONS[state_machine.LIVE_MIGRATE_ABORT]
    if not rules.allows(instance['vm_state'], instance['task_state']):
        raise exception.InstanceInvalidState(
            reason=rules.refusal(instance['vm_state'],
                                 instance['task_state']))
    migration = _migration_of(instance, migration_id)
    if migration['migration_type'] != LIVE_MIGRATION:
        raise exception.Invalid('Migration %s of server %s is a %s, not a '
                                'live migration: it cannot be aborted.'
                                % (migration_id, server_id,
                                   migration['migration_type']))
    if not req.at_least(2, 65) and migration['status'] in (
            states.MIGRATION_QUEUED, states.MIGRATION_PREPARING):
        raise exception.Invalid(
            'Migration %s state of instance %s is %s. Cannot abort live '
            'migration in this state before microversion 2.65.'
            % (migration_id, server_id, migration['status']))
    cancelled = migration_records.set_status(
        migration['uuid'], states.MIGRATION_CANCELLED,
        from_statuses=states.MIGRATION_LIVE_ABORTABLE)
    if cancelled is None or migration['status'] == \
            states.MIGRATION_CANCELLED:
        current = migration_records.get(migration['uuid'])
        raise exception.Invalid(
            'Migration %s of server %s is %s: it cannot be aborted any '
            'more.' % (migration_id, server_id, current['status']))
    ctxt = req.context
    db_actions.record(instance['uuid'], state_machine.LIVE_MIGRATE_ABORT,
                      states.RESULT_SUCCESS,
                      'Live migration %s cancelled' % migration_id,
                      ctxt.request_id, user_id=ctxt.user_id,
                      project_id=ctxt.project_id)
    try:
        operations.conductor().abort_live_migration(
            ctxt, instance['uuid'], migration['uuid'])
    except messaging.MessagingException as e:
        LOG.warning('Request %s: abort of migration %s not relayed (%s); '
                    'the flow stops at its next step anyway',
                    ctxt.request_id, migration['uuid'], e)
    return api_request.empty_response(202)


def register(router):
    router.add('GET', '/v2.1/os-migrations', index)
    router.add('GET', '/v2.1/servers/{server_id}/migrations', server_index)
    router.add('GET',
               '/v2.1/servers/{server_id}/migrations/{migration_id}',
               server_show)
    router.add('DELETE',
               '/v2.1/servers/{server_id}/migrations/{migration_id}',
               server_abort)
