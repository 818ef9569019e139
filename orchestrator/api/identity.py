"""``/identity``: an Identity v3 version document, and nothing else.

NOTE(api): there is no identity service (auth is ``noauth``), but
openstackclient builds an identity client for ``server list`` and
``image list`` even when it never calls it, and fails when the identity
endpoint shows no version. With ``identity_endpoint_override:
<api>/identity`` in clouds.yaml, discovery finds this document and the
commands run unchanged. Any other path under it is a 404.
"""

from orchestrator.api import links
from orchestrator.api import request as api_request

UPDATED = '2020-04-07T00:00:00Z'
MEDIA_TYPE = 'application/vnd.openstack.identity-v3+json'


def _v3(req):
    return {
        'id': 'v3.14',
        'status': 'stable',
        'updated': UPDATED,
        'links': [{'rel': 'self',
                   'href': links.base_url(req) + '/identity/v3/'}],
        'media-types': [{'base': 'application/json', 'type': MEDIA_TYPE}],
    }


def versions(req):
    """GET /identity: the versions (300, as Keystone)."""
    return api_request.json_response(
        {'versions': {'values': [_v3(req)]}}, status=300)


def show_v3(req):
    """GET /identity/v3: the v3 document (200)."""
    return api_request.json_response({'version': _v3(req)})


def register(router):
    router.add('GET', '/identity', versions)
    router.add('GET', '/identity/v3', show_v3)
