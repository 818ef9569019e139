"""``/v2.1/flavors``: list (short and detailed) and show.

Query parameters of the lists: ``is_public`` (true, false, or none for
both; only public flavors by default; others than public ones are for
admins), ``minRam``, ``minDisk``, ``limit``, ``marker`` (a flavor id; 400
if unknown). Sorted by flavor id. Disabled flavors are not listed but can
be shown.
"""

from orchestrator import exception
from orchestrator.api import links
from orchestrator.api import query
from orchestrator.api import request as api_request
from orchestrator.api.views import flavors as flavor_views
from orchestrator.db import catalog
from orchestrator.policies import catalog as catalog_rules


def _is_public(req):
    value = query.one(req, 'is_public')
    if value is None:
        return True
    if not req.can(catalog_rules.FLAVORS_NON_PUBLIC):
        # NOTE(api): as Nova, non-admins only ever see public flavors.
        return True
    if value.strip().lower() == 'none':
        return None
    try:
        return query.boolean(req, 'is_public')
    except exception.Invalid:
        raise exception.Invalid('Invalid is_public filter [%s]' % value) \
            from None


def _min_filter(req, name):
    value = query.one(req, name)
    if value is None:
        return None
    number = query.db_integer(value)
    if number is None or number < 0:
        raise exception.Invalid('Invalid %s filter [%s]' % (name, value))
    return number


def _list(req, render, href):
    limit = query.limit(req)
    marker = query.one(req, 'marker')
    try:
        flavors = catalog.flavor_list(
            is_public=_is_public(req), min_ram=_min_filter(req, 'minRam'),
            min_disk=_min_filter(req, 'minDisk'), limit=limit,
            marker=marker)
    except exception.FlavorNotFound:
        raise exception.Invalid('marker [%s] not found' % marker) from None
    body = {'flavors': [render(req, f) for f in flavors]}
    next_links = query.next_link(req, href, flavors, limit, key='flavorid')
    if next_links:
        body['flavors_links'] = next_links
    return api_request.json_response(body)


def index(req):
    """GET /flavors: {id, name, links} per flavor (200)."""
    return _list(req, flavor_views.basic, links.compute_url(req, 'flavors'))


def detail(req):
    """GET /flavors/detail (200)."""
    return _list(req, flavor_views.detail,
                 links.compute_url(req, 'flavors', 'detail'))


def show(req, flavor_id):
    """GET /flavors/{id} (200, 404)."""
    flavor = catalog.flavor_get(flavor_id)
    return api_request.json_response(
        {'flavor': flavor_views.detail(req, flavor)})


def register(router):
    router.add('GET', '/v2.1/flavors', index)
    router.add('GET', '/v2.1/flavors/detail', detail)
    router.add('GET', '/v2.1/flavors/{flavor_id}', show)
