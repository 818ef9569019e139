"""Rules of a server's diagnostics (administrators, as in Nova)."""

from orchestrator.policies import base

DIAGNOSTICS = 'os_compute_api:os-server-diagnostics'

rules = [
    base.rule(DIAGNOSTICS, base.ADMIN,
              'Show the diagnostics of a server (2.48: the standard body).',
              ('GET', '/servers/{server_id}/diagnostics')),
]


def list_rules():
    return rules
