"""Rules of a server's encrypted password (os-server-password): a
project's reader may read it, a member clear it, as in Nova."""

from orchestrator.policies import base

SHOW = 'os_compute_api:os-server-password:show'
CLEAR = 'os_compute_api:os-server-password:clear'

rules = [
    base.rule(SHOW, base.PROJECT_READER_OR_ADMIN,
              'Show the encrypted password of a server.',
              ('GET', '/servers/{server_id}/os-server-password')),
    base.rule(CLEAR, base.PROJECT_MEMBER_OR_ADMIN,
              'Clear the encrypted password of a server.',
              ('DELETE', '/servers/{server_id}/os-server-password')),
]


def list_rules():
    return rules
