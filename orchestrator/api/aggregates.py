"""``GET /v2.1/os-aggregates`` (admins): always an empty list.

NOTE(api): there are no host aggregates; openstackclient's ``hypervisor
show`` lists them to show a node's aggregates, so an honest empty list
lets it run unchanged.
"""

from orchestrator.api import request as api_request
from orchestrator.policies import infrastructure


def index(req):
    """GET /os-aggregates (200; 403 for non-admins)."""
    req.authorize(infrastructure.AGGREGATES_INDEX)
    return api_request.json_response({'aggregates': []})


def register(router):
    router.add('GET', '/v2.1/os-aggregates', index)
