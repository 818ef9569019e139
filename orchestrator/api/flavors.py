"""``/v2.1/flavors``: list (short and detailed), show, create, delete,
extra specs and access, as Nova's.

Query parameters of the lists: ``is_public`` (true, false, or none for
both; public flavors and those shared with the caller's project by
default; the others are for admins), ``minRam``, ``minDisk``, ``limit``,
``marker`` (a flavor id; 400 if unknown). Sorted by flavor id. Disabled
flavors are not listed but can be shown. A non-public flavor is found
(shown, listed, booted) only by administrators and the projects it is
shared with: a 404 to anyone else.

Administrators only:

* ``POST /flavors`` ``{"flavor": {"name", "ram", "vcpus", "disk", "id"?,
  "OS-FLV-EXT-DATA:ephemeral"?, "swap"?, "rxtx_factor"?,
  "os-flavor-access:is_public"?}}``: 200 with the flavor; no id (or
  null): a generated uuid; 409 on a name or id in use;
* ``DELETE /flavors/{id}``: 202 (servers keep the flavor they were built
  with);
* ``POST /flavors/{id}/os-extra_specs`` ``{"extra_specs": {k: v}}`` (added
  to or replacing the others), ``PUT .../os-extra_specs/{key}`` ``{key:
  v}``, ``DELETE .../os-extra_specs/{key}``; values are stored as strings;
* ``GET /flavors/{id}/os-flavor-access`` (404 for a public flavor) and
  ``POST /flavors/{id}/action`` with ``addTenantAccess`` (409 for a
  public flavor from 2.7, or a project that has access) or
  ``removeTenantAccess`` (404 when it had none) ``{"tenant": project}``:
  ``{"flavor_access": [{"flavor_id", "tenant_id"}]}``.

Any reader lists and shows the extra specs of the flavors they see
(``GET .../os-extra_specs``: ``{"extra_specs": {...}}``; ``GET
.../os-extra_specs/{key}``: ``{key: value}``, 404 if absent).
"""

import uuid as uuidlib

from oslo_utils import strutils

from orchestrator import exception
from orchestrator.api import links
from orchestrator.api import query
from orchestrator.api import request as api_request
from orchestrator.api import validation
from orchestrator.api.schemas import flavors as schemas
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
            marker=marker, project_id=req.context.project_id)
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


def visible_to(req):
    """The project whose flavors the caller finds (None: every one)."""
    if req.can(catalog_rules.FLAVORS_NON_PUBLIC):
        return None
    return req.context.project_id


def get_visible(req, flavor_id):
    """The flavor if the caller may find it, else FlavorNotFound."""
    return catalog.flavor_get(flavor_id, visible_to=visible_to(req))


def show(req, flavor_id):
    """GET /flavors/{id} (200, 404)."""
    flavor = get_visible(req, flavor_id)
    return api_request.json_response(
        {'flavor': flavor_views.detail(req, flavor)})


def create(req):
    """POST /flavors (200, 400, 409)."""
    req.authorize(catalog_rules.FLAVORS_CREATE)
    body = req.json_body()
    validation.validate(body, schemas.create_for(req.api_version))
    asked = body['flavor']
    flavorid = asked.get('id')
    flavorid = str(uuidlib.uuid4()) if flavorid is None else str(flavorid)
    is_public = asked.get('os-flavor-access:is_public', True)
    flavor = catalog.flavor_create({
        'flavorid': flavorid, 'name': asked['name'],
        'memory_mb': int(asked['ram']), 'vcpus': int(asked['vcpus']),
        'root_gb': int(asked['disk']),
        'ephemeral_gb': int(asked.get('OS-FLV-EXT-DATA:ephemeral') or 0),
        'swap': int(asked.get('swap') or 0),
        'rxtx_factor': float(asked.get('rxtx_factor', 1.0)),
        'is_public': strutils.bool_from_string(is_public, strict=True),
        'disabled': False, 'extra_specs': {},
        'description': asked.get('description')})
    return api_request.json_response(
        {'flavor': flavor_views.detail(req, flavor)})


def update(req, flavor_id):
    """PUT /flavors/{id} (2.55+; 200 with the flavor, 400, 404): the
    description, the one thing of a flavor that may change. Before 2.55
    there is no such method (404, as Nova)."""
    if not req.at_least(2, 55):
        raise exception.NotFound()
    req.authorize(catalog_rules.FLAVORS_UPDATE)
    body = req.json_body()
    validation.validate(body, schemas.update)
    flavor = catalog.flavor_update_description(
        flavor_id, body['flavor']['description'])
    return api_request.json_response(
        {'flavor': flavor_views.detail(req, flavor)})


def delete(req, flavor_id):
    """DELETE /flavors/{id} (202, 404)."""
    req.authorize(catalog_rules.FLAVORS_DELETE)
    catalog.flavor_delete(flavor_id)
    return api_request.empty_response(202)


def _specs(flavor):
    return dict(flavor.get('extra_specs') or {})


