"""Console request bodies (Nova's schemas)."""

#: {"os-getConsoleOutput": {"length"?}}: an integer from -1 (all), also as
#: a string of digits, or null (all).
get_console_output = {
    'type': 'object',
    'properties': {
        'os-getConsoleOutput': {
            'type': 'object',
            'properties': {
                'length': {'type': ['integer', 'string', 'null'],
                           'pattern': '^-?[0-9]+$', 'minimum': -1},
            },
            'additionalProperties': False,
        },
    },
    'required': ['os-getConsoleOutput'],
    'additionalProperties': False,
}


def legacy_console(key, types):
    """{"<key>": {"type": one of ``types``}} (before 2.6)."""
    return {
        'type': 'object',
        'properties': {
            key: {
                'type': 'object',
                'properties': {'type': {'type': 'string', 'enum': types}},
                'required': ['type'],
                'additionalProperties': False,
            },
        },
        'required': [key],
        'additionalProperties': False,
    }


#: Protocol -> the console types it offers (2.6; mks from 2.8).
PROTOCOL_TYPES = {
    'vnc': ['novnc', 'xvpvnc'],
    'spice': ['spice-html5'],
    'rdp': ['rdp-html5'],
    'serial': ['serial'],
    'mks': ['webmks'],
}


def remote_console(version):
    """POST /servers/{id}/remote-consoles at ``version`` (2.6+)."""
    protocols = ['vnc', 'spice', 'rdp', 'serial']
    if version >= (2, 8):
        protocols.append('mks')
    types = sorted(t for p in protocols for t in PROTOCOL_TYPES[p])
    return {
        'type': 'object',
        'properties': {
            'remote_console': {
                'type': 'object',
                'properties': {
                    'protocol': {'type': 'string', 'enum': protocols},
                    'type': {'type': 'string', 'enum': types},
                },
                'required': ['protocol', 'type'],
                'additionalProperties': False,
            },
        },
        'required': ['remote_console'],
        'additionalProperties': False,
    }
