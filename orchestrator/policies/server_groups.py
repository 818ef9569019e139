"""Rules of server groups (Nova's names).

A group belongs to a project: its readers list and show it, its members
create and delete groups; an administrator sees and deletes any project's
group, and lists every project's with ``all_projects``
(``index:all_projects``).
"""

from orchestrator.policies import base

PREFIX = 'os_compute_api:os-server-groups:%s'
CREATE = PREFIX % 'create'
DELETE = PREFIX % 'delete'
INDEX = PREFIX % 'index'
INDEX_ALL_PROJECTS = PREFIX % 'index:all_projects'
SHOW = PREFIX % 'show'

rules = [
    base.rule(CREATE, base.PROJECT_MEMBER_OR_ADMIN,
              'Create a server group.', ('POST', '/os-server-groups')),
    base.rule(DELETE, base.PROJECT_MEMBER_OR_ADMIN,
              'Delete a server group.',
              ('DELETE', '/os-server-groups/{server_group_id}')),
    base.rule(INDEX, base.PROJECT_READER_OR_ADMIN,
              'List the project\'s server groups.',
              ('GET', '/os-server-groups')),
    base.refinement(INDEX_ALL_PROJECTS, base.ADMIN,
                    'List the server groups of every project '
                    '(all_projects).', ('GET', '/os-server-groups')),
    base.rule(SHOW, base.PROJECT_READER_OR_ADMIN,
              'Show a server group.',
              ('GET', '/os-server-groups/{server_group_id}')),
]


def list_rules():
    return rules
