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


_REBUILD_PROPERTIES = {
    'imageRef': _REF,
    'name': _NAME,
    'adminPass': _PASSWORD,
    'metadata': _METADATA,
    'preserve_ephemeral': {'type': 'boolean'},
    'OS-DCF:diskConfig': {'type': 'string', 'enum': ['AUTO', 'MANUAL']},
    'accessIPv4': {'type': 'string'},
    'accessIPv6': {'type': 'string'},
    'description': {'type': ['string', 'null'], 'maxLength': 255},
}


def rebuild(version):
    """The rebuild schema of microversion ``version``.

    Accepted and acted on: imageRef, name; key_name (2.54, null removes
    the key) and user_data (2.57, null removes it). Refused with a 400 by
    the handler when given: trusted_image_certificates (2.63). Accepted
    and not acted on (the fake hosts have no such things): adminPass
    (echoed back), metadata, preserve_ephemeral, OS-DCF:diskConfig,
    accessIPv4/6, description.
    """
    properties = dict(_REBUILD_PROPERTIES)
    if version >= (2, 54):
        properties['key_name'] = {'type': ['string', 'null'],
                                  'minLength': 1, 'maxLength': 255}
    if version >= (2, 57):
        properties['user_data'] = {'type': ['string', 'null'],
                                   'format': 'base64', 'maxLength': 65535}
    if version >= (2, 63):
        properties['trusted_image_certificates'] = {
            'type': ['array', 'null'], 'minItems': 1, 'maxItems': 50,
            'uniqueItems': True, 'items': {'type': 'string',
                                           'minLength': 1}}
    return _wrap('rebuild', {'type': 'object', 'properties': properties,
                             'required': ['imageRef'],
                             'additionalProperties': False})


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

#: Nova's: a name, a type (any string) and how many backups of that
#: type to keep, a non-negative integer (or a string of digits).
CREATE_BACKUP = _wrap('createBackup', {
    'type': 'object',
    'properties': {
        'name': _NAME,
        'backup_type': {'type': 'string'},
        'rotation': {'type': ['integer', 'string'], 'pattern': '^[0-9]+$',
                     'minimum': 0},
        'metadata': _METADATA,
    },
    'required': ['name', 'backup_type', 'rotation'],
    'additionalProperties': False,
})

#: Nova's: any string, the empty one included (no length or pattern:
#: the guest's rules decide).
CHANGE_PASSWORD = _wrap('changePassword', {
    'type': 'object',
    'properties': {'adminPass': _PASSWORD},
    'required': ['adminPass'],
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

def migrate(version):
    """``null`` or ``{}`` (no arguments: tempest and SDKs send ``{}``),
    and from 2.56 ``{"host": ...}`` (null: the scheduler's choice)."""
    if version < (2, 56):
        return _wrap('migrate', {'type': ['object', 'null'],
                                 'additionalProperties': False})
    return _wrap('migrate', {
        'type': ['object', 'null'],
        'properties': {
            'host': {'type': ['string', 'null'], 'minLength': 1,
                     'maxLength': 255},
        },
        'additionalProperties': False,
    })

#: 2.77: an offloaded server may be unshelved into another zone.
UNSHELVE_V277 = _wrap('unshelve', {
    'type': ['object', 'null'],
    'properties': {
        'availability_zone': {'type': 'string', 'minLength': 1,
                              'maxLength': 255},
    },
    'additionalProperties': False,
})
