"""Rules of the usage reports (os-simple-tenant-usage)."""

from orchestrator.policies import base

TENANT_USAGE_LIST = 'os_compute_api:os-simple-tenant-usage:list'
TENANT_USAGE_SHOW = 'os_compute_api:os-simple-tenant-usage:show'

rules = [
    base.rule(TENANT_USAGE_LIST, base.ADMIN,
              'List the usage of every project.',
              ('GET', '/os-simple-tenant-usage')),
    base.rule(TENANT_USAGE_SHOW, base.PROJECT_READER_OR_ADMIN,
              'Show the usage of a project.',
              ('GET', '/os-simple-tenant-usage/{tenant_id}')),
]


def list_rules():
    return rules
