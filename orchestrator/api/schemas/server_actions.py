"""Request bodies of server actions that take arguments (``POST
/servers/{id}/action``), a subset of Nova's schemas.

Each schema validates ``{<action key>: <value>}`` so that error messages
name the field as the client sent it (``rebuild.imageRef``).
"""

_NAME = {'type': 'string', 'minLength': 1, 'maxLength': 255,
         'format': 'name'}
_REF = {'type': 'string', 'minLength': 1, 'maxLength': 255}
_PASSWORD = {'type': 'string'}
_METADATA = {
    'type': 'object',
    'patternProperties': {
        '^[a-zA-Z0-9-_:. ]{1,255}$': {'type': 'string', 'maxLength': 255}},
    'additionalProperties': False,
}


def _wrap(key, value_schema):
    return {'type': 'object', 'properties': {key: value_schema},
            'required': [key], 'additionalProperties': False}


#: Accepted and acted on: imageRef, name. Accepted and not acted on
#: (the fake hosts have no such things): adminPass (echoed back),
#: metadata, preserve_ephemeral, OS-DCF:diskConfig, accessIPv4/6,
#: description.
REBUILD = _wrap('rebuild', {
    'type': 'object',
    'properties': {
        'imageRef': _REF,
        'name': _NAME,
        'adminPass': _PASSWORD,
        'metadata': _METADATA,
        'preserve_ephemeral': {'type': 'boolean'},
        'OS-DCF:diskConfig': {'type': 'string',
                              'enum': ['AUTO', 'MANUAL']},
        'accessIPv4': {'type': 'string'},
        'accessIPv6': {'type': 'string'},
        'description': {'type': ['string', 'null'], 'maxLength': 255},
    },
    'required': ['imageRef'],
    'additionalProperties': False,
})

RESCUE = _wrap('rescue', {
    'type': ['object', 'null'],
    'properties': {
        'adminPass': _PASSWORD,
        'rescue_image_ref': _REF,
    },
    'additionalProperties': False,
})

CREATE_IMAGE = _wrap('createImage', {
    'type': 'object',
    'properties': {
        'name': _NAME,
        'metadata': _METADATA,
    },
    'required': ['name'],
    'additionalProperties': False,
})

RESIZE = _wrap('resize', {
    'type': 'object',
    'properties': {
        'flavorRef': {'type': ['string', 'integer'], 'minLength': 1},
        'OS-DCF:diskConfig': {'type': 'string',
                              'enum': ['AUTO', 'MANUAL']},
    },
    'required': ['flavorRef'],
    'additionalProperties': False,
})

#: ``null`` (2.1) or, as from 2.56 in Nova, ``{"host": ...}``; accepted at
#: every microversion here.
MIGRATE = _wrap('migrate', {
    'type': ['object', 'null'],
    'properties': {
        'host': {'type': ['string', 'null'], 'minLength': 1,
                 'maxLength': 255},
    },
    'additionalProperties': False,
})
