"""Request bodies of ``/os-aggregates`` (Nova's schemas).

* create: ``{"aggregate": {"name", "availability_zone"?}}`` (a null zone
  is no zone);
* update: ``{"aggregate": {"name"?, "availability_zone"?}}``, one at
  least;
* actions: ``{"add_host": {"host"}}``, ``{"remove_host": {"host"}}``,
  ``{"set_metadata": {"metadata": {key: value or null}}}``.
"""

_NAME = {'type': 'string', 'minLength': 1, 'maxLength': 255,
         'format': 'name'}
#: A zone's name: no ':' (Nova's ``zone:host:node`` syntax).
_ZONE = {'oneOf': [{'type': 'string', 'minLength': 1, 'maxLength': 255,
                    'format': 'name', 'pattern': '^[^:]*$'},
                   {'type': 'null'}]}
_HOST = {'type': 'string', 'minLength': 1, 'maxLength': 255}


def _envelope(key, properties, required=(), min_properties=0):
    inner = {'type': 'object', 'properties': properties,
             'additionalProperties': False}
    if required:
        inner['required'] = list(required)
    if min_properties:
        inner['minProperties'] = min_properties
    return {'type': 'object', 'properties': {key: inner},
            'required': [key], 'additionalProperties': False}


CREATE = _envelope('aggregate', {'name': _NAME, 'availability_zone': _ZONE},
                   required=['name'])
UPDATE = _envelope('aggregate', {'name': _NAME, 'availability_zone': _ZONE},
                   min_properties=1)
ADD_HOST = _envelope('add_host', {'host': _HOST}, required=['host'])
REMOVE_HOST = _envelope('remove_host', {'host': _HOST}, required=['host'])
SET_METADATA = _envelope('set_metadata', {'metadata': {
    'type': 'object',
    'patternProperties': {
        '^[a-zA-Z0-9-_:. ]{1,255}$': {'type': ['string', 'null'],
                                      'maxLength': 255},
    },
    'additionalProperties': False,
}}, required=['metadata'])

#: Action key -> the schema of the whole body.
ACTIONS = {'add_host': ADD_HOST, 'remove_host': REMOVE_HOST,
           'set_metadata': SET_METADATA}
