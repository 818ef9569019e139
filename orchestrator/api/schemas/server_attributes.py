"""Request bodies of ``PUT /servers/{id}`` and of
``/servers/{id}/metadata`` (Nova's schemas)."""

import copy

from orchestrator.api.schemas import servers as server_schemas

#: A metadata dict: keys of 1 to 255 letters, digits and ``-_:. ``,
#: string values of at most 255 characters.
METADATA = server_schemas.create((2, 1))['properties']['server'][
    'properties']['metadata']

_UPDATE = {
    'type': 'object',
    'properties': {
        'server': {
            'type': 'object',
            'properties': {
                'name': {'type': 'string', 'minLength': 1,
                         'maxLength': 255, 'format': 'name'},
                'accessIPv4': {'type': 'string', 'format': 'ipv4'},
                'accessIPv6': {'type': 'string', 'format': 'ipv6'},
                'OS-DCF:diskConfig': {'type': 'string',
                                      'enum': ['AUTO', 'MANUAL']},
            },
            'additionalProperties': False,
        },
    },
    'required': ['server'],
    'additionalProperties': False,
}


def update(version):
    """The update schema at ``version``: 2.19 adds ``description``."""
    schema = copy.deepcopy(_UPDATE)
    if version >= (2, 19):
        schema['properties']['server']['properties']['description'] = {
            'type': ['string', 'null'], 'maxLength': 255}
    return schema


#: POST and PUT /servers/{id}/metadata: {"metadata": {...}}.
METADATA_BODY = {
    'type': 'object',
    'properties': {'metadata': METADATA},
    'required': ['metadata'],
    'additionalProperties': False,
}

#: PUT /servers/{id}/metadata/{key}: {"meta": {key: value}}, one item.
META_ITEM_BODY = {
    'type': 'object',
    'properties': {'meta': dict(METADATA, minProperties=1,
                                maxProperties=1)},
    'required': ['meta'],
    'additionalProperties': False,
}
