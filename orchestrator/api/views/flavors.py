"""Flavor bodies: the short form of lists and the detailed form.

``swap`` is ``""`` when the flavor has none (Nova's shape before 2.75);
``description`` (2.55) is beyond our maximum microversion.
"""

from orchestrator.api import links


def basic(req, flavor):
    return {'id': flavor['flavorid'], 'name': flavor['name'],
            'links': links.resource_links(req, 'flavors',
                                          flavor['flavorid'])}


def detail(req, flavor):
    body = basic(req, flavor)
    body.update({
        'ram': flavor['memory_mb'],
        'vcpus': flavor['vcpus'],
        'disk': flavor['root_gb'],
        'swap': flavor['swap'] or '',
        'OS-FLV-EXT-DATA:ephemeral': flavor['ephemeral_gb'],
        'OS-FLV-DISABLED:disabled': bool(flavor['disabled']),
        'os-flavor-access:is_public': bool(flavor['is_public']),
        'rxtx_factor': float(flavor['rxtx_factor']),
    })
    return body
