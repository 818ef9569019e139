"""Flavor bodies: the short form of lists and the detailed form, per
microversion.

``swap`` is ``""`` when the flavor has none before 2.75, 0 from 2.75;
``description`` is shown from 2.55 (both forms); ``extra_specs`` in the
detailed form from 2.61, to callers whom policy lets list extra specs
(``os_compute_api:os-flavor-extra-specs:index``), as Nova.
"""

from orchestrator.api import links
from orchestrator.policies import catalog as catalog_rules


def basic(req, flavor):
    body = {'id': flavor['flavorid'], 'name': flavor['name'],
            'links': links.resource_links(req, 'flavors',
                                          flavor['flavorid'])}
    if req.at_least(2, 55):
        body['description'] = flavor.get('description')
    return body


def detail(req, flavor):
    body = basic(req, flavor)
    swap = flavor['swap'] or (0 if req.at_least(2, 75) else '')
    body.update({
        'ram': flavor['memory_mb'],
        'vcpus': flavor['vcpus'],
        'disk': flavor['root_gb'],
        'swap': swap,
        'OS-FLV-EXT-DATA:ephemeral': flavor['ephemeral_gb'],
        'OS-FLV-DISABLED:disabled': bool(flavor['disabled']),
        'os-flavor-access:is_public': bool(flavor['is_public']),
        'rxtx_factor': float(flavor['rxtx_factor']),
    })
    if req.at_least(2, 61) and req.can(catalog_rules.EXTRA_SPECS_INDEX):
        body['extra_specs'] = {str(k): str(v) for k, v in
                               (flavor.get('extra_specs') or {}).items()}
    return body
