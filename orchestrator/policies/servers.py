"""Rules of ``/servers`` (list, show, create, delete) and of what a
server body shows."""

from orchestrator.policies import base

PREFIX = 'os_compute_api:servers:%s'

INDEX = PREFIX % 'index'
DETAIL = PREFIX % 'detail'
INDEX_ALL_TENANTS = PREFIX % 'index:get_all_tenants'
DETAIL_ALL_TENANTS = PREFIX % 'detail:get_all_tenants'
ALLOW_ALL_FILTERS = PREFIX % 'allow_all_filters'
SHOW = PREFIX % 'show'
SHOW_HOST_STATUS = PREFIX % 'show:host_status'
SHOW_FAULT_DETAILS = PREFIX % 'show:fault_details'
EXTENDED_ATTRIBUTES = 'os_compute_api:os-extended-server-attributes'
CREATE = PREFIX % 'create'
CREATE_FORCED_HOST = PREFIX % 'create:forced_host'
#: Nova's name (no os_compute_api prefix) for 2.74's host and
#: hypervisor_hostname.
CREATE_REQUESTED_DESTINATION = 'compute:servers:create:requested_destination'
DELETE = PREFIX % 'delete'

rules = [
    base.rule(INDEX, base.PROJECT_READER_OR_ADMIN,
              'List the servers of the caller\'s project.',
              ('GET', '/servers')),
    base.rule(DETAIL, base.PROJECT_READER_OR_ADMIN,
              'List the servers of the caller\'s project with details.',
              ('GET', '/servers/detail')),
    base.refinement(INDEX_ALL_TENANTS, base.ADMIN,
              'List the servers of every project (all_tenants).',
              ('GET', '/servers')),
    base.refinement(DETAIL_ALL_TENANTS, base.ADMIN,
              'List the servers of every project with details '
              '(all_tenants).', ('GET', '/servers/detail')),
    base.refinement(ALLOW_ALL_FILTERS, base.ADMIN,
              'Filter server lists by host and include deleted servers '
              '(host, deleted); others\' such filters are ignored.',
              ('GET', '/servers'), ('GET', '/servers/detail')),
    base.rule(SHOW, base.PROJECT_READER_OR_ADMIN, 'Show a server.',
              ('GET', '/servers/{server_id}')),
    base.refinement(SHOW_HOST_STATUS, base.ADMIN,
              'Show host_status (UP, DOWN, MAINTENANCE, UNKNOWN) in server '
              'bodies (2.16+).',
              ('GET', '/servers/{server_id}'), ('GET', '/servers/detail')),
    base.refinement(SHOW_FAULT_DETAILS, base.ADMIN,
              'Show the details (a traceback, often) of a server\'s 500 '
              'fault; the details of other faults are shown to anyone who '
              'may show the server.',
              ('GET', '/servers/{server_id}'), ('GET', '/servers/detail')),
    base.refinement(EXTENDED_ATTRIBUTES, base.ADMIN,
              'Show the OS-EXT-SRV-ATTR attributes (host, hypervisor, '
              'instance name, ...) in server bodies.',
              ('GET', '/servers/{server_id}'), ('GET', '/servers/detail')),
    base.rule(CREATE, base.PROJECT_MEMBER_OR_ADMIN,
              'Create a server in the caller\'s project.',
              ('POST', '/servers')),
    base.refinement(CREATE_FORCED_HOST, base.ADMIN,
              'Create a server on a named host (availability_zone '
              '"zone:host").', ('POST', '/servers')),
    base.refinement(CREATE_REQUESTED_DESTINATION, base.ADMIN,
              'Create a server on a requested host or hypervisor (host, '
              'hypervisor_hostname; 2.74+), the scheduler\'s filters still '
              'checking it.', ('POST', '/servers')),
    base.rule(DELETE, base.PROJECT_MEMBER_OR_ADMIN, 'Delete a server.',
              ('DELETE', '/servers/{server_id}')),
]


def list_rules():
    return rules
