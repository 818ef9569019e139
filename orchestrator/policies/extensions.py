"""Rule of the legacy extension list (any authenticated caller, as in
Nova: it says which API features are served, nothing of anyone's
resources)."""

from orchestrator.policies import base

EXTENSIONS = 'os_compute_api:extensions'

rules = [
    base.rule(EXTENSIONS, '@',
              'List the API extensions, or show one.',
              ('GET', '/extensions'), ('GET', '/extensions/{alias}')),
]


def list_rules():
    return rules
