"""Request body of ``PUT /os-quota-sets/{project_id}`` (Nova's schema).

Every resource the microversion shows may be set, as an integer or a
string of one, -1 (unlimited) to 2**31 - 1; ``force`` skips the check
against what the project already uses. ``networks`` (nova-network's) is
accepted below 2.36 only to be refused with Nova's message.
"""

import copy

#: The largest limit (a 32-bit signed Integer column).
MAX_LIMIT = 0x7FFFFFFF

_LIMIT = {
    'type': ['integer', 'string'],
    'pattern': '^-?[0-9]+$',
    'minimum': -1,
    'maximum': MAX_LIMIT,
}

#: Nova's parameter_types.boolean.
BOOLEAN_TRUE = ('1', 'on', 'yes', 'true')
_BOOLEAN = {
    'type': ['boolean', 'string'],
    'enum': [True, False] + [
        spelling for word in BOOLEAN_TRUE + ('0', 'off', 'no', 'false')
        for spelling in (word, word.upper(), word.capitalize())],
}


def update(resources):
    """The update schema when ``resources`` (those the microversion
    shows) may be set; ``networks`` is added below 2.36 by the caller's
    list."""
    properties = {name: copy.deepcopy(_LIMIT) for name in resources}
    properties['force'] = copy.deepcopy(_BOOLEAN)
    return {
        'type': 'object',
        'properties': {
            'quota_set': {
                'type': 'object',
                'properties': properties,
                'additionalProperties': False,
            },
        },
        'required': ['quota_set'],
        'additionalProperties': False,
    }