def _as_strings(specs):
    """Values as stored: strings (a boolean as Nova writes it)."""
    return {k: v if isinstance(v, str) else str(v)
            for k, v in specs.items()}


def extra_specs_index(req, flavor_id):
    """GET /flavors/{id}/os-extra_specs (200)."""
    req.authorize(catalog_rules.EXTRA_SPECS_INDEX)
    return api_request.json_response(
        {'extra_specs': _specs(get_visible(req, flavor_id))})


def extra_specs_create(req, flavor_id):
    """POST /flavors/{id}/os-extra_specs (200, with the specs set)."""
    req.authorize(catalog_rules.EXTRA_SPECS_CREATE)
    body = req.json_body()
    validation.validate(body, schemas.extra_specs_create)
    specs = _as_strings(body['extra_specs'])
    catalog.flavor_extra_specs_update(flavor_id, specs)
    return api_request.json_response({'extra_specs': specs})


def extra_spec_show(req, flavor_id, key):
    """GET /flavors/{id}/os-extra_specs/{key} (200, 404)."""
    req.authorize(catalog_rules.EXTRA_SPECS_SHOW)
    specs = _specs(get_visible(req, flavor_id))
    if key not in specs:
        raise catalog.FlavorExtraSpecNotFound(flavor_id=flavor_id, key=key)
    return api_request.json_response({key: specs[key]})


def extra_spec_update(req, flavor_id, key):
    """PUT /flavors/{id}/os-extra_specs/{key} (200; 400 when the body
    names another key)."""
    req.authorize(catalog_rules.EXTRA_SPECS_UPDATE)
    body = req.json_body()
    validation.validate(body, schemas.extra_spec_update)
    if key not in body:
        raise exception.Invalid('Request body and URI mismatch')
    specs = _as_strings(body)
    catalog.flavor_extra_specs_update(flavor_id, specs)
    return api_request.json_response(specs)


def extra_spec_delete(req, flavor_id, key):
    """DELETE /flavors/{id}/os-extra_specs/{key} (200, 404)."""
    req.authorize(catalog_rules.EXTRA_SPECS_DELETE)
    catalog.flavor_extra_spec_delete(flavor_id, key)
    return api_request.empty_response(200)


def _access(flavor_id):
    return api_request.json_response({'flavor_access': [
        {'flavor_id': flavor_id, 'tenant_id': project}
        for project in catalog.flavor_access_list(flavor_id)]})


def access_index(req, flavor_id):
    """GET /flavors/{id}/os-flavor-access (200; 404 if public)."""
    req.authorize(catalog_rules.FLAVOR_ACCESS)
    flavor = catalog.flavor_get(flavor_id)
    if flavor['is_public']:
        raise exception.NotFound('Access list not available for public '
                                 'flavors.')
    return _access(flavor['flavorid'])


def _add_tenant_access(req, flavor_id, body):
    req.authorize(catalog_rules.FLAVOR_ACCESS_ADD)
    validation.validate(body, schemas.add_tenant_access)
    flavor = catalog.flavor_get(flavor_id)
    if req.at_least(2, 7) and flavor['is_public']:
        raise exception.Conflict('Can not add access to a public flavor.')
    catalog.flavor_access_add(flavor['flavorid'],
                              body['addTenantAccess']['tenant'])
    return _access(flavor['flavorid'])


def _remove_tenant_access(req, flavor_id, body):
    req.authorize(catalog_rules.FLAVOR_ACCESS_REMOVE)
    validation.validate(body, schemas.remove_tenant_access)
    flavor = catalog.flavor_get(flavor_id)
    catalog.flavor_access_remove(flavor['flavorid'],
                                 body['removeTenantAccess']['tenant'])
    return _access(flavor['flavorid'])


#: Body key of ``POST /flavors/{id}/action`` -> its handler.
ACTIONS = {'addTenantAccess': _add_tenant_access,
           'removeTenantAccess': _remove_tenant_access}


def action(req, flavor_id):
    """POST /flavors/{id}/action (addTenantAccess, removeTenantAccess)."""
    return api_request.dispatch_action(req, ACTIONS, flavor_id)


def register(router):
    router.add('GET', '/v2.1/flavors', index)
    router.add('POST', '/v2.1/flavors', create)
    router.add('GET', '/v2.1/flavors/detail', detail)
    router.add('GET', '/v2.1/flavors/{flavor_id}', show)
    router.add('PUT', '/v2.1/flavors/{flavor_id}', update)
    router.add('DELETE', '/v2.1/flavors/{flavor_id}', delete)
    specs = '/v2.1/flavors/{flavor_id}/os-extra_specs'
    router.add('GET', specs, extra_specs_index)
    router.add('POST', specs, extra_specs_create)
    router.add('GET', specs + '/{key}', extra_spec_show)
    router.add('PUT', specs + '/{key}', extra_spec_update)
    router.add('DELETE', specs + '/{key}', extra_spec_delete)
    router.add('GET', '/v2.1/flavors/{flavor_id}/os-flavor-access',
               access_index)
    router.add('POST', '/v2.1/flavors/{flavor_id}/action', action)
