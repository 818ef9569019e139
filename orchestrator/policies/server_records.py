"""Rules of what is recorded about a server: its actions and their
events (``os-instance-actions``), its migrations, its addresses
(``ips``)."""

from orchestrator.policies import base

ACTIONS_LIST = 'os_compute_api:os-instance-actions:list'
ACTIONS_SHOW = 'os_compute_api:os-instance-actions:show'
ACTION_EVENTS = 'os_compute_api:os-instance-actions:events'
ACTION_EVENT_DETAILS = 'os_compute_api:os-instance-actions:events:details'
MIGRATIONS_INDEX = 'os_compute_api:os-migrations:index'
SERVER_MIGRATIONS_INDEX = 'os_compute_api:servers:migrations:index'
SERVER_MIGRATIONS_SHOW = 'os_compute_api:servers:migrations:show'
SERVER_MIGRATIONS_DELETE = 'os_compute_api:servers:migrations:delete'
IPS_INDEX = 'os_compute_api:ips:index'
IPS_SHOW = 'os_compute_api:ips:show'

_ACTIONS = '/servers/{server_id}/os-instance-actions'
_MIGRATIONS = '/servers/{server_id}/migrations'

rules = [
    base.rule(ACTIONS_LIST, base.PROJECT_READER_OR_ADMIN,
              'List the actions of a server.', ('GET', _ACTIONS)),
    base.rule(ACTIONS_SHOW, base.PROJECT_READER_OR_ADMIN,
              'Show one action of a server.',
              ('GET', _ACTIONS + '/{request_id}')),
    # NOTE(policy): Nova shows events to administrators only; ours are
    # the steps of the flow (no secrets, no paths), which is what a
    # project's readers come to see. Their tracebacks stay for admins.
    base.refinement(ACTION_EVENTS, base.PROJECT_READER_OR_ADMIN,
              'Show the events (steps) of an action.',
              ('GET', _ACTIONS + '/{request_id}')),
    base.refinement(ACTION_EVENT_DETAILS, base.ADMIN,
              'Show the traceback of a failed event.',
              ('GET', _ACTIONS + '/{request_id}')),
    base.rule(MIGRATIONS_INDEX, base.ADMIN,
              'List the migrations of every server.',
              ('GET', '/os-migrations')),
    base.rule(SERVER_MIGRATIONS_INDEX, base.ADMIN,
              'List the live migrations in progress of a server.',
              ('GET', _MIGRATIONS)),
    base.rule(SERVER_MIGRATIONS_SHOW, base.ADMIN,
              'Show a live migration in progress of a server.',
              ('GET', _MIGRATIONS + '/{migration_id}')),
    base.rule(SERVER_MIGRATIONS_DELETE, base.ADMIN,
              'Abort a live migration in progress.',
              ('DELETE', _MIGRATIONS + '/{migration_id}')),
    base.rule(IPS_INDEX, base.PROJECT_READER_OR_ADMIN,
              'List the addresses of a server by network.',
              ('GET', '/servers/{server_id}/ips')),
    base.rule(IPS_SHOW, base.PROJECT_READER_OR_ADMIN,
              'List the addresses of a server on one network.',
              ('GET', '/servers/{server_id}/ips/{network_label}')),
]


def list_rules():
    return rules
