"""Version documents of the Compute API: ``/`` and ``/v2.1``.

``/`` lists the API versions (only v2.1 here: there is no legacy v2.0);
``/v2.1`` describes v2.1 with its microversion range and media types.
Clients (keystoneauth's discovery, openstacksdk) read ``version`` and
``min_version`` from these to negotiate a microversion.
"""

from orchestrator.api import links
from orchestrator.api import microversion
from orchestrator.api import request as api_request

UPDATED = '2013-07-23T11:33:21Z'
MEDIA_TYPES = [{'base': 'application/json',
                'type': 'application/vnd.openstack.compute+json;version=2.1'}]


def _v21(req):
    return {
        'id': 'v2.1',
        'status': 'CURRENT',
        'version': str(microversion.MAX_VERSION),
        'min_version': str(microversion.MIN_VERSION),
        'updated': UPDATED,
        'links': [{'rel': 'self', 'href': links.compute_url(req) + '/'}],
    }


def list_versions(req):
    """GET / : every API version (200)."""
    return api_request.json_response({'versions': [_v21(req)]})


def show_v21(req):
    """GET /v2.1 : the v2.1 document with links and media types (200)."""
    doc = _v21(req)
    doc['links'].append({'rel': 'describedby', 'type': 'text/html',
                         'href': 'https://docs.openstack.org/'})
    doc['media-types'] = MEDIA_TYPES
    return api_request.json_response({'version': doc})


def register(router):
    router.add('GET', '/', list_versions)
    router.add('GET', '/v2.1', show_v21)
