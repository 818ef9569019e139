"""Version documents of the Compute API: ``/``, ``/v2.1`` and ``/v2``.

``/`` lists the API versions as Nova does: v2.0 (SUPPORTED, no
microversions) and v2.1 (CURRENT); ``/v2.1`` and ``/v2`` describe each
with its microversion range and media types. Clients (keystoneauth's
discovery, openstacksdk) read ``version`` and ``min_version`` from these
to negotiate a microversion.

v2.0 is served as Nova serves it, by the v2.1 API under ``/v2``
(:func:`legacy_v2_path`): every ``/v2/...`` request is answered as the
same ``/v2.1/...`` request at microversion 2.1 whatever it asks for, with
no microversion headers in the answer (links in bodies name ``/v2.1``,
where the same resources are).
"""

from orchestrator.api import links
from orchestrator.api import microversion
from orchestrator.api import request as api_request

UPDATED = '2013-07-23T11:33:21Z'
V20_UPDATED = '2011-01-21T11:33:21Z'
LEGACY_PREFIX = '/v2'


def _v21(req):
    return {
        'id': 'v2.1',
        'status': 'CURRENT',
        'version': str(microversion.MAX_VERSION),
        'min_version': str(microversion.MIN_VERSION),
        'updated': UPDATED,
        'links': [{'rel': 'self', 'href': links.compute_url(req) + '/'}],
    }


def _v20(req):
    return {
        'id': 'v2.0',
        'status': 'SUPPORTED',
        'version': '',
        'min_version': '',
        'updated': V20_UPDATED,
        'links': [{'rel': 'self',
                   'href': links.base_url(req) + LEGACY_PREFIX + '/'}],
    }


def legacy_v2_path(path):
    """The ``/v2.1`` path that answers the legacy ``/v2`` request
    ``path``, or None when ``path`` is not under ``/v2/`` (``/v2`` itself
    is v2.0's version document)."""
    if path.startswith(LEGACY_PREFIX + '/') and \
            path.rstrip('/') != LEGACY_PREFIX:
        return links.COMPUTE_PREFIX + path[len(LEGACY_PREFIX):]
    return None


def list_versions(req):
    """GET / : every API version (200)."""
    # NOTE(api): v2.0 first, as Nova (tempest's test_list_api_versions
    # checks it); clients pick by version, not by position.
    return api_request.json_response({'versions': [_v20(req), _v21(req)]})


def show_v21(req):
    """GET /v2.1 : the v2.1 document with links and media types (200)."""
    return api_request.json_response({'version': _with_details(_v21(req),
                                                               '2.1')})


def _with_details(doc, media_version):
    doc['links'].append({'rel': 'describedby', 'type': 'text/html',
                         'href': 'https://docs.openstack.org/'})
    doc['media-types'] = [{
        'base': 'application/json',
        'type': 'application/vnd.openstack.compute+json;version=%s'
                % media_version}]
    return doc


def show_v20(req):
    """GET /v2 : the v2.0 document (200)."""
    return api_request.json_response({'version': _with_details(_v20(req),
                                                               '2')})


def register(router):
    router.add('GET', '/', list_versions)
    router.add('GET', '/v2.1', show_v21)
    router.add('GET', LEGACY_PREFIX, show_v20)
