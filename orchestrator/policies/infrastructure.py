"""Rules of the infrastructure's resources: services, hypervisors and
aggregates, for administrators."""

from orchestrator.policies import base

SERVICES_LIST = 'os_compute_api:os-services:list'
HOSTS_LIST = 'os_compute_api:os-hosts:list'
HOSTS_SHOW = 'os_compute_api:os-hosts:show'
HOSTS_UPDATE = 'os_compute_api:os-hosts:update'
HOSTS_START = 'os_compute_api:os-hosts:start'
HOSTS_SHUTDOWN = 'os_compute_api:os-hosts:shutdown'
HOSTS_REBOOT = 'os_compute_api:os-hosts:reboot'
SERVICES_UPDATE = 'os_compute_api:os-services:update'
SERVICES_DELETE = 'os_compute_api:os-services:delete'
HYPERVISORS_LIST = 'os_compute_api:os-hypervisors:list'
HYPERVISORS_LIST_DETAIL = 'os_compute_api:os-hypervisors:list-detail'
HYPERVISORS_SHOW = 'os_compute_api:os-hypervisors:show'
HYPERVISORS_UPTIME = 'os_compute_api:os-hypervisors:uptime'
HYPERVISORS_STATISTICS = 'os_compute_api:os-hypervisors:statistics'
HYPERVISORS_SEARCH = 'os_compute_api:os-hypervisors:search'
HYPERVISORS_SERVERS = 'os_compute_api:os-hypervisors:servers'
AGGREGATES_INDEX = 'os_compute_api:os-aggregates:index'
AGGREGATES_CREATE = 'os_compute_api:os-aggregates:create'
AGGREGATES_SHOW = 'os_compute_api:os-aggregates:show'
AGGREGATES_UPDATE = 'os_compute_api:os-aggregates:update'
AGGREGATES_DELETE = 'os_compute_api:os-aggregates:delete'
AGGREGATES_ADD_HOST = 'os_compute_api:os-aggregates:add_host'
AGGREGATES_REMOVE_HOST = 'os_compute_api:os-aggregates:remove_host'
AGGREGATES_SET_METADATA = 'os_compute_api:os-aggregates:set_metadata'

_HYPERVISOR = '/os-hypervisors/{hypervisor_id}'
_PATTERN = '/os-hypervisors/{hypervisor_hostname_pattern}'

rules = [
    base.rule(HOSTS_LIST, base.ADMIN,
              'List the hosts of the services (before 2.43).',
              ('GET', '/os-hosts')),
    base.rule(HOSTS_SHOW, base.ADMIN,
              'Show the resources of a compute host (before 2.43).',
              ('GET', '/os-hosts/{host_name}')),
    base.rule(HOSTS_UPDATE, base.ADMIN,
              'Enable or disable a compute host (before 2.43).',
              ('PUT', '/os-hosts/{host_name}')),
    base.rule(HOSTS_START, base.ADMIN, 'Start a host (before 2.43).',
              ('GET', '/os-hosts/{host_name}/startup')),
    base.rule(HOSTS_SHUTDOWN, base.ADMIN, 'Shut a host down (before 2.43).',
              ('GET', '/os-hosts/{host_name}/shutdown')),
    base.rule(HOSTS_REBOOT, base.ADMIN, 'Reboot a host (before 2.43).',
              ('GET', '/os-hosts/{host_name}/reboot')),
    base.rule(SERVICES_LIST, base.ADMIN, 'List compute services.',
              ('GET', '/os-services')),
    base.rule(SERVICES_UPDATE, base.ADMIN,
              'Update a compute service: enable or disable it, force it '
              'down.',
              ('PUT', '/os-services/enable'), ('PUT', '/os-services/disable'),
              ('PUT', '/os-services/disable-log-reason'),
              ('PUT', '/os-services/force-down'),
              ('PUT', '/os-services/{service_id}')),
    base.rule(SERVICES_DELETE, base.ADMIN,
              'Delete a service (a compute service without instances).',
              ('DELETE', '/os-services/{service_id}')),
    base.rule(HYPERVISORS_LIST, base.ADMIN, 'List hypervisors.',
              ('GET', '/os-hypervisors')),
    base.rule(HYPERVISORS_LIST_DETAIL, base.ADMIN,
              'List hypervisors with details.',
              ('GET', '/os-hypervisors/detail')),
    base.rule(HYPERVISORS_SHOW, base.ADMIN, 'Show a hypervisor.',
              ('GET', _HYPERVISOR)),
    base.rule(HYPERVISORS_UPTIME, base.ADMIN, 'Show a hypervisor\'s uptime.',
              ('GET', _HYPERVISOR + '/uptime')),
    base.rule(HYPERVISORS_STATISTICS, base.ADMIN,
              'Show the totals of every hypervisor.',
              ('GET', '/os-hypervisors/statistics')),
    base.rule(HYPERVISORS_SEARCH, base.ADMIN,
              'Search hypervisors by name (before 2.53).',
              ('GET', _PATTERN + '/search')),
    base.rule(HYPERVISORS_SERVERS, base.ADMIN,
              'List the servers of the hypervisors a name matches (before '
              '2.53).',
              ('GET', _PATTERN + '/servers')),
    base.rule(AGGREGATES_INDEX, base.ADMIN, 'List host aggregates.',
              ('GET', '/os-aggregates')),
    base.rule(AGGREGATES_CREATE, base.ADMIN, 'Create a host aggregate.',
              ('POST', '/os-aggregates')),
    base.rule(AGGREGATES_SHOW, base.ADMIN, 'Show a host aggregate.',
              ('GET', '/os-aggregates/{aggregate_id}')),
    base.rule(AGGREGATES_UPDATE, base.ADMIN,
              'Rename a host aggregate or change its availability zone.',
              ('PUT', '/os-aggregates/{aggregate_id}')),
    base.rule(AGGREGATES_DELETE, base.ADMIN,
              'Delete a host aggregate (one without hosts).',
              ('DELETE', '/os-aggregates/{aggregate_id}')),
    base.rule(AGGREGATES_ADD_HOST, base.ADMIN,
              'Add a host to an aggregate (add_host action).',
              ('POST', '/os-aggregates/{aggregate_id}/action (add_host)')),
    base.rule(AGGREGATES_REMOVE_HOST, base.ADMIN,
              'Remove a host from an aggregate (remove_host action).',
              ('POST', '/os-aggregates/{aggregate_id}/action (remove_host)')),
    base.rule(AGGREGATES_SET_METADATA, base.ADMIN,
              'Set or delete metadata of an aggregate (set_metadata '
              'action).',
              ('POST',
               '/os-aggregates/{aggregate_id}/action (set_metadata)')),
]


def list_rules():
    return rules
