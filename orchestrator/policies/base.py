"""The personas every rule is written in, as OpenStack's services have
them since the secure-RBAC work: an administrator, and a project's
members and readers (Keystone's default roles ``admin``, ``member``,
``reader``; admin implies member, member implies reader).

Every rule has ``scope_types=['project']``: as Nova since 2023.1, the
compute API takes project-scoped tokens only (an administrator's is a
project-scoped token with the ``admin`` role); a system- or
domain-scoped token is refused with 403.
"""

from oslo_policy import policy

CONTEXT_IS_ADMIN = 'context_is_admin'

ADMIN = 'rule:context_is_admin'
PROJECT_MEMBER = 'rule:project_member_api'
PROJECT_READER = 'rule:project_reader_api'
PROJECT_MEMBER_OR_ADMIN = 'rule:project_member_or_admin'
PROJECT_READER_OR_ADMIN = 'rule:project_reader_or_admin'

PROJECT_SCOPE = ['project']

rules = [
    policy.RuleDefault(
        CONTEXT_IS_ADMIN, 'role:admin',
        description='An administrator: sees and acts on every project.'),
    policy.RuleDefault(
        'project_member_api', 'role:member and project_id:%(project_id)s',
        description='A member of the project that owns the target.'),
    policy.RuleDefault(
        'project_reader_api', 'role:reader and project_id:%(project_id)s',
        description='A reader of the project that owns the target.'),
    policy.RuleDefault(
        'project_member_or_admin',
        'rule:project_member_api or rule:context_is_admin',
        description='A member of the owning project, or an administrator.'),
    policy.RuleDefault(
        'project_reader_or_admin',
        'rule:project_reader_api or rule:context_is_admin',
        description='A reader of the owning project, or an administrator.'),
]


#: Names of the rules that refine an operation another rule guards (what
#: a caller may see or ask for within it: all_tenants, host_status, ...).
#: Every other rule guards its operations as a whole: the caller needs it
#: to get anything but a 403 (the policy matrix test relies on this).
REFINEMENTS = set()


def rule(name, check_str, description, *operations):
    """A documented, project-scoped rule guarding ``operations``
    (``(method, path)`` pairs; paths without ``/v2.1``)."""
    return policy.DocumentedRuleDefault(
        name=name, check_str=check_str, description=description,
        operations=[{'method': m, 'path': p} for m, p in operations],
        scope_types=PROJECT_SCOPE)


def refinement(name, check_str, description, *operations):
    """A rule refining ``operations`` that other rules guard (see
    :data:`REFINEMENTS`)."""
    REFINEMENTS.add(name)
    return rule(name, check_str, description, *operations)


def list_rules():
    return rules
