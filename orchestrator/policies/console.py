"""Rules of the web console's JSON API (``/console/api/...``).

The console shows what the Compute API shows, for people: a project's
readers and members see their project's servers, actions and flows; an
administrator sees every project's and the hosts, and may repair a
failed flow (the audited retry and revert of ``orchestrator-manage
flows``). ``/console/api/session`` and ``/console/api/login`` are public
(the console asks who is signed in, and signs in): no rule guards them.
"""

from orchestrator.policies import base

VIEW = 'console:view'
VIEW_ALL = 'console:view_all'
REPAIR = 'console:repair'

_API = '/console/api'

rules = [
    base.rule(VIEW, base.PROJECT_READER_OR_ADMIN,
              "See the project's servers, their actions and flows, and "
              'the state rules in the console.',
              ('GET', _API + '/servers'),
              ('GET', _API + '/servers/{server_id}'),
              ('GET', _API + '/flows'),
              ('GET', _API + '/flows/{flow_id}'),
              ('GET', _API + '/states')),
    base.rule(VIEW_ALL, base.ADMIN,
              "See every project's servers and flows (all_projects) and "
              'the hosts page in the console.',
              ('GET', _API + '/hosts')),
    base.rule(REPAIR, base.ADMIN,
              'Retry or revert a failed flow from the console (audited, '
              'as orchestrator-manage flows retry|revert).',
              ('POST', _API + '/flows/{flow_id}/retry'),
              ('POST', _API + '/flows/{flow_id}/revert')),
]


def list_rules():
    return rules
