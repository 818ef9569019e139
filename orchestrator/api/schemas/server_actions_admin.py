"""Request bodies of ``os-migrateLive`` and ``evacuate``, per
microversion, as Nova's schemas have them (a subset: no volumes).

:func:`live_migrate` and :func:`evacuate` return the schema for the
microversion a request asked for; each validates ``{<action key>:
<value>}`` so error messages name the field as the client sent it.
"""

_HOST = {'type': 'string', 'minLength': 1, 'maxLength': 255,
         'pattern': '^[a-zA-Z0-9-._:]*$'}
_HOST_OR_NULL = {'oneOf': [_HOST, {'type': 'null'}]}
#: Nova's "boolean": a JSON boolean or one of the strings it spells.
_BOOLEAN = {'type': ['boolean', 'string'],
            'enum': [True, 'True', 'TRUE', 'true', '1', 'ON', 'On', 'on',
                     'YES', 'Yes', 'yes', False, 'False', 'FALSE', 'false',
                     '0', 'OFF', 'Off', 'off', 'NO', 'No', 'no']}
_BOOLEAN_OR_AUTO = {'oneOf': [_BOOLEAN, {'type': 'string',
                                         'enum': ['auto']}]}
_PASSWORD = {'type': 'string'}

_TRUE_STRINGS = ('true', '1', 'on', 'yes')


def as_bool(value):
    """A value accepted by ``_BOOLEAN`` as a Python bool ('auto' stays
    'auto')."""
    if isinstance(value, bool) or value is None or value == 'auto':
        return value
    return str(value).lower() in _TRUE_STRINGS


def _wrap(key, value_schema):
    return {'type': 'object', 'properties': {key: value_schema},
            'required': [key], 'additionalProperties': False}


def live_migrate(version):
    """``os-migrateLive``: 2.1 requires host (or null), block_migration
    and disk_over_commit; 2.25 drops disk_over_commit and allows
    block_migration 'auto'; 2.30 adds force, 2.68 removes it."""
    properties = {'host': _HOST_OR_NULL}
    required = ['host', 'block_migration']
    if version < (2, 25):
        properties.update(block_migration=_BOOLEAN,
                          disk_over_commit=_BOOLEAN)
        required.append('disk_over_commit')
    else:
        properties['block_migration'] = _BOOLEAN_OR_AUTO
    if (2, 30) <= version < (2, 68):
        properties['force'] = _BOOLEAN
    return _wrap('os-migrateLive', {
        'type': 'object', 'properties': properties, 'required': required,
        'additionalProperties': False})


def evacuate(version):
    """``evacuate``: 2.1 requires onSharedStorage; 2.14 drops it; 2.29
    adds force, 2.68 removes it. host and adminPass are optional
    throughout."""
    properties = {'host': _HOST, 'adminPass': _PASSWORD}
    required = []
    if version < (2, 14):
        properties['onSharedStorage'] = _BOOLEAN
        required.append('onSharedStorage')
    if (2, 29) <= version < (2, 68):
        properties['force'] = _BOOLEAN
    value = {'type': 'object', 'properties': properties,
             'additionalProperties': False}
    if required:
        value['required'] = required
    return _wrap('evacuate', value)
