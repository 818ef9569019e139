"""Request bodies of flavor create and update, extra specs and flavor
access (Nova's schemas)."""

import copy

#: The largest integer a column holds.
MAX_INT = 0x7FFFFFFF

_POSITIVE = {'type': ['integer', 'string'], 'pattern': '^[0-9]*$',
             'minimum': 1, 'maximum': MAX_INT}
_NON_NEGATIVE = {'type': ['integer', 'string'], 'pattern': '^[0-9]*$',
                 'minimum': 0, 'maximum': MAX_INT}
_BOOLEAN = {
    'type': ['boolean', 'string'],
    'enum': [True, False] + [
        spelling for word in ('1', 'on', 'yes', 'true', '0', 'off', 'no',
                              'false')
        for spelling in (word, word.upper(), word.capitalize())],
}

create = {
    'type': 'object',
    'properties': {
        'flavor': {
            'type': 'object',
            'properties': {
                'name': {'type': 'string', 'format': 'name',
                         'minLength': 1, 'maxLength': 255},
                'id': {'type': ['string', 'number', 'null'],
                       'minLength': 1, 'maxLength': 255,
                       'pattern': '^(?! )[a-zA-Z0-9. _-]+(?<! )$'},
                'ram': _POSITIVE,
                'vcpus': _POSITIVE,
                'disk': _NON_NEGATIVE,
                'OS-FLV-EXT-DATA:ephemeral': _NON_NEGATIVE,
                'swap': _NON_NEGATIVE,
                'rxtx_factor': {'type': ['number', 'string'],
                                'pattern': r'^[0-9]+(\.[0-9]+)?$',
                                'minimum': 0, 'exclusiveMinimum': True,
                                'maximum': 3.40282e+38},
                'os-flavor-access:is_public': _BOOLEAN,
            },
            'required': ['name', 'ram', 'vcpus', 'disk'],
            'additionalProperties': False,
        },
    },
    'required': ['flavor'],
    'additionalProperties': False,
}

#: A flavor's description (2.55): printable text, null for none.
DESCRIPTION = {'type': ['string', 'null'], 'minLength': 0,
               'maxLength': 65535, 'pattern': r'^[^\x00-\x1F\x7F]*$'}


def create_for(version):
    """The create schema of microversion ``version``: 2.55 adds
    ``description``."""
    schema = copy.deepcopy(create)
    if version >= (2, 55):
        schema['properties']['flavor']['properties'][
            'description'] = DESCRIPTION
    return schema


#: ``PUT /flavors/{id}`` (2.55): only the description changes.
update = {
    'type': 'object',
    'properties': {'flavor': {
        'type': 'object', 'properties': {'description': DESCRIPTION},
        'required': ['description'], 'additionalProperties': False}},
    'required': ['flavor'],
    'additionalProperties': False,
}

_SPEC_KEY = '^[a-zA-Z0-9-_:. ]{1,255}$'
_SPEC_VALUE = {'type': ['string', 'number', 'boolean'], 'minLength': 0,
               'maxLength': 255}
_SPECS = {'type': 'object', 'patternProperties': {_SPEC_KEY: _SPEC_VALUE},
          'additionalProperties': False}

extra_specs_create = {
    'type': 'object',
    'properties': {'extra_specs': _SPECS},
    'required': ['extra_specs'],
    'additionalProperties': False,
}

extra_spec_update = dict(_SPECS, minProperties=1, maxProperties=1)

_TENANT = {'type': 'object',
           'properties': {'tenant': {'type': 'string', 'minLength': 1,
                                     'maxLength': 255}},
           'required': ['tenant'], 'additionalProperties': False}

add_tenant_access = {'type': 'object',
                     'properties': {'addTenantAccess': _TENANT},
                     'required': ['addTenantAccess'],
                     'additionalProperties': False}
remove_tenant_access = {'type': 'object',
                        'properties': {'removeTenantAccess': _TENANT},
                        'required': ['removeTenantAccess'],
                        'additionalProperties': False}
