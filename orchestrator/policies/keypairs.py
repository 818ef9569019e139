"""Rules of keypairs (Nova's names).

A keypair belongs to a user: the caller acts on their own (a reader
lists and shows them, a member creates and deletes them); an
administrator may name another user (``user_id``, 2.10+), which the
``other_user`` refinement guards.
"""

from orchestrator.policies import base

PREFIX = 'os_compute_api:os-keypairs:%s'
INDEX = PREFIX % 'index'
SHOW = PREFIX % 'show'
CREATE = PREFIX % 'create'
DELETE = PREFIX % 'delete'
OTHER_USER = PREFIX % 'other_user'

rules = [
    base.rule(INDEX, base.PROJECT_READER_OR_ADMIN,
              'List the caller\'s keypairs.', ('GET', '/os-keypairs')),
    base.rule(SHOW, base.PROJECT_READER_OR_ADMIN,
              'Show one of the caller\'s keypairs.',
              ('GET', '/os-keypairs/{keypair_name}')),
    base.rule(CREATE, base.PROJECT_MEMBER_OR_ADMIN,
              'Create or import a keypair.', ('POST', '/os-keypairs')),
    base.rule(DELETE, base.PROJECT_MEMBER_OR_ADMIN,
              'Delete one of the caller\'s keypairs.',
              ('DELETE', '/os-keypairs/{keypair_name}')),
    base.refinement(OTHER_USER, base.ADMIN,
                    'List, show, create or delete another user\'s '
                    'keypairs (user_id, 2.10+).',
                    ('GET', '/os-keypairs'), ('POST', '/os-keypairs'),
                    ('GET', '/os-keypairs/{keypair_name}'),
                    ('DELETE', '/os-keypairs/{keypair_name}')),
]


def list_rules():
    return rules
