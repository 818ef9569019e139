"""Rules of the usage reports (os-simple-tenant-usage) and of the usage
audit log (os-instance_usage_audit_log, administrators as in Nova)."""

from orchestrator.policies import base

TENANT_USAGE_LIST = 'os_compute_api:os-simple-tenant-usage:list'
TENANT_USAGE_SHOW = 'os_compute_api:os-simple-tenant-usage:show'
AUDIT_LOG_LIST = 'os_compute_api:os-instance-usage-audit-log:list'
AUDIT_LOG_SHOW = 'os_compute_api:os-instance-usage-audit-log:show'

rules = [
    base.rule(TENANT_USAGE_LIST, base.ADMIN,
              'List the usage of every project.',
              ('GET', '/os-simple-tenant-usage')),
    base.rule(TENANT_USAGE_SHOW, base.PROJECT_READER_OR_ADMIN,
              'Show the usage of a project.',
              ('GET', '/os-simple-tenant-usage/{tenant_id}')),
    base.rule(AUDIT_LOG_LIST, base.ADMIN,
              'Show the usage audit log of the last completed period.',
              ('GET', '/os-instance_usage_audit_log')),
    base.rule(AUDIT_LOG_SHOW, base.ADMIN,
              'Show the usage audit log of the last period completed '
              'before a time.',
              ('GET', '/os-instance_usage_audit_log/{before_timestamp}')),
]


def list_rules():
    return rules
