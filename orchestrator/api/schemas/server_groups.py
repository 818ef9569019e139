"""Request body of ``POST /os-server-groups`` (Nova's schemas).

Before 2.64: ``{"server_group": {"name", "policies": [one policy]}}``,
the policy ``affinity`` or ``anti-affinity``, and from 2.15 also
``soft-affinity`` or ``soft-anti-affinity``. From 2.64: ``{"name",
"policy", "rules"?}``, ``rules`` holding ``max_server_per_host`` (a
positive integer) only.
"""

import copy

_NAME = {'type': 'string', 'minLength': 1, 'maxLength': 255,
         'format': 'name'}
_HARD = ['anti-affinity', 'affinity']
_SOFT = ['soft-anti-affinity', 'soft-affinity']


def _envelope(properties, required):
    return {
        'type': 'object',
        'properties': {
            'server_group': {
                'type': 'object',
                'properties': properties,
                'required': required,
                'additionalProperties': False,
            },
        },
        'required': ['server_group'],
        'additionalProperties': False,
    }


_BEFORE_2_64 = _envelope({
    'name': _NAME,
    'policies': {
        'type': 'array',
        'items': {'type': 'string', 'enum': _HARD},
        'uniqueItems': True,
        'minItems': 1,
        'maxItems': 1,
    },
}, ['name', 'policies'])

_FROM_2_64 = _envelope({
    'name': _NAME,
    'policy': {'type': 'string', 'enum': _HARD + _SOFT},
    'rules': {
        'type': 'object',
        'properties': {
            'max_server_per_host': {
                'type': ['integer', 'string'], 'pattern': '^[0-9]*$',
                'minimum': 1, 'minLength': 1,
            },
        },
        'additionalProperties': False,
    },
}, ['name', 'policy'])


def create(version):
    """The create schema of microversion ``version``."""
    if version >= (2, 64):
        return copy.deepcopy(_FROM_2_64)
    schema = copy.deepcopy(_BEFORE_2_64)
    if version >= (2, 15):
        policies = schema['properties']['server_group']['properties'][
            'policies']
        policies['items']['enum'] = _HARD + _SOFT
    return schema
