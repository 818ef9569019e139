"""Request bodies of ``POST /servers`` (a subset of Nova's schema).

Accepted and stored: name, imageRef, flavorRef, networks, metadata,
key_name, availability_zone (also Nova's admin-only "zone:host" form,
see :mod:`orchestrator.api.server_create`), user_data, accessIPv4/6,
config_drive, description (2.19+), tags (2.52+), host and
hypervisor_hostname (2.74+, administrators). Refused with a 400 by
:mod:`orchestrator.api.server_create` when given:
trusted_image_certificates (2.63+). Accepted and not acted on:
adminPass (returned, not stored), security_groups, OS-DCF:diskConfig,
scheduler hints, block_device_mapping_v2 entries that only restate the
image or add local disks. min_count, max_count and return_reservation_id
make a multiple create (:mod:`orchestrator.api.server_count` checks the
counts, with a message).
"""

import copy

from orchestrator.api.schemas import server_tags

_NAME = {'type': 'string', 'minLength': 1, 'maxLength': 255,
         'format': 'name'}
_REF = {'type': ['string', 'integer'], 'minLength': 1}
_COUNT = {'type': ['integer', 'string'], 'pattern': '^[0-9]+$',
          'minimum': 1}
_BOOLEAN = {'type': ['boolean', 'string'],
            'enum': [True, False, 'True', 'False', 'true', 'false', '1',
                     '0', 'yes', 'no', 'on', 'off', '']}

_NETWORK = {
    'type': 'object',
    'properties': {
        'uuid': {'type': 'string', 'format': 'uuid'},
        'port': {'type': ['string', 'null'], 'format': 'uuid'},
        'fixed_ip': {'type': 'string'},
        'tag': {'type': 'string', 'maxLength': 60},
    },
    'additionalProperties': False,
}
_NETWORK_LIST = {'type': 'array', 'items': _NETWORK}

_BDM = {
    'type': 'object',
    'properties': {
        'uuid': {'type': 'string', 'minLength': 1, 'maxLength': 255},
        'source_type': {'type': 'string',
                        'enum': ['volume', 'image', 'snapshot', 'blank']},
        'destination_type': {'type': 'string',
                             'enum': ['local', 'volume']},
        'boot_index': {'type': ['integer', 'string', 'null'],
                       'pattern': '^-?[0-9]+$'},
        'delete_on_termination': _BOOLEAN,
        'volume_size': {'type': ['integer', 'string'],
                        'pattern': '^[0-9]+$', 'minimum': 0},
        'guest_format': {'type': 'string', 'maxLength': 255},
        'device_name': {'type': 'string', 'maxLength': 255},
        'device_type': {'type': 'string', 'maxLength': 255},
        'disk_bus': {'type': 'string', 'maxLength': 255},
        'no_device': {},
        'tag': {'type': 'string', 'maxLength': 60},
        'volume_type': {'type': ['string', 'null'], 'maxLength': 255},
    },
    'additionalProperties': False,
}

_SERVER = {
    'type': 'object',
    'properties': {
        'name': _NAME,
        'imageRef': {'type': 'string', 'maxLength': 255},
        'flavorRef': _REF,
        'adminPass': {'type': 'string'},
        'metadata': {
            'type': 'object',
            'patternProperties': {
                '^[a-zA-Z0-9-_:. ]{1,255}$': {'type': 'string',
                                              'maxLength': 255},
            },
            'additionalProperties': False,
        },
        'networks': _NETWORK_LIST,
        'OS-DCF:diskConfig': {'type': 'string',
                              'enum': ['AUTO', 'MANUAL']},
        'accessIPv4': {'type': 'string', 'format': 'ipv4'},
        'accessIPv6': {'type': 'string', 'format': 'ipv6'},
        'key_name': {'type': 'string', 'minLength': 1, 'maxLength': 255},
        'availability_zone': {'type': 'string', 'minLength': 1,
                              'maxLength': 255},
        'user_data': {'type': 'string', 'format': 'base64',
                      'maxLength': 65535},
        'config_drive': _BOOLEAN,
        'min_count': _COUNT,
        'max_count': _COUNT,
        'return_reservation_id': _BOOLEAN,
        'security_groups': {
            'type': 'array',
            'items': {
                'type': 'object',
                'properties': {'name': {'type': 'string', 'minLength': 1,
                                        'maxLength': 255}},
                'additionalProperties': False,
            },
        },
        'block_device_mapping_v2': {'type': 'array', 'items': _BDM},
    },
    'required': ['name', 'flavorRef'],
    'additionalProperties': False,
}

_HINTS = {'type': 'object'}

_BASE = {
    'type': 'object',
    'properties': {
        'server': _SERVER,
        'os:scheduler_hints': _HINTS,
        'OS-SCH-HNT:scheduler_hints': _HINTS,
    },
    'required': ['server'],
    'additionalProperties': False,
}


#: A host or node name (Nova's hostname pattern).
HOST = {'type': 'string', 'minLength': 1, 'maxLength': 255,
        'pattern': '^[a-zA-Z0-9-._]*$'}
#: Nova's trusted certificate ids (2.63): 1 to 50 distinct non-empty
#: strings, or null.
TRUSTED_CERTS = {'type': ['array', 'null'], 'minItems': 1, 'maxItems': 50,
                 'uniqueItems': True,
                 'items': {'type': 'string', 'minLength': 1}}


def create(version):
    """The create schema for the microversion ``version``.

    2.19 adds ``description``; 2.37 makes ``networks`` required and lets
    it be ``"auto"`` or ``"none"`` as well as a list; 2.52 adds ``tags``
    (as ``PUT /servers/{id}/tags``); 2.63 ``trusted_image_certificates``;
    2.67 a mapping's ``volume_type``; 2.74 ``host`` and
    ``hypervisor_hostname``.
    """
    schema = copy.deepcopy(_BASE)
    server = schema['properties']['server']
    if version >= (2, 19):
        server['properties']['description'] = {
            'type': ['string', 'null'], 'maxLength': 255}
    if version >= (2, 37):
        server['properties']['networks'] = {'oneOf': [
            _NETWORK_LIST, {'type': 'string', 'enum': ['auto', 'none']}]}
        server['required'].append('networks')
    if version < (2, 67):
        # NOTE(api): a mapping's volume_type is a field of 2.67.
        server['properties']['block_device_mapping_v2']['items'][
            'properties'].pop('volume_type')
    if version >= (2, 52):
        server['properties']['tags'] = server_tags.update_all[
            'properties']['tags']
    if version >= (2, 63):
        server['properties']['trusted_image_certificates'] = TRUSTED_CERTS
    if version >= (2, 74):
        server['properties']['host'] = HOST
        server['properties']['hypervisor_hostname'] = HOST
    return schema
