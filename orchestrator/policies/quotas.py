"""Rules of limits and quota sets (Nova's names).

A project's readers see its limits and quotas, administrators see and
set any project's. The defaults are the same for every project: any
reader may see them, whichever project the path names.
"""

from orchestrator.policies import base

LIMITS = 'os_compute_api:limits'
LIMITS_OTHER_PROJECT = 'os_compute_api:limits:other_project'
PREFIX = 'os_compute_api:os-quota-sets:%s'
SHOW = PREFIX % 'show'
DETAIL = PREFIX % 'detail'
DEFAULTS = PREFIX % 'defaults'
UPDATE = PREFIX % 'update'
DELETE = PREFIX % 'delete'

#: Any reader (of the project its token is scoped to) or administrator,
#: whatever the target: the defaults are no project's own.
ANY_READER = 'role:reader'

_QUOTA_SET = '/os-quota-sets/{project_id}'

rules = [
    base.rule(LIMITS, base.PROJECT_READER_OR_ADMIN,
              'Show the caller\'s project\'s limits and usage.',
              ('GET', '/limits')),
    base.refinement(LIMITS_OTHER_PROJECT, base.ADMIN,
                    'Show another project\'s limits and usage '
                    '(tenant_id).', ('GET', '/limits')),
    base.rule(SHOW, base.PROJECT_READER_OR_ADMIN,
              'Show a project\'s quotas.', ('GET', _QUOTA_SET)),
    base.rule(DETAIL, base.PROJECT_READER_OR_ADMIN,
              'Show a project\'s quotas with their usage.',
              ('GET', _QUOTA_SET + '/detail')),
    base.rule(DEFAULTS, ANY_READER,
              'Show the default quotas (those of a project without '
              'overrides).', ('GET', _QUOTA_SET + '/defaults')),
    base.rule(UPDATE, base.ADMIN, 'Set a project\'s quotas.',
              ('PUT', _QUOTA_SET)),
    base.rule(DELETE, base.ADMIN,
              'Give a project the default quotas again.',
              ('DELETE', _QUOTA_SET)),
]


def list_rules():
    return rules
