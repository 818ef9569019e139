"""Admin server actions that move a server to another host while its
guest runs or after its host died: ``os-migrateLive`` and ``evacuate``.

Both register in :data:`orchestrator.api.server_actions.HANDLERS` (this
module must be imported for that: :mod:`orchestrator.api.app` does), and
both are admin-only by the state machine's table (403 for others).

Each checks what Nova checks before claiming (the hosts involved, 400),
claims the server (409 when the table forbids the action now), records a
migration (live-migration ``queued``, evacuation ``accepted``; its id is
what ``/servers/{id}/migrations`` and ``/os-migrations`` show) and has a
conductor run the flow (:mod:`flows.live_migrate`,
:mod:`flows.evacuate`). When no conductor answers, the claim is given
back (503) and the migration is marked failed: nothing is left in
progress.

``force`` (2.29 evacuate, 2.30 live migration) is accepted and recorded;
the destination still passes the scheduler's filters. From 2.68 it is
refused (400), as Nova removed forced moves.
"""

import logging

from orchestrator import exception
from orchestrator import state_machine
from orchestrator import states
from orchestrator.api import request as api_request
from orchestrator.api import server_actions
from orchestrator.api import servers
from orchestrator.api import validation
from orchestrator.api.schemas import server_actions_admin as schemas
from orchestrator.db import hosts as db_hosts
from orchestrator.db import migration_records
from orchestrator.scheduler import host_selection

LOG = logging.getLogger(__name__)

# The body key of a live migration is not its action's name; the admin
# check of server_actions.dispatch finds the rules through this map.
server_actions.ACTION_NAMES['os-migrateLive'] = state_machine.LIVE_MIGRATE


def compute_service(host):
    """The compute service of ``host``, or None when there is none."""
    found = db_hosts.list_services(binary=host_selection.COMPUTE_BINARY,
                                   host=host)
    return found[0] if found else None


def host_is_up(req, host):
    """True when ``host``'s compute service heartbeats recently enough."""
    service = compute_service(host)
    return service is not None and db_hosts.is_up(
        service, req.conf.service_down_time_s)


def _check_live_migration_hosts(req, instance, host):
    """400 unless the source is up and ``host`` (if any) is another
    known compute host that is up."""
    source = instance['host']
    if not source or not host_is_up(req, source):
        raise exception.Invalid('Compute service of %s is unavailable at '
                                'this time.' % source)
    if host is None:
        return
    if compute_service(host) is None:
        raise exception.Invalid('Compute host %s could not be found.'
                                % host)
    if host == source:
        raise exception.Invalid('Unable to migrate instance (%s) to '
                                'current host (%s).'
                                % (instance['uuid'], host))
    if not host_is_up(req, host):
        raise exception.Invalid('Compute service of %s is unavailable at '
                                'this time.' % host)


def _start_with_migration(req, server_id, name, migration_type, status,
                          host, params):
    """Claim the server for ``name``, record its migration in
    ``status`` and start the flow with ``params`` plus the migration's
    uuid. Returns (instance, migration). On 503 the migration is failed
    (the claim is given back by the start)."""
    instance, act = server_actions.claim_action(req, server_id, name)
    ctxt = req.context
    migration = migration_records.create(
        instance['uuid'], migration_type, status,
        source_compute=instance['host'], dest_compute=host,
        old_flavor=instance['flavor'], new_flavor=instance['flavor'],
        project_id=instance['project_id'], user_id=ctxt.user_id)
    params = dict(params, migration_uuid=migration['uuid'], host=host)
    try:
        server_actions.start_action(req, instance, act, name, params)
    except exception.ServiceUnavailable:
        migration_records.set_status(migration['uuid'],
                                     states.MIGRATION_FAILED,
                                     from_statuses={status})
        raise
    return instance, migration


@server_actions.action('os-migrateLive')
def live_migrate(req, server_id, value):
    """{"os-migrateLive": {"host", "block_migration", ...}} (admin, 202):
    the guest moves to ``host`` (or the scheduler's choice) while it
    runs. 400 when the source is down or the host is unknown, the
    server's own or down; 409 when the server is not active or paused
    with no task."""
    validation.validate({'os-migrateLive': value},
                        schemas.live_migrate(req.api_version))
    host = value.get('host')
    instance = servers.get_instance(req, server_id)
    _check_live_migration_hosts(req, instance, host)
    _start_with_migration(
        req, server_id, state_machine.LIVE_MIGRATE, 'live-migration',
        states.MIGRATION_QUEUED, host,
        {'block_migration': schemas.as_bool(value.get('block_migration')),
         'force': schemas.as_bool(value.get('force', False))})
    return api_request.empty_response(202)


@server_actions.action('evacuate')
def evacuate(req, server_id, value):
    """{"evacuate": {"host"?, "adminPass"?, ...}} (admin, 200): a server
    whose host is down is rebuilt on ``host`` (or the scheduler's
    choice). Before 2.14 the body is {"adminPass"}; from 2.14 it is
    empty. 400 when its host is up or ``host`` is its own; 404 when
    ``host`` is unknown; 409 when the server is not active, stopped or
    error with no task."""
    validation.validate({'evacuate': value},
                        schemas.evacuate(req.api_version))
    host = value.get('host')
    instance = servers.get_instance(req, server_id)
    source = instance['host']
    if not source:
        raise exception.Invalid('Server %s has no host to be evacuated '
                                'from.' % server_id)
    if host_is_up(req, source):
        raise exception.Invalid('Compute service of %s is still in use.'
                                % source)
    if host is not None:
        if compute_service(host) is None:
            raise exception.HostNotFound(host=host)
        if host == source:
            raise exception.Invalid("The target host can't be the same "
                                    "one.")
    password = value.get('adminPass') or server_actions.generate_password()
    _start_with_migration(
        req, server_id, state_machine.EVACUATE, 'evacuation',
        states.MIGRATION_ACCEPTED, host,
        {'force': schemas.as_bool(value.get('force', False))})
    if not req.at_least(2, 14):
        return api_request.json_response({'adminPass': password})
    return api_request.empty_response(200)
