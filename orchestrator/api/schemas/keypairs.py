"""Request body of ``POST /os-keypairs`` (Nova's schemas).

``name`` (1 to 255 characters) is required; ``public_key`` imports a
key (none: one is generated and its private key returned once);
2.2 adds ``type`` (``ssh`` or ``x509``); 2.10 adds ``user_id`` (the
owner, for administrators).
"""

import copy

_BASE = {
    'type': 'object',
    'properties': {
        'keypair': {
            'type': 'object',
            'properties': {
                'name': {'type': 'string', 'minLength': 1,
                         'maxLength': 255},
                'public_key': {'type': 'string'},
            },
            'required': ['name'],
            'additionalProperties': False,
        },
    },
    'required': ['keypair'],
    'additionalProperties': False,
}


def create(version):
    """The create schema of microversion ``version``."""
    schema = copy.deepcopy(_BASE)
    properties = schema['properties']['keypair']['properties']
    if version >= (2, 2):
        properties['type'] = {'type': 'string', 'enum': ['ssh', 'x509']}
    if version >= (2, 10):
        properties['user_id'] = {'type': 'string', 'minLength': 1,
                                 'maxLength': 255}
    return schema
